/**
 * Compiles a validated profile into a Plan: per (channel, journey) a piecewise-linear rate of
 * iterations per wall second over event time, with exact breakpoints. Pure and deterministic for a
 * seed: the same profile, options and seed give the same plan on every machine.
 *
 * How: every shape block compiles to a piecewise-linear function; the level is folded over the
 * union of their breakpoints (refined so products of linear pieces stay close to the smooth curve),
 * in the order written, with noise last. Channel shares (of requests) are sampled on the same grid
 * and normalised to sum to exactly 1 at each breakpoint (so, being linear, at every instant). A
 * channel's request rate is level × share × K, where K maps the level to wall-clock requests/s
 * (from --peak-rps, --baseline-rps or the profile's local defaults); its journeys split it by their
 * iteration weights, each iteration making `requestsPerIteration` requests. Iterations are the
 * exact integral of the rate over the played range divided by the time scale.
 */
import { invalidInput, PeakdayError, type Problem } from '../core/errors.ts';
import { MAX_LIVE_TIME_SCALE } from '../core/event-clock.ts';
import { ABSOLUTE_MAX_RPS, DEFAULT_MAX_LIVE_RPS } from '../core/limits.ts';
import { createRng } from '../core/rng.ts';
import type { Journey, ThinkTime } from './journey.ts';
import {
  PLAN_FORMAT_VERSION,
  type Plan,
  type PlanBurst,
  type PlanScenario,
  type PlanWindow,
} from './plan.ts';
import type { LoadedProfile, ProfileModel } from './profile-model.ts';
import {
  evaluate,
  integrate,
  maxOver,
  type PiecewiseLinear,
  refineTimes,
  sample,
  unionTimes,
} from './rate-function.ts';
import { type ShapeType, shapeBlocks } from './shapes/index.ts';
import type { ShapeBlock } from './shapes/shape.ts';

/** Options of `compilePlan` (see common.md: the cross-module interface). */
export interface CompileOptions {
  /** Wall-clock length of the run, seconds (default: the profile's local.duration). */
  durationSeconds?: number;
  /** Wall-clock HTTP requests/s at the profile's highest level. */
  peakRps?: number;
  /** Wall-clock HTTP requests/s at the baseline level. */
  baselineRps?: number;
  /** A window name or comma list; several windows play their merged span. */
  window?: string;
  /** Play the whole event even when it exceeds the live compression limit (simulation). */
  whole?: boolean;
  seed?: number;
  arrivals?: 'even' | 'poisson';
  /** Concurrency cap per scenario; default from Little's law. */
  maxConcurrency?: number;
  /**
   * The highest peak rate (wall requests/s) the plan may have: a live run's ceiling
   * (core/limits.ts DEFAULT_MAX_LIVE_RPS, raised by `--max-rps`); absent = ABSOLUTE_MAX_RPS.
   */
  maxPeakRps?: number;
}

/** The composed level of a profile over its whole event, before rates are applied. */
export interface CompiledLevel {
  level: PiecewiseLinear;
  /** The level `--baseline-rps` maps to (sum of the baseline blocks). */
  baselineLevel: number;
  /** The highest level over the event (what `--peak-rps` maps to). */
  peakLevel: number;
  bursts: PlanBurst[];
  windows: PlanWindow[];
}

/**
 * Assumed time one request takes at the target, seconds, for sizing concurrency by Little's law
 * (an assumption: a loaded local stack answers well under this; override with maxConcurrency).
 */
export const ASSUMED_REQUEST_SECONDS = 0.5;
/** Headroom over Little's law for the concurrency cap (an assumption, like k6's advice to over-allocate). */
export const CONCURRENCY_HEADROOM = 2;

/** Longest gap between breakpoints of the composed level, as a share of the event (refinement). */
function maxStepFor(eventSeconds: number): number {
  return Math.max(1, Math.min(300, eventSeconds / 200));
}

/** Composes the shape blocks of a profile into its level function. Pure. */
export function compileLevel(model: ProfileModel, seed = 1): CompiledLevel {
  const E = model.eventSeconds;
  const rng = createRng(seed);
  const outputs = model.shape.map((s, i) => {
    const block = shapeBlocks[s.type as ShapeType] as ShapeBlock<unknown>;
    return { spec: s, out: block.compile(s.settings, E, rng.fork(`shape-${i}`)) };
  });
  const times = refineTimes(
    unionTimes([[0, E], ...outputs.map((o) => o.out.fn.times)]).filter((t) => t >= 0 && t <= E),
    maxStepFor(E),
  );
  const ordered = [...outputs.filter((o) => !o.out.last), ...outputs.filter((o) => o.out.last)];
  const columns = ordered.map((o) => ({ op: o.spec.op, values: sample(o.out.fn, times) }));
  const values = times.map((_, i) => {
    let v = 0;
    for (const col of columns) {
      const x = col.values[i] as number;
      v = col.op === 'add' ? v + x : v * x;
    }
    return Math.max(0, v);
  });
  const level = { times, values };
  const baselineLevel = outputs.reduce((sum, o) => sum + (o.out.baselineLevel ?? 0), 0);
  const bursts = outputs.flatMap((o) => o.out.bursts ?? []).sort((a, b) => a.start - b.start);
  const windows = [...model.windows, ...outputs.flatMap((o) => o.out.windows ?? [])];
  return { level, baselineLevel, peakLevel: maxOver(level, 0, E), bursts, windows };
}

