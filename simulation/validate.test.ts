import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { mixtureQuantile } from './queueing.ts';
import { simulate } from './simulate.ts';
import { compareLiveAndSimulated, p95Interval, withinSampling } from './validate.ts';

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
    expect(r.withinBound).toEqual({ tasks: true, p95: true, errors: true });
    expect(r.firstScaleOut.monolith?.differenceSeconds).toBe(0);
  });

  it('measures a known disagreement: live ran twice the tasks and half the p95', () => {
    const r = compareLiveAndSimulated('live', 'monolith', liveFrom(2, 0.5), sim);
    expect(r.tasks.monolith?.relativeError).toBeCloseTo(0.5, 3);
    expect(r.p95.relativeError).toBeCloseTo(1, 2);
    expect(r.withinBound).toMatchObject({ tasks: false, p95: false });
  });

  it('does not judge latency against an invalid live run, and says why', () => {
    const r = compareLiveAndSimulated(
      'live',
      'monolith',
      { ...liveFrom(1, 1), valid: false, invalidReasons: ['engine fell behind its schedule: 40 late'] },
      sim,
    );
    expect(r.p95.relativeError).toBe(0);
    expect(r.withinBound).toEqual({ tasks: true, p95: false, errors: false });
    expect(r.liveValid).toBe(false);
    expect(r.notes.join(' ')).toMatch(/live run is invalid \(engine fell behind its schedule\)/);
  });

  it('judges nothing when the live run ran the other topology, and says which to replay it with', () => {
    // The monolith's live run replayed as headless: no service of one is a deployable of the other
    // (until session 11 "tasks within bound" held vacuously over no service at all).
    const headless = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const r = compareLiveAndSimulated('live', 'headless', liveFrom(1, 1), headless);
    expect(r.tasks).toEqual({});
    expect(r.withinBound).toEqual({ tasks: false, p95: false, errors: false });
    expect(r.notes.join(' ')).toMatch(/ran the monolith one \(replay it with --arch monolith\)/);
  });

  it('says what is missing when the live run has no timeline', () => {
    const r = compareLiveAndSimulated('live', 'monolith', { ...liveFrom(1, 1), timeline: [] }, sim);
    expect(r.notes.join(' ')).toMatch(/peakday collect/);
    expect(r.withinBound.tasks).toBe(false);
  });
});

describe('validation uses only the periods where the local stack’s emulation held', () => {
  // The live run matches the simulator except in the periods after the spike, where the host could
  // not run the replicas when due (a third of their holds stretched) and it ran six times the tasks.
  const spoiled = (t: number) => t >= 600 && t < 1200;
  const live = {
    ...liveFrom(1, 1),
    timeline: sim.timeline.map((r) => ({
      ...r,
      running: spoiled(r.t) ? r.running * 6 : r.running,
      emulation: spoiled(r.t)
        ? { holds: 300, stretched: 100, emulatedMs: 3000, addedMs: 1500 }
        : { holds: 300, stretched: 0, emulatedMs: 3000, addedMs: 0 },
    })),
  };

  it('excludes the periods where it did not hold, and says how many it used', () => {
    const r = compareLiveAndSimulated('live', 'monolith', live, sim);
    expect(r.emulation).toEqual({
      periods: 60,
      heldPeriods: 50,
      excludedPeriods: [600, 660, 720, 780, 840, 900, 960, 1020, 1080, 1140],
    });
    expect(r.tasks.monolith?.relativeError).toBe(0);
    expect(r.notes.join(' ')).toContain('uses the 50 of 60 periods where the local stack');
  });

  it('would have judged the host’s periods too without the measure (the test can fail)', () => {
    const { timeline } = live;
    const blind = timeline.map(({ emulation: _, ...r }) => r);
    const r = compareLiveAndSimulated('live', 'monolith', { ...live, timeline: blind }, sim);
    expect(r.emulation).toBeNull();
    expect(r.tasks.monolith?.relativeError).toBeGreaterThan(0.1);
  });

  it('compares latency and errors over the held periods from the series', () => {
    const r = compareLiveAndSimulated('live', 'monolith', { ...live, series: sim.series }, sim);
    expect(r.notes.join(' ')).toContain('over the held periods');
    // The series of the simulator stands in for the live one: no histograms, so no live p95 there.
    expect(r.errorRate.absoluteDifference).toBe(0);
  });
});

describe('validation when the emulation held nowhere', () => {
  it('compares nothing and says so, instead of judging the host’s periods', () => {
    const live = {
      ...liveFrom(1, 1),
      timeline: sim.timeline.map((r) => ({
        ...r,
        emulation: { holds: 300, stretched: 100, emulatedMs: 3000, addedMs: 1500 },
      })),
      series: sim.series,
    };
    const r = compareLiveAndSimulated('live', 'monolith', live, sim);
    expect(r.emulation?.heldPeriods).toBe(0);
    expect(r.tasks).toEqual({});
    expect(r.withinBound).toEqual({ tasks: false, p95: false, errors: false });
    expect(r.notes.join(' ')).toContain('held in none of the 60 periods');
    expect(r.notes.join(' ')).not.toMatch(/peakday collect|over the held periods/);
  });
});

