/**
 * `peakday run <profile> --target URL`: plays a profile's plan against a target with the embedded
 * engine or k6 and writes a run directory (docs/run-directory.md). Thin: it parses the flags into a
 * typed request (every bad flag reported at once, exit 2) and hands it to workflows/run.ts with a
 * terminal sink and a Ctrl-C signal. Exit codes: 0 done, 2 bad input, 97 circuit breaker, 99 budget
 * abort, 130 interrupted.
 */
import type { Command } from 'commander';
import type { RunFlags } from '../run-flags.ts';

const collect = (v: string, prev: string[]) => [...prev, v];

/** Registers `peakday run`. */
export function register(program: Command): void {
  program
    .command('run')
    .description(
      'play a profile against a target and write a run directory (embedded open-model engine or k6)',
    )
    .argument('[profile]', 'built-in profile name or a profile YAML file')
    .option('--target <url>', 'base URL of the system under test (loopback unless --allow-host names it)')
    .option(
      '--plan <file>',
      'play a compiled plan (plan.json, e.g. from an earlier run) instead of a profile',
    )
    .option('--driver <driver>', 'builtin (embedded engine) or k6')
    .option(
      '--duration <duration>',
      "wall-clock length of the run (90s, 3m); default: the profile's local.duration",
    )
    .option('--peak-rps <rps>', 'HTTP requests per wall second at the highest level')
    .option('--baseline-rps <rps>', 'HTTP requests per wall second at the baseline level')
    .option('--window <names>', 'play these windows (comma list)')
    .option('--seed <n>', 'seed for noise, arrivals and data picks (default 1)')
    .option('--arrivals <kind>', 'even or poisson')
    .option(
      '--max-concurrency <n>',
      'concurrency cap per scenario (iterations beyond it are dropped and counted)',
    )
    .option(
      '--max-rps <rps>',
      'raise the live peak-rate limit (default 20000 requests/s; also limits.maxRps in peakday.config.yaml)',
    )
    .option('--out <dir>', 'run directory to write (default runs/<id>)')
    .option('--allow-host <host>', 'allow load to this non-loopback host (repeatable)', collect, [])
    .option('--segment <i/N>', 'play segment i of N of the plan (one of N load generators)')
    .option(
      '--generators <n>',
      'with --driver k6: play the plan on N local k6 processes, one segment each, merged into one run',
    )
    .option(
      '--fleet <platform>',
      'with --driver k6 --generators N: run the generators on ecs (ECS Fargate, `peakday fleet deploy`)',
    )
    .option('--cluster <name>', "with --fleet ecs: the ECS cluster (default: the fleet file's)")
    .option('--fleet-file <file>', 'with --fleet ecs: the fleet file (default .peakday/fleet.json)')
    .option('--k6-bin <path>', 'k6 executable for --driver k6 (default: k6 on PATH)')
    .option('--budgets <file>', 'latency budgets; those with abortOnFail stop the run (exit 99)')
    .option('--timeout <duration>', 'per-request timeout (default 10s)')
    .option(
      '--connections <n>',
      'keep-alive connections to the target (default: the sum of concurrency caps)',
    )
    .option(
      '--preconnect <n>',
      'connections opened before the clock starts (default: enough for the first 20 ms at the starting rate; 0 for none)',
    )
    .option(
      '--warm-up <seconds>',
      'warm the engine up against an in-process server first (default 1 when the plan starts at ≥ 3,000 arrivals/s or the engine spins from the start; else 0)',
    )
    .option(
      '--workers <n|auto>',
      "engine worker threads, each playing an exact segment of the plan (default auto: one per 10,000 requests/s of the plan's peak, at most one per core; 1 = one thread)",
    )
    .option(
      '--closed-loop <vus>',
      "closed loop instead of the plan's arrivals: VUS virtual users per scenario, each starting its next iteration when its last one ends, for the plan's duration (a capacity maximum, or a comparison with closed-loop tools; builtin driver)",
    )
    .option(
      '--scheduler <mode>',
      'how the builtin engine waits between arrivals: auto (sleep; spin at or above --spin-above when given), sleep, or spin (lowest lag, keeps a core busy)',
      'auto',
    )
    .option(
      '--spin-above <rps>',
      'with --scheduler auto: spin while arrivals come at least this fast per second (default: never)',
    )
    .option(
      '--circuit-breaker <rate:seconds>',
      'stop when the error rate exceeds rate for seconds in a row, or "off"',
      '0.5:5',
    )
    .option(
      '--no-stack-handshake',
      'do not ask the target whether it is a peakday stack (GET /_peakday/info)',
    )
    .option('--json', 'print the summary as JSON')
    .action(async (profileArg: string | undefined, flags: RunFlags) => {
      const [
        { runRequestFromFlags },
        { runWorkflow },
        { createOutput },
        { createCliSink },
        { withInterrupt },
      ] = await Promise.all([
        import('../run-flags.ts'),
        import('../../workflows/run.ts'),
        import('../output.ts'),
        import('../sink.ts'),
        import('../signals.ts'),
      ]);
      const request = await runRequestFromFlags(profileArg, flags);
      const out = createOutput();
      const sink = createCliSink(out, { summary: flags.json ? 'none' : 'stdout' });
      const outcome = await withInterrupt((signal) => runWorkflow({ ...request, sink, signal }));
      if (flags.json) out.json({ dir: outcome.dir, meta: outcome.meta, summary: outcome.summary });
      process.exitCode = outcome.exitCode;
    });
}
