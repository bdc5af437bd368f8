/**
 * `peakday run`'s flags (strings, as commander hands them over) turned into the run workflow's typed
 * request. Every bad run flag is reported at once (exit 2). Loaded by the command's action only, so
 * `peakday --help` does not load the engine.
 */
import { join } from 'node:path';
import { readConfig } from '../core/config.ts';
import { tryParseDuration } from '../core/duration.ts';
import { invalidInput, type Problem } from '../core/errors.ts';
import { SCHEDULER_MODES, type SchedulerMode } from '../engine/engine.ts';
import { parseSegment } from '../engine/segments.ts';
import type { ProfileFlags } from '../scenarios/compile-options.ts';
import { type CircuitBreakerSetting, DEFAULT_TIMEOUT_MS, type RunWorkflowRequest } from '../workflows/run.ts';
import { createFlagChecker } from './flags.ts';

/** The flags `peakday run` takes, as commander hands them over. */
export interface RunFlags extends ProfileFlags {
  target?: string;
  plan?: string;
  driver?: string;
  out?: string;
  allowHost: string[];
  segment?: string;
  /** `--generators N`: N local k6 processes, one segment each, merged (engine/k6/local-fleet.ts). */
  generators?: string;
  /** `--fleet ecs`: the generators are ECS Fargate tasks (workflows/fleet.ts). */
  fleet?: string;
  /** `--cluster`: the ECS cluster, instead of the fleet file's. */
  cluster?: string;
  /** `--fleet-file`: the fleet file (default .peakday/fleet.json). */
  fleetFile?: string;
  k6Bin?: string;
  budgets?: string;
  timeout?: string;
  connections?: string;
  scheduler?: string;
  spinAbove?: string;
  preconnect?: string;
  warmUp?: string;
  /** `--workers N|auto`: engine worker threads (builtin driver). */
  workers?: string;
  /** `--closed-loop VUS`: virtual users per scenario instead of the plan's arrivals (builtin driver). */
  closedLoop?: string;
  circuitBreaker?: string;
  stackHandshake?: boolean;
  json?: boolean;
}

/** Parses `--circuit-breaker RATE:SECONDS` or `off`. */
export function parseCircuitBreaker(text: string): CircuitBreakerSetting | null {
  if (text === 'off') return null;
  const m = /^(\d*\.?\d+):(\d+)$/.exec(text.trim());
  const rate = m ? Number(m[1]) : Number.NaN;
  const seconds = m ? Number(m[2]) : Number.NaN;
  if (!m || rate <= 0 || rate > 1 || seconds < 1) {
    throw invalidInput(
      'circuit-breaker-invalid',
      `--circuit-breaker ${text} is not RATE:SECONDS`,
      'e.g. --circuit-breaker 0.5:5 (stop after 5 s in a row with more than 50% errors) or --circuit-breaker off',
    );
  }
  return { maxErrorRate: rate, seconds };
}

/**
 * The run workflow's request from `peakday run`'s flags: every bad run flag at once (exit 2), then the
 * circuit breaker, the segment and the profile options; the sink and signal are the caller's.
 */
