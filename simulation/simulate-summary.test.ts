import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { createSimState } from './simulate-state.ts';
import { findingsOf, latencyBreakdown, neededAtPeak, runSummary } from './simulate-summary.ts';
import { MODEL_TABLE_SOURCE } from './simulate-types.ts';

const scaling = loadScaling();
const plan = constructedPlan([
  { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [1, 1] },
  { channel: 'app', journey: oneStepJourney('store', 'getStoreInventory'), times: [0, 600], rates: [1, 1] },
]);

describe("the simulated run's summary", () => {
  it('counts requests and iterations from the totals and solves percentiles per channel', () => {
    const st = createSimState(plan, { arch: 'monolith', scaling, seed: 1 });
    Object.assign(st.totals, {
      requests: 1000,
      failed: 30,
      timeouts: 10,
      iterations: 900,
      failedIterations: 20,
      dropped: 100,
    });
    st.stepComponents.get(st.flats[0]!)!.push({ shift: 10, tail: 0, weight: 100 });
    st.stepComponents.get(st.flats[1]!)!.push({ shift: 30, tail: 0, weight: 100 });
    const b = latencyBreakdown(st);
    expect(b.byChannel.web?.p95).toBe(10);
    expect(b.byChannel.app?.p95).toBe(30);
    expect(b.overall.p50).toBeGreaterThanOrEqual(10);
    expect(b.overall.p95).toBe(30);
    const s = runSummary(st, b);
    expect(s.iterations).toEqual({ planned: 1000, started: 900, completed: 880, dropped: 100, failed: 20 });
    expect(s.requests.byStatus['5xx']).toBe(20);
    expect(s.requests.ratePerSecond).toBe(1.67);
  });

  it('says how many tasks the busiest minute needed and warns when max capacity was hit', () => {
    const st = createSimState(plan, { arch: 'monolith', scaling, seed: 1 });
    const s = st.services.get('monolith')!;
    const perTask = 1000 * (1 - st.inputs.overhead);
    s.peakDemandRate = perTask * (s.cpuTarget / 100) * 7.5;
    expect(neededAtPeak(s, st.inputs.overhead)).toBe(8);
    s.atMaxPeriods = 3;
    const f = findingsOf(st);
    expect(f.services.monolith).toMatchObject({
      neededAtPeak: 8,
      minutesAtMaxCapacity: 3,
      capacitySource: MODEL_TABLE_SOURCE,
    });
    expect(f.warnings.some((w) => w.startsWith('monolith spent 3 min at its max capacity'))).toBe(true);
    expect(f.inputs.hotKeys?.source).not.toBe('user');
  });
});
