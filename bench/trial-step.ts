/**
 * The step of `compare`'s sizing trials (simulation/sizing/compare.ts `defaultTrialStep`): what a
 * trial at 5-s or 10-s steps says about a configuration against the same configuration at the 1-s
 * steps every reported run takes. A trial answers the search's two questions: does the configuration
 * meet the budgets (the gate's verdict), and what does its compute cost (vCPU-hours); the table adds
 * the failed share, the breach and throttled minutes behind the verdict, and each run's CPU.
 *
 *   npx tsx bench/trial-step.ts [profile:peak-rps ...]   (default prime-day:50000 black-friday:50000)
 *
 * Per profile, twelve configurations: monolith and headless, provisioned for the peak at utilisation
 * 0.6 and 0.95 (the search's most frugal end, where prime-day's chosen fleets sit) with the tables at
 * their default warm throughput (the on-demand ceiling throttles) and pre-warmed to the event's peak
 * (compare's fix), and autoscaled by the default policies from a minimum pre-warmed to a quarter and
 * a half of the fleet at 0.95, tables pre-warmed (as compare's autoscaled search). About 4 minutes per
 * 48-h profile on two cores.
 */
import { loadavg } from 'node:os';
import { loadScaling, type ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';

import { budgetsJudge } from '../reports/rehearsal/compare-breaches.ts';
import { loadBudgetsForProfile } from '../scenarios/budgets/defaults.ts';
import { efficiencyOf, readCapacityInputs, resolveCapacity } from '../simulation/capacity-sources.ts';
import { fargateComputeCost } from '../simulation/cost.ts';
import { resolvePricing } from '../simulation/pricing/pricing-table.ts';
import { compileRealTimePlan } from '../simulation/run-simulation.ts';
import { type SimulateOptions, simulate } from '../simulation/simulate.ts';
import { FLOOR, provisionedTasks, runMeta, withTasks } from '../simulation/sizing/compare.ts';
import { peakStoreUnits, storeFix, throttledMinutes } from '../simulation/sizing/compare-answers.ts';

const cases = (
  process.argv.length > 2 ? process.argv.slice(2) : ['prime-day:50000', 'black-friday:50000']
).map((c) => {
  const [profile, peakRps] = c.split(':');
  return { profile: profile as string, peakRps: peakRps ?? '50000' };
});
const STEPS = [1, 5, 10];
const PRICING = resolvePricing();
const base = loadScaling();

console.log(`load average at start ${loadavg()[0]?.toFixed(2)}`);
console.log(
  '| profile | configuration | step (s) | verdict | failed | vCPU-h | breach min | throttled min | CPU (s) |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
let disagree = 0;
for (const c of cases) {
  const plan = compileRealTimePlan(c.profile, { peakRps: c.peakRps });
  const judge = budgetsJudge(loadBudgetsForProfile(c.profile).budgets);
  const meta = runMeta(plan);

  for (const arch of ['monolith', 'headless'] as const) {
    const efficiency = efficiencyOf(
      resolveCapacity({ arch, scale: 'event', inputs: readCapacityInputs([], arch), mode: 'auto' }),
    );
    const fix =
      storeFix(
        ['table-ceiling'],
        { hotKeys: 20, initialPeakReadUnits: 6000, initialPeakWriteUnits: 2000 },
        peakStoreUnits(plan, arch),
      )?.simulate ?? {};
    const configurations: { name: string; scaling: ScalingConfig; extra: Partial<SimulateOptions> }[] = [];
    const at = (u: number) => provisionedTasks(plan, arch, u, undefined, efficiency);
    // As the searches size them: a fixed fleet, or the default policies from a minimum pre-warmed to a
    // fraction f of the fleet provisioned at u up to twice the fleet provisioned at 0.2.
    const most = Object.fromEntries(Object.entries(at(0.2)).map(([s, n]) => [s, 2 * n]));
    const fixed = (u: number) => withTasks(base, arch, at(u), false, most);
    const autoscaled = (f: number, u: number) =>
      withTasks(
        base,
        arch,
        Object.fromEntries(Object.entries(at(u)).map(([s, n]) => [s, Math.max(FLOOR, Math.ceil(n * f))])),
        true,
        most,
      );
    for (const u of [0.6, 0.95]) {
      configurations.push({ name: `${arch} provisioned u ${u}`, scaling: fixed(u), extra: {} });
      configurations.push({ name: `${arch} provisioned u ${u}, pre-warmed`, scaling: fixed(u), extra: fix });
    }
    for (const f of [0.25, 0.5])
      configurations.push({
        name: `${arch} autoscaled, min ${f} of u 0.95, pre-warmed`,
        scaling: autoscaled(f, 0.95),
        extra: fix,
      });
    for (const cfg of configurations) {
      const rows: { verdict: string; vcpuH: number }[] = [];
      for (const stepSeconds of STEPS) {
        const c0 = process.cpuUsage();
        const r = simulate(plan, {
          arch,
          scaling: cfg.scaling,
          seed: 1,
          efficiency,
          stepSeconds,
          summaryLatency: false,
          latencyComponents: false,
          ...cfg.extra,
        });
        const cpu = process.cpuUsage(c0);
        const run = { meta, records: r.series };
        const verdict = judge.evaluate(run).verdict;
        const breach = judge.breachMinutes(run);
        const cost = fargateComputeCost(r, PRICING);
        const throttled = Object.values(throttledMinutes(r)).reduce((a, b) => Math.max(a, b), 0);
        const req = r.summary.requests;
        rows.push({ verdict, vcpuH: cost.vcpuHours });
        console.log(
          `| ${c.profile} ${c.peakRps} | ${cfg.name} | ${stepSeconds} | ${verdict} | ${((100 * req.failed) / Math.max(1, req.total)).toFixed(3)}% | ${cost.vcpuHours.toFixed(1)} | ${breach} | ${throttled} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} |`,
        );
      }
      const ref = rows[0] as { verdict: string; vcpuH: number };
      for (const row of rows.slice(1)) if ((row.verdict === 'fail') !== (ref.verdict === 'fail')) disagree++;
    }
  }
}
console.log(
  `\nverdicts that differ from the 1-s run's: ${disagree}; load average at end ${loadavg()[0]?.toFixed(2)}`,
);
