/**
 * YAML (and JSON, which is YAML) input with source positions, plus a checker that collects every
 * problem at once. Profiles, budgets, scaling files and the config file all go through here, so
 * every bad input is reported the same way: `file:line:column: path: message (expected ...) hint`.
 *
 * Use: `const src = readYamlSource(file)`; `const c = createChecker(src, 'profile-invalid', 'profile')`;
 * read `src.data` with the checker's typed getters (each records a problem and returns undefined on
 * a mismatch); then `c.throwIfAny()`.
 */
import { readFileSync, statSync } from 'node:fs';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { tryParseDuration } from './duration.ts';
import { type ErrorCode, invalidInput, PeakdayError, type Problem, validationError } from './errors.ts';
import { looksBinary, MAX_INPUT_FILE_BYTES, snippet } from './limits.ts';

export type DocPath = readonly (string | number)[];

/** A parsed document that can say where any path in it is. */
export interface YamlSource {
  file: string;
  text: string;
  data: unknown;
  /** 1-based position of the value at `path`, or of its nearest ancestor that exists. */
  locate(path: DocPath): { line: number; column: number } | undefined;
}

/** Parses YAML text; syntax errors become one validation error listing each with its position. */
export function parseYamlSource(
  text: string,
  file: string,
  errorCode: ErrorCode = 'yaml-invalid',
): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems: Problem[] = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return {
        file,
        line: pos.line,
        column: pos.col,
        message: e.message.split('\n')[0] ?? e.message,
        expected: 'valid YAML',
        hint: e.code === 'DUPLICATE_KEY' ? 'remove the repeated key' : 'check indentation, quotes and colons',
      };
    });
    throw validationError(errorCode, `${file} is not valid YAML`, problems);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    // e.g. an alias used before its anchor, or an alias bomb: still bad input, reported located.
    const msg = (e as Error).message;
    const alias = /alias[^:]*: (\S+)/.exec(msg)?.[1];
    const offset = alias ? text.indexOf(`*${alias}`) : -1;
    const pos = offset >= 0 ? lineCounter.linePos(offset) : { line: 1, col: 1 };
    throw validationError(errorCode, `${file} is not valid YAML`, [
      {
        file,
        line: pos.line,
        column: pos.col,
        message: msg,
        expected: 'valid YAML',
        hint: 'define each &anchor before its *alias',
      },
    ]);
  }
  const locate = (path: DocPath) => {
    let node: unknown = doc.contents;
    let found: Node | undefined = doc.contents ?? undefined;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(key));
        if (!pair) break;
        node = pair.value ?? pair.key;
        found = (pair.value ?? pair.key) as Node;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key];
        if (!item) break;
        node = item;
        found = item as Node;
      } else break;
    }
    const range = found?.range;
    if (!range) return undefined;
    const pos = lineCounter.linePos(range[0]);
    return { line: pos.line, column: pos.col };
  };
  return { file, text, data, locate };
}

/** Reads and parses a YAML or JSON file; a missing file is a clear error (exit 2). */
export function readYamlSource(file: string, errorCode: ErrorCode = 'yaml-invalid'): YamlSource {
  let text: string;
  try {
    const size = statSync(file).size;
    if (size > MAX_INPUT_FILE_BYTES)
      throw new PeakdayError(
        'input-too-large',
        `${file} is ${(size / 1048576).toFixed(1)} MiB; input files are limited to ${MAX_INPUT_FILE_BYTES / 1048576} MiB`,
        {
          hint: 'is this the right file? profiles, budgets, scaling and config files are a few KB (docs/errors.md "Limits")',
        },
      );
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof PeakdayError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR')
      throw invalidInput('file-not-found', `${file} is a directory`, 'give the path of a YAML file');
    throw invalidInput(
      'file-not-found',
      code === 'ENOENT' ? `${file}: no such file` : `${file}: cannot be read (${code ?? String(e)})`,
      'check the path; relative paths are resolved from the current directory',
    );
  }
  if (looksBinary(text))
    throw new PeakdayError(errorCode, `${file} is not a text file (binary content)`, {
      problems: [{ file, line: 1, column: 1, message: 'binary content', expected: 'a YAML text file' }],
      hint: 'is this the right file? give a YAML (or JSON) text file',
    });
  return parseYamlSource(text, file, errorCode);
}

export function formatPath(path: DocPath): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : String(k);
  return out;
}

