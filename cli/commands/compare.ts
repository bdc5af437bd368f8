/**
 * `peakday compare <profile>`: monolith vs headless, each autoscaled and provisioned for the peak,
 * right-sized by the same search on the same plan (reports/rehearsal/compare.ts); writes each
 * configuration's simulated run directory with its report, comparison.json and compare.md.
 */
import type { Command } from 'commander';
import { invalidInput } from '../../core/errors.ts';

interface CompareFlags {
  peakRps?: string;
  baselineRps?: string;
  window?: string;
  budgets?: string;
  scaling?: string;
  seeds: string;
  out?: string;
  breakEven: boolean;
  json?: boolean;
}

/** Registers `peakday compare`. */
export function register(program: Command): void {
  program
    .command('compare <profile>')
    .description(
      'monolith vs headless, autoscaled vs provisioned for peak: right-sized, costed, side by side',
    )
    .option('--peak-rps <rps>', "requests/s at the event peak (default: the profile's local peak)")
    .option('--baseline-rps <rps>', 'requests/s at the baseline level')
    .option('--window <names>', 'compare on these windows only (default: the whole event)')
    .option('--budgets <file>', "latency budgets the configurations must meet (default: the profile's)")
    .option('--scaling <file>', 'scaling policies (default: the stack’s)')
    .option('--seeds <n>', 'seeds to run for the spread', '2')
    .option('--out <dir>', 'comparison directory (default runs/<id>)')
    .option('--no-break-even', 'skip the per-hop-cost break-even search (saves simulations)')
    .option('--json', 'print comparison.json')
    .action(async (profile: string, flags: CompareFlags) => {
      const seeds = Number(flags.seeds);
      if (!Number.isInteger(seeds) || seeds < 1 || seeds > 20)
        throw invalidInput('invalid-flag', `--seeds: "${flags.seeds}" is not a whole number from 1 to 20`);
      const [
        { join, resolve },
        { mkdirSync, writeFileSync },
        { readConfig },
        { createRunId },
        { compileRealTimePlan },
        { loadScaling },
        { loadBudgetsForProfile },
        { resolvePricing },
        { compareTopologies, renderComparisonMarkdown },
        { writeSimulationRun },
        { generateReport },
        { createOutput },
      ] = await Promise.all([
        import('node:path'),
        import('node:fs'),
        import('../../core/config.ts'),
        import('../../core/run-directory.ts'),
        import('../../simulation/run-simulation.ts'),
        import('../../reference-stack/autoscaling/scaling-file.ts'),
        import('../../reports/budgets/defaults.ts'),
        import('../../reports/pricing/pricing-table.ts'),
        import('../../reports/rehearsal/compare.ts'),
        import('../../simulation/write-run.ts'),
        import('../../reports/generate.ts'),
        import('../output.ts'),
      ]);
      const config = readConfig();
      const o = createOutput();
      const plan = compileRealTimePlan(profile, {
        peakRps: flags.peakRps,
        baselineRps: flags.baselineRps,
        window: flags.window,
      });
      const budgets = loadBudgetsForProfile(plan.profile.name, flags.budgets);
      const pricing = resolvePricing({ region: config.pricing.region, overrides: config.pricing.overrides });
      const dir = resolve(flags.out ?? join(config.runsDir, createRunId(`${plan.profile.name}-compare`)));
      mkdirSync(dir, { recursive: true });
      o.err(
        `comparing monolith and headless on ${plan.profile.name} at ${Math.round(plan.peakRps)} req/s peak (${seeds} seed(s))…`,
      );
      const started = new Date();
      const { comparison, results } = compareTopologies(plan, {
        budgets: budgets.budgets,
        scaling: loadScaling(flags.scaling),
        pricing,
        seeds: Array.from({ length: seeds }, (_, i) => plan.seed + i),
        breakEven: flags.breakEven,
      });
      const reports: Record<string, string | undefined> = {};
      for (const [key, result] of results) {
        const runDir = join(dir, key);
        writeSimulationRun(runDir, plan, result, { compare: key }, started);
        const rep = await generateReport(runDir, {
          outDir: join(runDir, 'report'),
          config,
          now: new Date().toISOString(),
        });
        reports[key] = rep.files.html?.[0];
      }
      writeFileSync(join(dir, 'comparison.json'), `${JSON.stringify({ ...comparison, reports }, null, 2)}\n`);
      const md = renderComparisonMarkdown(comparison);
      writeFileSync(join(dir, 'compare.md'), md);
      if (flags.json) {
        o.json({ dir, ...comparison, reports });
        return;
      }
      o.out(md);
      o.out(`comparison: ${dir}`);
      for (const [k, v] of Object.entries(reports)) if (v) o.out(`  ${k.padEnd(22)} ${v}`);
    });
}
