/**
 * `compare` on several cores: worker threads (workflows/compare-worker.ts) run the comparison's
 * independent units (simulation/sizing/compare-units.ts: each topology's searches per seed, each
 * break-even end point) ahead of the sequential code, and their trials and full runs go into the
 * comparison's memo; the sequential code then finds them there. The answer is the sequential one
 * exactly (the memo's keys name every input, the model is pure); only the wall time changes. Each
 * worker compiles the plans, budgets and scaling itself from the request's files (no functions cross
 * threads). A unit a worker cannot run is left to the sequential code, which runs it in-process.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ServiceName } from '../reference-stack/topology.ts';
import type { PricingTable } from '../simulation/pricing/pricing-table.ts';
import type { ServiceEfficiency, SimulationResult } from '../simulation/simulate.ts';
import type { FullRunCache, SizingCache, Trial } from '../simulation/sizing/compare.ts';
import { describeUnit, type SizingUnit, type SizingUnitResult } from '../simulation/sizing/compare-units.ts';
import type { RenderedSeries } from './compare-series.ts';

/** What each worker builds its context from (structured-cloned: plain data). */
export interface SizingWorkerInit {
  profile: string;
  planFlags: { peakRps?: string | undefined; baselineRps?: string | undefined; window?: string | undefined };
  budgets?: string;
  scaling?: string;
  pricing: PricingTable;
  efficiency: Record<string, Partial<Record<ServiceName, ServiceEfficiency>>>;
  searchSteps: number;
}

/** Main → worker: a unit and the memo entries it may reuse. */
export interface SizingWorkerRequest {
  id: number;
  unit: SizingUnit;
  trials: [string, Trial][];
}

/**
 * Worker → main: what the unit added to the memo, or why it could not run. Its full runs come without
 * their series; `rendered`: the series of those without a fix (the ones `compare` writes and
 * reports), by full-run key, as their file's text and their report's load (compare-series.ts).
 */
export type SizingWorkerReply =
  | { id: number; ok: true; result: SizingUnitResult; rendered: [string, RenderedSeries][] }
  | { id: number; ok: false; error: string };

/** A running pool. */
export interface SizingPool {
  readonly size: number;
  /**
   * Queues a unit to run on the next free worker once every promise of `after` has settled (the
   * units whose trials it would otherwise simulate again); resolves when what it added is merged
   * into the memo, or when it failed (left to the sequential code, which runs it: see `failures`).
   */
  submit(
    unit: SizingUnit,
    cache: SizingCache,
    fullCache: FullRunCache,
    after?: readonly Promise<unknown>[],
  ): Promise<void>;
  /** The units that failed so far, described, with why. */
  failures(): string[];
  /**
   * The series of a full run a worker simulated (a run of the memo's `fullCache`, without its
   * records), rendered there; undefined for a run simulated on this thread (its records are in it).
   */
  renderedOf(r: SimulationResult): RenderedSeries | undefined;
  /**
   * Runs the units (each on the next free worker) and merges what they add into the memo; resolves
   * with the units that failed. The workers' CPU is the process's: `process.cpuUsage()` counts
   * every thread.
   */
  prefill(
    units: readonly SizingUnit[],
    cache: SizingCache,
    fullCache: FullRunCache,
  ): Promise<{ failed: string[] }>;
  close(): Promise<void>;
}