/** Mean think time of one step in event seconds. */
export function meanThinkSeconds(t: ThinkTime | undefined): number {
  if (!t) return 0;
  switch (t.dist) {
    case 'constant':
      return t.seconds;
    case 'uniform':
      return (t.min + t.max) / 2;
    case 'exponential':
      return t.max !== undefined ? Math.min(t.mean, t.max) : t.mean;
    case 'normal':
      return Math.max(t.min ?? 0, t.mean);
  }
}

/** Little's law: concurrent iterations = arrival rate × time one iteration takes (wall). */
export function concurrencyFor(peakRate: number, journey: Journey, timeScale: number): number {
  const thinkWall = journey.steps.reduce((s, st) => s + meanThinkSeconds(st.think), 0) / timeScale;
  const iterationSeconds = thinkWall + journey.requestsPerIteration * ASSUMED_REQUEST_SECONDS;
  return Math.max(2, Math.ceil(peakRate * iterationSeconds * CONCURRENCY_HEADROOM));
}

function playedRange(
  model: ProfileModel,
  windows: PlanWindow[],
  durationSeconds: number,
  opts: CompileOptions,
): { start: number; end: number; window?: string } {
  const E = model.eventSeconds;
  let names: string[] = [];
  if (opts.window !== undefined && opts.window.trim() !== '') {
    names = opts.window
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  } else if (!opts.whole && E / durationSeconds > MAX_LIVE_TIME_SCALE && model.rehearsal.length > 0) {
    names = model.rehearsal;
  }
  if (names.length === 0) return { start: 0, end: E };
  const known = new Map(windows.map((w) => [w.name, w]));
  const problems: Problem[] = names
    .filter((n) => !known.has(n))
    .map((n) => ({
      path: '--window',
      message: `unknown window "${n}"`,
      expected: `one of ${[...known.keys()].join(', ') || '(this profile declares no windows)'}`,
    }));
  if (problems.length > 0)
    throw new PeakdayError('window-unknown', `${model.name}: unknown window`, {
      problems,
      hint: 'run `peakday profile show <profile>` to list its windows',
    });
  const chosen = names.map((n) => known.get(n) as PlanWindow);
  return {
    start: Math.min(...chosen.map((w) => w.start)),
    end: Math.max(...chosen.map((w) => w.end)),
    window: names.join(','),
  };
}

function formatRate(n: number): string {
  return n < 1e12 ? Math.round(n).toLocaleString('en-US') : n.toExponential(2);
}

function positive(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isFinite(v) || v <= 0)
    throw invalidInput('invalid-rate', `${name} must be a positive number, got ${v}`, `e.g. ${name} 50`);
  return v;
}

