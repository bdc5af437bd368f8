import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import { compileLevel, compilePlan, planRequestRate, summarizePlan } from './compile.ts';
import { loadProfile } from './profile.ts';
import { arrivalTimes, evaluate } from './rate-function.ts';
import { minimalProfile, profileFromText } from './testing/profile-fixtures.ts';

const tenX = profileFromText(
  minimalProfile({
    event: '2h',
    shape: [
      '  - baseline: { level: 2 }',
      '  - diurnal: { period: 1h, peaks: [{ at: 30m, level: 1.5 }], troughs: [{ at: 0s, level: 0.5 }] }',
      '  - burst: { name: surge, at: 40m, rampUp: 2m, plateau: 10m, decay: 5m, multiplier: 10, curve: exponential }',
    ].join('\n'),
    channels: [
      '  web:',
      '    share: { points: [{ at: 0s, value: 0.6 }, { at: 1h, value: 0.3 }, { at: 2h, value: 0.5 }] }',
      '    journeys: { browse: 3, checkout: 1 }',
      '  mobile-app:',
      '    share: { points: [{ at: 0s, value: 0.4 }, { at: 1h, value: 0.7 }, { at: 2h, value: 0.5 }] }',
      '    journeys: { app-browse: 1 }',
    ].join('\n'),
  }),
);

