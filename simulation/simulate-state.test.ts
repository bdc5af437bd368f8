import { describe, expect, it } from 'vitest';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { computeDemandTable } from '../reference-stack/topology.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { createCursor, createSimState, resolveInputs } from './simulate-state.ts';
import { SIMULATION_INPUTS } from './simulate-types.ts';

const scaling = loadScaling();
const plan = (rate: number, hot = false) =>
  constructedPlan([
    {
      channel: 'web',
      journey: oneStepJourney('pdp', 'getProduct', hot),
      times: [0, 600],
      rates: [rate, rate],
    },
  ]);

describe("the simulator's state", () => {
  it('interpolates a rate linearly between its points and is zero outside them', () => {
    const at = createCursor([10, 20, 40], [0, 100, 50]);
    expect(at(5)).toBe(0);
    expect(at(10)).toBe(0);
    expect(at(15)).toBe(50);
    expect(at(30)).toBe(75);
    expect(at(40)).toBe(50);
    expect(at(41)).toBe(0);
  });

  it('applies the documented defaults and refuses a step that is not positive or a misaligned resolution', () => {
    const inputs = resolveInputs(plan(1), { arch: 'monolith', scaling, seed: 1 });
    expect(inputs.nSteps).toBe(600);
    expect(inputs.timeoutMs).toBe(SIMULATION_INPUTS.clientTimeoutMs.value);
    expect(inputs.overhead).toBe(SIMULATION_INPUTS.overheadPct.value / 100);
    expect(inputs.adaptPeriods).toBe(30);
    expect(() => resolveInputs(plan(1), { arch: 'monolith', scaling, seed: 1, stepSeconds: 0 })).toThrow(
      /positive/,
    );
    expect(() =>
      resolveInputs(plan(1), { arch: 'monolith', scaling, seed: 1, resolutionSeconds: 90 }),
    ).toThrow(/align/);
  });

  it('warm-starts a service at the count its CPU target holds at the first minute, and not without warm start', () => {
    const demand = computeDemandTable('monolith').getProduct.monolith as number;
    const cfg = scaling.services.monolith!;
    const policy = cfg.policies.find(
      (p) => p.type === 'TargetTrackingScaling' && p.metric === 'ECSServiceAverageCPUUtilization',
    );
    const target = policy && policy.type === 'TargetTrackingScaling' ? policy.targetValue : 100;
    const perTask = 1000 * (1 - SIMULATION_INPUTS.overheadPct.value / 100) * (target / 100);
    // Enough requests for nine tasks' worth of CPU at the target, below max capacity.
    const rate = (perTask * 8.5) / demand;
    const config: ScalingConfig = {
      ...scaling,
      services: { ...scaling.services, monolith: { ...cfg, maxCapacity: 50 } },
    };
    const warm = createSimState(plan(rate), { arch: 'monolith', scaling: config, seed: 1 });
    expect(warm.services.get('monolith')?.state.desired).toBe(9);
    const cold = createSimState(plan(rate), { arch: 'monolith', scaling: config, seed: 1, warmStart: false });
    expect(cold.services.get('monolith')?.state.desired).toBe(cfg.initialDesired);
  });

  it('flattens each step with the services and tables it touches, and marks hot keys', () => {
    const st = createSimState(plan(1, true), { arch: 'headless', scaling, seed: 1 });
    expect(st.flats).toHaveLength(1);
    const f = st.flats[0]!;
    expect(f.first && f.last).toBe(true);
    expect(f.svc.map((s) => s.name)).toContain('gateway');
    expect(f.svc.map((s) => s.name)).toContain('catalog');
    expect(f.tables.some((u) => u.hot && u.tb.name === 'catalog')).toBe(true);
    expect(st.firstFlat).toEqual([0]);
    // A fresh table's ceiling is double its starting peak.
    expect(st.tables.get('catalog')?.readCeil).toBe(2 * SIMULATION_INPUTS.store.value.initialPeakReadUnits);
  });
});