/** Compiles a loaded profile into a plan (pure, deterministic for `seed`). */
export function compilePlan(profile: LoadedProfile, options: CompileOptions = {}): Plan {
  const model = profile.model;
  const seed = options.seed ?? 1;
  const peakOpt = positive('--peak-rps', options.peakRps);
  const baseOpt = positive('--baseline-rps', options.baselineRps);
  if (peakOpt !== undefined && baseOpt !== undefined)
    throw invalidInput(
      'invalid-rate',
      '--peak-rps and --baseline-rps are mutually exclusive',
      'give one: the other follows from the profile shape',
    );
  const duration = positive('--duration', options.durationSeconds) ?? model.local.durationSeconds;
  const compiled = compileLevel(model, seed);
  const { level, baselineLevel, peakLevel } = compiled;
  if (!(peakLevel > 0))
    throw invalidInput(
      'profile-empty',
      `${model.name}: the shape's level is 0 throughout`,
      'check pauses and levels',
    );

  // K: wall-clock requests per second per unit of level.
  let k: number;
  if (peakOpt !== undefined) k = peakOpt / peakLevel;
  else if (baseOpt !== undefined) k = baseOpt / baselineLevel;
  else if (model.local.peakRps !== undefined) k = model.local.peakRps / peakLevel;
  else k = (model.local.baselineRps as number) / baselineLevel;

  const maxPeak = options.maxPeakRps ?? ABSOLUTE_MAX_RPS;
  if (!(k * peakLevel <= maxPeak)) {
    const from =
      peakOpt !== undefined
        ? '--peak-rps'
        : baseOpt !== undefined
          ? '--baseline-rps (through the shape)'
          : `local.${model.local.peakRps !== undefined ? 'peakRps' : 'baselineRps'} in ${profile.file}`;
    throw invalidInput(
      'rate-too-high',
      `the plan would peak at ${formatRate(k * peakLevel)} requests/s (from ${from}); the limit is ${formatRate(maxPeak)}/s`,
      maxPeak < ABSOLUTE_MAX_RPS
        ? `one load generator was measured playing up to ${formatRate(DEFAULT_MAX_LIVE_RPS)} requests/s; lower the rate, or raise the limit deliberately with --max-rps or limits.maxRps in peakday.config.yaml (docs/errors.md "Limits")`
        : 'no event needs this rate; check the number for a typo',
    );
  }
  const range = playedRange(model, compiled.windows, duration, options);
  const timeScale = (range.end - range.start) / duration;
  const grid = unionTimes([
    [range.start, range.end],
    level.times,
    ...model.channels.map((c) => c.share.times),
  ]).filter((t) => t >= range.start && t <= range.end);
  const levelAt = sample(level, grid);
  const shares = model.channels.map((c) => sample(c.share, grid));
  // Normalise at each breakpoint (validation holds the raw sum within 0.1%).
  for (let i = 0; i < grid.length; i++) {
    let sum = 0;
    for (const s of shares) sum += s[i] as number;
    if (sum > 0) for (const s of shares) s[i] = (s[i] as number) / sum;
  }

  const scenarios: PlanScenario[] = [];
  model.channels.forEach((ch, ci) => {
    const entries = Object.entries(ch.journeys).filter(([, w]) => w > 0);
    const requestsPerWeight = entries.reduce(
      (s, [j, w]) => s + w * (model.journeys[j] as Journey).requestsPerIteration,
      0,
    );
    for (const [j, w] of entries) {
      const journey = model.journeys[j] as Journey;
      const share = shares[ci] as number[];
      const rates = grid.map(
        (_, i) => (k * (levelAt[i] as number) * (share[i] as number) * w) / requestsPerWeight,
      );
      const fn = { times: grid, values: rates };
      const iterations = integrate(fn, range.start, range.end) / timeScale;
      const peakRate = maxOver(fn, range.start, range.end);
      scenarios.push({
        id: `${ch.name}/${j}`,
        channel: ch.name,
        journey: j,
        requestsPerIteration: journey.requestsPerIteration,
        times: grid,
        rates,
        iterations,
        maxConcurrency: options.maxConcurrency ?? concurrencyFor(peakRate, journey, timeScale),
      });
    }
  });
  const iterations = scenarios.reduce((s, x) => s + x.iterations, 0);
  const requests = scenarios.reduce((s, x) => s + x.iterations * x.requestsPerIteration, 0);
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    profile: {
      name: model.name,
      hash: profile.hash,
      eventSeconds: model.eventSeconds,
      ...(profile.builtin ? {} : { file: profile.file }),
    },
    seed,
    eventStart: range.start,
    eventEnd: range.end,
    ...(range.window !== undefined ? { window: range.window } : {}),
    timeScale,
    durationSeconds: duration,
    baselineRps: k * baselineLevel,
    peakRps: k * peakLevel,
    arrivals: options.arrivals ?? 'even',
    scenarios,
    journeys: model.journeys,
    windows: compiled.windows,
    bursts: compiled.bursts.filter((b) => b.end > range.start && b.start < range.end),
    iterations,
    requests,
  };
  return plan;
}

/** Requests per wall second of a whole plan at event time `t` (sum over scenarios). */
export function planRequestRate(plan: Plan, t: number): number {
  let sum = 0;
  for (const s of plan.scenarios)
    sum += evaluate({ times: s.times, values: s.rates }, t) * s.requestsPerIteration;
  return sum;
}

/** Shares of requests per channel and per channel/journey over the played range. */
export function summarizePlan(plan: Plan): {
  channels: Record<string, number>;
  journeys: Record<string, { iterations: number; requests: number; share: number }>;
} {
  const channels: Record<string, number> = {};
  const journeys: Record<string, { iterations: number; requests: number; share: number }> = {};
  for (const s of plan.scenarios) {
    const req = s.iterations * s.requestsPerIteration;
    channels[s.channel] = (channels[s.channel] ?? 0) + req;
    journeys[s.id] = { iterations: s.iterations, requests: req, share: 0 };
  }
  for (const c of Object.keys(channels))
    channels[c] = plan.requests > 0 ? (channels[c] as number) / plan.requests : 0;
  for (const j of Object.values(journeys)) j.share = plan.requests > 0 ? j.requests / plan.requests : 0;
  return { channels, journeys };
}
