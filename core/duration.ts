/**
 * Durations in k6's form: a sequence of number+unit pairs, e.g. `90s`, `10m`, `1h30m`, `1.5s`,
 * `250ms`, `2d`. Grammar:
 *
 *   duration := part+ | "0"
 *   part     := number unit
 *   number   := digits ("." digits)?
 *   unit     := "ms" | "s" | "m" | "h" | "d"
 *
 * Parsing is pure and returns seconds (a float). Bare numbers other than 0 are rejected, because
 * "is 30 seconds or minutes?" is exactly the ambiguity the k6 form avoids.
 */
import { invalidInput } from './errors.ts';

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/** Parses a k6-style duration into seconds, or returns an error message describing the problem. */
export function tryParseDuration(text: string): { seconds: number } | { error: string } {
  const s = text.trim();
  if (s === '0') return { seconds: 0 };
  if (s.length === 0) return { error: 'empty duration' };
  PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < s.length) {
    PART.lastIndex = pos;
    const m = PART.exec(s);
    if (!m) {
      return { error: `"${text}" is not a duration` };
    }
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] as number);
    pos = PART.lastIndex;
  }
  return { seconds: total };
}

/** Parses a k6-style duration into seconds; throws a PeakdayError (exit 2) when it is not one. */
export function parseDuration(text: string, what = 'duration'): number {
  const r = tryParseDuration(text);
  if ('error' in r) {
    throw invalidInput(
      'invalid-duration',
      `${what}: ${r.error}`,
      'write durations like 90s, 10m, 1h30m or 250ms',
    );
  }
  return r.seconds;
}

/** Formats seconds in k6's form, largest units first: 5400 -> `1h30m`, 0.25 -> `250ms`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return String(seconds);
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let rest = Math.abs(seconds);
  if (rest < 1) return `${sign}${round(rest * 1000, 3)}ms`;
  const parts: string[] = [];
  const units: [string, number][] = [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
  ];
  for (const [u, size] of units) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      parts.push(`${n}${u}`);
      rest -= n * size;
    }
  }
  if (rest > 1e-9 || parts.length === 0) parts.push(`${round(rest, 3)}s`);
  return sign + parts.join('');
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * A point in time as a user writes it on the command line: ISO 8601 (`2026-11-27T14:00:00Z`, a date
 * alone is midnight UTC) or relative to now (`now`, `-3h`, `now-90m`, `-1h30m`, k6 duration form).
 * Returns epoch ms, or an error saying what was expected. `nowMs` is passed in (pure).
 */
export function parseTimeArg(text: string, nowMs: number): { ms: number } | { error: string } {
  const t = text.trim();
  if (t === 'now') return { ms: nowMs };
  const rel = /^(?:now)?-(.+)$/.exec(t);
  if (rel) {
    const d = tryParseDuration(rel[1] as string);
    if ('error' in d) return { error: `"${text}" is not a relative time: ${d.error}` };
    return { ms: nowMs - d.seconds * 1000 };
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(t) ? `${t}T00:00:00Z` : t);
    if (Number.isFinite(ms)) return { ms };
  }
  return {
    error: `"${text}" is neither an ISO 8601 time (2026-11-27T14:00:00Z) nor a relative one (-3h, now)`,
  };
}
