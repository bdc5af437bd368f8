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

import { readJsonPath } from '../core/json-path.ts';
import { createRng } from '../core/rng.ts';
import type { EndReason, EngineHealthRecord, SeriesRecord } from '../core/run-format.ts';
import type { PoolValues } from '../scenarios/data-pools.ts';
import type { Plan } from '../scenarios/plan.ts';
import { maxOver } from '../scenarios/rate-function.ts';
import type { AbortRule } from './abort-rules.ts';
import { Aggregator, type PendingRecord, type ScenarioTotals } from './aggregator.ts';
import { arrivalModels } from './executors/index.ts';
import { createHealthSampler } from './health.ts';
import { createLatencyHistogram, type LatencyHistogram } from './histogram.ts';
import {
  createHttpClient,
  type HttpClient,
  type HttpClientOptions,
  type HttpOutcome,
} from './http-client.ts';
import { type CompiledJourney, type CompiledStep, compileJourney } from './journey-program.ts';
import { segmentKeeps } from './segments.ts';
import { renderTemplate, type TemplateVars } from './templates.ts';
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
  /** 'auto' spins while arrivals come at this rate or faster (per second, all scenarios); default 3,000. */
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

/** `auto`'s default spin rate (arrivals per second, all scenarios); SchedulerMode says why. */
export const DEFAULT_SPIN_ABOVE_RPS = 3000;

/**
 * Whether an open-model run spins from its first arrival: `spin`, or `auto` on a plan that starts at
 * or above the spin rate (a closed loop has no scheduler). Such a start is also when a run warms the
 * engine up first (engine/warm-up.ts).
 */
export function spinsFromStart(
  plan: Plan,
  opts: Pick<EngineOptions, 'scheduler' | 'spinAboveRps' | 'closedLoop'>,
): boolean {
  if (opts.closedLoop) return false;
  const mode = opts.scheduler ?? 'auto';
  if (mode !== 'auto') return mode === 'spin';
  return startingRate(plan) >= (opts.spinAboveRps ?? DEFAULT_SPIN_ABOVE_RPS);
}

/**
 * How the scheduler waits between arrivals:
 * - 'sleep': on a timer (Node's timers have 1 ms resolution, so a wake-up starts the arrivals due in
 *   the last millisecond together, each one's lag recorded). Costs little CPU, but on this 2-vCPU host
 *   the process is slow to wake: at 5,000/s scheduler lag p99 7.6 ms and 0.23% dropped, at 20,000/s
 *   lag p99 14–15 ms and 4.7–8.3% dropped (bench/engine.bench.ts section 3, 2026-11-25, load 0.8–1.4).
 * - 'spin': on setImmediate when the next arrival is under 1.5 ms away, a timer before that. Lag p99
 *   0.4–2.1 ms and 0–0.16% dropped at 1,000–20,000/s in the same runs, but it keeps one core busy
 *   whatever the rate (1,010 µs CPU per request at 1,000/s against 115 sleeping), CPU the target needs
 *   when it shares the host (a local rehearsal).
 * - 'auto': sleeps while arrivals come slower than `spinAboveRps` (default 3,000/s: sleeping kept lag
 *   p99 at 1.6–2.6 ms and dropped nothing at 1,000–2,500/s), spins above. The rate is the plan's
 *   arrivals (started or dropped) over the last 100 ms of wall time. Each second's mode is recorded in
 *   engine.ndjson (`scheduler`).
 */
export const SCHEDULER_MODES = ['auto', 'sleep', 'spin'] as const;
export type SchedulerMode = (typeof SCHEDULER_MODES)[number];

/**
 * Step records encoded per turn of the event loop when a second is emitted (2 histograms each,
 * ~30-100 µs a record): a profile with ~100 tag sets blocked the loop 6-15 ms every second when they
 * were all encoded at once.
 */
const EMIT_BATCH = 8;

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

