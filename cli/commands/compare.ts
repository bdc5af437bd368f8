/**
 * `peakday compare <profile>`: monolith vs headless, each autoscaled and provisioned for the peak,
 * right-sized by the same search on the same plan (simulation/sizing/compare.ts); the break-even of
 * the deciding parameters (compare-break-even.ts) and, with `--live`, a short live run of each
 * topology checking the simulation (workflows/compare.ts); writes each configuration's simulated run
 * directory with its report, comparison.json and compare.md.
 */
import type { Command } from 'commander';
import { ExitCode } from '../../core/errors.ts';
import { createFlagChecker } from '../flags.ts';

interface CompareFlags {
  peakRps?: string;
  baselineRps?: string;
  window?: string;
  budgets?: string;
  scaling?: string;
  seeds: string;
  out?: string;
  breakEven: string | false;
  breakEvenSteps: string;
  searchSteps: string;
  live?: boolean;
  liveDuration?: string;
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
    .option('--seeds <n>', 'seeds (plan noise and task start latencies) for the spread', '2')
    .option(
      '--break-even <params>',
      'parameters whose break-even to search: hop-cost, skew, start-time',
      'hop-cost,skew,start-time',
    )
    .option('--no-break-even', 'skip the break-even search (saves most of the simulations)')
    .option('--break-even-steps <n>', 'halvings of the interval around each crossing', '4')
    .option('--search-steps <n>', 'bisection steps of each right-sizing search', '6')
    .option('--live', 'also run each topology live for a short window and check the simulation against it')
    .option(
      '--live-duration <duration>',
      "wall-clock length of each live run (default: the profile's local duration)",
    )
    .option('--out <dir>', 'comparison directory (default runs/<id>)')
    .option('--json', 'print comparison.json')
    .action(async (profile: string, flags: CompareFlags) => {
      const f = createFlagChecker('compare');
      const seeds = f.number('--seeds', flags.seeds, { integer: true, min: 1, max: 20 }) as number;
      const breakEvenSteps = f.number('--break-even-steps', flags.breakEvenSteps, {
        integer: true,
        min: 0,
        max: 12,
      }) as number;
      const searchSteps = f.number('--search-steps', flags.searchSteps, {
        integer: true,
        min: 1,
        max: 12,
      }) as number;
      const known = ['hop-cost', 'skew', 'start-time'] as const;
      type Known = (typeof known)[number];
      const parameters: Known[] = [];
      if (flags.breakEven !== false)
        for (const p of flags.breakEven
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean)) {
          if (!(known as readonly string[]).includes(p))
            f.add({
              path: '--break-even',
              message: `"${p}" is not a parameter`,
              hint: `use any of ${known.join(', ')}, or --no-break-even`,
            });
          else parameters.push(p as Known);
        }
      f.done();
      const [
        { join, resolve },
        { mkdirSync, writeFileSync },
        { readConfig },
        { createRunId },
        { compileRealTimePlan },
        { loadScaling },
        { loadBudgetsForProfile },
        { resolvePricing },
        { compareTopologies, createSizingCache },
        { computeBreakEvens },
        { renderComparisonMarkdown },
        { budgetsJudge },
        { runLiveChecks },
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
        import('../../scenarios/budgets/defaults.ts'),
        import('../../simulation/pricing/pricing-table.ts'),
        import('../../simulation/sizing/compare.ts'),
        import('../../simulation/sizing/compare-break-even.ts'),
        import('../../reports/rehearsal/compare-render.ts'),
        import('../../reports/rehearsal/compare-breaches.ts'),
        import('../../workflows/compare.ts'),
        import('../../simulation/write-run.ts'),
        import('../../reports/generate.ts'),
        import('../output.ts'),
      ]);
      const config = readConfig();
      const o = createOutput();
      const planFlags = { peakRps: flags.peakRps, baselineRps: flags.baselineRps, window: flags.window };
      const plan = compileRealTimePlan(profile, planFlags);
      const budgets = loadBudgetsForProfile(plan.profile.name, flags.budgets);
      const pricing = resolvePricing({ region: config.pricing.region, overrides: config.pricing.overrides });
      const dir = resolve(flags.out ?? join(config.runsDir, createRunId(`${plan.profile.name}-compare`)));
      mkdirSync(dir, { recursive: true });
      o.err(
        `comparing monolith and headless on ${plan.profile.name} at ${Math.round(plan.peakRps)} req/s peak (${seeds} seed(s))…`,
      );
      const started = new Date();
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      // Each seed compiles its own plan (the profile's noise) and seeds the simulator.
      const plans = new Map([[plan.seed, plan]]);
      const opts = {
        judge: budgetsJudge(budgets.budgets),
        scaling: loadScaling(flags.scaling),
        pricing,
        seeds: Array.from({ length: seeds }, (_, i) => plan.seed + i),
        searchSteps,
        cache: createSizingCache(),
        planFor: (seed: number) => {
          const p = plans.get(seed) ?? compileRealTimePlan(profile, { ...planFlags, seed: String(seed) });
          plans.set(seed, p);
          return p;
        },
      };
      const { comparison, results } = compareTopologies(plan, opts);
      if (parameters.length > 0) {
        o.err(`searching the break-even of ${parameters.join(', ')}…`);
        comparison.breakEven = computeBreakEvens(plan, { ...opts, parameters, steps: breakEvenSteps });
      }
      const cpu = process.cpuUsage(cpu0);
      o.err(
        `simulated in ${((performance.now() - t0) / 1000).toFixed(1)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU (${opts.cache.size} distinct simulations)`,
      );
      if (flags.live) {
        o.err('checking the simulation with a short live run of each topology…');
        const [{ compileOptionsFrom }, { createCliSink }, { withInterrupt }] = await Promise.all([
          import('../../scenarios/compile-options.ts'),
          import('../sink.ts'),
          import('../signals.ts'),
        ]);
        const given = { duration: flags.liveDuration, window: flags.window };
        const live = compileOptionsFrom(given, config, { live: true });
        // stdout is the comparison's: the live runs' summaries go to stderr.
        const sink = createCliSink(o, { summary: 'stderr' });
        const { checks, interrupted } = await withInterrupt((signal) =>
          runLiveChecks({
            profile,
            dir,
            live,
            given,
            sink,
            signal,
            ...(flags.budgets ? { budgets: flags.budgets } : {}),
            ...(flags.scaling ? { scaling: flags.scaling } : {}),
          }),
        );
        comparison.live = checks;
        if (interrupted) {
          // Keep what was computed; the per-configuration reports are skipped.
          writeFileSync(join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
          writeFileSync(join(dir, 'compare.md'), renderComparisonMarkdown(comparison));
          o.err(`interrupted: the comparison and the live runs so far are kept in ${dir}`);
          process.exitCode = ExitCode.interrupted;
          return;
        }
      }
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
