/**
 * The embedded open-model engine. It plays a compiled plan: every scenario's iterations start at the
 * times its arrival model gives (engine/executors/), whatever the responses do; an iteration runs
 * its journey's steps in order (templating, extraction, cookies, think time scaled by the plan's
 * time scale); a scenario at its concurrency cap drops the iteration and counts it.
 *
 * Latency is recorded twice per request: from the intended start (coordinated-omission safe: the
 * iteration's due time for its first step, the end of the previous step plus think time for later
 * ones) and from the actual send. Every wall second the engine emits a `SecondReport` (series
 * records, health) to its subscribers and asks its abort rules whether to go on; it never writes
 * files itself (engine/outputs/ do).
 */

import { ExitCode } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import type { EndReason, EngineHealthRecord, SeriesRecord } from '../core/run-format.ts';
import type { PoolValues } from '../scenarios/data-pools.ts';
import type { Plan } from '../scenarios/plan.ts';
import { maxOver } from '../scenarios/rate-function.ts';
import type { AbortRule } from './abort-rules.ts';
import { Aggregator, type ScenarioTotals } from './aggregator.ts';
import { arrivalModels } from './executors/index.ts';
import { createHealthSampler } from './health.ts';
import type { LatencyHistogram } from './histogram.ts';
import {
  createHttpClient,
  describeLocalFailure,
  type HttpClient,
  type HttpClientOptions,
  openFileLimit,
} from './http-client.ts';
import { createIterationRunner, type RunnerScenario } from './iteration-runner.ts';
import { compileJourney } from './journey-program.ts';
import { createArrivalScheduler } from './scheduler.ts';
import { createSecondCloser, type StopOrder } from './second-close.ts';
import {
  computeValidity,
  DEFAULT_VALIDITY_BOUNDS,
  type ThreadEvidence,
  type ValidityBounds,
} from './validity.ts';

/** One second of the run, as emitted to subscribers. */
export interface SecondReport {
  /** Index of the wall second (0-based). */
  second: number;
  t: number;
  wall: number;
  dt: number;
  records: SeriesRecord[];
  health: EngineHealthRecord;
  /** Target iterations per second in this second (from the plan) and what started. */
  planned: number;
  started: number;
  dropped: number;
  requests: number;
  failed: number;
  /** p95 of intended-start latency in this second (ms). */
  p95Ms: number;
}

/** Something that listens to the engine: run writer, progress, tests. */
export interface EngineSubscriber {
  onSecond?(report: SecondReport): void;
}

/** Everything the engine needs; I/O (files, config) is resolved by the caller. */
export interface EngineOptions {
  plan: Plan;
  /** Target base URL (already checked by the target guard); its path is prefixed to step paths. */
  target: URL;
  /** Keep-alive connections to the target; default the sum of the scenarios' concurrency caps. */
  connections?: number;
  /** Per-request timeout (ms); default 10,000. */
  timeoutMs?: number;
  abortRules?: AbortRule[];
  subscribers?: EngineSubscriber[];
  validityBounds?: ValidityBounds;
  /** Data pools for journeys' bindings, built on first use (the catalog is not free). */
  pools?: () => Record<string, PoolValues>;
  /** Environment for auth secrets (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long in-flight iterations may finish after the last arrival (ms); default timeout + 1 s. */
  gracefulStopMs?: number;
  /** How long in-flight requests may finish after an interrupt or abort (ms); default 500. */
  stopGraceMs?: number;
  /**
   * Closed loop instead of the plan's arrivals: `vus` virtual users per scenario, each starting its
   * next iteration when the last one ends, for the plan's wall duration (like k6's constant-vus).
   * For capacity maxima and the benchmark's comparison with closed-loop tools; a peak rehearsal is
   * always open-model. Same request path; scheduler lag is not meaningful and not recorded.
   */
  closedLoop?: { vus: number };
  /**
   * Makes the HTTP client; default undici (engine/http-client.ts). A seam for measuring the
   * engine's own cost per request without a network (bench/engine.bench.ts) and for tests.
   */
  createClient?: (opts: HttpClientOptions) => HttpClient;
  /**
   * How the scheduler waits for the next arrival (default 'auto', see SchedulerMode).
   */
  scheduler?: SchedulerMode;
  /** 'auto' spins while arrivals come at this rate or faster (per second, all scenarios); default never. */
  spinAboveRps?: number;
  /** Arrivals started in one scheduler wake-up before yielding to I/O; default 64. */
  maxStartsPerTick?: number;
  /** Connections opened before the clock starts; default `startingConnections(plan)`, 0 for none. */
  preconnect?: number;
  /**
   * When the clock starts, on the `performance.timeOrigin + performance.now()` scale shared by
   * every thread of the process: asked once the engine is ready (connections open). Workers wait
   * for the main thread's word so that their seconds line up; default now.
   */
  startAt?: () => Promise<number>;
}

