/**
 * `peakday stack up|status|down|verify`: the local reference stack (reference-stack/orchestrator/).
 * One stack per working directory, found through `.peakday/stack.json`. Thin: parses and validates
 * flags (every problem at once), delegates to the orchestrator, prints.
 */
import type { Command } from 'commander';
import { type ArchFlag, createFlagChecker } from '../flags.ts';
import { registerAwsStackCommands } from '../stack-aws.ts';

interface UpFlags {
  arch: string;
  port: string;
  host: string;
  detach?: boolean;
  ttl?: string;
  scaling?: string;
  autoscaling: boolean;
  dataDir?: string;
  seed?: string;
  warm?: string;
  maxTasks?: string;
  json?: boolean;
  store: string;
  awsEndpoint?: string;
  awsRegion: string;
  tablePrefix?: string;
}

/** Registers `peakday stack`. */
export function register(program: Command): void {
  const stack = program
    .command('stack')
    .description(
      'run the reference commerce stack locally (monolith or headless), with emulated Fargate capacity',
    );

  stack
    .command('up')
    .description('start the stack in this directory (foreground until Ctrl-C, or --detach)')
    .option('--arch <arch>', 'headless or monolith', 'headless')
    .option('--port <port>', "the gateway's public port", '8080')
    .option('--host <host>', 'interface to bind', '127.0.0.1')
    .option(
      '--detach',
      'run under a background supervisor (pidfile .peakday/stack.pid); stop with `stack down`',
    )
    .option('--ttl <duration>', 'stop on its own after this long (k6 duration, e.g. 30m)')
    .option('--scaling <file>', 'scaling file (default: reference-stack/autoscaling/default-scaling.yaml)')
    .option('--no-autoscaling', 'fixed task counts; set them with POST /_peakday/desired')
    .option(
      '--data-dir <dir>',
      'where stores, logs and telemetry go (default .peakday/stack-data, emptied at start)',
    )
    .option('--seed <n>', 'seed of the emulated task start latencies', '1')
    .option('--warm <n>', 'warm processes per scalable service', '1')
    .option('--max-tasks <n>', 'local cap on tasks per service (the host has few cores)')
    .option('--store <store>', 'where the services keep their state: sqlite or dynamodb', 'sqlite')
    .option(
      '--aws-endpoint <url>',
      'with --store dynamodb: the DynamoDB endpoint (DynamoDB Local, dynalite); tables created when absent',
    )
    .option('--aws-region <region>', 'with --store dynamodb: the region to sign requests for', 'us-east-1')
    .option(
      '--table-prefix <prefix>',
      'with --store dynamodb: tables are <prefix>-catalog, -carts, ... (default: a fresh prefix per start)',
    )
    .option('--json', 'print the stack state as JSON once healthy')
    .action(async (flags: UpFlags) => {
      const [{ parseDuration }, { createOutput }, { resolve }] = await Promise.all([
        import('../../core/duration.ts'),
        import('../output.ts'),
        import('node:path'),
      ]);
      const f = createFlagChecker('stack up');
      const arch = f.arch(flags.arch);
      const port = f.number('--port', flags.port, { integer: true, min: 0, max: 65535 });
      const seed = f.number('--seed', flags.seed, { integer: true, min: 0, max: 2 ** 32 - 1 });
      const warm = f.number('--warm', flags.warm, { integer: true, min: 0, max: 4 });
      const maxTasks = f.number('--max-tasks', flags.maxTasks, { integer: true, min: 1, max: 32 });
      const ttlSeconds = f.parse('--ttl', flags.ttl, (v) => parseDuration(v, '--ttl'));
      if (ttlSeconds !== undefined && ttlSeconds <= 0)
        f.add({ path: '--ttl', message: 'must be longer than 0s' });
      const store = f.oneOf('--store', flags.store, ['sqlite', 'dynamodb'] as const);
      if (store === 'dynamodb' && flags.awsEndpoint === undefined) {
        f.add({
          path: '--aws-endpoint',
          message: 'is required with --store dynamodb',
          hint: 'e.g. --aws-endpoint http://127.0.0.1:8000 (DynamoDB Local or dynalite); on AWS use stack deploy --aws',
        });
      }
      if (store !== 'dynamodb') {
        for (const [flag, v] of [
          ['--aws-endpoint', flags.awsEndpoint],
          ['--table-prefix', flags.tablePrefix],
        ] as const) {
          if (v !== undefined) f.add({ path: flag, message: 'applies only with --store dynamodb' });
        }
      }
      if (flags.awsEndpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(flags.awsEndpoint)) {
        f.add({
          path: '--aws-endpoint',
          message: `"${flags.awsEndpoint}" is not an http(s) URL`,
          expected: 'http://HOST:PORT',
        });
      }
      if (flags.tablePrefix !== undefined && !/^[A-Za-z0-9_.-]{3,200}$/.test(flags.tablePrefix)) {
        f.add({
          path: '--table-prefix',
          message: `"${flags.tablePrefix}" is not a table name prefix`,
          expected: '3-200 characters of A-Z a-z 0-9 _ . -',
        });
      }
      f.done();
      const out = createOutput();
      const options = {
        cwd: process.cwd(),
        arch: arch as ArchFlag,
        host: flags.host,
        port: port as number,
        dataDir: flags.dataDir === undefined ? undefined : resolve(flags.dataDir),
        ttlSeconds,
        scalingFile: flags.scaling === undefined ? undefined : resolve(flags.scaling),
        autoscaling: flags.autoscaling,
        seed,
        warmPoolSize: warm,
        maxTasks,
        ...(store === 'dynamodb' && flags.awsEndpoint
          ? {
              dynamodb: {
                endpoint: flags.awsEndpoint,
                region: flags.awsRegion,
                tablePrefix: flags.tablePrefix ?? `peakday-${arch}-${Date.now().toString(36)}`,
              },
            }
          : {}),
      };
      if (flags.scaling !== undefined && flags.autoscaling) {
        // Validate the scaling file here, so its located problems print before anything starts.
        const { loadScaling } = await import('../../reference-stack/autoscaling/scaling-file.ts');
        loadScaling(options.scalingFile);
      }
      if (flags.detach) {
        const { startDetachedSupervisor } = await import('../../reference-stack/orchestrator/detach.ts');
        const { state, notes } = await startDetachedSupervisor(options);
        if (flags.json) out.json(state);
        else {
          out.out(
            `${out.green('up')}: ${state.arch} stack at ${state.url} (supervisor pid ${state.pid}${state.expiresAt ? `, stops at ${state.expiresAt}` : ''})`,
          );
          for (const n of notes) out.out(out.dim(`  ${n}`));
          out.out(out.dim(`  log: ${state.logFile}; stop with: peakday stack down`));
        }
        return;
      }
      const { startSupervisor } = await import('../../reference-stack/orchestrator/supervisor.ts');
      const sup = await startSupervisor({ ...options, mode: 'foreground', log: (l) => out.err(out.dim(l)) });
      if (flags.json) out.json(sup.state);
      else {
        const status = sup.stack.status();
        const tasks = status.services.reduce((a, s) => a + s.running, 0);
        out.out(
          `${out.green('up')}: ${status.arch} stack at ${status.url} (${status.services.length} services, ${tasks} tasks); Ctrl-C to stop`,
        );
        for (const n of sup.notes) out.out(out.dim(`  ${n}`));
      }
      const reason = await sup.done;
      out.err(`stopped (${reason})`);
      // Ctrl-C (or a closed terminal) is an interruption: exit 130 (README). `stack down` stops it with
      // SIGTERM, and a --ttl that ran out is the stack's planned end: both exit 0.
      if (reason === 'signal SIGINT' || reason === 'signal SIGHUP') process.exitCode = 130;
    });

  stack
    .command('status')
    .description(
      'show the stack of this directory: services, tasks, health, URLs (exit 2 when none runs or it does not answer)',
    )
    .option('--json', 'print as JSON')
    .action(async (flags: { json?: boolean }) => {
      const [{ findStack, fetchStackStatus }, { createOutput }] = await Promise.all([
        import('../../reference-stack/orchestrator/down.ts'),
        import('../output.ts'),
      ]);
      const out = createOutput();
      const found = findStack(process.cwd());
      if ('reason' in found) {
        if (flags.json) out.json({ running: false, reason: found.reason });
        else
          out.out(
            found.reason === 'stale'
              ? 'no stack is running here (removed a stale state file)'
              : 'no stack is running here',
          );
        // No stack here is the answer to the question, not a bug: exit 2 (docs/errors.md).
        process.exitCode = 2;
        return;
      }
      const status = await fetchStackStatus(found.state);
      if (flags.json) {
        out.json({ running: true, responding: status !== null, state: found.state, status });
        if (!status) process.exitCode = 2;
        return;
      }
      const s = found.state;
      out.out(
        `${s.arch} stack at ${s.url} (${s.mode}, pid ${s.pid}, since ${s.started}${s.expiresAt ? `, stops at ${s.expiresAt}` : ''})`,
      );
      if (!status) {
        out.out(out.red('not responding to GET /_peakday/status'));
        process.exitCode = 2;
        return;
      }
      out.out(
        `clock: ${status.clock.timeScale}x, event time ${Math.round(status.clock.eventNow)}s; data: ${status.dataDir}`,
      );
      const rows = [
        ['SERVICE', 'TASK', 'DESIRED', 'RUNNING', 'PENDING', 'HEALTHY', 'WARM', 'REPLACED', 'HEALTH', 'URL'],
      ];
      for (const x of status.services) {
        rows.push([
          x.name,
          `${x.taskSize.vcpu}vCPU/${x.taskSize.memoryGb}GB`,
          String(x.desired),
          String(x.running),
          String(x.pending),
          String(x.healthy),
          String(x.warm),
          String(x.replaced ?? 0),
          x.health,
          x.url,
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      for (const r of rows)
        out.out(
          r
            .map((c, i) => c.padEnd(widths[i]!))
            .join('  ')
            .trimEnd(),
        );
      // Tasks replaced (failed health checks or exited), newest last: ECS's service events.
      const events = status.services
        .flatMap((x) => x.events ?? [])
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
        .slice(-10);
      if (events.length > 0) {
        out.out('events:');
        for (const e of events)
          out.out(`  ${e.createdAt}  event time ${Math.round(e.eventTime)}s  ${e.message}`);
      }
    });

  stack
    .command('down')
    .description('stop the stack of this directory and every process it started')
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }) => {
      const [{ stopStack }, { createOutput }] = await Promise.all([
        import('../../reference-stack/orchestrator/down.ts'),
        import('../output.ts'),
      ]);
      const out = createOutput();
      const r = await stopStack(process.cwd());
      if (flags.json) out.json(r);
      else if (r.stopped)
        out.out(
          `stopped the ${r.state.arch} stack (pid ${r.state.pid}${r.killed ? ', killed after the grace period' : ''})`,
        );
      else
        out.out(
          r.reason === 'stale'
            ? 'no stack was running (removed a stale state file)'
            : 'no stack is running here',
        );
    });

  stack
    .command('verify')
    .description(
      "check the stack's invariants (no oversell, orders exactly once, reservations expire, events applied once)",
    )
    .option('--json', 'print {ok, checks} as JSON')
    .action(async (flags: { json?: boolean }) => {
      const [{ findStack }, { readStackState }, { createOutput }, { PeakdayError }] = await Promise.all([
        import('../../reference-stack/orchestrator/down.ts'),
        import('../../reference-stack/orchestrator/state.ts'),
        import('../output.ts'),
        import('../../core/errors.ts'),
      ]);
      const out = createOutput();
      const found = findStack(process.cwd());
      const state = 'reason' in found ? (found.state ?? readStackState(process.cwd())) : found.state;
      if (!state) {
        throw new PeakdayError('no-stack', 'no stack has run in this directory', {
          hint: 'start one with `peakday stack up`',
        });
      }
      const { runStackVerify, formatCheck } = await import('../../reference-stack/orchestrator/verify.ts');
      const result = await runStackVerify(state);
      if (flags.json) out.json(result);
      else {
        for (const c of result.checks)
          out.out(`${c.ok ? out.green('ok  ') : out.red('FAIL')} ${formatCheck(c)}`);
        out.out(result.ok ? out.green('all invariants hold') : out.red('invariants violated'));
      }
      if (!result.ok) process.exitCode = 1;
    });

  registerAwsStackCommands(stack);
}