/** Levenshtein distance, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] as number;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] as number;
      dp[j] = Math.min(
        (dp[j] as number) + 1,
        (dp[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return dp[b.length] as number;
}

/** The closest of `options` to `word`, if it is close enough to be a plausible typo. */
export function didYouMean(word: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const o of options) {
    const d = distance(word.toLowerCase(), o.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = o;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export interface ProblemDetail {
  expected?: string;
  hint?: string;
}

/** Collects problems against a source and offers typed getters that record mismatches. */
export interface Checker {
  readonly source: YamlSource;
  readonly problems: Problem[];
  add(path: DocPath, message: string, detail?: ProblemDetail): void;
  /** An object; reports keys not in `allowed` (with a did-you-mean hint). Returns undefined if not an object. */
  object(path: DocPath, value: unknown, allowed?: readonly string[]): Record<string, unknown> | undefined;
  array(path: DocPath, value: unknown): unknown[] | undefined;
  string(path: DocPath, value: unknown): string | undefined;
  boolean(path: DocPath, value: unknown): boolean | undefined;
  number(
    path: DocPath,
    value: unknown,
    opts?: { min?: number; max?: number; exclusiveMin?: number; integer?: boolean },
  ): number | undefined;
  /** A k6-style duration string (or 0), returned in seconds. */
  duration(path: DocPath, value: unknown, opts?: { min?: number; allowZero?: boolean }): number | undefined;
  oneOf<T extends string>(path: DocPath, value: unknown, options: readonly T[]): T | undefined;
  /** A required key: reports it missing and returns undefined when absent. */
  required(path: DocPath, obj: Record<string, unknown>, key: string, expected: string): unknown;
  throwIfAny(what?: string): void;
}

/** Creates a checker whose thrown error has `errorCode` and says `what` was invalid. */
export function createChecker(source: YamlSource, errorCode: ErrorCode, what: string): Checker {
  const problems: Problem[] = [];
  const add = (path: DocPath, message: string, detail: ProblemDetail = {}) => {
    const pos = source.locate(path);
    problems.push({
      file: source.file,
      line: pos?.line,
      column: pos?.column,
      path: path.length > 0 ? formatPath(path) : undefined,
      message,
      expected: detail.expected,
      hint: detail.hint,
    });
  };
  const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'a list' : `a ${typeof v}`);
  const checker: Checker = {
    source,
    problems,
    add,
    object(path, value, allowed) {
      if (path.length === 0 && (value === null || value === undefined)) {
        // The whole document is empty (or only comments): say that, at its first line.
        problems.push({
          file: source.file,
          line: 1,
          column: 1,
          message: 'the file is empty (no YAML content, or only comments)',
          expected: `a ${what}: a mapping (key: value)`,
          hint: 'see the documentation of this file for a minimal example',
        });
        return undefined;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        add(path, `is ${typeName(value)}`, { expected: 'a mapping (key: value)' });
        return undefined;
      }
      const obj = value as Record<string, unknown>;
      if (allowed) {
        for (const key of Object.keys(obj)) {
          if (!allowed.includes(key)) {
            const guess = didYouMean(key, allowed);
            add([...path, key], `unknown key "${snippet(key)}"`, {
              expected: `one of ${allowed.join(', ')}`,
              hint: guess ? `did you mean "${guess}"?` : 'remove it or check the documentation',
            });
          }
        }
      }
      return obj;
    },
    array(path, value) {
      if (!Array.isArray(value)) {
        add(path, `is ${typeName(value)}`, { expected: 'a list' });
        return undefined;
      }
      return value;
    },
    string(path, value) {
      if (typeof value !== 'string') {
        add(path, `is ${typeName(value)}`, { expected: 'a string' });
        return undefined;
      }
      return value;
    },
    boolean(path, value) {
      if (typeof value !== 'boolean') {
        add(path, `is ${typeName(value)}`, { expected: 'true or false' });
        return undefined;
      }
      return value;
    },
    number(path, value, opts = {}) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        add(path, typeof value === 'number' ? `is ${value}` : `is ${typeName(value)}`, {
          expected: 'a finite number',
        });
        return undefined;
      }
      if (opts.integer && !Number.isInteger(value)) {
        add(path, `is ${value}`, { expected: 'a whole number' });
        return undefined;
      }
      if (opts.min !== undefined && value < opts.min) {
        add(path, `is ${value}`, { expected: `a number ≥ ${opts.min}` });
        return undefined;
      }
      if (opts.exclusiveMin !== undefined && value <= opts.exclusiveMin) {
        add(path, `is ${value}`, { expected: `a number > ${opts.exclusiveMin}` });
        return undefined;
      }
      if (opts.max !== undefined && value > opts.max) {
        add(path, `is ${value}`, { expected: `a number ≤ ${opts.max}` });
        return undefined;
      }
      return value;
    },
    duration(path, value, opts = {}) {
      if (value === 0 && opts.allowZero !== false) return 0;
      if (typeof value !== 'string') {
        add(path, `is ${typeName(value)}`, {
          expected: 'a duration like 90s, 10m or 1h30m',
          hint: typeof value === 'number' ? `write "${value}s" if you meant seconds` : undefined,
        });
        return undefined;
      }
      const r = tryParseDuration(value);
      if ('error' in r) {
        add(path, r.error, { expected: 'a duration like 90s, 10m or 1h30m' });
        return undefined;
      }
      if (opts.min !== undefined && r.seconds < opts.min) {
        add(path, `is ${value}`, { expected: `a duration of at least ${opts.min}s` });
        return undefined;
      }
      return r.seconds;
    },
    oneOf(path, value, options) {
      if (typeof value !== 'string' || !options.includes(value as never)) {
        const guess = typeof value === 'string' ? didYouMean(value, options) : undefined;
        add(path, `is ${typeof value === 'string' ? `"${snippet(value)}"` : typeName(value)}`, {
          expected: `one of ${options.join(', ')}`,
          hint: guess ? `did you mean "${guess}"?` : undefined,
        });
        return undefined;
      }
      return value as (typeof options)[number];
    },
    required(path, obj, key, expected) {
      if (!(key in obj) || obj[key] === undefined || obj[key] === null) {
        add(path, `missing required key "${key}"`, { expected });
        return undefined;
      }
      return obj[key];
    },
    throwIfAny(what2) {
      if (problems.length > 0)
        throw validationError(errorCode, what2 ?? `${source.file}: invalid ${what}`, problems);
    },
  };
  return checker;
}
