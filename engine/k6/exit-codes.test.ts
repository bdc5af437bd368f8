import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, ExitCode } from '../../core/errors.ts';
import { k6Ending } from './exit-codes.ts';

describe("k6's exit codes, as a run's ending and peakday's exit code", () => {
  it.each([
    ['a clean run', 0, 'completed', ExitCode.ok],
    ['thresholds crossed (peakday judges its budgets itself)', 99, 'completed', ExitCode.ok],
    ['a signal from outside peakday', 105, 'interrupted', ExitCode.interrupted],
    ['a stop through the REST API', 103, 'interrupted', ExitCode.interrupted],
    ['an invalid configuration', 104, 'k6-config-invalid', ExitCode.invalidInput],
    ['a script exception', 107, 'k6-script-error', ExitCode.invalidInput],
    ['test.abort() in the script', 108, 'k6-script-error', ExitCode.invalidInput],
    ['a wrapper whose k6 cannot be executed', 126, 'k6-not-found', ExitCode.invalidInput],
    ['a wrapper whose k6 is not found', 127, 'k6-not-found', ExitCode.invalidInput],
    ['a setup timeout', 100, 'k6-failed', ExitCode.environment],
    ['its REST API port taken', 106, 'k6-failed', ExitCode.environment],
    ['a Go panic in k6', 109, 'k6-failed', ExitCode.environment],
    ['a code k6 does not document', 255, 'k6-failed', ExitCode.environment],
  ] as const)('%s (k6 exit %i) is %s, exit %i', (_name, code, expected, exit) => {
    const ending = k6Ending(code);
    const outcome = ending.kind === 'failed' ? ending.code : ending.kind;
    expect(outcome).toBe(expected);
    const peakdayExit =
      ending.kind === 'failed'
        ? ERROR_CATALOG[ending.code].exit
        : ending.kind === 'interrupted'
          ? ExitCode.interrupted
          : ExitCode.ok;
    expect(peakdayExit).toBe(exit);
    expect(peakdayExit).not.toBe(ExitCode.internal);
  });

  it('names the code in what it says, so the run directory tells which ending it was', () => {
    for (const code of [103, 104, 105, 107, 108, 109, 250]) {
      const ending = k6Ending(code);
      expect(ending.kind === 'completed' ? '' : ending.reason).toContain(String(code));
    }
  });
});
