import { describe, expect, it } from 'vitest';
import type { ScalingActivity } from '../../core/run-format.ts';
import { createScalingState, decide, tasksAt } from './decide.ts';
import { cpuStepPolicy, cpuTargetPolicy, historyOf, serviceScaling } from './test-fixtures.ts';
import type { MetricDatapoint, ServiceScaling, StepScalingPolicy } from './types.ts';

type Metrics = Parameters<typeof historyOf>[1];

/** Runs decide() at every 60-s boundary up to `until`, feeding the completed periods so far. */
function drive(scaling: ServiceScaling, metrics: Metrics, until: number, seed = 7) {
  let state = createScalingState(scaling, { seed, eventTime: 0 });
  const activities: ScalingActivity[] = [];
  const full = historyOf(until, metrics);
  const desiredAt = new Map<number, number>();
  for (let t = 60; t <= until; t += 60) {
    const history = full.filter((d: MetricDatapoint) => d.t + d.period <= t);
    const r = decide(scaling, history, state, t);
    state = r.state;
    activities.push(...r.activities);
    desiredAt.set(t, state.desired);
  }
  return { state, activities, desiredAt };
}

const step = (before: number, after: number, at: number) => (t: number) => (t < at ? before : after);
const scaled = (a: ScalingActivity[]) => a.filter((x) => x.StatusCode === 'Successful');

describe('target tracking on ECSServiceAverageCPUUtilization', () => {
  const cases = [
    {
      name: 'with no metric lag, a step from 40% to 90% scales out 3 periods after the step',
      lag: 0,
      at: 780,
    },
    { name: 'with the default 60-s metric lag, the same step scales out one period later', lag: 60, at: 840 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: c.lag } })]);
      const { activities } = drive(scaling, { cpu: step(40, 90, 600) }, c.at);
      const outs = scaled(activities);
      expect(outs).toHaveLength(1);
      expect(outs[0]).toMatchObject({
        eventTime: c.at,
        fromCapacity: 4,
        toCapacity: 8, // ceil(4 × 90 / 50) = ceil(7.2)
        Description: 'Setting desired count to 8.',
        ScalableDimension: 'ecs:service:DesiredCount',
        ResourceId: 'service/peakday/catalog',
      });
      expect(outs[0]?.Cause).toContain('AlarmHigh');
    });
  }

  it('holds the scale-out cooldown while the metric stays where it was, then scales again from the new capacity', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      maxCapacity: 50,
    });
    const { activities } = drive(scaling, { cpu: step(40, 90, 600) }, 1200);
    const outs = scaled(activities);
    expect(outs.map((a) => [a.eventTime, a.fromCapacity, a.toCapacity])).toEqual([
      [780, 4, 8],
      [1080, 8, 15], // cooldown 300 s over; ceil(8 × 1.8) = 15
    ]);
  });

  it('counts capacity added during the scale-out cooldown toward the next scale-out', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      maxCapacity: 50,
    });
    // 90% from t=600, 150% (saturated, as reported by a queueing model) from t=780.
    const cpu = (t: number) => (t < 600 ? 40 : t < 780 ? 90 : 150);
    const { activities } = drive(scaling, { cpu }, 1000);
    const outs = scaled(activities);
    // Within the cooldown the base is the 4 tasks from before it: ceil(4 × 150 / 50) = 12, not ceil(8 × 3) = 24.
    expect(outs.map((a) => [a.eventTime, a.fromCapacity, a.toCapacity])).toEqual([
      [780, 4, 8],
      [840, 8, 12],
    ]);
  });

  it('waits 15 periods below 90% of the target before scaling in, then scales in gradually', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      initialDesired: 10,
    });
    const { activities, desiredAt } = drive(scaling, { cpu: () => 20 }, 1200);
    expect(desiredAt.get(840)).toBe(10);
    const ins = scaled(activities);
    expect(ins.map((a) => [a.eventTime, a.fromCapacity, a.toCapacity])).toEqual([
      [900, 10, 5], // ceil(10 × 20 / 50) = 4, limited to half: 5
      [1200, 5, 3], // scale-in cooldown 300 s; ceil(5 × 0.4) = 2, limited to 5 − 2 = 3
    ]);
    expect(ins[0]?.Cause).toContain('AlarmLow');
  });

  it('does not scale in while datapoints are missing (INSUFFICIENT_DATA)', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      initialDesired: 10,
    });
    const { activities } = drive(scaling, { cpu: (t) => (t % 300 === 0 ? null : 20) }, 1800);
    expect(activities).toEqual([]);
  });

  it('records AlreadyAtMaxCapacity once when it cannot scale out past the maximum', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      maxCapacity: 4,
    });
    const { activities } = drive(scaling, { cpu: () => 90 }, 900);
    expect(activities).toHaveLength(1);
    expect(activities[0]).toMatchObject({
      eventTime: 180,
      StatusCode: 'Failed',
      NotScaledReasons: [{ Code: 'AlreadyAtMaxCapacity', MaxCapacity: 4, CurrentCapacity: 4 }],
    });
  });

  it('clamps a scale-out to the maximum and then records AlreadyAtMaxCapacity', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      maxCapacity: 6,
    });
    const { activities } = drive(scaling, { cpu: () => 90 }, 600);
    expect(
      activities.map((a) => [a.eventTime, a.StatusCode, a.toCapacity, a.NotScaledReasons?.[0]?.Code]),
    ).toEqual([
      [180, 'Successful', 6, undefined],
      // Within the cooldown a larger scale-out is asked (base 4 → 8) and refused at the maximum.
      [240, 'Failed', 6, 'AlreadyAtMaxCapacity'],
    ]);
  });

  it('records AlreadyAtMinCapacity when it would scale in below the minimum', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      minCapacity: 4,
    });
    const { activities } = drive(scaling, { cpu: () => 10 }, 1200);
    expect(activities).toHaveLength(1);
    expect(activities[0]?.NotScaledReasons).toEqual([
      { Code: 'AlreadyAtMinCapacity', MinCapacity: 4, CurrentCapacity: 4 },
    ]);
  });

  it('lets a scale-out interrupt the scale-in cooldown', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      initialDesired: 10,
    });
    const cpu = (t: number) => (t < 900 ? 20 : 95);
    const { activities } = drive(scaling, { cpu }, 1200);
    expect(scaled(activities).map((a) => [a.eventTime, a.fromCapacity, a.toCapacity])).toEqual([
      [900, 10, 5],
      [1080, 5, 10], // 180 s into the 300-s scale-in cooldown; ceil(5 × 95 / 50) = 10
    ]);
  });
});

