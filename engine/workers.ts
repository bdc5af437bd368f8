/**
 * The engine on several cores: `--workers N` starts N worker threads (engine/engine-worker.ts),
 * each playing an exact segment of the plan (engine/segments.ts: worker w of N keeps the arrivals
 * k with k mod N = w − 1, within the run's own `--segment` if it has one) with its own scheduler
 * and connection pool. The main thread starts them on one clock, merges each second's records
 * exactly (engine/worker-merge.ts), hands the merged second to the subscribers (run writer,
 * progress) and the abort rules (circuit breaker, budgets), stops every worker when one rule says
 * so, judges validity from every worker's own evidence, and returns the same EngineResult a single
 * engine does. A worker that dies ends the run (`error`, partial, invalid, exit 98) with the reason;
 * the run never waits on a dead worker. A worker that dies of this machine's own failure (no file
 * descriptor left while it loads a module, no socket memory: http-client.ts LOCAL_FAILURES) ends it
 * as a request failing for that reason does: exit 8, the load generator's failure, not the target's.
 *
 * Every worker loads its code before any of them opens a socket: a worker still loading its modules
 * while another warmed up and connected died of EMFILE opening one of them under `ulimit -n 256`.
 */

import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ExitCode } from '../core/errors.ts';
import type { EndReason, EngineHealthRecord, SeriesRecord } from '../core/run-format.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { UserPoolModel } from '../scenarios/profile-model.ts';
import { maxOver } from '../scenarios/rate-function.ts';
import type { AbortRule } from './abort-rules.ts';
import type { ScenarioTotals } from './aggregator.ts';
import {
  type EngineOptions,
  type EngineResult,
  type RunningEngine,
  type SecondReport,
  startingConnections,
} from './engine.ts';
import { addHistogram, createLatencyHistogram, decodeHistogram } from './histogram.ts';
import { describeLocalFailure, LOCAL_FAILURES, openFileLimit } from './http-client.ts';
import { judgeSecond, sumSecond } from './second-close.ts';
import type { Segment } from './segments.ts';
import { computeValidity, DEFAULT_VALIDITY_BOUNDS, type ThreadEvidence } from './validity.ts';
import { mergeSecondHealth, mergeSecondRecords } from './worker-merge.ts';

/**
 * Requests per second one worker is given before `auto` adds another: half the 20,000/s a worker
 * holds with scheduler lag p99 under 5 ms on a quiet core (bench/engine.bench.ts), leaving room for
 * heavier journeys (checks, extraction, templating).
 */
export const REQUESTS_PER_WORKER = 10_000;

/** The plan's highest request rate (per wall second, all scenarios, each at its own peak). */
export function peakRequestRate(plan: Plan): number {
  let rate = 0;
  for (const s of plan.scenarios)
    rate +=
      maxOver({ times: s.times, values: s.rates }, plan.eventStart, plan.eventEnd) * s.requestsPerIteration;
  return rate;
}

/**
 * `--workers auto`: one worker per REQUESTS_PER_WORKER of the plan's peak request rate, at most
 * one per core available to this process, at least one (a plan under 10,000 requests/s runs on one
 * thread, as before workers existed).
 */
export function autoWorkers(plan: Plan, cores = availableParallelism()): number {
  return Math.max(1, Math.min(cores, Math.ceil(peakRequestRate(plan) / REQUESTS_PER_WORKER)));
}

/** Worker w's (1-based) segment of `count`, inside the plan's own segment when it is one. */
export function workerSegment(plan: Pick<Plan, 'segment'>, worker: number, count: number): Segment {
  const outer = plan.segment ?? { index: 1, count: 1 };
  return { index: outer.index + outer.count * (worker - 1), count: outer.count * count };
}

/** What a worker is started with (structured-cloned: no functions). */
export interface WorkerInit {
  worker: number;
  /** How many workers share the plan (the concurrency caps are split among them). */
  workers: number;
  plan: Plan;
  segment: Segment;
  target: string;
  engine: Pick<
    EngineOptions,
    | 'timeoutMs'
    | 'connections'
    | 'closedLoop'
    | 'scheduler'
    | 'spinAboveRps'
    | 'maxStartsPerTick'
    | 'preconnect'
    | 'gracefulStopMs'
    | 'stopGraceMs'
    | 'validityBounds'
  >;
  userPools: readonly UserPoolModel[];
  warmUpSeconds: number;
  warmUpRate: number;
  /** Test seam: keep this worker busy for `busyMs` after each of its seconds. */
  starve?: { busyMs: number };
  /** Test seam: this worker dies (an uncaught error) after reporting its second `afterSecond`. */
  fault?: WorkerFault;
}

