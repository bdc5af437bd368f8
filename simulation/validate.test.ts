import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { simulate } from './simulate.ts';
import { constructedPlan, oneStepJourney } from './test-plans.ts';
import { compareLiveAndSimulated } from './validate.ts';

const plan = constructedPlan([
  {
    channel: 'web',
    journey: oneStepJourney('pdp', 'getProduct'),
    times: [0, 600, 600.001, 3600],
    rates: [20, 20, 400, 400],
  },
]);
const sim = simulate(plan, { arch: 'monolith', scaling: loadScaling(), seed: 1 });

function liveFrom(scaleTasks: number, scaleP95: number) {
  return {
    timeline: sim.timeline.map((r) => ({ ...r, running: r.running * scaleTasks })),
    activities: sim.activities,
    p95: { web: (sim.summary.latency.intended?.byChannel.web?.p95 ?? 0) * scaleP95 },
    p95All: (sim.summary.latency.intended?.overall.p95 ?? 0) * scaleP95,
    errorRate: sim.summary.requests.failed / sim.summary.requests.total,
  };
}

describe('validation of the simulator against a live run', () => {
  it('reports zero error when the live run is exactly what the simulator predicts', () => {
    const r = compareLiveAndSimulated('live', 'monolith', liveFrom(1, 1), sim);
    expect(r.tasks.monolith?.relativeError).toBe(0);
    expect(r.p95.relativeError).toBe(0);
    expect(r.withinBound).toEqual({ tasks: true, p95: true });
    expect(r.firstScaleOut.monolith?.differenceSeconds).toBe(0);
  });

  it('measures a known disagreement: live ran twice the tasks and half the p95', () => {
    const r = compareLiveAndSimulated('live', 'monolith', liveFrom(2, 0.5), sim);
    expect(r.tasks.monolith?.relativeError).toBeCloseTo(0.5, 3);
    expect(r.p95.relativeError).toBeCloseTo(1, 2);
    expect(r.withinBound).toEqual({ tasks: false, p95: false });
  });

  it('says what is missing when the live run has no timeline', () => {
    const r = compareLiveAndSimulated('live', 'monolith', { ...liveFrom(1, 1), timeline: [] }, sim);
    expect(r.notes.join(' ')).toMatch(/peakday collect/);
    expect(r.withinBound.tasks).toBe(false);
  });
});
