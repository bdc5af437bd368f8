/**
 * The body of `peakday run` (cli/commands/run.ts stays a thin flag list): resolves config, flags,
 * profile and plan, checks the target, builds the abort rules, picks the driver from the registry,
 * and prints the outcome. Every bad flag is reported at once (exit 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../core/config.ts';
import { formatDuration, tryParseDuration } from '../core/duration.ts';
import { invalidInput, type Problem, validationError } from '../core/errors.ts';
import { MAX_LIVE_TIME_SCALE } from '../core/event-clock.ts';
import { prepareOutputDir } from '../core/output-path.ts';
import { createRunId } from '../core/run-directory.ts';
import type { RunSummary } from '../core/run-format.ts';
import { type AbortRule, createCircuitBreaker, describeCause } from '../engine/abort-rules.ts';
import { SCHEDULER_MODES, type SchedulerMode } from '../engine/engine.ts';
import { plannedIterations, type RunOutcome, type RunRequest, redactUrl } from '../engine/run.ts';
import { parseSegment, segmentPlan } from '../engine/segments.ts';
import { isPeakdayStack } from '../engine/stack-handshake.ts';
import { checkTarget } from '../engine/target-guard.ts';
import { autoWorkers } from '../engine/workers.ts';
import type { ProfileFlags } from '../scenarios/compile-options.ts';
import type { PoolValues } from '../scenarios/data-pools.ts';
import type { Plan } from '../scenarios/plan.ts';

/** The flags `peakday run` takes. */
export interface RunCommandFlags extends ProfileFlags {
  target?: string;
  plan?: string;
  driver?: string;
  out?: string;
  allowHost: string[];
  segment?: string;
  /** `--generators N`: N local k6 processes, one segment each, merged (engine/k6/local-fleet.ts). */
  generators?: string;
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
  circuitBreaker?: string;
  stackHandshake?: boolean;
  json?: boolean;
  /** Print the run's summary on stderr: for a caller whose stdout is its own (e.g. `compare --json`). */
  summaryToStderr?: boolean;
}

type Driver = (req: RunRequest & { k6Bin?: string }) => Promise<RunOutcome>;

/** The drivers, by `--driver` name. */
export const drivers = {
  builtin: async (req) => (await import('../engine/run.ts')).runBuiltin(req),
  k6: async (req) => (await import('../engine/k6/driver.ts')).runK6(req),
} satisfies Record<'builtin' | 'k6', Driver>;

/** A numeric flag: its value, or undefined when absent or invalid (the problem recorded). */
function numberFlag(
  problems: Problem[],
  path: string,
  text: string | undefined,
  rule: { ok: (n: number) => boolean; is: string; expected: string },
): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (rule.ok(n)) return n;
  problems.push({ path, message: `"${text}" is not ${rule.is}`, expected: rule.expected });
  return undefined;
}

