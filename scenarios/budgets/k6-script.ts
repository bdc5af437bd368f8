/**
 * Reads the `thresholds` object out of a k6 script (`.js`, `.mjs`, `.ts`) so `--budgets script.js`
 * takes a k6 file exactly as it is. Pure. The object literal is kept at its exact offset and every
 * other character is blanked (newlines kept), so the YAML parser (which reads JavaScript object
 * literals: quotes, flow mappings, trailing commas) reports problems at the script's own
 * line:column. Comments inside the object are blanked; strings are respected.
 */

const THRESHOLDS = /(['"]?)thresholds\1\s*:\s*\{/g;

/** The script text reduced to `thresholds: {...}` at its original position, or undefined when absent. */
export function extractK6ThresholdsSource(script: string): string | undefined {
  THRESHOLDS.lastIndex = 0;
  let m = THRESHOLDS.exec(script);
  while (m && inComment(script, m.index)) m = THRESHOLDS.exec(script);
  if (!m) return undefined;
  const start = m.index;
  const open = start + m[0].length - 1;
  const keep = new Uint8Array(script.length);
  for (let k = start; k < open; k++) keep[k] = 1;
  let depth = 0;
  let quote: string | null = null;
  let end = -1;
  for (let i = open; i < script.length; i++) {
    const c = script[i] as string;
    if (quote) {
      keep[i] = 1;
      if (c === '\\') {
        keep[i + 1] = 1;
        i++;
      } else if (c === quote) quote = null;
      continue;
    }
    if (c === '/' && script[i + 1] === '/') {
      while (i < script.length && script[i] !== '\n') i++;
      i--;
      continue;
    }
    if (c === '/' && script[i + 1] === '*') {
      const close = script.indexOf('*/', i + 2);
      i = close < 0 ? script.length : close + 1;
      continue;
    }
    keep[i] = 1;
    if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        end = i;
        break;
      }
    }
  }
  if (end < 0) return undefined;
  let out = '';
  for (let k = 0; k < script.length; k++) {
    const c = script[k] as string;
    out += keep[k] || c === '\n' ? (c === '`' ? "'" : c) : ' ';
  }
  return out;
}

/** Whether a position is inside a `//` line comment or an open block comment (good enough for options). */
function inComment(script: string, index: number): boolean {
  const lineStart = script.lastIndexOf('\n', index - 1) + 1;
  if (script.slice(lineStart, index).includes('//')) return true;
  return script.lastIndexOf('/*', index) > script.lastIndexOf('*/', index);
}
