/**
 * Turns command-line flags (strings) plus `peakday.config.yaml` defaults into `CompileOptions`, the
 * same way for every command that plays or shows a profile (`profile show|plot|export-k6`, `run`,
 * `simulate`). Precedence: flags, then the config file's defaults, then the profile's `local:` rates.
 * Bad flags are PeakdayErrors (exit 2) naming the flag.
 */

import type { PeakdayConfig } from '../core/config.ts';
import { tryParseDuration } from '../core/duration.ts';
import { invalidInput, type Problem, validationError } from '../core/errors.ts';
import { ABSOLUTE_MAX_RPS, DEFAULT_MAX_LIVE_RPS } from '../core/limits.ts';
import type { CompileOptions } from './compile.ts';

/** The profile-related flags as commander hands them over. */
export interface ProfileFlags {
  duration?: string;
  peakRps?: string;
  baselineRps?: string;
  window?: string;
  whole?: boolean;
  seed?: string;
  arrivals?: string;
  maxConcurrency?: string;
  /** Raises the live-rate ceiling (core/limits.ts DEFAULT_MAX_LIVE_RPS) deliberately. */
  maxRps?: string;
}

/** Builds CompileOptions from flags and config defaults; reports every bad flag at once. */
export function compileOptionsFrom(
  flags: ProfileFlags,
  config?: Pick<PeakdayConfig, 'defaults'> & Partial<Pick<PeakdayConfig, 'limits'>>,
  use: { live?: boolean } = {},
): CompileOptions {
  const problems: Problem[] = [];
  const num = (flag: string, v: string | undefined, integer = false): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
      problems.push({
        path: flag,
        message: `"${v}" is not a ${integer ? 'positive whole' : 'positive'} number`,
        expected: integer ? 'e.g. 7' : 'e.g. 50',
      });
      return undefined;
    }
    return n;
  };
  const opts: CompileOptions = {};
  if (flags.duration !== undefined) {
    const r = tryParseDuration(flags.duration);
    if ('error' in r || r.seconds <= 0)
      problems.push({
        path: '--duration',
        message: 'error' in r ? r.error : 'must be longer than 0s',
        expected: 'a duration like 90s, 3m or 1h30m',
      });
    else opts.durationSeconds = r.seconds;
  } else if (config?.defaults.duration !== undefined) opts.durationSeconds = config.defaults.duration;
  const peak = num('--peak-rps', flags.peakRps);
  const base = num('--baseline-rps', flags.baselineRps);
  if (flags.peakRps !== undefined && flags.baselineRps !== undefined)
    problems.push({
      path: '--peak-rps',
      message: '--peak-rps and --baseline-rps are mutually exclusive',
      hint: 'give one; the other follows from the profile shape',
    });
  if (flags.peakRps !== undefined || flags.baselineRps !== undefined) {
    if (peak !== undefined) opts.peakRps = peak;
    if (base !== undefined) opts.baselineRps = base;
  } else if (config?.defaults.peakRps !== undefined) opts.peakRps = config.defaults.peakRps;
  else if (config?.defaults.baselineRps !== undefined) opts.baselineRps = config.defaults.baselineRps;
  if (flags.window !== undefined) opts.window = flags.window;
  if (flags.whole) opts.whole = true;
  if (flags.window !== undefined && flags.whole)
    problems.push({ path: '--window', message: '--window and --whole are mutually exclusive' });
  if (flags.seed !== undefined) {
    const s = Number(flags.seed);
    if (!Number.isInteger(s) || s < 0)
      problems.push({ path: '--seed', message: `"${flags.seed}" is not a whole number ≥ 0` });
    else opts.seed = s;
  } else if (config?.defaults.seed !== undefined) opts.seed = config.defaults.seed;
  if (flags.arrivals !== undefined) {
    if (flags.arrivals !== 'even' && flags.arrivals !== 'poisson')
      problems.push({
        path: '--arrivals',
        message: `"${flags.arrivals}" is not an arrival process`,
        expected: 'even or poisson',
      });
    else opts.arrivals = flags.arrivals;
  }
  const mc = num('--max-concurrency', flags.maxConcurrency, true);
  if (mc !== undefined) opts.maxConcurrency = mc;
  const maxRps = num('--max-rps', flags.maxRps);
  if (maxRps !== undefined && maxRps > ABSOLUTE_MAX_RPS)
    problems.push({ path: '--max-rps', message: `${flags.maxRps} is above ${ABSOLUTE_MAX_RPS}` });
  // A live run (one load generator) is held to the live ceiling unless it is raised deliberately.
  if (use.live) opts.maxPeakRps = maxRps ?? config?.limits?.maxRps ?? DEFAULT_MAX_LIVE_RPS;
  else if (maxRps !== undefined) opts.maxPeakRps = maxRps;
  if (problems.length === 1) {
    const p = problems[0] as Problem;
    throw invalidInput(
      'invalid-flag',
      `${p.path}: ${p.message}`,
      p.hint ?? (p.expected ? `expected ${p.expected}` : undefined),
    );
  }
  if (problems.length > 1) throw validationError('invalid-flag', 'command-line options', problems);
  return opts;
}
