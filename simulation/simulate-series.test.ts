import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { flushBucket } from './simulate-series.ts';
import { createSimState } from './simulate-state.ts';

const scaling = loadScaling();

describe('the end of a series interval', () => {
  it('writes one iteration record per scenario and one step record per step, then empties the buckets', () => {
    const plan = constructedPlan([
      { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 600], rates: [1, 1] },
    ]);
    const st = createSimState(plan, { arch: 'monolith', scaling, seed: 1 });
    st.iterBuckets[0] = { started: 50, failSum: 5 };
    st.droppedInBucket[0] = 10;
    const b = st.flats[0]!.bucket;
    Object.assign(b, {
      requests: 60,
      failed: 15,
      served: 50,
      timeouts: 5,
      wShift: 50 * 20,
      wTail: 50 * 10,
      rejected: 10,
      wRejected: 10,
    });
    flushBucket(st, 60);
    const [it, step] = st.series;
    expect(it).toMatchObject({
      t: 0,
      dt: 60,
      step: null,
      planned: 60,
      started: 50,
      completed: 45,
      dropped: 10,
    });
    expect(step).toMatchObject({
      requests: 60,
      failed: 15,
      status: { '2xx': 45, '5xx': 10 },
      errors: { timeout: 5 },
    });
    // The served requests (shift 20 ms, tail 10 ms) and the rejected ones (1 ms) form the interval's mixture.
    expect(step?.latencyEstimate?.p50).toBeGreaterThan(20);
    expect(st.stepComponents.get(st.flats[0]!)).toEqual([
      { shift: 20, tail: 10, weight: 50 },
      { shift: 1, tail: 0, weight: 10 },
    ]);
    expect(st.totals).toMatchObject({ requests: 60, failed: 15, timeouts: 5, iterations: 50, dropped: 10 });
    expect(b.requests).toBe(0);
    expect(st.bucketStart).toBe(60);
  });
});
