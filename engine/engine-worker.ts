/**
 * The entry point of one engine worker thread (engine/workers.ts starts it): it loads its code and
 * says so, waits until every worker has (so none is still opening module files while another's
 * sockets take the descriptors left), plays its segment of the plan with its own scheduler and
 * connection pool (startEngine), waits for the main thread's start time so every worker's seconds
 * line up, posts each second's records and health as they are
 * emitted, stops when told, and posts its whole-run result with its histograms encoded. It applies
 * no abort rule and writes no file: the main thread merges, judges and writes.
 */

import { closeSync, openSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { ExitCode } from '../core/errors.ts';
import type { EndReason } from '../core/run-format.ts';
import { createDataPools, type PoolValues } from '../scenarios/data-pools.ts';
import { type EngineOptions, startEngine } from './engine.ts';
import { encodeHistogram } from './histogram.ts';
import { segmentPlan } from './segments.ts';
import { warmUpEngine } from './warm-up.ts';
import type { MainToWorker, WorkerFault, WorkerInit, WorkerToMain } from './workers.ts';

const port = parentPort;
if (!port) throw new Error('engine/engine-worker.ts runs only as a worker thread (engine/workers.ts)');
const init = workerData as WorkerInit;
const post = (m: WorkerToMain) => port.postMessage(m);

let beginResolve: (() => void) | null = null;
const begun = new Promise<void>((resolve) => {
  beginResolve = resolve;
});
let goResolve: ((at: number) => void) | null = null;
let pendingStop: { reason: EndReason; detail?: string; exitCode?: number } | null = null;
/** Whether the main thread stopped this worker (else an 'error' end is the worker's own failure). */
let toldToStop = false;
let stopEngine: ((reason: EndReason, detail?: string, exitCode?: number) => void) | null = null;

port.on('message', (m: MainToWorker) => {
  if (m.type === 'begin') beginResolve?.();
  else if (m.type === 'go') goResolve?.(m.at);
  else if (m.type === 'stop') {
    toldToStop = true;
    if (stopEngine) stopEngine(m.reason, m.detail, m.exitCode);
    else pendingStop = m;
  }
});

async function main(): Promise<void> {
  const { plan: whole, worker, segment } = init;
  const { segment: _outer, ...base } = whole;
  const seg = segmentPlan(base, segment);
  // The scenarios' concurrency caps are split among the workers (the first ones take the remainder).
  const n = init.workers;
  const capShare = (cap: number) => Math.max(1, Math.floor(cap / n) + (worker <= cap % n ? 1 : 0));
  const plan = {
    ...seg,
    scenarios: seg.scenarios.map((s) => ({ ...s, maxConcurrency: capShare(s.maxConcurrency) })),
  };
  let pools: Record<string, PoolValues> | undefined;
  const poolsFn = () => {
    pools ??= createDataPools(init.userPools);
    return pools;
  };
  // Every module this worker runs is loaded by now (data-pools.ts too, imported statically), and the
  // data pools its journeys bind are built (the user's pool files read). It opens no socket until
  // every worker is here: under a low open-file limit, a worker still loading its modules while
  // another warmed up and connected died of EMFILE on a module file (a 2-worker run, `npm test`).
  if (plan.scenarios.some((s) => Object.keys(plan.journeys[s.journey]?.data ?? {}).length > 0)) poolsFn();
  post({ type: 'loaded', worker });
  await begun;
  // Stopped before it began (another worker died): no warm-up, the engine stops as soon as it starts.
  if (init.warmUpSeconds > 0 && !toldToStop) await warmUpEngine(plan, init.warmUpSeconds, init.warmUpRate);
  const starve = init.starve;
  const fault = init.fault;
  const opts: EngineOptions = {
    ...init.engine,
    plan,
    target: new URL(init.target),
    pools: poolsFn,
    startAt: () =>
      new Promise<number>((resolve) => {
        goResolve = resolve;
        post({ type: 'ready', worker });
      }),
    subscribers: [
      {
        onSecond: (r) => {
          post({ type: 'second', worker, second: r.second, records: r.records, health: r.health });
          // A test seam only (engine/workers.test.ts): keep this worker's thread busy to prove that
          // validity is judged per worker.
          if (starve) {
            const until = performance.now() + starve.busyMs;
            while (performance.now() < until) {
              // busy on purpose
            }
          }
          // A test seam only (engine/workers.test.ts): this worker dies of an uncaught error.
          if (fault && r.second === fault.afterSecond)
            setImmediate(() => {
              throw faultError(fault);
            });
        },
      },
    ],
  };
  const engine = await startEngine(opts);
  stopEngine = engine.stop;
  if (pendingStop) engine.stop(pendingStop.reason, pendingStop.detail, pendingStop.exitCode);
  const r = await engine.done;
  post({
    type: 'result',
    worker,
    result: {
      endReason: r.endReason,
      ...(r.endReason === 'error' && !toldToStop
        ? { ownStop: { detail: r.endDetail ?? 'stopped', exitCode: r.exitCode ?? ExitCode.environment } }
        : {}),
      durationSeconds: r.durationSeconds,
      totals: r.totals.map((t) => ({
        ...t,
        latency: encodeHistogram(t.latency),
        latencySend: encodeHistogram(t.latencySend),
      })),
      schedulerLag: encodeHistogram(r.schedulerLag),
      eventLoopDelayP99Ms: r.eventLoopDelayP99Ms,
      abandoned: r.abandoned,
      startedAtEpochMs: r.startedAtEpochMs,
      preconnected: r.preconnected,
      threadEvidence: r.threadEvidence,
    },
  });
}

/** The error a test's fault throws (WorkerFault). */
function faultError(fault: WorkerFault): unknown {
  if (fault.kind === 'bug') {
    const missing = (init as unknown as { missing?: { field: number } }).missing;
    try {
      return (missing as { field: number }).field;
    } catch (e) {
      return e;
    }
  }
  const held: number[] = [];
  try {
    for (let i = 0; i < 100_000; i++) held.push(openSync('/dev/null', 'r'));
    return new Error('the open-file limit was not reached: run this fault under ulimit -n');
  } catch {
    // No descriptor left: load a module this worker has not loaded, as undici's were in the field.
    try {
      return createRequire(import.meta.url)('../package.json');
    } catch (e) {
      return e;
    }
  } finally {
    for (const fd of held) closeSync(fd);
  }
}

main().catch((e: unknown) => {
  const code = (e as { code?: unknown } | null)?.code;
  post({
    type: 'failed',
    worker: init.worker,
    message: e instanceof Error ? e.message : String(e),
    ...(typeof code === 'string' ? { code } : {}),
  });
});
