import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { adaptTables, endPeriod } from './simulate-period.ts';
import { createSimState, type SimState } from './simulate-state.ts';
import { countTasks } from './simulate-step.ts';

const scaling = loadScaling();

function monolith(config: ScalingConfig, options: { vcpuQuota?: number } = {}): SimState {
  const plan = constructedPlan([
    { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 3600], rates: [1, 1] },
  ]);
  return createSimState(plan, { arch: 'monolith', scaling: config, seed: 1, warmStart: false, ...options });
}

/** Feeds one full 60-s period at `cpuPct` CPU over the running tasks and closes it. */
function period(st: SimState, start: number, cpuPct: number): void {
  const s = st.services.get('monolith')!;
  countTasks(st, start);
  s.pCap = s.counts.running * 1000 * 60;
  s.pBusy = (s.pCap * cpuPct) / 100;
  s.pReqs = 600;
  s.pHealthySum = s.counts.healthy * 60;
  s.pSteps = 60;
  endPeriod(st, start + 60);
}

describe('the end of a metric period', () => {
  it('writes the CPU over running tasks to the timeline and clears the period', () => {
    const st = monolith(scaling);
    period(st, 0, 37.5);
    const rec = st.timeline.at(-1)!;
    expect(rec.service).toBe('monolith');
    expect(rec.cpu).toBe(37.5);
    expect(rec.requests).toBe(600);
    expect(st.services.get('monolith')!.pBusy).toBe(0);
    expect(st.periodStart).toBe(60);
  });

  it('scales out through decide() after the alarm’s datapoints at high CPU, and launches the new tasks', () => {
    const st = monolith(scaling);
    const s = st.services.get('monolith')!;
    const before = s.state.desired;
    for (let p = 0; p < 6; p++) period(st, p * 60, 95);
    expect(s.state.desired).toBeGreaterThan(before);
    expect(st.activities.length).toBeGreaterThan(0);
    expect(s.peakTasks).toBe(s.state.desired);
  });

  it('keeps tasks beyond the vCPU quota pending and says the quota was exceeded', () => {
    const cfg = scaling.services.monolith!;
    const st = monolith(
      { ...scaling, services: { ...scaling.services, monolith: { ...cfg, maxCapacity: 20 } } },
      { vcpuQuota: 3 },
    );
    const s = st.services.get('monolith')!;
    for (let p = 0; p < 8; p++) period(st, p * 60, 99);
    expect(s.state.desired).toBeGreaterThan(3);
    expect(st.quotaExceeded).toBe(true);
    expect(s.quotaBlocked).toBe(s.state.desired - 3);
  });

  it("raises a table's ceiling to double a peak once the table had its adaptation time", () => {
    const st = monolith(scaling);
    const tb = st.tables.values().next().value!;
    const ceil = tb.readCeil;
    tb.minuteRead = ceil * 4;
    adaptTables(st);
    for (let p = 1; p < st.inputs.adaptPeriods; p++) adaptTables(st);
    expect(tb.readCeil).toBe(ceil);
    adaptTables(st);
    expect(tb.readCeil).toBe(ceil * 8);
  });
});