/**
 * How a worker is made to die in a test: `bug`, of a TypeError (a bug in peakday); `descriptors`,
 * of a real EMFILE: it opens /dev/null until the process's open-file limit refuses one, then loads a
 * module it has not loaded yet (which fails as the module did in the field), closes what it opened
 * and throws that error. Only under a low `ulimit -n`: the whole process is out of descriptors meanwhile.
 */
export interface WorkerFault {
  afterSecond: number;
  kind: 'bug' | 'descriptors';
}

/** A worker's whole-run result, histograms encoded. */
export interface WorkerResult {
  endReason: EndReason;
  /** Why it stopped itself, and the exit code, when it did (its load generator failed). */
  ownStop?: { detail: string; exitCode: number };
  durationSeconds: number;
  totals: (Omit<ScenarioTotals, 'latency' | 'latencySend'> & {
    channel: string;
    journey: string;
    latency: string;
    latencySend: string;
  })[];
  schedulerLag: string;
  eventLoopDelayP99Ms: number;
  abandoned: number;
  startedAtEpochMs: number;
  preconnected: number;
  threadEvidence: ThreadEvidence;
}

/** Messages from the main thread. */
export type MainToWorker =
  /** Every worker has loaded its code: warm up, connect, and say `ready`. */
  | { type: 'begin' }
  | { type: 'go'; at: number }
  | { type: 'stop'; reason: EndReason; detail?: string; exitCode?: number };

/** Messages from a worker. */
export type WorkerToMain =
  /** Its modules are loaded; it opens no socket before `begin`. */
  | { type: 'loaded'; worker: number }
  | { type: 'ready'; worker: number }
  | { type: 'second'; worker: number; second: number; records: SeriesRecord[]; health: EngineHealthRecord }
  | { type: 'result'; worker: number; result: WorkerResult }
  /** Its setup threw: the error's message, and its code when it had one (EMFILE, ...). */
  | { type: 'failed'; worker: number; message: string; code?: string };

/** Options of a run on workers: the engine's, plus how many and what each needs to build its own state. */
export interface WorkerEngineOptions extends Omit<EngineOptions, 'createClient' | 'startAt' | 'pools'> {
  workers: number;
  /** The profile's user pools; each worker reads them (with the built-in pools) itself. */
  userPools?: readonly UserPoolModel[];
  /** Warm-up per worker before the clock starts (engine/warm-up.ts), at its share of the starting rate. */
  warmUpSeconds?: number;
  warmUpRate?: number;
  /** Test seams: the workers once started (to kill one); a worker to keep busy; a worker to die. */
  onWorkers?: (workers: readonly Worker[]) => void;
  starve?: { worker: number; busyMs: number };
  fault?: WorkerFault & { worker: number };
}

const MACHINE_CODE_IN_MESSAGE = new RegExp(`\\b(${Object.keys(LOCAL_FAILURES).join('|')})\\b`);

/**
 * The machine's own failure a dead worker's error names, or null (a bug, or anything else). Its code
 * when it has one (a system error keeps `code` across threads), else a code the message names: a
 * thread that could not start says "Worker initialization failure: EMFILE", and an error that lost
 * its properties still reads "EMFILE: too many open files, open '…'". Looks through `cause`. Pure.
 */
export function machineFailureOf(error: unknown): { code: string; message: string } | null {
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    const message =
      typeof e === 'string' ? e : typeof e === 'object' ? String((e as Error).message ?? '') : '';
    const code = typeof e === 'object' ? (e as { code?: unknown }).code : undefined;
    if (typeof code === 'string' && Object.hasOwn(LOCAL_FAILURES, code)) return { code, message };
    const named = MACHINE_CODE_IN_MESSAGE.exec(message)?.[1];
    if (named) return { code: named, message };
    e = typeof e === 'object' ? (e as { cause?: unknown }).cause : undefined;
  }
  return null;
}

/**
 * Why a run stopped when a worker died of the machine's own failure, in the words engine.ts uses for
 * a request that failed for it (describeLocalFailure): what ran out, the error, when, and the remedy
 * with the limit. Pure.
 */
export function describeWorkerMachineFailure(
  worker: number,
  failure: { code: string; message: string },
  started: boolean,
  fileLimit: string | null,
): string {
  const { code, message } = failure;
  const when = started
    ? `and the thread of worker ${worker} died of it mid-run`
    : `and the thread of worker ${worker} died of it while starting, before the clock started`;
  return `worker ${worker}: ${describeLocalFailure(code, oneLine(message), when, fileLimit)}`;
}

const oneLine = (s: string) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
};

