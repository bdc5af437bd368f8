/**
 * The entry point of one `compare` worker thread (workflows/compare-pool.ts starts it): it compiles
 * the plans, budgets and scaling from the request's files as the main thread does, then runs each
 * unit it is sent (simulation/sizing/compare-units.ts) against the memo entries sent with it and
 * posts back what the unit added. It writes no file.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Plan } from '../scenarios/plan.ts';
import type { FullRunCache, SizingCache } from '../simulation/sizing/compare.ts';
import {
  mergeTrial,
  type SizingWorkerInit,
  type SizingWorkerReply,
  type SizingWorkerRequest,
} from './compare-pool.ts';
import type { RenderedSeries } from './compare-series.ts';

const port = parentPort;
if (!port) throw new Error('workflows/compare-worker.ts runs only as a worker thread (compare-pool.ts)');
const init = workerData as SizingWorkerInit;

const [
  { compileRealTimePlan },
  { loadScaling },
  { loadBudgetsForProfile },
  { budgetsJudge },
  { runSizingUnit },
  { withoutSeries },
  { renderSeries },
] = await Promise.all([
  import('../simulation/run-simulation.ts'),
  import('../reference-stack/autoscaling/scaling-file.ts'),
  import('../scenarios/budgets/defaults.ts'),
  import('../reports/rehearsal/compare-breaches.ts'),
  import('../simulation/sizing/compare-units.ts'),
  import('../simulation/sizing/compare.ts'),
  import('./compare-series.ts'),
]);

const first = compileRealTimePlan(init.profile, init.planFlags);
const plans = new Map<number, Plan>([[first.seed, first]]);
const planFor = (seed: number): Plan => {
  let p = plans.get(seed);
  if (!p) {
    p = compileRealTimePlan(init.profile, { ...init.planFlags, seed: String(seed) });
    plans.set(seed, p);
  }
  return p;
};
const budgets = loadBudgetsForProfile(first.profile.name, init.budgets);
const ctx = {
  opts: {
    judge: budgetsJudge(budgets.budgets),
    scaling: loadScaling(init.scaling),
    pricing: init.pricing,
    searchSteps: init.searchSteps,
    efficiency: init.efficiency,
  },
  planFor,
};
const cache: SizingCache = new Map();

port.on('message', (m: SizingWorkerRequest) => {
  let reply: SizingWorkerReply;
  try {
    for (const [k, t] of m.trials) mergeTrial(cache, k, t);
    // Full runs are large: each goes back once and is not kept here.
    const fullCache: FullRunCache = new Map();
    const result = runSizingUnit(m.unit, ctx, cache, fullCache);
    // A full run goes back without its series, with what its measures read from them: a
    // configuration with a fix is measured, never written (workflows/compare.ts); one without is
    // written and reported, and its series come rendered as its file's text and its report's load.
    const plan = planFor(m.unit.seed);
    const rendered: [string, RenderedSeries][] = m.unit.simulate
      ? []
      : result.full.map(([k, f]) => [k, renderSeries(f.r.series, plan.timeScale)]);
    result.full = result.full.map(([k, f]) => [k, withoutSeries(f, plan, ctx.opts)]);
    reply = { id: m.id, ok: true, result, rendered };
  } catch (e) {
    reply = { id: m.id, ok: false, error: (e as Error).message };
  }
  // The rendered series' bytes are transferred, not copied (compare-series.ts).
  port.postMessage(
    reply,
    reply.ok ? reply.rendered.flatMap(([, r]) => r.text.map((b) => b.buffer as ArrayBuffer)) : [],
  );
});