describe('compilePlan', () => {
  it('makes a 10x burst exactly ten times the level it multiplies, on the whole plateau', () => {
    const { level, bursts } = compileLevel(tenX.model);
    const without = compileLevel({
      ...tenX.model,
      shape: tenX.model.shape.filter((s) => s.type !== 'burst'),
    });
    const b = bursts[0];
    if (!b) throw new Error('no burst');
    expect(b.multiplier).toBe(10);
    for (let t = b.peakStart; t <= b.peakEnd; t += (b.peakEnd - b.peakStart) / 17) {
      expect(evaluate(level, t) / evaluate(without.level, t)).toBeCloseTo(10, 9);
    }
    expect(evaluate(level, b.start - 1) / evaluate(without.level, b.start - 1)).toBeCloseTo(1, 9);
    expect(evaluate(level, b.end + 1) / evaluate(without.level, b.end + 1)).toBeCloseTo(1, 9);
    // Exponential ramp: halfway up the ramp the factor is sqrt(10).
    const mid = (b.start + b.peakStart) / 2;
    expect(evaluate(level, mid) / evaluate(without.level, mid)).toBeCloseTo(Math.sqrt(10), 6);
  });

  it('keeps channel shares within 0.1% at every instant, including between breakpoints', () => {
    const plan = compilePlan(tenX, { durationSeconds: 120 });
    for (let t = 0; t <= 7200; t += 37.3) {
      const total = planRequestRate(plan, t);
      const web = plan.scenarios
        .filter((s) => s.channel === 'web')
        .reduce(
          (sum, s) => sum + evaluate({ times: s.times, values: s.rates }, t) * s.requestsPerIteration,
          0,
        );
      const expected = t <= 3600 ? 0.6 - (0.3 * t) / 3600 : 0.3 + (0.2 * (t - 3600)) / 3600;
      expect(Math.abs(web / total - expected)).toBeLessThan(0.001);
    }
  });

  it('states iterations equal to the arrivals the engine will generate, within 0.1%', () => {
    const plan = compilePlan(tenX, { durationSeconds: 600, peakRps: 300 });
    let arrivals = 0;
    for (const s of plan.scenarios) {
      arrivals += [
        ...arrivalTimes(
          { times: s.times, values: s.rates },
          { timeScale: plan.timeScale, eventStart: plan.eventStart, eventEnd: plan.eventEnd },
        ),
      ].length;
    }
    expect(plan.iterations).toBeGreaterThan(5000);
    expect(Math.abs(arrivals - plan.iterations) / plan.iterations).toBeLessThan(0.001);
    expect(plan.requests).toBeCloseTo(
      plan.scenarios.reduce((s, x) => s + x.iterations * x.requestsPerIteration, 0),
      6,
    );
  });

  it.each([
    [{ peakRps: 250 }, 'peakRps', 250],
    [{ baselineRps: 7 }, 'baselineRps', 7],
    [{}, 'peakRps', 100],
  ] as const)('maps rates given as %j to wall-clock requests per second', (opts, key, value) => {
    const plan = compilePlan(tenX, opts);
    expect(plan[key]).toBeCloseTo(value, 9);
    let max = 0;
    for (let t = 0; t <= 7200; t += 1) max = Math.max(max, planRequestRate(plan, t));
    expect(max).toBeCloseTo(plan.peakRps, 1);
  });

  it('is deterministic for a seed and changes with the seed when the profile has noise', () => {
    const noisy = profileFromText(
      minimalProfile({ shape: '  - baseline: { level: 1 }\n  - noise: { amplitude: 0.1, every: 1m }' }),
    );
    expect(compilePlan(noisy, { seed: 3 })).toEqual(compilePlan(noisy, { seed: 3 }));
    expect(compilePlan(noisy, { seed: 3 }).scenarios[0]?.rates).not.toEqual(
      compilePlan(noisy, { seed: 4 }).scenarios[0]?.rates,
    );
  });

  it('plays the rehearsal windows by default when the whole event would exceed 60x, else the whole event', () => {
    const long = profileFromText(
      minimalProfile({
        event: '48h',
        local: '{ peakRps: 50, duration: 3m }',
        extra: 'windows:\n  doors-open: { start: 0s, end: 3h }\nrehearsal: [doors-open]',
      }),
    );
    const rehearsal = compilePlan(long, {});
    expect([rehearsal.eventStart, rehearsal.eventEnd, rehearsal.window]).toEqual([0, 10800, 'doors-open']);
    expect(rehearsal.timeScale).toBe(60);
    const whole = compilePlan(long, { whole: true });
    expect([whole.eventStart, whole.eventEnd, whole.window]).toEqual([0, 172800, undefined]);
    expect(compilePlan(long, { durationSeconds: 48 * 60 }).window).toBeUndefined();
  });

  it.each([
    [{ window: 'nope' }, 'window-unknown'],
    [{ peakRps: 10, baselineRps: 1 }, 'invalid-rate'],
    [{ peakRps: -1 }, 'invalid-rate'],
    [{ durationSeconds: Number.NaN }, 'invalid-rate'],
  ])('rejects %j with a PeakdayError', (opts, code) => {
    let err: unknown;
    try {
      compilePlan(tenX, opts);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PeakdayError);
    expect((err as PeakdayError).code).toBe(code);
    expect((err as PeakdayError).exitCode).toBe(2);
  });

  it('names scheduled bursts and their windows in event order and drops a pause to zero', () => {
    const p = profileFromText(
      minimalProfile({
        event: '2d',
        local: '{ peakRps: 50, duration: 48m }',
        shape: [
          '  - baseline: {}',
          '  - schedule: { name: deal, every: 30m, from: 6h, to: 8h, daily: true, window: true, burst: { plateau: 5m, multiplier: 10, curve: step } }',
          '  - pause: { at: 12h, duration: 10m }',
        ].join('\n'),
      }),
    );
    const plan = compilePlan(p, {});
    expect(plan.bursts.map((b) => b.name)).toEqual(Array.from({ length: 10 }, (_, i) => `deal-${i + 1}`));
    expect(plan.bursts[5]?.start).toBe(86400 + 6 * 3600);
    expect(plan.windows.map((w) => w.name)).toContain('deal-7');
    expect(planRequestRate(plan, 12 * 3600 + 300)).toBe(0);
    expect(planRequestRate(plan, 6 * 3600 + 120) / planRequestRate(plan, 5 * 3600)).toBeCloseTo(10, 9);
  }, 10_000);

  it('compiles every built-in profile at its local defaults with shares summing to 1', () => {
    for (const name of ['ci-smoke', 'flash-sale']) {
      const plan = compilePlan(loadProfile(name), {});
      const shares = Object.values(summarizePlan(plan).channels);
      expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      expect(plan.peakRps).toBeLessThanOrEqual(400);
      expect(plan.timeScale).toBeLessThanOrEqual(60);
    }
  });
});