describe("a scale-out's boundary", () => {
  const target = cpuTargetPolicy(60, { alarms: { metricLagSeconds: 0 } });
  const outAt = (scaling: ServiceScaling, cpu: number) =>
    scaled(drive(scaling, { cpu: () => cpu }, 180).activities)[0];

  it('records the value it read and where target tracking would have asked one task fewer or more', () => {
    const scaling = serviceScaling([target], { initialDesired: 2 });
    const out = outAt(scaling, 91.5);
    expect(out?.toCapacity).toBe(4); // ceil(2 × 91.5 / 60) = ceil(3.05)
    expect(out?.boundary).toEqual({
      metric: 'ECSServiceAverageCPUUtilization',
      value: 91.5,
      lower: 90,
      upper: 120,
    });
    // The boundaries are where the decision turns: at 90 it asks 3, just above it 4.
    expect(outAt(scaling, 90)?.toCapacity).toBe(3);
    expect(outAt(scaling, 90.01)?.toCapacity).toBe(4);
  });

  it('records none for a scale-out clamped at the maximum', () => {
    const scaling = serviceScaling([target], { initialDesired: 2, maxCapacity: 3 });
    const out = outAt(scaling, 95);
    expect(out?.toCapacity).toBe(3);
    expect(out?.boundary).toBeUndefined();
  });

  it("records a step's bounds as the alarm's threshold plus the step's", () => {
    const steps = cpuStepPolicy({
      stepAdjustments: [
        { lowerBound: 0, upperBound: 15, scalingAdjustment: 1 },
        { lowerBound: 15, scalingAdjustment: 3 },
      ],
    });
    const first = outAt(serviceScaling([steps]), 80);
    expect(first?.boundary).toEqual({ metric: 'CPUUtilization', value: 80, lower: 70, upper: 85 });
    const second = outAt(serviceScaling([steps]), 90);
    expect(second?.boundary).toEqual({ metric: 'CPUUtilization', value: 90, lower: 85, upper: null });
  });

  it('records none on a scale-in', () => {
    const scaling = serviceScaling([target], { initialDesired: 10 });
    const ins = scaled(drive(scaling, { cpu: () => 10 }, 1200).activities);
    expect(ins.length).toBeGreaterThan(0);
    expect(ins.every((a) => a.boundary === undefined)).toBe(true);
  });
});