/**
 * Connections for the plan's first 20 ms of arrivals at its starting rate (at least 1): what a
 * generator needs open at t = 0 so that the first second measures the target rather than the
 * connection set-up.
 */
export function startingConnections(plan: Plan): number {
  return Math.max(1, Math.ceil(startingRate(plan) * 0.02));
}

/**
 * The plan's arrival rate as it starts (per wall second, all scenarios): each scenario's highest
 * rate over its first wall second (a steep start counts).
 */
export function startingRate(plan: Plan): number {
  let rate = 0;
  for (const sc of plan.scenarios)
    rate += maxOver({ times: sc.times, values: sc.rates }, plan.eventStart, plan.eventStart + plan.timeScale);
  return rate;
}

/**
 * A plan starting at this many arrivals per second or more (all scenarios) warms the engine up
 * before its clock starts (engine/warm-up.ts says why): below it the compiler keeps up.
 */
export const WARM_UP_ABOVE_RPS = 3000;

/**
 * Whether an open-model run spins from its first arrival: `spin`, or `auto` with a spin rate
 * (`spinAboveRps`) that the plan starts at or above (a closed loop has no scheduler).
 */
export function spinsFromStart(
  plan: Plan,
  opts: Pick<EngineOptions, 'scheduler' | 'spinAboveRps' | 'closedLoop'>,
): boolean {
  if (opts.closedLoop) return false;
  const mode = opts.scheduler ?? 'auto';
  if (mode !== 'auto') return mode === 'spin';
  return opts.spinAboveRps !== undefined && startingRate(plan) >= opts.spinAboveRps;
}

/**
 * Whether a run warms the engine up before its clock starts by default: an open-model plan that
 * starts at WARM_UP_ABOVE_RPS or more, or one that spins from the start.
 */
export function warmsUpFirst(
  plan: Plan,
  opts: Pick<EngineOptions, 'scheduler' | 'spinAboveRps' | 'closedLoop'>,
): boolean {
  if (opts.closedLoop) return false;
  return startingRate(plan) >= WARM_UP_ABOVE_RPS || spinsFromStart(plan, opts);
}

/**
 * How the scheduler waits between arrivals. In every mode a handled response also starts what is
 * due once the earliest due arrival is POKE_AFTER_MS late (ArrivalScheduler.poke): the backstop for
 * a timer held up behind a busy turn of the loop.
 * - 'sleep': on a timer to the next arrival (Node's timers have 1 ms resolution, so a wake-up starts
 *   the arrivals due since the last one together, each one's lag recorded): at high rates, batches
 *   of the last millisecond's arrivals (engine/scheduler.ts POKE_AFTER_MS says why batches cost less
 *   CPU than starting each arrival on the response that came after it, as the pokes used to). On
 *   2026-11-25, with the undici client (55-68 µs of CPU per request) and before the pokes, sleeping
 *   gave scheduler lag p99 7.6 ms at 5,000/s and 14–15 ms at 20,000/s (bench/engine.bench.ts section
 *   3, load 0.8–1.4), when a second's histograms were still encoded in one block of 6-15 ms;
 *   bench/engine.bench.ts section 6 measures lag and CPU per request against the closed loop.
 * - 'spin': on setImmediate when the next arrival is under 1.5 ms away, a timer before that. The
 *   tightest timing when a core is free (lag p99 0.4–2.1 ms at 1,000–20,000/s in the same 2026-11-25
 *   runs), but it keeps one core busy whatever the rate (1,010 µs CPU per request at 1,000/s against
 *   115 sleeping; through the CLI on 2026-12-02, at load 17–28: 104 µs at 5,000/s against 66 sleeping
 *   with pokes while the clock ran, and 49–56 µs at 20,000/s against 27–38 for the whole process),
 *   CPU the target needs when it shares the host (a local rehearsal).
 * - 'auto' (the default): sleeps; with `spinAboveRps` (`--spin-above`) given, spins while arrivals
 *   come at least that fast, measured over the last 100 ms of wall time (arrivals started or
 *   dropped). Each second's mode is recorded in engine.ndjson (`scheduler`).
 */
