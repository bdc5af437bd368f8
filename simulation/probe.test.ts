import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readCalibrationFile } from '../core/calibration-file.ts';
import { builtinJourneys } from '../scenarios/profile.ts';
import { oneStepJourney } from '../scenarios/test-plans.ts';
import {
  buildStepPlan,
  computeProbeCalibration,
  estimateCapacity,
  findKnee,
  geometricSteps,
  type KneeCriteria,
  mixTouching,
  modelKneeRps,
  type ProbeMixEntry,
  type ProbeStepMeasurement,
} from './probe.ts';

const criteria: KneeCriteria = { p95Ms: 1000, maxErrorRate: 0.01, minAchievedRatio: 0.95 };

/**
 * A constructed service of known capacity: 50 req/s per task at 100% CPU, 2 tasks, so 100 req/s
 * offered is the saturation point; CPU = load ÷ capacity. Latency and errors blow up past it.
 */
function step(offered: number, over?: Partial<ProbeStepMeasurement>): ProbeStepMeasurement {
  const perTask = Math.min(offered, 100) / 2;
  const cpu = (perTask / 50) * 100;
  return {
    offeredRps: offered,
    achievedRps: Math.min(offered, 100),
    p95Ms: offered <= 90 ? 40 + offered : 3000,
    errorRate: offered <= 90 ? 0 : 0.05,
    services: {
      monolith: {
        tasks: 2,
        rpsPerTask: perTask,
        cpu,
        samples: [0.98, 1, 1.02].map((f) => ({ rpsPerTask: perTask * f, cpu })),
      },
    },
    ...over,
  };
}

describe('findKnee', () => {
  const cases: {
    name: string;
    steps: ProbeStepMeasurement[];
    index: number | null;
    reached: boolean;
    nonMonotone: number[];
  }[] = [
    {
      name: 'the highest passing step below the first failure is the knee',
      steps: [10, 20, 40, 80, 160].map((r) => step(r)),
      index: 3,
      reached: true,
      nonMonotone: [],
    },
    {
      name: 'every step passing leaves the knee unreached at the top step',
      steps: [10, 20, 40].map((r) => step(r)),
      index: 2,
      reached: false,
      nonMonotone: [],
    },
    {
      name: 'no step passing gives no knee',
      steps: [200, 400].map((r) => step(r)),
      index: null,
      reached: true,
      nonMonotone: [],
    },
    {
      name: 'a failing step below a passing one is reported as non-monotone',
      steps: [step(10), step(20, { p95Ms: 1500 }), step(40), step(160)],
      index: 2,
      reached: true,
      nonMonotone: [1],
    },
    {
      name: 'a step that achieves less than 95% of its offered rate fails',
      steps: [step(10), step(20, { achievedRps: 18 })],
      index: 0,
      reached: true,
      nonMonotone: [],
    },
  ];
  cases.push(
    {
      name: 'with functional failures above 1% the arrivals started, not requests achieved, judge throughput',
      steps: [
        step(10, { achievedRps: 8, functionalFailureRate: 0.05, startedRatio: 1 }),
        step(20, { startedRatio: 0.9, functionalFailureRate: 0.05 }),
      ],
      index: 0,
      reached: true,
      nonMonotone: [],
    },
    {
      name: 'without functional failures requests achieved judge throughput even when every arrival started',
      steps: [
        step(10, { startedRatio: 1 }),
        step(20, { achievedRps: 15, startedRatio: 1, functionalFailureRate: 0 }),
      ],
      index: 0,
      reached: true,
      nonMonotone: [],
    },
  );
  for (const c of cases)
    it(c.name, () => {
      const k = findKnee(c.steps, criteria);
      expect(k.index).toBe(c.index);
      expect(k.reached).toBe(c.reached);
      expect(k.nonMonotone).toEqual(c.nonMonotone);
    });

  it('says why a step failed', () => {
    const k = findKnee([step(160)], criteria);
    expect(k.failures[0]).toEqual([
      'p95 3000 ms > 1000 ms',
      'errors 5.0% > 1.0%',
      'achieved 100.0 < 95% of 160.0 req/s',
    ]);
  });
});

