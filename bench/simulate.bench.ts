/**
 * Simulator benchmark (issue 7): prime-day-4d at 1,000,000 requests/s peak, headless (8 services),
 * 1-s steps. Bar: under 5 s and 500 MB. Prints wall time, the pure simulate() time, and peak RSS.
 */
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { compileRealTimePlan } from '../simulation/run-simulation.ts';
import { simulate } from '../simulation/simulate.ts';

let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 50);

const t0 = performance.now();
const plan = compileRealTimePlan('prime-day-4d', { peakRps: '1000000' });
const t1 = performance.now();
const result = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
const t2 = performance.now();
peakRss = Math.max(peakRss, process.memoryUsage().rss);
clearInterval(sampler);

const hours = (plan.eventEnd - plan.eventStart) / 3600;
console.log(`simulate prime-day-4d (${hours} h) at 1,000,000 req/s peak, headless, 1-s steps`);
console.log(
  `  compile ${(t1 - t0).toFixed(0)} ms, simulate ${(t2 - t1).toFixed(0)} ms, total ${(t2 - t0).toFixed(0)} ms (bar: 5,000 ms)`,
);
console.log(`  peak RSS ${(peakRss / 1e6).toFixed(0)} MB (bar: 500 MB)`);
console.log(
  `  ${result.series.length} series records, ${result.timeline.length} timeline records, ${result.activities.length} activities`,
);
console.log(
  `  ratio to the bar: time ${((t2 - t0) / 5000).toFixed(2)}x, memory ${(peakRss / 500e6).toFixed(2)}x`,
);
