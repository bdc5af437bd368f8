/**
 * The reading half of the JSON-path language (core/json-path.ts has the grammar and the compiler):
 * a compiled path and the function that reads a value at it. Apart so that it imports nothing: the
 * exported k6 script bundles this file (scenarios/k6-runtime.ts), and importing the compiler would
 * carry the error catalog (core/errors.ts), some 20 KB no k6 script calls, into every script.
 */

/** A compiled path: property names and array indexes from the root (`[*]` compiled to 0). */
export type JsonPath = (string | number)[];

/** Reads the value at a compiled path; undefined when any part is missing. */
export function readJsonPath(doc: unknown, path: JsonPath): unknown {
  let cur: unknown = doc;
  for (let i = 0; i < path.length; i++) {
    const k = path[i] as string | number;
    if (
      typeof k === 'number'
        ? !Array.isArray(cur)
        : cur === null || typeof cur !== 'object' || Array.isArray(cur)
    )
      return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
