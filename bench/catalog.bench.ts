/**
 * Benchmark: generating the default seeded catalog (10,000 products) must stay well under 200 ms,
 * because the reference stack and every profile load build it at start-up. Reports median and p95
 * wall time over 20 runs (after a warm-up) and exits 1 when the median exceeds the budget.
 */
import { createCatalog } from '../scenarios/catalog.ts';

const BUDGET_MS = 200;
const RUNS = 20;

createCatalog({ seed: 99 });
const times: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const t = performance.now();
  createCatalog({ seed: i + 1 });
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(RUNS / 2)] as number;
const p95 = times[Math.ceil(RUNS * 0.95) - 1] as number;
const heapMb = process.memoryUsage().heapUsed / 1e6;
process.stdout.write(
  `createCatalog (10,000 products): median ${median.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, heap ${heapMb.toFixed(0)} MB (budget ${BUDGET_MS} ms median)\n`,
);
if (median > BUDGET_MS) {
  process.stderr.write(`catalog generation is over budget: ${median.toFixed(1)} ms > ${BUDGET_MS} ms\n`);
  process.exit(1);
}
