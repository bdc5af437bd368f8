/**
 * Benchmark: compiling `prime-day-4d` (96 h, 4 × 29 lightning deals, noise every 5 min) with every
 * channel running every built-in journey, over the whole event. Budget (issue 2): under 1 s and
 * under 200 MB. Prints time (first compile, then the median of 10) and memory; exits 1 over budget.
 */
import { compilePlan } from '../scenarios/compile.ts';
import { builtinJourneys, loadProfile } from '../scenarios/profile.ts';

const profile = loadProfile('prime-day-4d');
const all = builtinJourneys();
for (const ch of profile.model.channels) for (const j of Object.keys(all)) ch.journeys[j] ??= 1;
profile.model.journeys = { ...all };

const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const plan = compilePlan(profile, { whole: true, durationSeconds: 48 * 60 });
const first = performance.now() - t0;
const times: number[] = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  compilePlan(profile, { whole: true, durationSeconds: 48 * 60, seed: i + 2 });
  times.push(performance.now() - t);
}
times.sort((a, b) => a - b);
const median = times[5] as number;
const rss = process.memoryUsage().rss;
const breakpoints = plan.scenarios.reduce((s, x) => s + x.times.length, 0);
const mb = (n: number) => (n / 1024 / 1024).toFixed(1);

process.stdout.write(
  [
    `profile            prime-day-4d (whole event, ${plan.profile.eventSeconds} event s at ${plan.timeScale.toFixed(1)}x)`,
    `scenarios          ${plan.scenarios.length} (${profile.model.channels.length} channels × ${Object.keys(all).length} journeys)`,
    `breakpoints        ${plan.scenarios[0]?.times.length} per scenario, ${breakpoints} in all; bursts ${plan.bursts.length}`,
    `iterations         ${Math.round(plan.iterations)}; requests ${Math.round(plan.requests)}`,
    `compile (first)    ${first.toFixed(1)} ms`,
    `compile (median)   ${median.toFixed(1)} ms of 10`,
    `rss                ${mb(rss)} MB (before compiling ${mb(rssBefore)} MB); heap used ${mb(process.memoryUsage().heapUsed)} MB`,
  ].join('\n') + '\n',
);
const ok = first < 1000 && rss < 200 * 1024 * 1024;
process.stdout.write(`budget (< 1 s, < 200 MB): ${ok ? 'met' : 'EXCEEDED'}\n`);
if (!ok) process.exit(1);
