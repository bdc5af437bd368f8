/**
 * `peakday collect <run-dir> --source local|cloudwatch`: reads the scaling metrics and activities of a
 * run's time range back from the local stack or from AWS and writes the run's timeline
 * (telemetry/collect.ts). Thin: parses flags, delegates, prints a summary.
 */
import type { Command } from 'commander';
import { createFlagChecker } from '../flags.ts';

interface CollectFlags {
  source: string;
  stackDir?: string;
  region?: string;
  cluster?: string;
  services?: string;
  tag?: string;
  period?: string;
  stackFile?: string;
  json?: boolean;
}

/** Registers `peakday collect`. */
export function register(program: Command): void {
  program
    .command('collect')
    .description(
      "collect a run's scaling timeline (tasks, CPU, requests, scaling activities) from the local stack or CloudWatch",
    )
    .argument('<run-dir>', 'run directory written by `peakday run`')
    .option('--source <source>', 'local (the local stack) or cloudwatch (ECS on AWS)', 'local')
    .option('--stack-dir <dir>', 'local: the stack’s data directory (default: asked of the run’s target)')
    .option('--region <region>', 'cloudwatch: AWS region (default: AWS_REGION / profile)')
    .option('--cluster <name>', 'cloudwatch: ECS cluster')
    .option(
      '--stack-file <file>',
      'cloudwatch: cluster, region and services from the stack file `stack deploy --aws` wrote',
    )
    .option('--services <names>', 'comma list of services (default: all discovered)')
    .option('--tag <key[=value]>', 'cloudwatch: collect the services carrying this tag')
    .option(
      '--period <seconds>',
      'cloudwatch: metric period (default: the finest CloudWatch keeps for the run’s age)',
    )
    .option('--json', 'print the result summary as JSON')
    .action(async (runDir: string, flags: CollectFlags, command: Command) => {
      if (flags.stackFile !== undefined) {
        // The deployed stack's file fills in what was not given (flags win).
        const { readAwsStackFile } = await import('../../workflows/deploy.ts');
        const stack = readAwsStackFile(flags.stackFile);
        if (command.getOptionValueSource('source') === 'default') flags.source = 'cloudwatch';
        flags.cluster ??= stack.cluster;
        flags.region ??= stack.region;
        flags.services ??= stack.services.join(',');
      }
      const [{ telemetrySources }, { collectTelemetry }, { createOutput }, { didYouMean }] =
        await Promise.all([
          import('../../telemetry/sources/index.ts'),
          import('../../telemetry/collect.ts'),
          import('../output.ts'),
          import('../../core/yaml-source.ts'),
        ]);
      const f = createFlagChecker('collect');
      const names = Object.keys(telemetrySources);
      if (!names.includes(flags.source)) {
        const guess = didYouMean(flags.source, names);
        f.add({
          path: '--source',
          message: `unknown telemetry source "${flags.source}"`,
          hint: guess
            ? `did you mean "${guess}"? sources: ${names.join(', ')}`
            : `sources: ${names.join(', ')}`,
        });
      }
      const period = f.number('--period', flags.period, { integer: true, positive: true });
      if (
        period !== undefined &&
        ((period < 60 && ![1, 5, 10, 30].includes(period)) || (period >= 60 && period % 60 !== 0))
      )
        f.add({
          path: '--period',
          message: `${flags.period} is not a CloudWatch period`,
          hint: 'use 1, 5, 10, 30 or a multiple of 60 seconds',
        });
      f.done();
      const services = flags.services
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const { info } = await collectTelemetry(runDir, flags.source as keyof typeof telemetrySources, {
        stackDir: flags.stackDir,
        region: flags.region,
        cluster: flags.cluster,
        services,
        tag: flags.tag,
        period,
      });
      const out = createOutput();
      if (flags.json) {
        out.json(info);
        return;
      }
      out.out(`${out.bold('collected')} ${runDir} from ${info.source}`);
      out.out(
        `  timeline: ${info.records} records for ${info.services.length} services (${info.services.join(', ')})`,
      );
      out.out(`  scaling activities: ${info.activities}`);
      if (info.partial) out.out(out.yellow('  partial: some data is missing (see notes)'));
      for (const n of info.notes) out.out(out.dim(`  note: ${n}`));
    });
}
