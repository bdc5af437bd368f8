/**
 * Command-line flag checking for every command: a command reads all its flags through one checker,
 * which records every problem (the flag, what was wrong, what was expected) instead of stopping at
 * the first, then `done()` throws them together as one `invalid-flag` error (exit 2), as k6's
 * `Validate() []error` does. Each getter returns undefined for a bad or absent value, so a command
 * reads on and reports the rest.
 */
import { PeakdayError, type Problem, validationError } from '../core/errors.ts';

/** The topologies of the reference stack, as `--arch` accepts them. */
export const ARCHS = ['headless', 'monolith'] as const;

/** A topology of the reference stack. */
export type ArchFlag = (typeof ARCHS)[number];

/** Bounds of a numeric flag. */
export interface NumberRule {
  /** Whole numbers only. */
  integer?: boolean;
  /** Smallest value allowed (inclusive). */
  min?: number;
  /** Largest value allowed (inclusive). */
  max?: number;
  /** Values must be greater than 0 (the usual case for rates, counts and sizes). */
  positive?: boolean;
  /** What to show as expected, e.g. `e.g. --replicas 3`. */
  expected?: string;
  /** What the value must be, when the bounds alone do not say it (`a whole number from 1 to 64, or auto`). */
  is?: string;
}

/** Collects the problems of one command's flags; see the module comment. */
export interface FlagChecker {
  /** A number within `rule`, or undefined (recorded as a problem when present and invalid). */
  number(flag: string, raw: string | undefined, rule?: NumberRule): number | undefined;
  /** A value from `options`, or undefined (recorded as a problem when present and not one of them). */
  oneOf<T extends string>(flag: string, raw: string | undefined, options: readonly T[]): T | undefined;
  /** `--arch`: headless or monolith. */
  arch(raw: string | undefined, flag?: string): ArchFlag | undefined;
  /**
   * Runs a parser that throws a PeakdayError for a bad value (a duration, a segment, a list) and
   * records its message as this flag's problem instead of stopping.
   */
  parse<T>(flag: string, raw: string | undefined, parser: (raw: string) => T): T | undefined;
  /** Records a problem found by the command itself (a combination of flags, a missing argument). */
  add(problem: Problem): void;
  /** Every problem so far. */
  readonly problems: readonly Problem[];
  /** Throws every problem as one `invalid-flag` error (exit 2); returns when there is none. */
  done(): void;
}

function describeRule(rule: NumberRule): string {
  const kind = rule.integer ? 'whole number' : 'number';
  if (rule.min !== undefined && rule.max !== undefined) return `a ${kind} from ${rule.min} to ${rule.max}`;
  if (rule.positive) return `a positive ${kind}`;
  if (rule.min !== undefined) return `a ${kind} of at least ${rule.min}`;
  if (rule.max !== undefined) return `a ${kind} of at most ${rule.max}`;
  return `a ${kind}`;
}

/**
 * Creates the checker for `peakday <command>`; `problems` lets a command that already collects
 * problems of its own (files, combinations) add the flag problems to the same list.
 */
export function createFlagChecker(command: string, problems: Problem[] = []): FlagChecker {
  const checker: FlagChecker = {
    problems,
    number(flag, raw, rule = {}) {
      if (raw === undefined) return undefined;
      const n = Number(raw);
      const ok =
        raw.trim() !== '' &&
        Number.isFinite(n) &&
        (!rule.integer || Number.isInteger(n)) &&
        (!rule.positive || n > 0) &&
        (rule.min === undefined || n >= rule.min) &&
        (rule.max === undefined || n <= rule.max);
      if (ok) return n;
      problems.push({
        path: flag,
        message: `"${raw}" is not ${rule.is ?? describeRule(rule)}`,
        expected: rule.expected,
      });
      return undefined;
    },
    oneOf(flag, raw, options) {
      if (raw === undefined) return undefined;
      if ((options as readonly string[]).includes(raw)) return raw as (typeof options)[number];
      problems.push({ path: flag, message: `"${raw}" is not one of ${options.join(', ')}` });
      return undefined;
    },
    arch(raw, flag = '--arch') {
      if (raw === undefined) return undefined;
      if ((ARCHS as readonly string[]).includes(raw)) return raw as ArchFlag;
      problems.push({ path: flag, message: `"${raw}" is not a topology`, expected: ARCHS.join(' or ') });
      return undefined;
    },
    parse(flag, raw, parser) {
      if (raw === undefined) return undefined;
      try {
        return parser(raw);
      } catch (e) {
        if (!(e instanceof PeakdayError)) throw e;
        // The parser names the flag itself ("--hold: ..."): said once, as the problem's path.
        const own = (m: string) => (m.startsWith(`${flag}: `) ? m.slice(flag.length + 2) : m);
        if (e.problems.length > 0)
          problems.push(...e.problems.map((p) => ({ ...p, path: p.path ?? flag, message: own(p.message) })));
        else problems.push({ path: flag, message: own(e.message), hint: e.hint });
        return undefined;
      }
    },
    add(problem) {
      problems.push(problem);
    },
    done() {
      if (problems.length > 0) throw validationError('invalid-flag', `peakday ${command}`, problems);
    },
  };
  return checker;
}