describe('estimateCapacity', () => {
  it('divides requests per task by the CPU fraction and averages', () => {
    const e = estimateCapacity([
      { rpsPerTask: 10, cpu: 20 },
      { rpsPerTask: 30, cpu: 60 },
    ]);
    expect(e?.capacityRpsPerTask).toBe(50);
    expect(e?.uncertainty).toBe(0);
    expect(e?.samples).toBe(2);
  });
  it('leaves out periods below 10% or above 95% CPU', () => {
    const e = estimateCapacity([
      { rpsPerTask: 1, cpu: 5 },
      { rpsPerTask: 40, cpu: 80 },
      { rpsPerTask: 60, cpu: 99 },
    ]);
    expect(e).toEqual({ capacityRpsPerTask: 50, uncertainty: null, samples: 1, efficiency: null });
  });
  it('gives the standard error relative to the mean', () => {
    // samples 40 and 60 (cpu 100% ≡ 50%): mean 50, sd √200, se = sd/√2 = 10 → 0.2 relative.
    const e = estimateCapacity([
      { rpsPerTask: 20, cpu: 50 },
      { rpsPerTask: 30, cpu: 50 },
    ]);
    expect(e?.capacityRpsPerTask).toBe(50);
    expect(e?.uncertainty).toBeCloseTo(0.2, 10);
  });
  it('takes efficiency as the model CPU over the measured CPU, whatever a request counts as', () => {
    // A service called twice per public request: 20 of its requests/s at 40% CPU while the model,
    // from the entry's 10 public requests/s, predicts 30%: efficiency 0.75 in both periods.
    const e = estimateCapacity([
      { rpsPerTask: 20, cpu: 40, modelCpu: 30 },
      { rpsPerTask: 40, cpu: 80, modelCpu: 60 },
    ]);
    expect(e?.capacityRpsPerTask).toBe(50);
    expect(e?.efficiency).toEqual({ mean: 0.75, uncertainty: 0 });
  });
  it('returns null when no period qualifies', () => {
    expect(estimateCapacity([{ rpsPerTask: 5, cpu: 2 }])).toBeNull();
  });
});

