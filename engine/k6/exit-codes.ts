/**
 * What k6's own exit codes mean to a peakday run. k6 documents them in its source
 * (errext/exitcodes/codes.go, grafana/k6; docs/sources.md "k6 exit codes"); a k6 that ends for its
 * own reasons (its script threw, its options were rejected, it was stopped from outside, it crashed)
 * is not a bug in peakday, so each reason gets a catalog code with a true exit code instead of
 * "internal error". Pure.
 */
import type { ErrorCode } from '../../core/errors.ts';

/** k6's exit codes (errext/exitcodes), by k6's names. */
export const K6_EXIT = {
  cloudTestRunFailed: 97,
  cloudFailedToGetProgress: 98,
  thresholdsHaveFailed: 99,
  setupTimeout: 100,
  teardownTimeout: 101,
  genericTimeout: 102,
  scriptStoppedFromRestApi: 103,
  invalidConfig: 104,
  externalAbort: 105,
  cannotStartRestApi: 106,
  scriptException: 107,
  scriptAborted: 108,
  goPanic: 109,
} as const;

/** How a k6 process ended, as the run records it. */
export type K6Ending =
  /** It played the plan (99: thresholds crossed; peakday judges its budgets itself). */
  | { kind: 'completed' }
  /** Something outside peakday stopped it (a signal to k6, its REST API): what it measured is kept. */
  | { kind: 'interrupted'; reason: string }
  /** It failed: the catalog code says whose the failure is and the exit code. */
  | { kind: 'failed'; code: ErrorCode; reason: string };

/**
 * The ending of a k6 that exited with `code`. A shell's 126/127 (a wrapper script whose k6 cannot
 * be run or found) is the missing tool's; codes k6 does not document are its own failure.
 */
export function k6Ending(code: number): K6Ending {
  switch (code) {
    case 0:
    case K6_EXIT.thresholdsHaveFailed:
      return { kind: 'completed' };
    case K6_EXIT.externalAbort:
      return { kind: 'interrupted', reason: 'k6 was stopped by a signal from outside peakday (k6 exit 105)' };
    case K6_EXIT.scriptStoppedFromRestApi:
      return { kind: 'interrupted', reason: 'k6 was stopped through its REST API (k6 exit 103)' };
    case K6_EXIT.invalidConfig:
      return {
        kind: 'failed',
        code: 'k6-config-invalid',
        reason: 'k6 rejected its configuration (k6 exit 104)',
      };
    case K6_EXIT.scriptException:
      return {
        kind: 'failed',
        code: 'k6-script-error',
        reason: 'the script threw an exception (k6 exit 107)',
      };
    case K6_EXIT.scriptAborted:
      return { kind: 'failed', code: 'k6-script-error', reason: 'the script aborted the test (k6 exit 108)' };
    case 126:
    case 127:
      return {
        kind: 'failed',
        code: 'k6-not-found',
        reason: `k6 could not be ${code === 126 ? 'executed' : 'found'} (exit ${code} from the shell that started it)`,
      };
    case K6_EXIT.setupTimeout:
    case K6_EXIT.teardownTimeout:
    case K6_EXIT.genericTimeout:
      return { kind: 'failed', code: 'k6-failed', reason: `k6 timed out (k6 exit ${code})` };
    case K6_EXIT.cannotStartRestApi:
      return {
        kind: 'failed',
        code: 'k6-failed',
        reason: 'k6 could not start its REST API (k6 exit 106: is another k6 using localhost:6565?)',
      };
    case K6_EXIT.goPanic:
      return {
        kind: 'failed',
        code: 'k6-failed',
        reason: 'k6 crashed (k6 exit 109: a Go panic, a bug in k6)',
      };
    default:
      return { kind: 'failed', code: 'k6-failed', reason: `k6 exited with code ${code}` };
  }
}
