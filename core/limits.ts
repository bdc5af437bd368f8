/**
 * The documented limits on what peakday accepts and prints (docs/errors.md "Limits"). They keep a
 * mistaken input (a binary file, a 50 MB YAML, a rate of 1e20) from turning into minutes of parsing,
 * megabytes of error output or a plan no machine can play: beyond each, a clear error (exit 2) says
 * which limit and how to proceed.
 */

/** Largest input file (profile, budgets, scaling, config) read as YAML, in bytes: 4 MiB. */
export const MAX_INPUT_FILE_BYTES = 4 * 1024 * 1024;

/** Problems printed for one error; the rest are counted ("... and N more"). */
export const MAX_PROBLEMS_SHOWN = 50;

/** Characters of one problem's message printed; a quoted value is also cut to its first line. */
export const MAX_MESSAGE_CHARS = 300;

/**
 * Default ceiling on a live run's peak rate, requests per wall second: the embedded engine was
 * measured playing 20,000 requests/s from one process (bench/engine.bench.ts section 5). Raise it
 * deliberately with `--max-rps` or `limits.maxRps` in peakday.config.yaml (e.g. for a segment of a
 * distributed run against a large target).
 */
export const DEFAULT_MAX_LIVE_RPS = 20_000;

/**
 * Ceiling on any rate written in a profile or config, live or simulated, requests per second: far
 * above any single event's recorded peak, so only a typo reaches it.
 */
export const ABSOLUTE_MAX_RPS = 1e9;

/**
 * Whether text read from a file is binary rather than YAML/CSV: a NUL byte, or more than 1% of the
 * characters undecodable as UTF-8. Such a file is refused before parsing (never echoed back).
 */
export function looksBinary(text: string): boolean {
  if (text.includes('\0')) return true;
  let bad = 0;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 0xfffd) bad++;
  return bad > Math.max(1, text.length / 100);
}

/** One line, at most `max` characters, control characters shown escaped: safe to quote in a message. */
export function snippet(text: string, max = 60): string {
  const first = text.split(/\r?\n/, 1)[0] ?? '';
  const clean = first.replace(
    /[\u0000-\u001f\u007f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  return clean.length > max || first.length < text.length ? `${clean.slice(0, max)}…` : clean;
}
