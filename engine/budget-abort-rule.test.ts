import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../core/run-format.ts';
import { parseBudgetsText } from '../scenarios/budgets/parse-budgets.ts';
import { recordsAt, type SecondSpec } from '../scenarios/budgets/testing.ts';
import { createBudgetAbortRule } from './budget-abort-rule.ts';

/** Feeds seconds 0..n-1 to the rule and returns the first second it aborts at (or null). */
function firstAbort(
  yaml: string,
  n: number,
  spec: (t: number) => SecondSpec[],
): { t: number; reason: string; exitCode: number } | null {
  const rule = createBudgetAbortRule(parseBudgetsText(yaml, 'b.yaml').budgets);
  for (let t = 0; t < n; t++) {
    const records: SeriesRecord[] = recordsAt(t, spec(t));
    const d = rule({ t, wall: t, records });
    if (d.abort) return { t, reason: d.reason, exitCode: d.exitCode };
  }
  return null;
}

const errorsFrom30 = (t: number): SecondSpec[] => [{ requests: 10, failed: t >= 30 ? 10 : 0 }];
const windowed =
  'budgets:\n  - metric: error_rate\n    threshold: rate < 50%\n    window: 10s\n    minSamples: 20\n    abortOnFail: true\n';

describe('createBudgetAbortRule', () => {
  it('stops the load the first second the trailing window breaches (exit 99)', () => {
    // a 10-s window holds 10 seconds x 10 requests; "rate < 50%" is breached at 50%: the fifth failing second, t = 34.
    const a = firstAbort(windowed, 60, errorsFrom30);
    expect(a).toMatchObject({ t: 34, exitCode: 99 });
    expect(a?.reason).toMatch(/rate < 50%, observed 50% over the last 10s of event time on 100 samples/);
  });

  it('on a whole-run budget, waits until the cumulative rate breaches', () => {
    // cumulative: failures (t-29)*10 over (t+1)*10 requests reach 50% once t - 29 >= (t + 1) / 2, t = 59.
    const a = firstAbort(windowed.replace('window: 10s', 'window: run'), 90, errorsFrom30);
    expect(a?.t).toBe(59);
  });

  it('waits for minSamples, the warm-up and delayAbortEval', () => {
    const allFail = (): SecondSpec[] => [{ requests: 10, failed: 10 }];
    expect(firstAbort(windowed, 10, allFail)?.t).toBe(1);
    expect(
      firstAbort(windowed.replace('minSamples: 20', 'minSamples: 20\n    warmup: 5s'), 20, allFail)?.t,
    ).toBe(6);
    expect(
      firstAbort(windowed.replace('minSamples: 20', 'minSamples: 20\n    delayAbortEval: 8s'), 20, allFail)
        ?.t,
    ).toBe(8);
  });

  it('ignores budgets without abortOnFail and never aborts a healthy run', () => {
    expect(firstAbort(windowed.replace('    abortOnFail: true\n', ''), 60, errorsFrom30)).toBeNull();
    expect(firstAbort(windowed, 60, () => [{ requests: 10 }])).toBeNull();
  });

  it('aborts on a latency budget from exactly merged histograms', () => {
    const yaml =
      'budgets:\n  - metric: latency\n    threshold: p95 < 1s\n    window: 5s\n    abortOnFail: true\n    minSamples: 50\n';
    const a = firstAbort(yaml, 30, (t) => [{ requests: 20, latency: [[t >= 10 ? 2000 : 100, 20]] }]);
    // the 5-s window holds 100 samples; p95 exceeds 1 s once more than 5 are slow: at t = 10 (20 slow).
    expect(a?.t).toBe(10);
  });
});