/** Parses `--circuit-breaker RATE:SECONDS` or `off`. */
export function parseCircuitBreaker(text: string): { maxErrorRate: number; seconds: number } | null {
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

/** The plan a `peakday run` plays: a compiled plan file, or a profile compiled with the flags; its data pools. */
export async function resolvePlan(profileArg: string | undefined, flags: RunCommandFlags) {
  if (flags.plan !== undefined) {
    let plan: Plan;
    try {
      plan = JSON.parse(readFileSync(flags.plan, 'utf8')) as Plan;
    } catch (e) {
      throw invalidInput(
        'plan-invalid',
        `cannot read plan ${flags.plan}: ${(e as Error).message}`,
        'give a plan.json written by peakday',
      );
    }
    if (!Array.isArray(plan.scenarios) || typeof plan.timeScale !== 'number' || !plan.journeys) {
      throw invalidInput(
        'plan-invalid',
        `${flags.plan} is not a compiled plan`,
        'give a plan.json from a run directory',
      );
    }
    return { plan, pools: undefined, userPools: [], profileTarget: undefined };
  }
  if (profileArg === undefined) {
    throw invalidInput(
      'profile-missing',
      'name a profile to run',
      'e.g. peakday run ci-smoke --target http://127.0.0.1:8080 (see `peakday profile list`)',
    );
  }
  const [{ loadProfile }, { compilePlan }, { compileOptionsFrom }, { createDataPools }] = await Promise.all([
    import('../scenarios/profile.ts'),
    import('../scenarios/compile.ts'),
    import('../scenarios/compile-options.ts'),
    import('../scenarios/data-pools.ts'),
  ]);
  const profile = loadProfile(profileArg);
  const plan = compilePlan(profile, compileOptionsFrom(flags, readConfig(), { live: true }));
  let pools: Record<string, PoolValues> | undefined;
  const poolsFn = () => {
    pools ??= createDataPools(profile.model.pools);
    return pools;
  };
  return {
    plan,
    pools: poolsFn,
    userPools: profile.model.pools,
    profileTarget: profile.model.target?.baseUrl,
  };
}

function printSummary(write: (s: string) => void, dir: string, s: RunSummary, notes: string[]): void {
  const l = s.latency.intended?.overall;
  const snd = s.latency.send?.overall;
  const f = (x: number | undefined) => (x === undefined ? '-' : x.toFixed(1));
  write(`run directory: ${dir}`);
  write(`ended: ${s.endReason}${s.partial ? ' (partial)' : ''} after ${s.durationSeconds.toFixed(1)} s`);
  write(
    `iterations: planned ${s.iterations.planned}, started ${s.iterations.started}, completed ${s.iterations.completed}, dropped ${s.iterations.dropped}, failed ${s.iterations.failed}`,
  );
  write(`requests: ${s.requests.total} (${s.requests.ratePerSecond}/s), failed ${s.requests.failed}`);
  if (l)
    write(
      `latency from intended start (ms): p50 ${f(l.p50)} p95 ${f(l.p95)} p99 ${f(l.p99)} max ${f(l.max)}`,
    );
  if (snd)
    write(
      `latency from send (ms):           p50 ${f(snd.p50)} p95 ${f(snd.p95)} p99 ${f(snd.p99)} max ${f(snd.max)}`,
    );
  if (s.schedulerLag) write(`scheduler lag (ms): p50 ${f(s.schedulerLag.p50)} p99 ${f(s.schedulerLag.p99)}`);
  write(s.valid ? 'valid: yes' : `VALID: NO — ${s.invalidReasons.join('; ')}`);
  for (const n of notes) write(`note: ${n}`);
}

/**
 * One line naming what most failed requests had in common, or null when none failed: a run whose
 * requests all failed must never end on "completed" alone. Transport errors and 5xx are described
 * as the circuit breaker describes them; 4xx and failed checks say the target answered.
 */
export function describeFailures(s: RunSummary, target: string): string | null {
  const failed = s.requests.failed;
  if (!(failed > 0)) return null;
  const e = s.requests.errors;
  const kinds: [string, number, string][] = [
    ['refused', e.refused, describeCause('refused', target)],
    ['timed out', e.timeout, describeCause('timeout', target)],
    ['reset', e.reset, describeCause('reset', target)],
    ['other transport errors', e.other, describeCause('other', target)],
    ['5xx', s.requests.byStatus['5xx'] ?? 0, describeCause('5xx', target)],
    [
      '4xx',
      s.requests.byStatus['4xx'] ?? 0,
      `${target} answered 4xx: check the paths, data and auth the journeys send`,
    ],
    ['failed checks', e.check, 'checks failed: the target answered, but not what the journeys expect'],
  ];
  const present = kinds.filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const top = present[0];
  if (!top) return `${failed} of ${s.requests.total} requests failed`;
  const breakdown = present.map(([k, n]) => `${n} ${k}`).join(', ');
  return `${failed} of ${s.requests.total} requests failed, mostly: ${top[2]} (${breakdown})`;
}

/** Runs `peakday run`; returns the process exit code. */
export async function executeRun(profileArg: string | undefined, flags: RunCommandFlags): Promise<number> {
  const config = readConfig();
  const problems: Problem[] = [];
  const driverName = flags.driver ?? config.defaults.driver ?? 'builtin';
  if (!(driverName in drivers))
    problems.push({ path: '--driver', message: `unknown driver "${driverName}"`, expected: 'builtin or k6' });
  let timeoutMs = 10_000;
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
  const connections = numberFlag(problems, '--connections', flags.connections, {
    ok: (n) => Number.isInteger(n) && n >= 1,
    is: 'a positive whole number',
    expected: 'e.g. 50',
  });
  const scheduler = (flags.scheduler ?? 'auto') as SchedulerMode;
  if (!SCHEDULER_MODES.includes(scheduler))
    problems.push({
      path: '--scheduler',
      message: `"${flags.scheduler}" is not a scheduler`,
      expected: SCHEDULER_MODES.join(', '),
    });
  const spinAboveRps = numberFlag(problems, '--spin-above', flags.spinAbove, {
    ok: (n) => Number.isFinite(n) && n > 0,
    is: 'a positive rate',
    expected: 'arrivals per second, e.g. 3000',
  });
  const preconnect = numberFlag(problems, '--preconnect', flags.preconnect, {
    ok: (n) => Number.isInteger(n) && n >= 0,
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
  const generators = numberFlag(problems, '--generators', flags.generators, {
    ok: (n) => Number.isInteger(n) && n >= 1 && n <= 64,
    is: 'a whole number from 1 to 64',
    expected: 'e.g. 3 (k6 processes on this machine, one segment each)',
  });
  if (generators !== undefined && driverName !== 'k6')
    problems.push({
      path: '--generators',
      message: `--generators needs --driver k6 (the driver is ${driverName})`,
      expected: '--driver k6 --generators N',
    });
  if (generators !== undefined && flags.segment !== undefined)
    problems.push({
      path: '--generators',
      message: '--generators splits the whole plan itself; it cannot be combined with --segment',
      expected: 'either --generators N or --segment i/N',
    });
  const workersFlag = flags.workers?.trim();
  const workersN =
    workersFlag === undefined || workersFlag === 'auto'
      ? undefined
      : numberFlag(problems, '--workers', workersFlag, {
          ok: (n) => Number.isInteger(n) && n >= 1 && n <= 64,
          is: 'a whole number from 1 to 64, or auto',
          expected: 'e.g. 2, or auto (one per 10,000 requests/s of the plan, at most one per core)',
        });
  if (workersFlag !== undefined && workersFlag !== 'auto' && driverName !== 'builtin')
    problems.push({
      path: '--workers',
      message: `--workers is for the builtin engine (the driver is ${driverName})`,
      expected: 'drop --workers, or use --generators N with --driver k6',
    });
  if (problems.length > 0) throw validationError('invalid-flag', 'peakday run', problems);
  const breaker = parseCircuitBreaker(flags.circuitBreaker ?? '0.5:5');
  const segment = flags.segment !== undefined ? parseSegment(flags.segment) : undefined;

  const resolved = await resolvePlan(profileArg, flags);
  const targetText = flags.target ?? resolved.profileTarget;
  if (targetText === undefined) {
    throw invalidInput(
      'target-missing',
      'no target to send load to',
      'add --target http://127.0.0.1:PORT (e.g. the reference stack from `peakday stack up`)',
    );
  }
  const target = checkTarget(targetText, [...flags.allowHost, ...config.allowedHosts]);
  const plan = segment ? segmentPlan(resolved.plan, segment) : resolved.plan;
  const workers = workersN ?? autoWorkers(plan);

  const abortRules: AbortRule[] = [];
  if (breaker) abortRules.push(createCircuitBreaker({ ...breaker, target: target.host }));
  if (flags.budgets !== undefined) {
    const [{ readBudgets }, { createBudgetAbortRule }] = await Promise.all([
      import('../scenarios/budgets/parse-budgets.ts'),
      import('../engine/budget-abort-rule.ts'),
    ]);
    const set = readBudgets(flags.budgets);
    abortRules.push(
      createBudgetAbortRule(set.budgets, { eventStart: plan.eventStart, timeScale: plan.timeScale }),
    );
  }
  const outDir = flags.out ?? join(config.runsDir, createRunId(plan.profile.name));
  const options: Record<string, unknown> = {
    profile: profileArg ?? null,
    plan: flags.plan ?? null,
    target: redactUrl(target),
    driver: driverName,
    duration: flags.duration ?? null,
    peakRps: flags.peakRps ?? null,
    baselineRps: flags.baselineRps ?? null,
    window: flags.window ?? null,
    seed: flags.seed ?? null,
    arrivals: flags.arrivals ?? null,
    maxConcurrency: flags.maxConcurrency ?? null,
    segment: flags.segment ?? null,
    generators: generators ?? null,
    budgets: flags.budgets ?? null,
    timeoutMs,
    connections: connections ?? null,
    scheduler,
    spinAboveRps: spinAboveRps ?? null,
    preconnect: preconnect ?? null,
    warmUp: warmUpSeconds ?? null,
    workers: driverName === 'builtin' ? workers : null,
    circuitBreaker: breaker,
    allowHost: flags.allowHost,
  };
  // A peakday stack runs its clock at most MAX_LIVE_TIME_SCALE x: a faster plan would play load the
  // stack's scaling and deals cannot follow (and `collect` could not align). Refused before any load;
  // --no-stack-handshake is the explicit opt-out.
  if (
    flags.stackHandshake !== false &&
    plan.timeScale > MAX_LIVE_TIME_SCALE &&
    (await isPeakdayStack(target))
  ) {
    const span = plan.eventEnd - plan.eventStart;
    const fits = Math.ceil(span / MAX_LIVE_TIME_SCALE);
    throw invalidInput(
      'time-scale-too-high',
      `${target.origin} is a peakday stack, whose clock runs at most ${MAX_LIVE_TIME_SCALE}x; this plan plays ${formatDuration(span)} of event in ${formatDuration(plan.durationSeconds)} (${plan.timeScale.toFixed(1)}x)`,
      `play it in at least --duration ${formatDuration(fits)}, or a shorter part of the event with --window, or pass --no-stack-handshake to play it anyway with the stack's clock left as it is`,
    );
  }
  // The run directory is created (and proven writable) before any load is sent.
  prepareOutputDir(outDir, '--out');
  const { createOutput } = await import('../cli/output.ts');
  const out = createOutput();
  out.err(
    `peakday run: ${plan.profile.name} → ${target.origin} with ${driverName}: ${plan.durationSeconds.toFixed(0)} s wall, ${plan.timeScale.toFixed(2)}x, ${plannedIterations(plan)} iterations planned${segment ? ` (segment ${segment.index}/${segment.count})` : ''}${generators ? ` on ${generators} local k6 processes (segment i/${generators} each)` : ''}${driverName === 'builtin' && workers > 1 ? ` on ${workers} engine workers` : ''}`,
  );
  const driver: Driver = generators
    ? async (r) => (await import('../engine/k6/local-fleet.ts')).runLocalK6Fleet({ ...r, generators })
    : drivers[driverName as keyof typeof drivers];
  const outcome = await driver({
    plan,
    target,
    outDir,
    options,
    abortRules,
    timeoutMs,
    ...(connections ? { connections } : {}),
    scheduler,
    ...(spinAboveRps ? { spinAboveRps } : {}),
    ...(preconnect !== undefined ? { preconnect } : {}),
    ...(warmUpSeconds !== undefined ? { warmUpSeconds } : {}),
    ...(driverName === 'builtin' ? { workers } : {}),
    ...(resolved.pools ? { pools: resolved.pools } : {}),
    userPools: resolved.userPools,
    progress: { tty: process.stderr.isTTY === true, write: (t) => process.stderr.write(t) },
    handleSignals: true,
    noHandshake: flags.stackHandshake === false,
    ...(flags.k6Bin ? { k6Bin: flags.k6Bin } : {}),
  });
  if (flags.json) out.json({ dir: outcome.dir, meta: outcome.meta, summary: outcome.summary });
  else
    printSummary(
      (s) => (flags.summaryToStderr ? out.err(s) : out.out(s)),
      outcome.dir,
      outcome.summary,
      outcome.meta.notes,
    );
  if (outcome.meta.endDetail) out.err(`stopped: ${outcome.meta.endDetail}`);
  const failures = describeFailures(outcome.summary, target.host);
  if (failures) out.err(`failed requests: ${failures}`);
  return outcome.exitCode;
}