interface ScenarioState {
  journey: CompiledJourney;
  maxConcurrency: number;
  inFlight: number;
  arrivals: Iterator<number>;
  nextMs: number;
  index: number;
}

interface IterationState {
  si: number;
  step: number;
  /** Intended start of the current step (ms since run start). */
  intendedMs: number;
  /** When the current step was handed to the HTTP client (fallback send time). */
  queuedAt: number;
  vars: TemplateVars | null;
  cookies: Map<string, string> | null;
  failed: boolean;
}

const EMPTY: TemplateVars = new Map();

let builtinPoolsCache: Record<string, PoolValues> | undefined;
async function defaultPools(): Promise<Record<string, PoolValues>> {
  if (!builtinPoolsCache) {
    const { createDataPools } = await import('../scenarios/data-pools.ts');
    builtinPoolsCache = createDataPools([]);
  }
  return builtinPoolsCache;
}

/** Starts playing the plan now. */
export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  const { plan } = opts;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const bounds = opts.validityBounds ?? DEFAULT_VALIDITY_BOUNDS;
  const rng = createRng(plan.seed);
  const needsPools = plan.scenarios.some((s) => Object.keys(plan.journeys[s.journey]?.data ?? {}).length > 0);
  const loaded = opts.pools ? undefined : needsPools ? await defaultPools() : {};
  const pools: () => Record<string, PoolValues> = opts.pools ?? (() => loaded ?? {});
  const basePath = opts.target.pathname.replace(/\/+$/, '');
  const totalCap = plan.scenarios.reduce((a, s) => a + s.maxConcurrency, 0);

  // A segment (a load generator's, or a worker's) draws its own random picks and think times, and
  // takes every count-th value of a sequential pool from its own offset: segments split a pool
  // instead of each replaying it from the start. The arrivals stay the whole plan's (root rng).
  const seg = plan.segment;
  const split = seg !== undefined && seg.count > 1;
  const scenarios: ScenarioState[] = plan.scenarios.map((s) => {
    const j = plan.journeys[s.journey];
    if (!j) throw new Error(`plan has no journey ${s.journey}`);
    const srng = rng.fork(split ? `${s.id}/segment ${seg.index}/${seg.count}` : s.id);
    return {
      journey: compileJourney(j, {
        rng: srng,
        timeScale: plan.timeScale,
        pools,
        env: opts.env,
        ...(split ? { sequentialStride: { offset: seg.index - 1, step: seg.count } } : {}),
      }),
      maxConcurrency: s.maxConcurrency,
      inFlight: 0,
      arrivals: arrivalModels[plan.arrivals](s, plan, rng),
      nextMs: 0,
      index: 0,
    };
  });
  const agg = new Aggregator(
    plan.scenarios.map((s, i) => ({
      channel: s.channel,
      journey: s.journey,
      steps: (scenarios[i] as ScenarioState).journey.steps.map((x) => x.name),
    })),
  );
  const lagSecond = createLatencyHistogram();
  const lagTotal = createLatencyHistogram();
  const sampler = createHealthSampler(bounds.stallMs);
  // Iterations started more than the validity bound late: this second's and the run's.
  const lateUs = bounds.lateMs * 1000;
  let lateSecond = 0;
  let lateTotal = 0;
  let startedTotal = 0;
  const health: EngineHealthRecord[] = [];
  const subscribers = opts.subscribers ?? [];
  const abortRules = opts.abortRules ?? [];

  const closed = opts.closedLoop;
  let t0 = performance.now();
  const nowMs = () => performance.now() - t0;
  const connections = Math.max(1, opts.connections ?? totalCap);
  const client: HttpClient = (opts.createClient ?? createHttpClient)({
    origin: opts.target.origin,
    connections,
    timeoutMs,
    now: () => performance.now() - t0,
  });
  // Connections for the first moments of the plan are opened before the clock starts: opening
  // hundreds of them at once in the first second (each a connect, an accept and a new undici
  // client) put the engine 40 ms behind even after its code was warm (bench/engine.bench.ts, 20,000/s).
  const preconnect = Math.min(
    connections,
    opts.preconnect ?? (closed ? closed.vus * plan.scenarios.length : startingConnections(plan)),
  );
  const preconnected =
    preconnect > 0 && client.preconnect ? await client.preconnect(preconnect, Math.min(timeoutMs, 5000)) : 0;
  if (opts.startAt) t0 = (await opts.startAt()) - performance.timeOrigin;
  else t0 = performance.now();
  const startedAtEpochMs = Date.now() + Math.max(0, t0 - performance.now());
  let inFlightTotal = 0;
  let arrivalsDone = false;
  let stopped = false;
  let finished = false;
  // The next tick: a timer (sleeping) or an immediate (spinning), never both.
  let tickTimer: NodeJS.Timeout | null = null;
  let tickImmediate: NodeJS.Immediate | null = null;
  const schedulerMode: SchedulerMode = opts.scheduler ?? 'auto';
  const spinAboveRps = opts.spinAboveRps ?? DEFAULT_SPIN_ABOVE_RPS;
  const maxStartsPerTick = opts.maxStartsPerTick ?? 64;
  // 'auto' starts in the mode the plan's starting rate calls for, then follows the measured rate.
  let spinning = spinsFromStart(plan, opts);
  let spunThisSecond = false;
  let rateWindowStart = 0;
  let rateWindowArrivals = 0;
  const clearTick = (): void => {
    if (tickTimer) clearTimeout(tickTimer);
    if (tickImmediate) clearImmediate(tickImmediate);
    tickTimer = null;
    tickImmediate = null;
  };
  let secondTimer: NodeJS.Timeout | null = null;
  let deadlineTimer: NodeJS.Timeout | null = null;
  let second = 0;
  let endReason: EndReason = 'completed';
  let endDetail: string | undefined;
  let exitCode: number | undefined;
  let resolveDone!: (r: EngineResult) => void;
  const done = new Promise<EngineResult>((r) => {
    resolveDone = r;
  });

  const advance = (sc: ScenarioState): void => {
    const seg = plan.segment;
    for (;;) {
      const n = sc.arrivals.next();
      if (n.done) {
        sc.nextMs = Number.POSITIVE_INFINITY;
        return;
      }
      const idx = sc.index++;
      if (seg && !segmentKeeps(idx, seg)) continue;
      sc.nextMs = n.value * 1000;
      return;
    }
  };
  for (const sc of scenarios) advance(sc);

  const endIteration = (it: IterationState): void => {
    const sc = scenarios[it.si] as ScenarioState;
    const slot = agg.scenarios[it.si];
    sc.inFlight--;
    inFlightTotal--;
    if (slot) {
      slot.completed++;
      if (it.failed) slot.failedIterations++;
    }
    if (arrivalsDone && inFlightTotal === 0 && !finished) void finish();
    // Closed loop: the virtual user starts its next iteration as soon as this one ends.
    else if (closed && !arrivalsDone && !stopped) startIteration(it.si, nowMs());
  };

  const sendStep = (it: IterationState, intendedMs: number): void => {
    if (finished) return;
    const sc = scenarios[it.si] as ScenarioState;
    const step = sc.journey.steps[it.step] as CompiledStep;
    const vars = it.vars;
    const stat = step.staticHeaders;
    if (stat && !sc.journey.auth && !(it.cookies && it.cookies.size > 0)) {
      // The common case (no templated headers, cookies or auth): one pre-built headers object per step.
      const path = basePath + renderTemplate(step.path, vars ?? EMPTY);
      const body = step.body ? renderTemplate(step.body, vars ?? EMPTY) : null;
      it.intendedMs = intendedMs;
      it.queuedAt = nowMs();
      client.send({ method: step.method, path, headers: stat, body }, step.wantBody, onResponse, it);
      return;
    }
    const headers: Record<string, string> = {};
    for (const [k, t] of step.headers)
      headers[k] = vars ? renderTemplate(t, vars) : 'constant' in t ? t.constant : '';
    if (sc.journey.auth) headers[sc.journey.auth[0]] = sc.journey.auth[1];
    if (it.cookies && it.cookies.size > 0) {
      let c = '';
      for (const [k, v] of it.cookies) c += `${c ? '; ' : ''}${k}=${v}`;
      headers.cookie = c;
    }
    const path =
      basePath + (vars ? renderTemplate(step.path, vars) : 'constant' in step.path ? step.path.constant : '');
    const body = step.body
      ? vars
        ? renderTemplate(step.body, vars)
        : 'constant' in step.body
          ? step.body.constant
          : null
      : null;
    it.intendedMs = intendedMs;
    it.queuedAt = nowMs();
    client.send({ method: step.method, path, headers, body }, step.wantBody, onResponse, it);
  };

  function onResponse(o: HttpOutcome, it: IterationState): void {
    if (finished) return;
    const step = (scenarios[it.si] as ScenarioState).journey.steps[it.step] as CompiledStep;
    const intendedMs = it.intendedMs;
    const sentAt = Number.isNaN(o.sentAt) ? it.queuedAt : o.sentAt;
    const end = nowMs();
    let failed = o.error !== null;
    let checkFailed = false;
    if (!failed) {
      const ok = step.acceptStatus ? step.acceptStatus.has(o.status) : o.status < 400;
      if (!ok) {
        failed = true;
        if (step.acceptStatus) checkFailed = true;
      }
      if (o.setCookie && it.cookies) {
        for (const sc of o.setCookie) {
          const eq = sc.indexOf('=');
          const semi = sc.indexOf(';');
          if (eq > 0)
            it.cookies.set(sc.slice(0, eq).trim(), sc.slice(eq + 1, semi < 0 ? undefined : semi).trim());
        }
      }
      if (!failed && (step.extract.length > 0 || step.exists.length > 0 || step.equals.length > 0)) {
        let doc: unknown;
        try {
          doc = JSON.parse((o.body ?? Buffer.alloc(0)).toString('utf8'));
        } catch {
          doc = undefined;
        }
        for (const p of step.exists) if (readJsonPath(doc, p) === undefined) checkFailed = true;
        for (const [p, v] of step.equals) if (readJsonPath(doc, p) !== v) checkFailed = true;
        for (const [name, p] of step.extract) {
          const v = readJsonPath(doc, p);
          if (v === undefined || v === null) checkFailed = true;
          else it.vars?.set(name, typeof v === 'string' ? v : JSON.stringify(v));
        }
        if (checkFailed) failed = true;
      }
    }
    agg.request(
      it.si,
      it.step,
      o.status,
      o.error,
      checkFailed,
      step.hasCheck || step.acceptStatus !== null,
      failed,
      (end - intendedMs) * 1000,
      (end - sentAt) * 1000,
    );
    const sc = scenarios[it.si] as ScenarioState;
    if (failed) it.failed = true;
    // A failed step ends the iteration: later steps depend on its result (cart id, order id).
    if (failed || it.step + 1 >= sc.journey.steps.length || stopped) {
      endIteration(it);
      return;
    }
    it.step++;
    const think = step.think ? step.think() : 0;
    if (think <= 0) sendStep(it, end);
    else setTimeout(() => (stopped ? endIteration(it) : sendStep(it, end + think)), think).unref();
  }

  const startIteration = (si: number, dueMs: number): void => {
    const sc = scenarios[si] as ScenarioState;
    const slot = agg.scenarios[si];
    if (!slot) return;
    slot.planned++;
    if (sc.inFlight >= sc.maxConcurrency) {
      slot.dropped++;
      return;
    }
    sc.inFlight++;
    inFlightTotal++;
    slot.started++;
    if (!closed) {
      const lagUs = Math.round((nowMs() - dueMs) * 1000);
      lagSecond.recordValue(Math.max(1, lagUs));
      lagTotal.recordValue(Math.max(1, lagUs));
      startedTotal++;
      if (lagUs > lateUs) {
        lateSecond++;
        lateTotal++;
      }
    }
    const j = sc.journey;
    let vars: TemplateVars | null = null;
    let cookies: Map<string, string> | null = null;
    if (j.stateful) {
      vars = new Map();
      vars.set('iteration', String(slot.totals.started + slot.started));
      vars.set('uuid', crypto.randomUUID());
      vars.set('channel', slot.channel);
      vars.set('vu', String(sc.inFlight));
      for (const [name, pick] of j.pickers) vars.set(name, pick());
      cookies = new Map();
    }
    sendStep({ si, step: 0, intendedMs: dueMs, queuedAt: dueMs, vars, cookies, failed: false }, dueMs);
  };

  const tick = (): void => {
    tickTimer = null;
    tickImmediate = null;
    if (stopped) return;
    const now = nowMs();
    // Start what is due, earliest first across scenarios, at most maxStartsPerTick before yielding to
    // I/O: after a stall (a cold start's compilation, a GC pause, a busy host) the overdue arrivals go
    // out in batches with responses read in between rather than in one synchronous burst, and no
    // scenario's backlog overtakes another's older arrivals. Each one's lag is recorded.
    let budget = maxStartsPerTick;
    let next = Number.POSITIVE_INFINITY;
    for (;;) {
      let k = -1;
      next = Number.POSITIVE_INFINITY;
      for (let si = 0; si < scenarios.length; si++) {
        const at = (scenarios[si] as ScenarioState).nextMs;
        if (at < next) {
          next = at;
          k = si;
        }
      }
      if (next > now || budget === 0) break;
      startIteration(k, next);
      advance(scenarios[k] as ScenarioState);
      rateWindowArrivals++;
      budget--;
    }
    if (next === Number.POSITIVE_INFINITY) {
      arrivalsDone = true;
      if (inFlightTotal === 0) void finish();
      else deadlineTimer = setTimeout(() => stop('completed'), opts.gracefulStopMs ?? timeoutMs + 1000);
      return;
    }
    // Sleep or spin until the next arrival (SchedulerMode says why and what each costs).
    if (schedulerMode === 'auto' && now - rateWindowStart >= 100) {
      spinning = (rateWindowArrivals * 1000) / (now - rateWindowStart) >= spinAboveRps;
      rateWindowStart = now;
      rateWindowArrivals = 0;
    }
    if (spinning) spunThisSecond = true;
    const d = next - nowMs();
    if (next <= now || (spinning && d <= 1.5)) tickImmediate = setImmediate(tick);
    else tickTimer = setTimeout(tick, Math.max(1, spinning ? d - 1 : d));
  };

  /** The last second while its records are still being encoded (Aggregator.flushDeferred). */
  let deferred: { finishNow(): void } | null = null;

  const emitSecond = (final: boolean): void => {
    deferred?.finishNow();
    const wall = second;
    // The last, partial second is always emitted (even if tiny) so no count is lost.
    const dt = final ? Math.max(0.001, nowMs() / 1000 - second) : 1;
    const t = plan.eventStart + wall * plan.timeScale;
    const { records, pending } = agg.flushDeferred(t, wall, dt);
    const h = sampler.sample(t, wall, lagSecond, inFlightTotal, lateSecond);
    lateSecond = 0;
    if (!closed) h.scheduler = spunThisSecond || spinning ? 'spin' : 'sleep';
    spunThisSecond = false;
    lagSecond.reset();
    health.push(h);
    second++;
    // Once every record is complete: the report to the subscribers, then the abort rules.
    const deliver = (): void => {
      deferred = null;
      let planned = 0;
      let started = 0;
      let dropped = 0;
      let requests = 0;
      let failed = 0;
      for (const r of records) {
        planned += r.planned ?? 0;
        started += r.started ?? 0;
        dropped += r.dropped ?? 0;
        requests += r.requests ?? 0;
        failed += r.failed ?? 0;
      }
      const report: SecondReport = {
        second: wall,
        t,
        wall,
        dt,
        records,
        health: h,
        planned,
        started,
        dropped,
        requests,
        failed,
        p95Ms: agg.lastSecond.totalCount ? agg.lastSecond.getValueAtPercentile(95) / 1000 : 0,
      };
      for (const s of subscribers) s.onSecond?.(report);
      if (!final && !stopped) {
        for (const rule of abortRules) {
          let d: ReturnType<AbortRule>;
          try {
            d = rule({ t, wall, records });
          } catch (e) {
            // A broken rule must not leave load running unobserved: stop and say why.
            stop('error', `abort rule failed: ${(e as Error).message}`, 1);
            break;
          }
          if (d.abort) {
            stop(d.exitCode === 97 ? 'circuit-breaker' : 'budget-abort', d.reason, d.exitCode);
            break;
          }
        }
      }
    };
    // The records' histograms are encoded EMIT_BATCH at a time, yielding to the scheduler and I/O
    // in between; the last second, or a second stop() interrupts, is completed at once.
    let i = 0;
    let handle: NodeJS.Immediate | null = null;
    const completeAll = (): void => {
      for (; i < pending.length; i++) agg.completeRecord(pending[i] as PendingRecord);
    };
    if (final) {
      completeAll();
      deliver();
      return;
    }
    const work = (): void => {
      handle = null;
      const end = Math.min(pending.length, i + EMIT_BATCH);
      for (; i < end; i++) agg.completeRecord(pending[i] as PendingRecord);
      if (i < pending.length) handle = setImmediate(work);
      else deliver();
    };
    deferred = {
      finishNow: () => {
        if (handle) clearImmediate(handle);
        handle = null;
        completeAll();
        deliver();
      },
    };
    work();
  };

  const scheduleSecond = (): void => {
    secondTimer = setTimeout(
      () => {
        if (finished) return;
        emitSecond(false);
        if (!finished) scheduleSecond();
      },
      Math.max(0, (second + 1) * 1000 - nowMs()),
    );
  };

  async function finish(): Promise<void> {
    if (finished) return;
    finished = true;
    stopped = true;
    clearTick();
    if (secondTimer) clearTimeout(secondTimer);
    if (deadlineTimer) clearTimeout(deadlineTimer);
    const abandoned = inFlightTotal;
    emitSecond(true);
    sampler.stop();
    await client.destroy().catch(() => undefined);
    const totals = agg.scenarios.map((s) => ({ ...s.totals, channel: s.channel, journey: s.journey }));
    const loop = sampler.loopDelayP99Ms();
    const threadEvidence: ThreadEvidence = {
      name: 'engine',
      started: closed ? null : startedTotal,
      late: lateTotal,
      ...sampler.evidence(),
    };
    const v = computeValidity({ threads: [threadEvidence], health }, bounds);
    resolveDone({
      endReason,
      endDetail,
      exitCode,
      durationSeconds: Math.round(nowMs()) / 1000,
      totals,
      schedulerLag: lagTotal,
      eventLoopDelayP99Ms: loop,
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

  function stop(reason: EndReason, detail?: string, code?: number): void {
    if (stopped) return;
    stopped = true;
    endReason = reason;
    endDetail = detail;
    exitCode = code;
    clearTick();
    if (inFlightTotal === 0) void finish();
    else setTimeout(() => void finish(), reason === 'completed' ? 0 : (opts.stopGraceMs ?? 500));
  }

  scheduleSecond();
  if (closed) {
    for (let si = 0; si < scenarios.length; si++)
      for (let v = 0; v < closed.vus; v++) startIteration(si, nowMs());
    deadlineTimer = setTimeout(() => {
      arrivalsDone = true;
      if (inFlightTotal === 0) void finish();
      else deadlineTimer = setTimeout(() => stop('completed'), opts.gracefulStopMs ?? timeoutMs + 1000);
    }, plan.durationSeconds * 1000);
  } else tick();
  return { done, stop };
}