function bootUrl(): URL {
  const api = createRequire(import.meta.url)
    .resolve('tsx/esm/api')
    .replace(/\.cjs$/, '.mjs');
  const entry = new URL('./compare-worker.ts', import.meta.url).href;
  const code = `import { register } from ${JSON.stringify(pathToFileURL(api).href)}; register(); await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/**
 * Each worker's young generation (MB): 16-MB semi-spaces. The step's scratch is allocated by the
 * million and dead within a step; while a trial kept its series as records (92,160 of them, alive to
 * its end), a larger one paid: with V8's default size the two workers spent 17 s in the garbage
 * collector during `compare prime-day --peak-rps 50000`, with 192 MB 9 s (`--cpu-prof`,
 * 2026-12-03). Since trials keep their series as columns (simulation/series-columns.ts), little
 * survives a scavenge and a smaller one is the faster: a sizing search and a full run took 2% less
 * CPU with 16-MB semi-spaces than with 64-MB ones (`--max-semi-space-size`, three alternated pairs,
 * 2026-12-04). Memory the workers may use, not memory they hold.
 */
export const WORKER_YOUNG_GENERATION_MB = 48;

/** Starts `size` worker threads for one comparison. */
export function startSizingPool(size: number, init: SizingWorkerInit): SizingPool {
  const workers = Array.from(
    { length: size },
    () =>
      new Worker(bootUrl(), {
        workerData: init,
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      }),
  );
  // A worker that dies fails its unit; the rest of its queue goes to the others.
  const dead = new Set<Worker>();
  for (const w of workers) {
    w.on('error', () => dead.add(w));
    w.on('exit', () => dead.add(w));
  }
  let nextId = 1;
  const runOn = (w: Worker, req: SizingWorkerRequest) =>
    new Promise<SizingWorkerReply>((resolve) => {
      const onMessage = (m: SizingWorkerReply) => {
        if (m.id !== req.id) return;
        cleanup();
        resolve(m);
      };
      const onExit = (code: number) => {
        dead.add(w);
        cleanup();
        resolve({ id: req.id, ok: false, error: `worker exited with code ${code}` });
      };
      const onError = (e: Error) => {
        dead.add(w);
        cleanup();
        resolve({ id: req.id, ok: false, error: e.message });
      };
      const cleanup = () => {
        w.off('message', onMessage);
        w.off('exit', onExit);
        w.off('error', onError);
      };
      w.on('message', onMessage);
      w.on('exit', onExit);
      w.on('error', onError);
      if (dead.has(w)) {
        cleanup();
        resolve({ id: req.id, ok: false, error: 'worker not running' });
        return;
      }
      w.postMessage(req);
    });
  interface Job {
    unit: SizingUnit;
    cache: SizingCache;
    fullCache: FullRunCache;
    ready: boolean;
    done: () => void;
  }
  // Jobs in submission order; a free worker takes the first whose dependencies have settled.
  const jobs: Job[] = [];
  const idle: Worker[] = [...workers];
  const failed: string[] = [];
  const rendered = new WeakMap<SimulationResult, RenderedSeries>();
  const pump = (): void => {
    for (;;) {
      const alive = idle.filter((w) => !dead.has(w));
      idle.length = 0;
      idle.push(...alive);
      if (idle.length === 0) {
        // No worker left at all: every queued unit goes back to the sequential code.
        if ([...workers].every((w) => dead.has(w)))
          for (const j of jobs.splice(0)) {
            failed.push(`${describeUnit(j.unit)}: no worker running`);
            j.done();
          }
        return;
      }
      const at = jobs.findIndex((j) => j.ready);
      if (at < 0) return;
      const job = jobs.splice(at, 1)[0] as Job;
      const w = idle.shift() as Worker;
      void runOn(w, { id: nextId++, unit: job.unit, trials: [...job.cache] }).then((reply) => {
        if (reply.ok) {
          for (const [k, t] of reply.result.trials) mergeTrial(job.cache, k, t);
          const byKey = new Map(reply.rendered);
          for (const [k, f] of reply.result.full) {
            job.fullCache.set(k, f);
            const r = byKey.get(k);
            if (r) rendered.set(f.r, r);
          }
        } else failed.push(`${describeUnit(job.unit)}: ${reply.error}`);
        if (!dead.has(w)) idle.push(w);
        job.done();
        pump();
      });
    }
  };
  const submit: SizingPool['submit'] = (unit, cache, fullCache, after = []) =>
    new Promise<void>((done) => {
      const job: Job = { unit, cache, fullCache, ready: after.length === 0, done };
      jobs.push(job);
      if (job.ready) pump();
      else
        void Promise.allSettled(after).then(() => {
          job.ready = true;
          pump();
        });
    });
  return {
    size,
    submit,
    failures: () => [...failed],
    renderedOf: (r) => rendered.get(r),
    async prefill(units, cache, fullCache) {
      const before = failed.length;
      await Promise.all(units.map((u) => submit(u, cache, fullCache)));
      return { failed: failed.slice(before) };
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Adds a trial to the memo, never replacing one simulated to the end (with its cost) by the same
 * trial stopped at its first breach (no cost): two threads may have run it, one needing its cost.
 */
export function mergeTrial(cache: SizingCache, k: string, t: Trial): void {
  const had = cache.get(k);
  if (had && Number.isFinite(had.usd) && !Number.isFinite(t.usd)) return;
  cache.set(k, t);
}