describe('several policies', () => {
  const requests = (target: number) =>
    cpuTargetPolicy(target, {
      name: 'requests',
      metric: 'ALBRequestCountPerTarget',
      alarms: { metricLagSeconds: 0 },
    });
  const cpu = cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } });

  it('scales out if any policy asks, to the largest capacity asked', () => {
    const scaling = serviceScaling([cpu, requests(1000)]);
    const { activities } = drive(scaling, { cpu: () => 30, requestsPerTarget: () => 3000 }, 180);
    expect(scaled(activities).map((a) => a.toCapacity)).toEqual([12]); // ceil(4 × 3000 / 1000)
    expect(activities[0]?.Cause).toContain('policy requests');
  });

  it('does not scale in while one policy is still near its target', () => {
    const scaling = serviceScaling([cpu, requests(1000)], { initialDesired: 10 });
    const { activities } = drive(scaling, { cpu: () => 10, requestsPerTarget: () => 950 }, 1500);
    expect(activities).toEqual([]);
  });

  it('scales in when every policy asks, by the smallest reduction', () => {
    const scaling = serviceScaling([cpu, requests(1000)], { initialDesired: 10 });
    const { activities } = drive(scaling, { cpu: () => 10, requestsPerTarget: () => 800 }, 900);
    // cpu asks max(ceil(10 × 0.2) = 2, 5) = 5; requests asks max(ceil(10 × 0.8) = 8, 5) = 8.
    expect(scaled(activities).map((a) => [a.eventTime, a.toCapacity])).toEqual([[900, 8]]);
  });

  it('leaves a policy with DisableScaleIn out of the scale-in vote', () => {
    const scaling = serviceScaling([cpu, { ...requests(1000), disableScaleIn: true }], {
      initialDesired: 10,
    });
    const { activities } = drive(scaling, { cpu: () => 10, requestsPerTarget: () => 950 }, 900);
    expect(scaled(activities).map((a) => a.toCapacity)).toEqual([5]);
  });
});

describe('scheduled actions', () => {
  it('applies at its time, ignoring cooldowns, and raises desired to the new minimum', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })], {
      scheduledActions: [{ name: 'pre-warm', at: 300, minCapacity: 12, maxCapacity: 40 }],
    });
    const { activities, desiredAt, state } = drive(scaling, { cpu: () => 45 }, 600);
    expect(desiredAt.get(240)).toBe(4);
    expect(desiredAt.get(300)).toBe(12);
    expect(activities).toHaveLength(1);
    expect(activities[0]).toMatchObject({
      eventTime: 300,
      fromCapacity: 4,
      toCapacity: 12,
      StatusCode: 'Successful',
    });
    expect(activities[0]?.Cause).toContain('scheduled action name pre-warm');
    expect([state.minCapacity, state.maxCapacity]).toEqual([12, 40]);
  });

  it('lowers desired to a new maximum', () => {
    const scaling = serviceScaling([], {
      initialDesired: 10,
      scheduledActions: [{ name: 'cap', at: 60, maxCapacity: 3 }],
    });
    const { activities } = drive(scaling, {}, 120);
    expect(activities.map((a) => [a.fromCapacity, a.toCapacity])).toEqual([[10, 3]]);
  });
});

describe('step scaling', () => {
  const table: { name: string; policy: Partial<StepScalingPolicy>; cpu: number; to: number }[] = [
    { name: 'ChangeInCapacity adds the step adjustment', policy: {}, cpu: 80, to: 6 },
    {
      name: 'the step is chosen by the distance above the threshold',
      policy: {
        stepAdjustments: [
          { lowerBound: 0, upperBound: 15, scalingAdjustment: 1 },
          { lowerBound: 15, scalingAdjustment: 3 },
        ],
      },
      cpu: 90,
      to: 7,
    },
    {
      name: 'PercentChangeInCapacity rounds down above one task',
      policy: {
        adjustmentType: 'PercentChangeInCapacity',
        stepAdjustments: [{ lowerBound: 0, scalingAdjustment: 60 }],
      },
      cpu: 80,
      to: 6, // 4 × 60% = 2.4 → 2
    },
    {
      name: 'PercentChangeInCapacity honours MinAdjustmentMagnitude',
      policy: {
        adjustmentType: 'PercentChangeInCapacity',
        minAdjustmentMagnitude: 3,
        stepAdjustments: [{ lowerBound: 0, scalingAdjustment: 10 }],
      },
      cpu: 80,
      to: 7,
    },
    {
      name: 'ExactCapacity sets the capacity',
      policy: { adjustmentType: 'ExactCapacity', stepAdjustments: [{ lowerBound: 0, scalingAdjustment: 9 }] },
      cpu: 80,
      to: 9,
    },
  ];
  for (const c of table) {
    it(c.name, () => {
      const scaling = serviceScaling([cpuStepPolicy(c.policy)]);
      const { activities } = drive(scaling, { cpu: () => c.cpu }, 60);
      expect(scaled(activities).map((a) => a.toCapacity)).toEqual([c.to]);
    });
  }

  it('holds its one cooldown before scaling out again', () => {
    const scaling = serviceScaling([cpuStepPolicy()]);
    const { activities } = drive(scaling, { cpu: () => 80 }, 420);
    expect(scaled(activities).map((a) => [a.eventTime, a.toCapacity])).toEqual([
      [60, 6],
      [360, 8],
    ]);
  });

  it('scales in with a negative step when its low alarm fires, blocked during the cooldown', () => {
    const policy = cpuStepPolicy({
      name: 'cpu-low',
      stepAdjustments: [{ upperBound: 0, scalingAdjustment: -1 }],
      alarm: { ...cpuStepPolicy().alarm, comparison: 'LessThanThreshold', threshold: 20 },
    });
    const scaling = serviceScaling([policy], { initialDesired: 5 });
    const { activities } = drive(scaling, { cpu: () => 5 }, 400);
    expect(scaled(activities).map((a) => [a.eventTime, a.toCapacity])).toEqual([
      [60, 4],
      [360, 3],
    ]);
  });
});

