/**
 * Budgets gate cost on a realistic run: 10 minutes at 1-s intervals, 5 channels x 4 journeys, every
 * interval a distinct HDR histogram (seeded lognormal latencies), judged against the prime-day
 * default budgets with 1-minute windows, then against a baseline (bootstrap). Prints wall times.
 */
import { createRng } from '../core/rng.ts';
import { evaluateBudgets } from '../reports/budgets/evaluate.ts';
import { applyBaseline } from '../reports/budgets/gate.ts';
import { loadBudgetsForProfile } from '../scenarios/budgets/defaults.ts';
import { createHistogramCache } from '../scenarios/budgets/slices.ts';
import { constructRun, type SecondSpec } from '../scenarios/budgets/testing.ts';

const channels = ['web', 'mobile-app', 'pos', 'voice', 'social'];
const journeys = ['browse', 'search', 'product-page', 'checkout'];

function run(seed: number) {
  const rng = createRng(seed);
  return constructRun(600, () =>
    channels.flatMap((channel) =>
      journeys.map((journey): SecondSpec => {
        const latency: [number, number][] = [];
        for (let i = 0; i < 20; i++) latency.push([120 * Math.exp(rng.normal(0, 0.6)), 1]);
        return { channel, journey, requests: 20, latency };
      }),
    ),
  );
}

let t = performance.now();
const candidate = run(1);
const baseline = run(2);
const built = performance.now() - t;
const budgets = loadBudgetsForProfile('prime-day').budgets.map((b) => ({
  ...b,
  windowSeconds: b.windowSeconds === null ? null : 60,
  warmupSeconds: 0,
}));
t = performance.now();
const cache = createHistogramCache();
const gate = evaluateBudgets(budgets, candidate, cache);
const evaluated = performance.now() - t;
t = performance.now();
const withBaseline = applyBaseline(gate, candidate, baseline, 0.1, {
  candidate: cache,
  baseline: createHistogramCache(),
});
const compared = performance.now() - t;
console.log(
  `budgets gate: ${candidate.records.length} records, ${budgets.length} budgets (1-min windows): evaluate ${evaluated.toFixed(0)} ms; baseline bootstrap ${compared.toFixed(0)} ms; verdict ${withBaseline.verdict} (building the two runs took ${built.toFixed(0)} ms)`,
);
