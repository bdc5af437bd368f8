/**
 * The one error type of peakday. Every expected failure (bad input, unreachable target, breached
 * budgets) is a `PeakdayError` with a stable `code`, a message that says what happened and a `hint`
 * that says what to do. Only `cli/main.ts` turns an error into a process exit code, so library code
 * stays usable from tests and other programs.
 */

import { MAX_MESSAGE_CHARS, MAX_PROBLEMS_SHOWN } from './limits.ts';

/** Documented process exit codes (README "Exit codes"). 99 matches k6's ThresholdsHaveFailed. */
export const ExitCode = {
  ok: 0,
  internal: 1,
  invalidInput: 2,
  circuitBreaker: 97,
  noVerdict: 98,
  budgetsBreached: 99,
  interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem found while validating an input file, with where it is and what would fix it. */
export interface Problem {
  /** File the problem is in, as the user named it; absent for command-line input. */
  file?: string;
  /** 1-based line and column, when known. */
  line?: number;
  column?: number;
  /** Path inside the document, e.g. `channels.web.share`. */
  path?: string;
  /** What is wrong, said plainly. */
  message: string;
  /** What was expected there. */
  expected?: string;
  /** What to do about it. */
  hint?: string;
}

export interface PeakdayErrorOptions {
  hint?: string;
  exitCode?: ExitCodeValue;
  problems?: Problem[];
  cause?: unknown;
}

/** An expected failure with a stable machine-readable `code` (kebab-case, e.g. `profile-invalid`). */
export class PeakdayError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;
  readonly problems: Problem[];

  constructor(code: string, message: string, options: PeakdayErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PeakdayError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.invalidInput;
    this.problems = options.problems ?? [];
  }
}

/** Shorthand for the most common case: the user's input is invalid (exit 2). */
export function invalidInput(code: string, message: string, hint?: string): PeakdayError {
  return new PeakdayError(code, message, { hint, exitCode: ExitCode.invalidInput });
}

/** Bundles every problem found in one input into a single error (exit 2), like k6's `Validate() []error`. */
export function validationError(code: string, what: string, problems: Problem[]): PeakdayError {
  const n = problems.length;
  return new PeakdayError(code, `${what}: ${n} problem${n === 1 ? '' : 's'} found`, {
    problems,
    exitCode: ExitCode.invalidInput,
    hint: problems.length > 0 ? undefined : 'check the file against its documentation',
  });
}

/** Formats one problem as `file:line:column: path: message (expected ...) hint: ...`. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.column].filter((x) => x !== undefined).join(':');
  const parts: string[] = [];
  if (where) parts.push(`${where}:`);
  if (p.path) parts.push(`${p.path}:`);
  parts.push(capMessage(p.message));
  let out = parts.join(' ');
  if (p.expected) out += ` (expected ${p.expected})`;
  if (p.hint) out += `\n    hint: ${p.hint}`;
  return out;
}

/** A message on one line and at most MAX_MESSAGE_CHARS long, whatever input it quotes. */
function capMessage(message: string): string {
  const one = message.replace(/\r?\n/g, ' ⏎ ');
  return one.length > MAX_MESSAGE_CHARS ? `${one.slice(0, MAX_MESSAGE_CHARS)}… (message cut)` : one;
}

/**
 * Formats an error for a terminal: message, the problems (at most MAX_PROBLEMS_SHOWN, the rest
 * counted), then the hint.
 */
export function formatError(err: PeakdayError): string {
  const lines = [`error[${err.code}]: ${capMessage(err.message)}`];
  for (const p of err.problems.slice(0, MAX_PROBLEMS_SHOWN)) lines.push(`  ${formatProblem(p)}`);
  const more = err.problems.length - MAX_PROBLEMS_SHOWN;
  if (more > 0)
    lines.push(
      `  … and ${more} more problem${more === 1 ? '' : 's'} (the first ${MAX_PROBLEMS_SHOWN} are shown)`,
    );
  if (err.hint) lines.push(`hint: ${err.hint}`);
  return lines.join('\n');
}

export function isPeakdayError(e: unknown): e is PeakdayError {
  return e instanceof PeakdayError;
}