describe('tasks', () => {
  it('starts new tasks pending, then running after 30–60 s, then healthy after one health check', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })]);
    const { state } = drive(scaling, { cpu: step(40, 90, 600) }, 780);
    const added = state.tasks.filter((t) => t.launchedAt === 780);
    expect(added).toHaveLength(4);
    for (const t of added) {
      expect(t.runningAt - 780).toBeGreaterThanOrEqual(30);
      expect(t.runningAt - 780).toBeLessThanOrEqual(60);
      expect(t.healthyAt - t.runningAt).toBeGreaterThan(0);
      expect(t.healthyAt - t.runningAt).toBeLessThanOrEqual(30);
    }
    expect(tasksAt(state, 780)).toEqual({ desired: 8, pending: 4, running: 4, healthy: 4 });
    expect(tasksAt(state, 780 + 95)).toEqual({ desired: 8, pending: 0, running: 8, healthy: 8 });
  });

  it('draws the same start latencies for the same seed and different ones for another seed', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })]);
    const times = (seed: number) =>
      drive(scaling, { cpu: () => 90 }, 180, seed).state.tasks.map((t) => t.runningAt);
    expect(times(1)).toEqual(times(1));
    expect(times(1)).not.toEqual(times(2));
  });

  it('stops pending tasks before serving ones on scale-in', () => {
    const scaling = serviceScaling([], {
      initialDesired: 4,
      scheduledActions: [
        { name: 'up', at: 60, minCapacity: 8 },
        { name: 'down', at: 120, minCapacity: 1, maxCapacity: 5 },
      ],
    });
    const { state } = drive(scaling, {}, 120);
    const ids = state.tasks.map((t) => t.id);
    expect(ids).toHaveLength(5);
    expect(ids.slice(0, 4)).toEqual([0, 1, 2, 3]);
    // The survivor among the four launched at 60 s is the one closest to serving.
    const launched = drive(
      serviceScaling([], { initialDesired: 4, scheduledActions: [{ name: 'up', at: 60, minCapacity: 8 }] }),
      {},
      60,
    ).state.tasks.filter((t) => t.launchedAt === 60);
    const earliest = launched.reduce((a, b) => (b.runningAt < a.runningAt ? b : a));
    expect(ids[4]).toBe(earliest.id);
  });
});

describe('purity', () => {
  it('does not change the state it is given and gives the same answer twice', () => {
    const scaling = serviceScaling([cpuTargetPolicy(50, { alarms: { metricLagSeconds: 0 } })]);
    const state = createScalingState(scaling, { seed: 3, eventTime: 0 });
    const snapshot = JSON.stringify(state);
    const history = historyOf(180, { cpu: () => 90 });
    const a = decide(scaling, history, state, 180);
    const b = decide(scaling, history, state, 180);
    expect(JSON.stringify(state)).toBe(snapshot);
    expect(a).toEqual(b);
    expect(a.state.desired).toBe(8);
  });

  it('refuses to decide back in time', () => {
    const scaling = serviceScaling([]);
    const state = createScalingState(scaling, { seed: 3, eventTime: 600 });
    expect(() => decide(scaling, [], state, 540)).toThrow(/event-time order|after deciding/);
  });
});