export const SCHEDULER_MODES = ['auto', 'sleep', 'spin'] as const;
export type SchedulerMode = (typeof SCHEDULER_MODES)[number];

/** What a finished run produced (the summary is built from it by engine/summary.ts). */
export interface EngineResult {
  endReason: EndReason;
  endDetail?: string;
  /** Exit code an abort rule asked for. */
  exitCode?: number;
  durationSeconds: number;
  /** Whole-run totals per plan scenario (same order as plan.scenarios). */
  totals: (ScenarioTotals & { channel: string; journey: string })[];
  schedulerLag: LatencyHistogram;
  eventLoopDelayP99Ms: number;
  health: EngineHealthRecord[];
  valid: boolean;
  invalidReasons: string[];
  /** What each validity criterion measured (engine/validity.ts). */
  validityEvidence: string[];
  /** Sentences about the host for meta.notes (a saturated host CPU). */
  validityNotes: string[];
  /** Iterations still in flight when the run stopped (not counted as completed). */
  abandoned: number;
  startedAtEpochMs: number;
  /** Connections opened before the clock started. */
  preconnected: number;
  /** What this engine thread measured about itself, for a validity judged across workers. */
  threadEvidence: ThreadEvidence;
}

/** A started engine: await `done`, or `stop` it (SIGINT, an abort). */
export interface RunningEngine {
  done: Promise<EngineResult>;
  stop(reason: EndReason, detail?: string, exitCode?: number): void;
}

let builtinPoolsCache: Record<string, PoolValues> | undefined;
async function defaultPools(): Promise<Record<string, PoolValues>> {
  if (!builtinPoolsCache) {
    const { createDataPools } = await import('../scenarios/data-pools.ts');
    builtinPoolsCache = createDataPools([]);
  }
  return builtinPoolsCache;
}

/** Compiles the plan's scenarios for the runner, each with its arrival sequence. */
function compileScenarios(
  plan: Plan,
  pools: () => Record<string, PoolValues>,
  env: NodeJS.ProcessEnv | undefined,
): { runner: RunnerScenario[]; arrivals: Iterator<number>[] } {
  const rng = createRng(plan.seed);
  // A segment (a load generator's, or a worker's) draws its own random picks and think times, and
  // takes every count-th value of a sequential pool from its own offset: segments split a pool
  // instead of each replaying it from the start. The arrivals stay the whole plan's (root rng).
  const seg = plan.segment;
  const split = seg !== undefined && seg.count > 1;
  const runner: RunnerScenario[] = [];
  const arrivals: Iterator<number>[] = [];
  for (const s of plan.scenarios) {
    const j = plan.journeys[s.journey];
    if (!j) throw new Error(`plan has no journey ${s.journey}`);
    const srng = rng.fork(split ? `${s.id}/segment ${seg.index}/${seg.count}` : s.id);
    const journey = compileJourney(j, {
      rng: srng,
      timeScale: plan.timeScale,
      pools,
      env,
      ...(split ? { sequentialStride: { offset: seg.index - 1, step: seg.count } } : {}),
    });
    runner.push({ journey, maxConcurrency: s.maxConcurrency, inFlight: 0 });
    arrivals.push(arrivalModels[plan.arrivals](s, plan, rng));
  }
  return { runner, arrivals };
}

/**
 * The run's HTTP client, with the connections for the first moments of the plan opened before the
 * clock starts: opening hundreds of them at once in the first second (each a connect, an accept and
 * a new undici client) put the engine 40 ms behind even after its code was warm
 * (bench/engine.bench.ts, 20,000/s).
 */