export async function runRequestFromFlags(
  profileArg: string | undefined,
  flags: RunFlags,
): Promise<Omit<RunWorkflowRequest, 'sink' | 'signal'>> {
  const config = readConfig();
  const problems: Problem[] = [];
  // Numeric flags through the one checker every command uses (cli/flags.ts), into the same list.
  const flag = createFlagChecker('run', problems);
  const driverName = flags.driver ?? config.defaults.driver ?? 'builtin';
  if (driverName !== 'builtin' && driverName !== 'k6')
    problems.push({ path: '--driver', message: `unknown driver "${driverName}"`, expected: 'builtin or k6' });
  let timeoutMs = DEFAULT_TIMEOUT_MS;
  if (flags.timeout !== undefined) {
    const d = tryParseDuration(flags.timeout);
    if ('error' in d || d.seconds <= 0)
      problems.push({
        path: '--timeout',
        message: `"${flags.timeout}" is not a duration`,
        expected: 'e.g. 5s',
      });
    else timeoutMs = d.seconds * 1000;
  }
  const connections = flag.number('--connections', flags.connections, {
    integer: true,
    positive: true,
    expected: 'e.g. 50',
  });
  const scheduler = (flags.scheduler ?? 'auto') as SchedulerMode;
  if (!SCHEDULER_MODES.includes(scheduler))
    problems.push({
      path: '--scheduler',
      message: `"${flags.scheduler}" is not a scheduler`,
      expected: SCHEDULER_MODES.join(', '),
    });
  const spinAboveRps = flag.number('--spin-above', flags.spinAbove, {
    positive: true,
    is: 'a positive rate',
    expected: 'arrivals per second, e.g. 3000',
  });
  const preconnect = flag.number('--preconnect', flags.preconnect, {
    integer: true,
    min: 0,
    is: 'a whole number',
    expected: 'e.g. 0 (none) or 50',
  });
  let warmUpSeconds: number | undefined;
  if (flags.warmUp !== undefined) {
    const d = /^\d+(\.\d+)?$/.test(flags.warmUp.trim())
      ? { seconds: Number(flags.warmUp) }
      : tryParseDuration(flags.warmUp);
    if ('error' in d || d.seconds < 0 || d.seconds > 60)
      problems.push({
        path: '--warm-up',
        message: `"${flags.warmUp}" is not a duration of at most 60 s`,
        expected: 'e.g. 0 (none), 1 or 2s',
      });
    else warmUpSeconds = d.seconds;
  }
  const generators = flag.number('--generators', flags.generators, {
    integer: true,
    min: 1,
    max: 64,
    expected: 'e.g. 3 (k6 processes on this machine, one segment each)',
  });
  if (generators !== undefined && driverName !== 'k6')
    problems.push({
      path: '--generators',
      message: `--generators needs --driver k6 (the driver is ${driverName})`,
      expected: '--driver k6 --generators N',
    });
  if (flags.fleet !== undefined && flags.fleet !== 'ecs')
    problems.push({
      path: '--fleet',
      message: `unknown fleet "${flags.fleet}"`,
      expected: 'ecs (Kubernetes: profile export-k6 --k6-operator)',
    });
  if (flags.fleet !== undefined && (driverName !== 'k6' || generators === undefined))
    problems.push({
      path: '--fleet',
      message: '--fleet ecs plays k6 generators: it needs --driver k6 and --generators N',
      expected: '--driver k6 --fleet ecs --generators N',
    });
  if ((flags.cluster !== undefined || flags.fleetFile !== undefined) && flags.fleet === undefined)
    problems.push({
      path: flags.cluster !== undefined ? '--cluster' : '--fleet-file',
      message: 'only used with --fleet ecs',
      expected: '--fleet ecs',
    });
  if (generators !== undefined && flags.segment !== undefined)
    problems.push({
      path: '--generators',
      message: '--generators splits the whole plan itself; it cannot be combined with --segment',
      expected: 'either --generators N or --segment i/N',
    });
  const workersFlag = flags.workers?.trim();
  const workers =
    workersFlag === undefined || workersFlag === 'auto'
      ? undefined
      : flag.number('--workers', workersFlag, {
          integer: true,
          min: 1,
          max: 64,
          is: 'a whole number from 1 to 64, or auto',
          expected: 'e.g. 2, or auto (one per 10,000 requests/s of the plan, at most one per core)',
        });
  if (workersFlag !== undefined && workersFlag !== 'auto' && driverName === 'k6')
    problems.push({
      path: '--workers',
      message: `--workers is for the builtin engine (the driver is ${driverName})`,
      expected: 'drop --workers, or use --generators N with --driver k6',
    });
  const closedLoopVus = flag.number('--closed-loop', flags.closedLoop, {
    integer: true,
    min: 1,
    max: 100_000,
    is: 'a whole number of virtual users from 1 to 100,000',
    expected: 'e.g. 50 (virtual users per scenario)',
  });
  if (flags.closedLoop !== undefined && driverName !== 'builtin')
    problems.push({
      path: '--closed-loop',
      message: `--closed-loop is for the builtin engine (the driver is ${driverName})`,
      expected: 'drop --closed-loop, or use --driver builtin',
    });
  flag.done();
  const breaker = parseCircuitBreaker(flags.circuitBreaker ?? '0.5:5');
  const segment = flags.segment !== undefined ? parseSegment(flags.segment) : undefined;

  let source: RunWorkflowRequest['source'];
  if (flags.plan !== undefined) source = { planFile: flags.plan };
  else {
    if (profileArg === undefined) {
      throw invalidInput(
        'profile-missing',
        'name a profile to run',
        'e.g. peakday run ci-smoke --target http://127.0.0.1:8080 (see `peakday profile list`)',
      );
    }
    const { compileOptionsFrom } = await import('../scenarios/compile-options.ts');
    source = { profile: profileArg, compile: compileOptionsFrom(flags, config, { live: true }) };
  }
  return {
    source,
    ...(flags.target !== undefined ? { target: flags.target } : {}),
    allowHosts: flags.allowHost,
    driver: driverName as 'builtin' | 'k6',
    ...(flags.out !== undefined ? { out: flags.out } : {}),
    ...(segment ? { segment } : {}),
    ...(generators !== undefined ? { generators } : {}),
    ...(flags.fleet === 'ecs'
      ? {
          fleet: {
            platform: 'ecs' as const,
            fleetFile: flags.fleetFile ?? join(process.cwd(), '.peakday', 'fleet.json'),
            ...(flags.cluster !== undefined ? { cluster: flags.cluster } : {}),
          },
        }
      : {}),
    ...(flags.k6Bin ? { k6Bin: flags.k6Bin } : {}),
    ...(flags.budgets !== undefined ? { budgetsFile: flags.budgets } : {}),
    timeoutMs,
    ...(connections !== undefined ? { connections } : {}),
    scheduler,
    ...(spinAboveRps !== undefined ? { spinAboveRps } : {}),
    ...(preconnect !== undefined ? { preconnect } : {}),
    ...(warmUpSeconds !== undefined ? { warmUpSeconds } : {}),
    ...(workers !== undefined ? { workers } : {}),
    ...(closedLoopVus !== undefined ? { closedLoop: { vus: closedLoopVus } } : {}),
    circuitBreaker: breaker,
    stackHandshake: flags.stackHandshake !== false,
    given: {
      duration: flags.duration,
      peakRps: flags.peakRps,
      baselineRps: flags.baselineRps,
      window: flags.window,
      seed: flags.seed,
      arrivals: flags.arrivals,
      maxConcurrency: flags.maxConcurrency,
      segment: flags.segment,
    },
  };
}