describe('validation of a live run whose timeline goes on past the replayed window (its drain)', () => {
  // On a loaded host the emulation held only in the drain period after the plan's last arrival, a
  // period the replay does not simulate: until 2026-12-04 that left the monolith compared nowhere
  // and reported as "not simulated as tasks" (compare's live check, CI at load 5 on 2 cores).
  const last = Math.max(...sim.timeline.map((r) => r.t));
  const drain = {
    ...sim.timeline[sim.timeline.length - 1],
    t: last + 60,
    running: 9,
  } as (typeof sim.timeline)[0];
  const stretched = { holds: 300, stretched: 100, emulatedMs: 3000, addedMs: 1500 };
  const calm = { holds: 30, stretched: 0, emulatedMs: 300, addedMs: 0 };

  it('leaves the drain out and says so; held nowhere inside the window is held nowhere', () => {
    const timeline = [
      ...sim.timeline.map((r) => ({ ...r, emulation: stretched })),
      { ...drain, emulation: calm },
    ];
    const r = compareLiveAndSimulated('live', 'monolith', { ...liveFrom(1, 1), timeline }, sim);
    expect(r.notes.join(' ')).toContain(`period at event ${last + 60} s lies past the replayed window`);
    expect(r.notes.join(' ')).toContain('held in none of the 60 periods');
    expect(r.notes.join(' ')).not.toMatch(/not simulated as tasks/);
    expect(r.tasks).toEqual({});
  });

  it('compares the tasks inside the window only, where they agree', () => {
    const timeline = [...sim.timeline.map((r) => ({ ...r, emulation: calm })), { ...drain, emulation: calm }];
    const r = compareLiveAndSimulated('live', 'monolith', { ...liveFrom(1, 1), timeline }, sim);
    // With the drain's 9 tasks counted the live mean would be off; inside the window it is exact.
    expect(r.tasks.monolith?.relativeError).toBe(0);
    expect(r.emulation?.periods).toBe(60);
  });
});

describe('the simulated p95 over the held periods', () => {
  // Held periods: 0–600 s and 1200 s on. Two intervals' components stand for the replay: 90 requests
  // fast (5 + Exp(5) ms) in the first minute, 10 slow (1,000 + Exp(500) ms) at 1200 s.
  const fast = { shift: 5, tail: 5, weight: 90 };
  const slow = { shift: 1000, tail: 500, weight: 10 };
  const replay = {
    ...sim,
    series: sim.series,
    latencyComponents: [
      { t: 0, channel: 'web', components: [fast] },
      { t: 1200, channel: 'web', components: [slow] },
      // In a period where the emulation did not hold: never counted.
      { t: 660, channel: 'web', components: [{ shift: 9000, tail: 0, weight: 1000 }] },
    ],
  };
  const live = {
    ...liveFrom(1, 1),
    series: sim.series,
    timeline: sim.timeline.map((r) => ({
      ...r,
      emulation:
        r.t >= 600 && r.t < 1200
          ? { holds: 300, stretched: 100, emulatedMs: 3000, addedMs: 1500 }
          : { holds: 300, stretched: 0, emulatedMs: 3000, addedMs: 0 },
    })),
  };

  it('is the p95 of the mixture of those intervals, not a mean of their p95s', () => {
    const r = compareLiveAndSimulated('live', 'monolith', live, replay);
    const exact = mixtureQuantile([fast, slow], 0.95);
    expect(r.p95.simulated).toBe(Math.round(exact));
    // The request-weighted mean of the two p95s would be about 0.9·20 + 0.1·2,500 = 268 ms.
    expect(exact).toBeGreaterThan(1000);
    expect(r.notes.join(' ')).toContain('and so is the simulated one');
  });

  it('records a request beyond the timeout at the timeout, as the engine does', () => {
    const r = compareLiveAndSimulated('live', 'monolith', { ...live, timeoutMs: 800 }, replay);
    expect(r.p95.simulated).toBe(800);
  });
});

describe('what a live p95 on few requests can say', () => {
  it('is the sample’s p95 give or take the binomial spread of its rank', () => {
    const [lo, hi] = p95Interval(100);
    // 95 ∓ 1.96·√(100·0.95·0.05) = 95 ∓ 4.27.
    expect(lo).toBeCloseTo(90.73, 2);
    expect(hi).toBeCloseTo(99.27, 2);
    const [lo2, hi2] = p95Interval(10_000);
    expect(hi2 - lo2).toBeCloseTo((hi - lo) / 10, 5);
  });

  it('judges a p95 its sample determines strictly, and one on a cliff as far as its interval allows', () => {
    const a = (live: number, simulated: number, interval: [number, number]) => ({
      live,
      simulated,
      relativeError: Math.abs(simulated - live) / live,
      liveSamples: 100,
      liveInterval: interval,
    });
    // Within 25%: met, whatever the sample.
    expect(withinSampling(a(100, 120, [99, 101]), 0.25)).toBe(true);
    // The sample pins the live p95 to 97–133: −29% is a miss.
    expect(withinSampling(a(116, 82, [97, 133]), 0.25)).toBe(false);
    // 95 requests whose p95 sits on a cliff (141 to 678): 141 is a p95 the sample leaves possible.
    expect(withinSampling(a(448, 141, [141, 678]), 0.25)).toBe(true);
    // ... but not 3 s: beyond 25% of anything the interval allows.
    expect(withinSampling(a(448, 3000, [141, 678]), 0.25)).toBe(false);
    // No interval (the whole run compared): strict.
    expect(withinSampling({ live: 448, simulated: 141, relativeError: 0.69 }, 0.25)).toBe(false);
  });
});
