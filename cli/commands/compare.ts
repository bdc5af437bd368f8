/**
 * `peakday compare <profile>`: monolith vs headless, each autoscaled and provisioned for the peak,
 * right-sized by the same search on the same plan, with a verdict and its evidence. Thin: parses the
 * flags and runs workflows/compare.ts `compareWorkflow`, which does the rest (capacity sources, the
 * 2×2, break-evens, what limited each configuration, the fix, the blast radius, `--live`, the files).
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
  calibration: string[];
  capacity: string;
  blast?: string;
  fix: boolean;
  workers: string;
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
      'parameters whose break-even to search: hop-cost, skew, presentation-skew, start-time',
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
    .option(
      '--calibration <file>',
      "capacity per task: a probe's calibration.json (or its run directory), or a run directory with a collected timeline (repeatable; matched to each topology)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--capacity <source>',
      'where capacity comes from when no calibration measured it: auto (documented production defaults at --peak-rps/--baseline-rps, the local emulation at the profile’s own rates), defaults, emulated',
      'auto',
    )
    .option('--blast <service>', 'the service whose outage’s blast radius is reported', 'checkout')
    .option(
      '--no-fix',
      'do not re-simulate the store fix (write sharding) when a hot partition limits both topologies',
    )
    .option(
      '--workers <n>',
      'worker threads for the sizing searches: a number, or auto (one per core for events of 6 h or more); the answer is the same',
      'auto',
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
      const known = ['hop-cost', 'skew', 'presentation-skew', 'start-time'] as const;
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
      const { CAPACITY_MODES } = await import('../../simulation/capacity-sources.ts');
      const capacity = f.oneOf('--capacity', flags.capacity, CAPACITY_MODES);
      const blast = f.oneOf('--blast', flags.blast, [
        'gateway',
        'catalog',
        'search',
        'pricing',
        'cart',
        'inventory',
        'checkout',
        'orders',
        'storefront',
      ] as const);
      const workers =
        flags.workers === 'auto'
          ? ('auto' as const)
          : (f.number('--workers', flags.workers, { integer: true, min: 1, max: 64 }) as number);
      f.done();
      const [{ compareWorkflow }, { createOutput }, { createCliSink }, { withInterrupt }] = await Promise.all(
        [
          import('../../workflows/compare.ts'),
          import('../output.ts'),
          import('../sink.ts'),
          import('../signals.ts'),
        ],
      );
      const o = createOutput();
      // stdout is the comparison's: progress and the live runs' summaries go to stderr.
      const sink = createCliSink(o, { summary: 'stderr' });
      const outcome = await withInterrupt((signal) =>
        compareWorkflow({
          profile,
          planFlags: { peakRps: flags.peakRps, baselineRps: flags.baselineRps, window: flags.window },
          ...(flags.budgets ? { budgets: flags.budgets } : {}),
          ...(flags.scaling ? { scaling: flags.scaling } : {}),
          seeds,
          searchSteps,
          breakEven: parameters,
          breakEvenSteps,
          calibrations: flags.calibration,
          ...(capacity ? { capacity } : {}),
          ...(blast ? { blastService: blast } : {}),
          fix: flags.fix,
          workers,
          ...(flags.out ? { out: flags.out } : {}),
          ...(flags.live ? { live: { duration: flags.liveDuration } } : {}),
          sink,
          signal,
        }),
      );
      const { dir, comparison, markdown, reports } = outcome;
      if (outcome.interrupted) {
        o.err(`interrupted: the comparison and the live runs so far are kept in ${dir}`);
        process.exitCode = ExitCode.interrupted;
        return;
      }
      if (flags.json) {
        o.json({ dir, ...comparison, reports });
        return;
      }
      o.out(markdown);
      o.out(`verdict: ${comparison.verdict ?? '—'}`);
      o.out(`comparison: ${dir}`);
      for (const [k, v] of Object.entries(reports)) if (v) o.out(`  ${k.padEnd(22)} ${v}`);
    });
}
