/**
 * The one JSON-path language of peakday: what a journey writes in `extract`, `check.exists` and
 * `check.equals`, what the profile parser accepts, what the engine and the exported k6 script read,
 * and what the API contract checks against its schemas. One grammar, one reader, so a path the
 * parser accepts means the same thing to every driver. Pure, no Node built-ins. The reader and the
 * compiled form live in core/json-path-reader.ts, which imports nothing: the exported k6 script
 * carries only that file (its paths are compiled at export), not this file's error for bad paths.
 *
 * Grammar:
 *
 *   path    := "$" segment*
 *   segment := "." name          a property          $.items
 *            | "[" digits "]"    an array index      $.items[0]
 *            | "[*]"             the first element   $.items[*].id  (a journey extracts one value)
 *            | "['" chars "']"   a quoted property   $['a b']  (chars: anything but the quote)
 *            | '["' chars '"]'
 *   name    := [A-Za-z_$] [A-Za-z0-9_$-]*
 *
 * `$` alone is the whole body. A property of something that is not an object, or an index of
 * something that is not an array, reads as undefined.
 */
import { PeakdayError } from './errors.ts';
import type { JsonPath } from './json-path-reader.ts';

export { type JsonPath, readJsonPath } from './json-path-reader.ts';

/** Where and why a path does not follow the grammar. */
export interface JsonPathProblem {
  /** 0-based character position. */
  at: number;
  why: string;
}

const SEGMENT = /\.([A-Za-z_$][A-Za-z0-9_$-]*)|\[(\d+|\*)\]|\['([^']*)'\]|\["([^"]*)"\]/y;

/** Compiles a path, or says where it breaks the grammar (for parsers that collect every problem). */
export function compileJsonPath(path: string): { path: JsonPath } | { problem: JsonPathProblem } {
  if (!path.startsWith('$')) return { problem: { at: 0, why: 'must start with $' } };
  const out: JsonPath = [];
  let i = 1;
  while (i < path.length) {
    SEGMENT.lastIndex = i;
    const m = SEGMENT.exec(path);
    if (!m) {
      const ch = path[i];
      const why =
        ch === '.'
          ? 'expected a property name after "."'
          : ch === '['
            ? "expected [n], [*] or ['name']"
            : `unexpected "${ch}"`;
      return { problem: { at: i, why } };
    }
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(m[2] === '*' ? 0 : Number(m[2]));
    else out.push((m[3] ?? m[4]) as string);
    i = SEGMENT.lastIndex;
  }
  return { path: out };
}

/** What a journey's author is told a path should look like. */
export const JSON_PATH_EXAMPLE = "a path like $.items[0].id, $.items[*].id or $['price'].amount";

/** Compiles a path; throws a PeakdayError (`invalid-json-path`, exit 2) naming the position. */
export function parseJsonPath(path: string): JsonPath {
  const r = compileJsonPath(path);
  if ('path' in r) return r.path;
  throw new PeakdayError(
    'invalid-json-path',
    `JSON path "${path}": ${r.problem.why} at position ${r.problem.at}`,
    { hint: `write ${JSON_PATH_EXAMPLE}` },
  );
}
