import { describe, expect, it } from 'vitest';
import { loadScaling, type ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { LOCAL_KEY_WRITES, LOCAL_STORE_LIMITS, selfThrottleShare } from './local-store.ts';
import { createSimState } from './simulate-state.ts';
import {
  countTasks,
  offerDemand,
  recordClientView,
  serveDeployables,
  throttleStores,
} from './simulate-step.ts';

const checkout = LOCAL_KEY_WRITES.checkout!;
const gap = checkout.gapMs;

function pinned(n: number): ScalingConfig {
  const scaling = loadScaling();
  const services = Object.fromEntries(
    Object.entries(scaling.services).map(([k, v]) => [
      k,
      { ...v, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] },
    ]),
  );
  return { ...scaling, services };
}

/** The failed share of one checkout step at a low rate, every deployable pinned at `tasks`. */
function failedShare(arch: 'monolith' | 'headless', tasks: number, local = true): number {
  const plan = constructedPlan([
    { channel: 'web', journey: oneStepJourney('pay', 'checkout'), times: [0, 600], rates: [0.5, 0.5] },
  ]);
  const st = createSimState(plan, {
    arch,
    scaling: pinned(tasks),
    seed: 1,
    clientTimeoutMs: Number.POSITIVE_INFINITY,
    ...(local ? { localStore: LOCAL_STORE_LIMITS } : {}),
  });
  countTasks(st, 300);
  offerDemand(st, 300.5);
  throttleStores(st);
  serveDeployables(st);
  recordClientView(st);
  const b = st.flats[0]!.bucket;
  return b.failed / b.requests;
}

describe("the local store's throttles in a replay", () => {
  it('throttles nothing while the writes fit a replica, everything when one write alone exceeds it', () => {
    expect(selfThrottleShare(checkout, 5, 1)).toBe(0);
    expect(selfThrottleShare(checkout, 3, 1)).toBe(0);
    expect(selfThrottleShare(checkout, 1.5, 1)).toBe(1);
  });

  it('throttles the second write when both land on one replica within one wall second', () => {
    expect(selfThrottleShare(checkout, 2.5, 1)).toBeCloseTo(1 - gap / 1000, 12);
    expect(selfThrottleShare(checkout, 2.5, 1 / 4)).toBeCloseTo((1 - gap / 1000) / 4, 12);
    expect(selfThrottleShare({ ...checkout, gapMs: 1500 }, 2.5, 1)).toBe(0);
  });

  it.each([
    // 1,000 write units × 0.01 / n per replica: 5 at 2 replicas, 3.33 at 3, 2.5 at 4 (< 2 + 1).
    ['monolith', 2, 0],
    ['monolith', 3, 0],
    ['monolith', 4, 1 - gap / 1000],
    ['headless', 3, 0],
    ['headless', 4, (1 - gap / 1000) / 4],
  ] as const)('fails a %s checkout at %i replicas as the local store does (share %f)', (arch, n, want) => {
    expect(failedShare(arch, n)).toBeCloseTo(want, 6);
  });

  it('leaves a simulation of the real event (DynamoDB limits) alone', () => {
    expect(failedShare('monolith', 4, false)).toBe(0);
  });
});