describe('computeProbeCalibration', () => {
  const probe = {
    target: 'http://127.0.0.1:1',
    arch: 'monolith' as const,
    replicasPinnedBy: 'peakday' as const,
    replicas: 2,
    mix: ['web/browse'],
    budgetSource: 'default',
    holdSeconds: 6,
    settleSeconds: 2,
    timeScale: 60,
    notes: [],
  };
  // The model says 25 ms per request on a 1-vCPU task: 40 req/s per task; the service does 50.
  const input = {
    steps: [10, 20, 40, 80, 160].map((r) => step(r)),
    criteria,
    demandCpuMsPerRequest: { monolith: 25 },
    measuredAt: '2026-11-25T00:00:00.000Z',
    source: 'probe test',
    probe,
  };

  it('finds the known capacity, efficiency and bottleneck of a constructed service', () => {
    const c = computeProbeCalibration(input);
    const m = c.services.monolith;
    expect(m?.capacityRpsPerTask).toBe(50);
    expect(m?.efficiency).toBe(1.25);
    expect(m?.modelCapacityRpsPerTask).toBe(40);
    expect(m?.kneeRpsPerTask).toBe(40);
    expect(m?.kneeCpu).toBe(80);
    expect(m?.replicas).toBe(2);
    // 4 steps at or below the knee, 3 periods each; the 10 req/s step is at exactly 10% CPU.
    expect(m?.samples).toBe(12);
    expect(m?.provenance).toBe('measured');
    expect(c.probe.knee).toMatchObject({
      reached: true,
      index: 3,
      offeredRps: 80,
      achievedRpsPerTask: 40,
      bottleneck: 'monolith',
    });
    expect(c.probe.steps.map((s) => s.passed)).toEqual([true, true, true, true, false]);
  });

  it('prefers the CPU-ratio efficiency when the periods carry the model CPU', () => {
    const steps = input.steps.map((st) => ({
      ...st,
      services: {
        monolith: {
          ...(st.services.monolith as NonNullable<(typeof st.services)['monolith']>),
          samples: (st.services.monolith?.samples ?? []).map((x) => ({ ...x, modelCpu: x.cpu * 0.8 })),
        },
      },
    }));
    const m = computeProbeCalibration({ ...input, steps }).services.monolith;
    expect(m?.efficiency).toBe(0.8);
    expect(m?.modelCapacityRpsPerTask).toBe(62.5);
    expect(m?.uncertainty).toBe(0);
  });

  it('ignores steps above the knee (saturated, queueing) for capacity', () => {
    // Past the knee the task reports 100% CPU at 50 req/s/task: would not change the mean, so make it lie.
    const steps = [
      ...input.steps.slice(0, 4),
      step(160, {
        services: { monolith: { tasks: 2, rpsPerTask: 90, cpu: 90, samples: [{ rpsPerTask: 90, cpu: 90 }] } },
      }),
    ];
    expect(computeProbeCalibration({ ...input, steps }).services.monolith?.capacityRpsPerTask).toBe(50);
  });

  it('writes a file that readCalibrationFile accepts, from its directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-probe-unit-'));
    try {
      writeFileSync(join(dir, 'calibration.json'), JSON.stringify(computeProbeCalibration(input)));
      const f = readCalibrationFile(dir);
      expect(f.services.monolith?.efficiency).toBe(1.25);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a service out, with a note, when no period was busy enough', () => {
    const idle = [10, 20].map((r) =>
      step(r, {
        services: { monolith: { tasks: 2, rpsPerTask: 0.5, cpu: 1, samples: [{ rpsPerTask: 0.5, cpu: 1 }] } },
      }),
    );
    const c = computeProbeCalibration({ ...input, steps: idle });
    expect(c.services).toEqual({});
    expect(c.probe.notes.join('\n')).toMatch(/monolith: no settled period/);
    expect(c.probe.notes.join('\n')).toMatch(/every step passed/);
  });
});

describe('step plans', () => {
  const j = builtinJourneys();
  const mix: ProbeMixEntry[] = [
    { channel: 'web', journey: j.browse as NonNullable<typeof j.browse>, weight: 3 },
    { channel: 'web', journey: j.checkout as NonNullable<typeof j.checkout>, weight: 1 },
  ];

  it('offers exactly the requested requests per second, split by iteration weight', () => {
    const p = buildStepPlan({
      mix,
      rps: 60,
      holdSeconds: 5,
      timeScale: 60,
      eventStart: 600,
      seed: 1,
      name: 'probe',
    });
    expect(p.requests / p.durationSeconds).toBeCloseTo(60, 9);
    expect(p.eventEnd - p.eventStart).toBe(300);
    const [a, b] = p.scenarios;
    expect((a?.iterations ?? 0) / (b?.iterations ?? 1)).toBeCloseTo(3, 9);
  });

  it('keeps only journeys that touch the probed service', () => {
    const onlyCheckout = mixTouching(mix, 'headless', 'checkout');
    expect(onlyCheckout.map((m) => m.journey.name)).toEqual(['checkout']);
    expect(mixTouching(mix, 'headless', 'catalog').length).toBeGreaterThan(0);
  });

  it('places the model knee where the busiest service reaches 100% CPU', () => {
    // One operation on the monolith: knee = 1000 ms × 1 vCPU × 2 tasks ÷ its CPU-ms.
    const plan = buildStepPlan({
      mix: [{ channel: 'web', journey: oneStepJourney('one', 'getProduct'), weight: 1 }],
      rps: 10,
      holdSeconds: 1,
      timeScale: 1,
      eventStart: 0,
      seed: 1,
      name: 'p',
    });
    const knee = modelKneeRps(plan, 'monolith', 2);
    expect(Number.isFinite(knee) && knee > 0).toBe(true);
    expect(modelKneeRps(plan, 'monolith', 4)).toBeCloseTo(knee * 2, 9);
  });

  it('spaces steps geometrically', () => {
    expect(geometricSteps(10, 80, 4)).toEqual([10, 20, 40, 80]);
  });
});
