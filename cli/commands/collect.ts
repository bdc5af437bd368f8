/**
 * `peakday collect <run-dir> --source local|cloudwatch`: reads the scaling metrics and activities of a
 * run's time range back from the local stack or from AWS and writes the run's timeline
 * (workflows/collect.ts, telemetry/collect.ts). Thin: parses flags, delegates, prints a summary.
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
  from?: string;
  to?: string;
  tables?: string;
  eventBuses?: string;
  distributionId?: string;
  out?: string;
  json?: boolean;
}

/** Registers `peakday collect`. */
export function register(program: Command): void {
  program
    .command('collect')
    .description(
      "collect a run's scaling timeline (tasks, CPU, requests, scaling activities) from the local stack or CloudWatch",
    )
    .argument(
      '[run-dir]',
      'run directory (peakday run, peakday import k6); leave out with --from/--to to collect a window into a new one',
    )
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
    .option('--tables <names>', 'cloudwatch: DynamoDB tables to read besides those named in task definitions')
    .option(
      '--event-buses <names>',
      'cloudwatch: EventBridge buses to read besides those named in task definitions',
    )
    .option(
      '--distribution-id <id>',
      'cloudwatch: the CloudFront distribution in front of the stack: its metrics (read in us-east-1) become the run’s edge records',
    )
    .option('--from <time>', 'start of the window: ISO 8601 or relative (-3h); default: the run’s start')
    .option('--to <time>', 'end of the window: ISO 8601 or relative (-1h, now); default: now with --from')
    .option(
      '--out <dir>',
      'with --from/--to and no run directory: the directory to create (default runs/<id>)',
    )
    .option('--json', 'print the result summary as JSON')
    .action(async (runDirArg: string | undefined, flags: CollectFlags, command: Command) => {
      if (flags.stackFile !== undefined) {
        // The deployed stack's file fills in what was not given (flags win).
        const { readAwsStackFile } = await import('../../workflows/deploy.ts');
        const stack = readAwsStackFile(flags.stackFile);
        if (command.getOptionValueSource('source') === 'default') flags.source = 'cloudwatch';
        flags.cluster ??= stack.cluster;
        flags.region ??= stack.region;
        flags.services ??= stack.services.join(',');
        if (stack.distributionId) flags.distributionId ??= stack.distributionId;
      }
      const [{ telemetrySources }, { collectWorkflow }, { createOutput }, { didYouMean }] = await Promise.all(
        [
          import('../../telemetry/sources/index.ts'),
          import('../../workflows/collect.ts'),
          import('../output.ts'),
          import('../../core/yaml-source.ts'),
        ],
      );
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
      if (flags.distributionId !== undefined && flags.source !== 'cloudwatch')
        f.add({
          path: '--distribution-id',
          message: `reads CloudFront's metrics from CloudWatch, and the source is ${flags.source}`,
          hint: 'add --source cloudwatch (the local stack writes its edge metrics itself)',
        });
      else if (flags.distributionId !== undefined && !/^[A-Z0-9]{1,128}$/.test(flags.distributionId))
        f.add({
          path: '--distribution-id',
          message: `"${flags.distributionId}" is not a CloudFront distribution id`,
          hint: 'the id is upper-case letters and digits, e.g. E2QWRUHAPOMQZL (the stack file’s distributionId)',
        });
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
      const [{ parseTimeArg }, { readConfig }, { createRunId }, { join }] = await Promise.all([
        import('../../core/duration.ts'),
        import('../../core/config.ts'),
        import('../../core/run-directory.ts'),
        import('node:path'),
      ]);
      if (runDirArg !== undefined && flags.out !== undefined)
        f.add({
          path: '--out',
          message: 'names a new directory, and a run directory was given too',
          hint: 'give one of them',
        });
      if (flags.to !== undefined && flags.from === undefined)
        f.add({ path: '--to', message: 'needs --from', hint: 'e.g. --from -3h --to -1h' });
      let window: { fromMs: number; toMs: number } | undefined;
      if (flags.from !== undefined) {
        const now = Date.now();
        const from = parseTimeArg(flags.from, now);
        const to = parseTimeArg(flags.to ?? 'now', now);
        if ('error' in from)
          f.add({
            path: '--from',
            message: from.error,
            hint: 'e.g. --from -3h or --from 2026-11-27T14:00:00Z',
          });
        if ('error' in to)
          f.add({ path: '--to', message: to.error, hint: 'e.g. --to now or --to 2026-11-27T17:00:00Z' });
        if ('ms' in from && 'ms' in to) window = { fromMs: from.ms, toMs: to.ms };
      }
      if (runDirArg === undefined && flags.from === undefined)
        f.add({
          path: '<run-dir>',
          message: 'collect needs a run directory or a window',
          hint: 'pass a run directory, or --from and --to (e.g. --from -3h --to now) with --cluster',
        });
      f.done();
      // peakday.config.yaml: where runs go, and the user's own CloudWatch metrics per service.
      const config = readConfig();
      const runDir = runDirArg ?? flags.out ?? join(config.runsDir, createRunId('metrics-window'));
      const services = flags.services
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      const [{ createCliSink }, { withInterrupt }] = await Promise.all([
        import('../sink.ts'),
        import('../signals.ts'),
      ]);
      const out = createOutput();
      const sink = createCliSink(out, { summary: 'none' });
      const info = await withInterrupt((signal) =>
        collectWorkflow({
          sink,
          signal,
          runDir,
          source: flags.source as keyof typeof telemetrySources,
          options: {
            stackDir: flags.stackDir,
            region: flags.region,
            cluster: flags.cluster,
            services,
            tag: flags.tag,
            period,
            ...(flags.tables ? { tables: list(flags.tables) } : {}),
            ...(flags.eventBuses ? { eventBuses: list(flags.eventBuses) } : {}),
            ...(flags.distributionId ? { distributionId: flags.distributionId } : {}),
            ...(Object.keys(config.metrics).length > 0 ? { customMetrics: config.metrics } : {}),
          },
          ...(window ? { window } : {}),
        }),
      );
      if (flags.json) {
        out.json(info);
        return;
      }
      out.out(`${out.bold('collected')} ${runDir} from ${info.source}`);
      if (info.window) out.out(`  window: ${info.window.from} to ${info.window.to}`);
      for (const d of info.discovered ?? [])
        out.out(
          `  ${d.name}: ${d.vcpu ?? '?'} vCPU, ${d.memoryGb ?? '?'} GB, ${d.cpuArchitecture}, ${d.capacityProvider ?? d.launchType ?? '?'}; requests from ${d.targetGroup ? 'its target group' : d.discoveryNames.length > 0 ? `Service Connect (${d.discoveryNames.join(', ')})` : 'nowhere (no target group, no Service Connect)'}${d.tables.length ? `; tables ${d.tables.join(', ')}` : ''}${d.eventBuses.length ? `; buses ${d.eventBuses.join(', ')}` : ''}`,
        );
      out.out(
        `  timeline: ${info.records} records for ${info.services.length} services (${info.services.join(', ')})`,
      );
      out.out(`  scaling activities: ${info.activities}`);
      if (info.edgePeriods) out.out(`  edge (CloudFront): ${info.edgePeriods} periods`);
      if (info.partial) out.out(out.yellow('  partial: some data is missing (see notes)'));
      for (const n of info.notes) out.out(out.dim(`  note: ${n}`));
    });
}

/** A comma-separated flag value as a list. */
function list(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
