/**
 * `peakday rehearse <profile>`: the one-command rehearsal (stack up → live window → collect →
 * capacity from the run → simulate the whole event → reports → stack down). Thin: the pipeline is
 * workflows/rehearse.ts.
 */
import type { Command } from 'commander';
import { type ArchFlag, createFlagChecker } from '../flags.ts';

interface RehearseFlags {
  arch: string;
  window?: string;
  peakRps?: string;
  duration?: string;
  livePeakRps?: string;
  budgets?: string;
  scaling?: string;
  out?: string;
  port?: string;
  seed?: string;
}

/** Registers `peakday rehearse`. */
export function register(program: Command): void {
  program
    .command('rehearse <profile>')
    .description('rehearse a peak event end to end on the local reference stack and write its reports')
    .option('--arch <arch>', 'topology: headless or monolith', 'headless')
    .option('--window <names>', "play these windows live (default: the profile's rehearsal windows)")
    .option(
      '--peak-rps <rps>',
      'requests/s at the event peak for the whole-event simulation (default: the live peak)',
    )
    .option(
      '--live-peak-rps <rps>',
      "requests/s at the live window's peak (default: the profile's local rate)",
    )
    .option(
      '--duration <duration>',
      "wall-clock length of the live run (default: the profile's local duration)",
    )
    .option('--budgets <file>', "latency budgets (default: the profile's)")
    .option('--scaling <file>', 'scaling policies for the stack and the simulator')
    .option('--port <port>', 'gateway port of the local stack (default: any free port)')
    .option('--seed <n>', 'seed (default 1)')
    .option('--out <dir>', 'rehearsal directory (default runs/<id>)')
    .action(async (profile: string, flags: RehearseFlags) => {
      const f = createFlagChecker('rehearse');
      const arch = f.arch(flags.arch);
      const port = f.number('--port', flags.port, { integer: true, min: 0, max: 65535 });
      const peakRps = f.number('--peak-rps', flags.peakRps, { positive: true });
      f.done();
      const [
        { rehearse },
        { createOutput },
        { createCliSink },
        { withInterrupt },
        { compileOptionsFrom },
        { readConfig },
      ] = await Promise.all([
        import('../../workflows/rehearse.ts'),
        import('../output.ts'),
        import('../sink.ts'),
        import('../signals.ts'),
        import('../../scenarios/compile-options.ts'),
        import('../../core/config.ts'),
      ]);
      const o = createOutput();
      // Validate the profile and the live run's options before starting anything.
      const { loadProfile } = await import('../../scenarios/profile.ts');
      loadProfile(profile);
      const given = {
        window: flags.window,
        duration: flags.duration,
        peakRps: flags.livePeakRps,
        seed: flags.seed,
      };
      const live = compileOptionsFrom(given, readConfig(), { live: true });
      const sink = createCliSink(o, { summary: 'stdout' });
      const outcome = await withInterrupt((signal) =>
        rehearse({
          profile,
          arch: arch as ArchFlag,
          live,
          given,
          ...(peakRps !== undefined ? { peakRps } : {}),
          ...(flags.budgets ? { budgets: flags.budgets } : {}),
          ...(flags.scaling ? { scaling: flags.scaling } : {}),
          ...(flags.out ? { out: flags.out } : {}),
          ...(port !== undefined ? { port } : {}),
          sink,
          signal,
        }),
      );
      o.out();
      for (const l of outcome.summary) o.out(l);
      o.out();
      o.out(o.bold(`rehearsal: ${outcome.dir}`));
      if (outcome.reports.live) o.out(`  live report   ${outcome.reports.live}`);
      if (outcome.reports.event) o.out(`  event report  ${outcome.reports.event}`);
      o.out(`  summary       ${outcome.dir}/rehearsal.md`);
      process.exitCode = outcome.exitCode;
    });
}