/** The module that boots a worker: registers the TypeScript loader, then runs engine-worker.ts. */
function bootUrl(): URL {
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const entry = new URL('./engine-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(pathToFileURL(api).href)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** Starts the plan on `opts.workers` worker threads; the result is a single engine's. */
export async function startWorkerEngines(opts: WorkerEngineOptions): Promise<RunningEngine> {
  const n = opts.workers;
  const { plan } = opts;
  const share = (x: number | undefined, w: number) =>
    x === undefined ? undefined : Math.floor(x / n) + (w <= x % n ? 1 : 0);
  // Read now: once the run has used every file descriptor, /proc cannot be read either.
  const fileLimit = openFileLimit();
  const workers: Worker[] = [];
  for (let w = 1; w <= n; w++) {
    const init: WorkerInit = {
      worker: w,
      workers: n,
      plan,
      segment: workerSegment(plan, w, n),
      target: opts.target.href,
      engine: {
        timeoutMs: opts.timeoutMs,
        connections:
          opts.connections === undefined ? undefined : Math.max(1, share(opts.connections, w) ?? 1),
        closedLoop: opts.closedLoop ? { vus: Math.max(1, share(opts.closedLoop.vus, w) ?? 1) } : undefined,
        scheduler: opts.scheduler,
        spinAboveRps: opts.spinAboveRps,
        maxStartsPerTick: opts.maxStartsPerTick,
        preconnect: share(opts.preconnect ?? (opts.closedLoop ? undefined : startingConnections(plan)), w),
        gracefulStopMs: opts.gracefulStopMs,
        stopGraceMs: opts.stopGraceMs,
        validityBounds: opts.validityBounds,
      },
      userPools: opts.userPools ?? [],
      warmUpSeconds: opts.warmUpSeconds ?? 0,
      warmUpRate: (opts.warmUpRate ?? 0) / n,
      ...(opts.starve?.worker === w ? { starve: { busyMs: opts.starve.busyMs } } : {}),
      ...(opts.fault?.worker === w
        ? { fault: { afterSecond: opts.fault.afterSecond, kind: opts.fault.kind } }
        : {}),
    };
    workers.push(new Worker(bootUrl(), { workerData: init }));
  }
  opts.onWorkers?.(workers);
  return coordinate(opts, workers, fileLimit);
}

/** Per-worker state in the main thread. */
interface WorkerSlot {
  worker: Worker;
  loaded: boolean;
  ready: boolean;
  seconds: Map<number, { records: SeriesRecord[]; health: EngineHealthRecord }>;
  /** Seconds it reported after they were merged without it (a dead worker's last messages). */
  late: number[];
  result: WorkerResult | null;
  dead: string | null;
  /** Why, in full, when it died of the machine's own failure. */
  machine: string | null;
}

/** Merges the workers' seconds and results (exported for its tests, which drive it with stand-in threads). */
export function coordinate(
  opts: WorkerEngineOptions,
  workers: Worker[],
  fileLimit: string | null,
): RunningEngine {
  const { plan } = opts;
  const bounds = opts.validityBounds ?? DEFAULT_VALIDITY_BOUNDS;
  const subscribers = opts.subscribers ?? [];
  const abortRules: AbortRule[] = opts.abortRules ?? [];
  const slots: WorkerSlot[] = workers.map((worker) => ({
    worker,
    loaded: false,
    ready: false,
    seconds: new Map(),
    late: [],
    result: null,
    dead: null,
    machine: null,
  }));
  const health: EngineHealthRecord[] = [];
  let nextSecond = 0;
  let stopped: { reason: EndReason; detail?: string; exitCode?: number } | null = null;
  let settled = false;
  let resolveDone!: (r: EngineResult) => void;
  const done = new Promise<EngineResult>((r) => {
    resolveDone = r;
  });

  const broadcast = (m: { type: 'stop'; reason: EndReason; detail?: string; exitCode?: number }) => {
    for (const s of slots) if (!s.dead && !s.result) s.worker.postMessage(m);
  };
  const stop = (reason: EndReason, detail?: string, exitCode?: number): void => {
    if (stopped) return;
    stopped = { reason, detail, exitCode };
    broadcast({ type: 'stop', reason, detail, exitCode });
    settleIfDone();
  };

  // Seconds are emitted in order, once every worker still playing has delivered that second; a
  // finished or dead worker is waited for no more, and what it delivered before is kept.
  const emitReady = (): void => {
    for (;;) {
      const k = nextSecond;
      if (slots.some((s) => !s.dead && !s.result && !s.seconds.has(k))) return;
      const delivered = slots.filter((s) => s.seconds.has(k));
      if (delivered.length === 0) {
        // No one delivered this second: go on to the next one someone did, if any.
        let next = Number.POSITIVE_INFINITY;
        for (const s of slots) for (const key of s.seconds.keys()) if (key > k && key < next) next = key;
        if (next === Number.POSITIVE_INFINITY) return;
        nextSecond = next;
        continue;
      }
      const parts = delivered.map(
        (s) => s.seconds.get(k) as { records: SeriesRecord[]; health: EngineHealthRecord },
      );
      for (const s of delivered) s.seconds.delete(k);
      deliverSecond(k, parts);
      nextSecond++;
    }
  };

  const deliverSecond = (
    second: number,
    parts: { records: SeriesRecord[]; health: EngineHealthRecord }[],
  ) => {
    const { records, latency } = mergeSecondRecords(parts.map((p) => p.records));
    const h = mergeSecondHealth(parts.map((p) => p.health));
    health.push(h);
    const first = records[0];
    const p95Ms = latency && latency.totalCount > 0 ? latency.getValueAtPercentile(95) / 1000 : 0;
    const t = first?.t ?? plan.eventStart + second * plan.timeScale;
    const report: SecondReport = {
      second,
      t,
      wall: second,
      dt: first?.dt ?? 1,
      records,
      health: h,
      ...sumSecond(records),
      p95Ms,
    };
    for (const s of subscribers) s.onSecond?.(report);
    if (stopped) return;
    const order = judgeSecond(abortRules, { t, wall: second, records });
    if (order) stop(order.reason, order.detail, order.exitCode);
  };

  const settleIfDone = (): void => {
    if (settled || !slots.every((s) => s.dead || s.result)) return;
    settled = true;
    emitReady();
    resolveDone(combineResults(slots, health, stopped, bounds));
    for (const s of slots) void s.worker.terminate();
  };

  // Every worker's code loaded (or the worker dead): they may open sockets now (warm up, connect).
  let beginSent = false;
  const beginIfLoaded = (): void => {
    if (beginSent || !slots.every((s) => s.loaded || s.dead)) return;
    beginSent = true;
    for (const s of slots) if (!s.dead) s.worker.postMessage({ type: 'begin' });
  };

  // Every worker ready (or dead): one start time for all, 50 ms ahead so each hears of it in time.
  let goSent = false;
  const goIfReady = (): void => {
    if (goSent || !slots.every((s) => s.ready || s.dead)) return;
    goSent = true;
    const at = performance.timeOrigin + performance.now() + 50;
    for (const s of slots) if (!s.dead) s.worker.postMessage({ type: 'go', at });
  };

  // A worker that died of this machine's own failure ends the run as a request failing for it does
  // (exit 8, engine.ts onLocalFailure); any other death is one the run cannot vouch for (exit 98).
  const onDeath = (slot: WorkerSlot, i: number, why: string, error?: unknown): void => {
    if (slot.dead || slot.result) return;
    const machine = machineFailureOf(error ?? why);
    if (machine) {
      slot.dead = `worker ${i + 1} died of the load generator's own failure (${machine.code})`;
      slot.machine = describeWorkerMachineFailure(i + 1, machine, slot.ready, fileLimit);
    } else slot.dead = `worker ${i + 1} died: ${why}`;
    const order = machine
      ? { reason: 'error' as const, detail: slot.machine as string, exitCode: ExitCode.environment }
      : { reason: 'error' as const, detail: slot.dead, exitCode: ExitCode.noVerdict };
    if (!stopped) stopped = order;
    broadcast({ type: 'stop', ...order });
    beginIfLoaded();
    goIfReady();
    emitReady();
    settleIfDone();
  };

  for (const [i, slot] of slots.entries()) {
    slot.worker.on('message', (m: WorkerToMain) => {
      if (m.type === 'loaded') {
        slot.loaded = true;
        beginIfLoaded();
      } else if (m.type === 'ready') {
        slot.ready = true;
        goIfReady();
      } else if (m.type === 'second') {
        // A dead worker's last messages can arrive after its death was heard and its seconds merged
        // without it: such a second cannot join its merge any more (it is named among the reasons).
        // Kept waiting, it once left the merge looping on a second no one would deliver.
        if (m.second < nextSecond) slot.late.push(m.second);
        else slot.seconds.set(m.second, { records: m.records, health: m.health });
        emitReady();
      } else if (m.type === 'result') {
        slot.result = m.result;
        // A worker that stopped itself (its load generator failed: engine.ts onLocalFailure) stops
        // the others: what they measure from then on shares its machine.
        const own = m.result.ownStop;
        if (own && !stopped) {
          stopped = { reason: 'error', detail: `worker ${i + 1}: ${own.detail}`, exitCode: own.exitCode };
          broadcast({ type: 'stop', ...stopped });
        }
        emitReady();
        settleIfDone();
      } else if (m.type === 'failed')
        onDeath(slot, i, m.message, m.code ? { code: m.code, message: m.message } : undefined);
    });
    slot.worker.on('error', (e: unknown) => onDeath(slot, i, e instanceof Error ? e.message : String(e), e));
    slot.worker.on('exit', (code) => onDeath(slot, i, `its thread exited (code ${code}) before reporting`));
  }
  return { done, stop };
}

/** The workers' results as one engine's: totals and histograms merged, validity judged per worker. */
function combineResults(
  slots: readonly WorkerSlot[],
  health: EngineHealthRecord[],
  stopped: { reason: EndReason; detail?: string; exitCode?: number } | null,
  bounds: typeof DEFAULT_VALIDITY_BOUNDS,
): EngineResult {
  const results = slots.flatMap((s) => (s.result ? [s.result] : []));
  const schedulerLag = createLatencyHistogram();
  let totals: EngineResult['totals'] = [];
  for (const r of results) {
    addHistogram(schedulerLag, decodeHistogram(r.schedulerLag));
    const decoded = r.totals.map((t) => ({
      ...t,
      status: { ...t.status },
      errors: { ...t.errors },
      latency: decodeHistogram(t.latency),
      latencySend: decodeHistogram(t.latencySend),
    }));
    if (totals.length === 0) totals = decoded;
    else
      for (const [i, t] of decoded.entries()) {
        const into = totals[i];
        if (!into) continue;
        into.planned += t.planned;
        into.started += t.started;
        into.completed += t.completed;
        into.dropped += t.dropped;
        into.failedIterations += t.failedIterations;
        into.requests += t.requests;
        into.failed += t.failed;
        for (const k of ['1xx', '2xx', '3xx', '4xx', '5xx'] as const)
          if (t.status[k] !== undefined) into.status[k] = (into.status[k] ?? 0) + (t.status[k] as number);
        for (const k of ['timeout', 'refused', 'reset', 'check', 'other'] as const)
          into.errors[k] += t.errors[k];
        if (t.errors.emptyValue) into.errors.emptyValue = (into.errors.emptyValue ?? 0) + t.errors.emptyValue;
        addHistogram(into.latency, t.latency);
        addHistogram(into.latencySend, t.latencySend);
      }
  }
  const threads = slots.flatMap((s, i) =>
    s.result ? [{ ...s.result.threadEvidence, name: `worker ${i + 1}` }] : [],
  );
  const v = computeValidity({ threads, health }, bounds);
  const dead = slots.flatMap((s) => (s.dead ? [s.dead] : []));
  const reasons = [
    ...dead.map((d) => `${d}: its measurements after its last reported second are lost`),
    ...slots.flatMap((s, i) =>
      s.late.length > 0
        ? [
            `worker ${i + 1} reported second${s.late.length > 1 ? 's' : ''} ${s.late.join(', ')} after ${s.late.length > 1 ? 'they were' : 'it was'} merged without it: not in the series`,
          ]
        : [],
    ),
    ...slots.flatMap((s) => (s.machine ? [s.machine] : [])),
    ...slots.flatMap((s, i) => (s.result?.ownStop ? [`worker ${i + 1}: ${s.result.ownStop.detail}`] : [])),
    ...v.reasons,
  ];
  return {
    endReason: stopped?.reason ?? 'completed',
    ...(stopped?.detail ? { endDetail: stopped.detail } : {}),
    ...(stopped?.exitCode !== undefined ? { exitCode: stopped.exitCode } : {}),
    durationSeconds: Math.max(0, ...results.map((r) => r.durationSeconds)),
    totals,
    schedulerLag,
    eventLoopDelayP99Ms: Math.max(0, ...results.map((r) => r.eventLoopDelayP99Ms)),
    health,
    valid: reasons.length === 0,
    invalidReasons: reasons,
    validityEvidence: v.evidence,
    validityNotes: v.notes,
    abandoned: results.reduce((a, r) => a + r.abandoned, 0),
    startedAtEpochMs: Math.min(...results.map((r) => r.startedAtEpochMs), Date.now()),
    preconnected: results.reduce((a, r) => a + r.preconnected, 0),
    threadEvidence: threads[0] ?? {
      name: 'worker 1',
      started: 0,
      late: 0,
      loopSamples: 0,
      loopStalls: 0,
      cpuWait: null,
    },
  };
}