async function openClient(
  opts: EngineOptions,
  timeoutMs: number,
  now: () => number,
  onLocalFailure: (code: string, message: string) => void,
): Promise<{ client: HttpClient; preconnected: number; preconnect: number }> {
  const { plan } = opts;
  const connections = Math.max(
    1,
    opts.connections ?? plan.scenarios.reduce((a, s) => a + s.maxConcurrency, 0),
  );
  const client = (opts.createClient ?? createHttpClient)({
    origin: opts.target.origin,
    connections,
    timeoutMs,
    now,
    onLocalFailure,
  });
  const closed = opts.closedLoop;
  const preconnect = Math.min(
    connections,
    opts.preconnect ?? (closed ? closed.vus * plan.scenarios.length : startingConnections(plan)),
  );
  const preconnected =
    preconnect > 0 && client.preconnect ? await client.preconnect(preconnect, Math.min(timeoutMs, 5000)) : 0;
  return { client, preconnected, preconnect };
}

/**
 * Starts playing the plan now: wires the iteration runner (engine/iteration-runner.ts), the arrival
 * scheduler (engine/scheduler.ts, or a closed loop's virtual users) and the per-second close
 * (engine/second-close.ts), and owns how the run ends (`stop`, `finish`).
 */
export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  const { plan } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const bounds = opts.validityBounds ?? DEFAULT_VALIDITY_BOUNDS;
  const needsPools = plan.scenarios.some((s) => Object.keys(plan.journeys[s.journey]?.data ?? {}).length > 0);
  const loaded = opts.pools ? undefined : needsPools ? await defaultPools() : {};
  const pools: () => Record<string, PoolValues> = opts.pools ?? (() => loaded ?? {});
  const compiled = compileScenarios(plan, pools, opts.env);
  const agg = new Aggregator(
    plan.scenarios.map((s, i) => ({
      channel: s.channel,
      journey: s.journey,
      steps: (compiled.runner[i] as RunnerScenario).journey.steps.map((x) => x.name),
    })),
  );
  const sampler = createHealthSampler(bounds.stallMs);
  const health: EngineHealthRecord[] = [];
  const closed = opts.closedLoop;
  let t0 = performance.now();
  const nowMs = () => performance.now() - t0;
  // A request that failed for this machine's reason (no file descriptor, no local port) stops the
  // run: from then on it would measure the load generator, and blame the target for it.
  // Read now: once the load has used every file descriptor, /proc cannot be read either.
  const fileLimit = openFileLimit();
  // One while the connections are opened before the clock: the run stops before its first arrival.
  let beforeClock: { code: string; message: string } | null = null;
  let onLocalFailure = (code: string, message: string): void => {
    beforeClock ??= { code, message };
  };
  const { client, preconnected, preconnect } = await openClient(opts, timeoutMs, nowMs, (code, message) =>
    onLocalFailure(code, message),
  );
  if (opts.startAt) t0 = (await opts.startAt()) - performance.timeOrigin;
  else t0 = performance.now();
  const startedAtEpochMs = Date.now() + Math.max(0, t0 - performance.now());
  let arrivalsDone = false;
  let stopped = false;
  let finished = false;
  let deadlineTimer: NodeJS.Timeout | null = null;
  let end: StopOrder = { reason: 'completed', detail: '', exitCode: undefined };
  let resolveDone!: (r: EngineResult) => void;
  const done = new Promise<EngineResult>((r) => {
    resolveDone = r;
  });

  const runner = createIterationRunner({
    scenarios: compiled.runner,
    agg,
    client,
    basePath: opts.target.pathname.replace(/\/+$/, ''),
    now: nowMs,
    recordLag: !closed,
    lateUs: bounds.lateMs * 1000,
    ...(plan.segment ? { segment: plan.segment } : {}),
    ...(closed ? {} : { afterResponse: () => scheduler.poke() }),
    onIterationEnd: (si) => {
      if (arrivalsDone && runner.inFlight() === 0 && !finished) void finish();
      // Closed loop: the virtual user starts its next iteration as soon as this one ends.
      else if (closed && !arrivalsDone && !stopped) runner.startIteration(si, nowMs());
    },
  });
  // The plan's arrivals are exhausted (or a closed loop's time is up): in-flight iterations get
  // the graceful stop to finish.
  const arrivalsOver = (): void => {
    arrivalsDone = true;
    if (runner.inFlight() === 0) void finish();
    else deadlineTimer = setTimeout(() => stop('completed'), opts.gracefulStopMs ?? timeoutMs + 1000);
  };
  const scheduler = createArrivalScheduler({
    arrivals: closed ? [] : compiled.arrivals,
    segment: plan.segment,
    mode: opts.scheduler ?? 'auto',
    spinFromStart: spinsFromStart(plan, opts),
    spinAboveRps: opts.spinAboveRps ?? Number.POSITIVE_INFINITY,
    maxStartsPerTick: opts.maxStartsPerTick ?? 64,
    now: nowMs,
    start: runner.startIteration,
    onArrivalsDone: arrivalsOver,
  });
  const closer = createSecondCloser({
    plan,
    agg,
    sampler,
    now: nowMs,
    subscribers: opts.subscribers ?? [],
    abortRules: opts.abortRules ?? [],
    lagSecond: runner.lag.second,
    takeLate: () => {
      const n = runner.late.second;
      runner.late.second = 0;
      return n;
    },
    inFlight: runner.inFlight,
    takeSchedulerMode: () => (closed ? undefined : scheduler.takeSpun() ? 'spin' : 'sleep'),
    health,
    isStopped: () => stopped,
    stop: (o) => stop(o.reason, o.detail, o.exitCode),
  });

  async function finish(): Promise<void> {
    if (finished) return;
    finished = true;
    stopped = true;
    scheduler.cancel();
    runner.finish();
    closer.cancel();
    if (deadlineTimer) clearTimeout(deadlineTimer);
    const abandoned = runner.inFlight();
    closer.emit(true);
    sampler.stop();
    await client.destroy().catch(() => undefined);
    const threadEvidence: ThreadEvidence = {
      name: 'engine',
      started: closed ? null : runner.late.started,
      late: runner.late.total,
      ...sampler.evidence(),
    };
    const v = computeValidity({ threads: [threadEvidence], health }, bounds);
    // Its own failure is the one measurement a load generator cannot vouch for (the failed request
    // counts as the target's transport error): never valid.
    if (localFailure) {
      v.valid = false;
      v.reasons.push(localFailure);
    }
    resolveDone({
      endReason: end.reason,
      ...(end.detail ? { endDetail: end.detail } : {}),
      exitCode: end.exitCode,
      durationSeconds: Math.round(nowMs()) / 1000,
      totals: agg.scenarios.map((s) => ({ ...s.totals, channel: s.channel, journey: s.journey })),
      schedulerLag: runner.lag.total,
      eventLoopDelayP99Ms: sampler.loopDelayP99Ms(),
      health,
      valid: v.valid,
      invalidReasons: v.reasons,
      validityEvidence: v.evidence,
      validityNotes: v.notes,
      abandoned,
      startedAtEpochMs,
      preconnected,
      threadEvidence,
    });
  }

  let localFailure: string | null = null;
  const failLocally = (code: string, message: string, when: string): void => {
    if (localFailure) return;
    localFailure = describeLocalFailure(code, message, when, fileLimit);
    stop('error', localFailure, ExitCode.environment);
  };
  onLocalFailure = (code, message) =>
    failLocally(code, message, `at ${runner.inFlight()} requests in flight`);

  function stop(reason: EndReason, detail?: string, code?: number): void {
    if (stopped) return;
    stopped = true;
    end = { reason, detail: detail ?? '', exitCode: code };
    scheduler.cancel();
    runner.stop();
    if (runner.inFlight() === 0) void finish();
    else setTimeout(() => void finish(), reason === 'completed' ? 0 : (opts.stopGraceMs ?? 500));
  }

  closer.schedule(() => finished);
  if (beforeClock) {
    const { code, message } = beforeClock as { code: string; message: string };
    failLocally(
      code,
      message,
      `while opening ${preconnect} connections before the clock started (${preconnected} opened; nothing was sent)`,
    );
  } else if (closed) {
    for (let si = 0; si < compiled.runner.length; si++)
      for (let v = 0; v < closed.vus; v++) runner.startIteration(si, nowMs());
    deadlineTimer = setTimeout(arrivalsOver, plan.durationSeconds * 1000);
  } else scheduler.run();
  return { done, stop };
}
