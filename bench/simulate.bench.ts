/**
 * Simulator benchmark (issue 7). Two cases, each with a bar of 5 s and 500 MB:
 * - prime-day-4d at 1,000,000 requests/s peak, headless (8 services), 1-s steps, default scaling
 *   (local caps: few tasks, the model's per-step cost);
 * - prime-day (48 h) at 500,000 requests/s peak, headless, 1-s steps, event-scale scaling
 *   (tens of thousands of tasks per service, Fargate's launch queue: the task bookkeeping's cost).
 * Prints wall time, the process CPU time of the pure simulate() call, peak RSS and the host's load
 * average (the host is shared: read wall time beside the load, CPU time is the steadier figure).
 */
import { loadavg } from 'node:os';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { compileRealTimePlan } from '../simulation/run-simulation.ts';
import { simulate } from '../simulation/simulate.ts';

const cases = [
  { profile: 'prime-day-4d', peakRps: '1000000', scaling: undefined, label: 'default scaling' },
  {
    profile: 'prime-day',
    peakRps: '500000',
    scaling: 'reference-stack/autoscaling/event-scale-scaling.yaml',
    label: 'event-scale scaling',
  },
] as const;

for (const c of cases) {
  if (typeof global.gc === 'function') global.gc();
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }, 50);
  const t0 = performance.now();
  const plan = compileRealTimePlan(c.profile, { peakRps: c.peakRps });
  const scaling = loadScaling(c.scaling);
  const t1 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = simulate(plan, { arch: 'headless', scaling, seed: 1 });
  const cpu = process.cpuUsage(cpu0);
  const t2 = performance.now();
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  clearInterval(sampler);
  const hours = (plan.eventEnd - plan.eventStart) / 3600;
  const rps = Number(c.peakRps).toLocaleString('en-US');
  console.log(`simulate ${c.profile} (${hours} h) at ${rps} req/s peak, headless, 1-s steps, ${c.label}`);
  console.log(
    `  compile ${(t1 - t0).toFixed(0)} ms, simulate ${(t2 - t1).toFixed(0)} ms (CPU ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms), total ${(t2 - t0).toFixed(0)} ms (bar: 5,000 ms); load average ${loadavg()[0]?.toFixed(2)}`,
  );
  console.log(`  peak RSS ${(peakRss / 1e6).toFixed(0)} MB (bar: 500 MB)`);
  const peak = Object.entries(result.findings.services)
    .map(([s, v]) => `${s} ${v.peakTasks}`)
    .join(', ');
  console.log(
    `  ${result.series.length} series records, ${result.timeline.length} timeline records, ${result.activities.length} activities; peak tasks ${peak}`,
  );
  console.log(
    `  ratio to the bar: time ${((t2 - t0) / 5000).toFixed(2)}x, memory ${(peakRss / 500e6).toFixed(2)}x`,
  );
}

// A sizing trial of `peakday compare prime-day --peak-rps 50000` (issue 19): one provisioned fleet
// (headless at utilisation 0.6, the documented production capacity defaults, the tables pre-warmed
// as compare's fix does), simulated at the search's trial step, then judged by the budgets: the
// gate's full evaluation against the fail-fast judge the search uses (the same pass/fail).
{
  const [
    { resolveCapacity, readCapacityInputs, efficiencyOf },
    { loadBudgetsForProfile },
    { budgetsJudge },
    { provisionedTasks, defaultTrialStep },
    { peakStoreUnits, storeFix },
  ] = await Promise.all([
    import('../simulation/capacity-sources.ts'),
    import('../scenarios/budgets/defaults.ts'),
    import('../reports/rehearsal/compare-breaches.ts'),
    import('../simulation/sizing/compare.ts'),
    import('../simulation/sizing/compare-answers.ts'),
  ]);
  const plan = compileRealTimePlan('prime-day', { peakRps: '50000' });
  const efficiency = efficiencyOf(
    resolveCapacity({
      arch: 'headless',
      scale: 'event',
      inputs: readCapacityInputs([], 'headless'),
      mode: 'auto',
    }),
  );
  const fix = storeFix(
    ['table-ceiling'],
    { hotKeys: 20, initialPeakReadUnits: 6000, initialPeakWriteUnits: 2000 },
    peakStoreUnits(plan, 'headless'),
  )?.simulate;
  const base = loadScaling();
  const tasks = provisionedTasks(plan, 'headless', 0.6, undefined, efficiency);
  const services = { ...base.services };
  for (const [s, n] of Object.entries(tasks)) {
    const b = base.services[s];
    if (b)
      services[s] = {
        ...b,
        minCapacity: n,
        maxCapacity: n,
        initialDesired: n,
        policies: [],
        scheduledActions: [],
      };
  }
  const stepSeconds = defaultTrialStep(plan);
  const cpuOf = <T>(f: () => T): [T, number] => {
    const c0 = process.cpuUsage();
    const v = f();
    const c = process.cpuUsage(c0);
    return [v, (c.user + c.system) / 1000];
  };
  const [r, simMs] = cpuOf(() =>
    simulate(plan, {
      arch: 'headless',
      scaling: { ...base, services },
      seed: 1,
      efficiency,
      stepSeconds,
      ...fix,
    }),
  );
  const judge = budgetsJudge(loadBudgetsForProfile('prime-day').budgets);
  const meta = {
    id: 'bench',
    mode: 'simulated' as const,
    driver: 'simulator' as const,
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    eventStart: plan.eventStart,
    timeScale: plan.timeScale,
    endReason: 'completed' as const,
  };
  const [gate, gateMs] = cpuOf(() => judge.evaluate({ meta, records: r.series }));
  const [fails, failsMs] = cpuOf(() => judge.fails?.({ meta, records: r.series }));
  console.log(
    `compare trial: prime-day (48 h) at 50,000 req/s, headless provisioned at u 0.6, ${stepSeconds}-s steps`,
  );
  console.log(
    `  simulate CPU ${simMs.toFixed(0)} ms; judged by the gate ${gateMs.toFixed(0)} ms (${gate.verdict}), by the fail-fast judge ${failsMs.toFixed(0)} ms (${fails ? 'fail' : 'no fail'}); load average ${loadavg()[0]?.toFixed(2)}`,
  );
  if ((gate.verdict === 'fail') !== fails) throw new Error('the fail-fast judge disagrees with the gate');
}
