import { describe, expect, it } from 'vitest';
import type { ScalingActivity } from '../../core/run-format.ts';
import { createLiveAutoscaler, wallTimestamp } from './live-autoscaler.ts';
import { loadScaling } from './scaling-file.ts';

/** A fake stack: records desired counts and activities, like the orchestrator's callbacks. */
function fakeStack() {
  const desired: Record<string, number[]> = {};
  const recorded: ScalingActivity[] = [];
  return {
    desired,
    recorded,
    setDesiredCount: (s: string, n: number) => {
      desired[s] = [...(desired[s] ?? []), n];
    },
    recordActivity: (a: ScalingActivity) => recorded.push(a),
  };
}

describe('the live autoscaler', () => {
  it('sets initial counts, then scales a service out after a CPU spike with AWS timing (3 datapoints + 60-s lag)', () => {
    const stack = fakeStack();
    const scaler = createLiveAutoscaler({
      scaling: loadScaling(),
      services: ['catalog', 'cart', 'bus'],
      seed: 1,
      startEventTime: 0,
      ...stack,
    });
    expect(stack.desired).toEqual({ catalog: [2], cart: [2], bus: [1] });
    // catalog's CPU jumps from 30% to 90% at t=600; the default target is 60%.
    for (let t = 0; t < 1200; t += 60) {
      scaler.onPeriod(
        {
          eventTime: t,
          period: 60,
          services: {
            catalog: { cpu: t < 600 ? 30 : 90, memory: 20, requestCountPerTarget: 100 },
            cart: { cpu: 30, memory: 20, requestCountPerTarget: 100 },
          },
        },
        t + 60,
      );
    }
    // Periods 600, 660, 720 breach; the third is visible at 780 + 60 s lag = 840.
    const scaled = stack.recorded.filter((a) => a.StatusCode === 'Successful');
    expect(scaled.map((a) => [a.ResourceId, a.eventTime, a.fromCapacity, a.toCapacity])).toEqual([
      ['service/peakday/catalog', 840, 2, 3], // ceil(2 × 90 / 60) = 3
      ['service/peakday/catalog', 1140, 3, 5], // cooldown over: ceil(3 × 1.5) = 5
    ]);
    expect(stack.desired.catalog).toEqual([2, 3, 5]);
    expect(stack.desired.cart).toEqual([2]);
    // cart idles at 30% (< 90% of 60) for 15 visible periods but is at its minimum: logged once, not scaled.
    const cart = stack.recorded.filter((a) => a.ResourceId === 'service/peakday/cart');
    expect(cart.map((a) => [a.eventTime, a.NotScaledReasons?.[0]?.Code])).toEqual([
      [960, 'AlreadyAtMinCapacity'],
    ]);
    expect(scaler.activities()).toEqual(stack.recorded);
  });

  it('lowers max capacities above the local task cap and says so', () => {
    const stack = fakeStack();
    const scaler = createLiveAutoscaler({
      scaling: loadScaling(),
      services: ['gateway'],
      seed: 1,
      startEventTime: 0,
      maxTasks: 8,
      ...stack,
    });
    expect(scaler.states().gateway?.maxCapacity).toBe(8);
    expect(scaler.notes).toEqual(['gateway: maxCapacity 20 lowered to the local cap of 8 tasks']);
  });

  it('restarts alarms and scheduled actions when a run re-anchors the clock', () => {
    const stack = fakeStack();
    const base = loadScaling();
    const catalog = base.services.catalog;
    if (!catalog) throw new Error('no catalog');
    const scaling = {
      ...base,
      services: {
        catalog: { ...catalog, scheduledActions: [{ name: 'pre-warm', at: 600, minCapacity: 6 }] },
      },
    };
    const scaler = createLiveAutoscaler({
      scaling,
      services: ['catalog'],
      seed: 1,
      startEventTime: 0,
      ...stack,
    });
    const period = (t: number, cpu: number) =>
      scaler.onPeriod(
        { eventTime: t, period: 60, services: { catalog: { cpu, memory: 10, requestCountPerTarget: 1 } } },
        t + 60,
      );
    // Before the run: the stack at real time reaches 960 s; two hot periods at its end.
    for (let t = 0; t < 960; t += 60) period(t, t >= 840 ? 95 : 50);
    expect(scaler.states().catalog?.minCapacity).toBe(6);
    // The run sets the clock back to event 0: one more hot period must not complete the 3-of-3 alarm,
    // min goes back to 2, and the pre-warm applies again at 600.
    period(0, 95);
    expect(scaler.states().catalog?.minCapacity).toBe(2);
    expect(scaler.notes.at(-1)).toBe(
      'catalog: clock jumped by -960s at event time 0s; alarm history restarted',
    );
    for (let t = 60; t < 660; t += 60) period(t, 50);
    const prewarms = stack.recorded.filter((a) => a.Cause.includes('pre-warm'));
    expect(prewarms.map((a) => a.eventTime)).toEqual([600, 600]);
    expect(stack.recorded.filter((a) => a.Cause.includes('AlarmHigh'))).toEqual([]);
  });

  it('stamps activities with wall time through the run clock', () => {
    const stamp = wallTimestamp({ timeScale: 60, eventStart: 600 }, Date.UTC(2026, 10, 25, 12, 0, 0));
    expect(stamp(660)).toBe('2026-11-25T12:00:01.000Z');
  });
});
