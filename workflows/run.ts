/**
 * The run workflow, the body of `peakday run` and of a rehearsal's live window: from a typed request
 * (cli/commands/run.ts parses the flags) it resolves the plan, checks the target, builds the abort
 * rules, picks the driver from the registry and plays the plan into a run directory. Progress goes to
 * the request's sink; the request's AbortSignal (owned by cli/) stops the load, keeping what was
 * measured (exit code 130 in the outcome).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readConfig } from '../core/config.ts';
import { formatDuration } from '../core/duration.ts';
import { ExitCode, invalidInput } from '../core/errors.ts';
import { MAX_LIVE_TIME_SCALE } from '../core/event-clock.ts';
import { prepareOutputDir } from '../core/output-path.ts';
import { createRunId } from '../core/run-directory.ts';
import type { RunSummary } from '../core/run-format.ts';
import { type AbortRule, createCircuitBreaker, describeCause } from '../engine/abort-rules.ts';
import type { SchedulerMode } from '../engine/engine.ts';
import { plannedIterations, type RunOutcome, type RunRequest, redactUrl } from '../engine/run.ts';
import { type Segment, segmentPlan } from '../engine/segments.ts';
import { isPeakdayStack } from '../engine/stack-handshake.ts';
import { checkTarget } from '../engine/target-guard.ts';
import { autoWorkers } from '../engine/workers.ts';
import type { CompileOptions } from '../scenarios/compile.ts';
import type { PoolValues } from '../scenarios/data-pools.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { WorkflowSink } from './sink.ts';

/** Where a run's plan comes from: a profile compiled with options, or a compiled plan file. */
export type PlanSource = { profile: string; compile: CompileOptions } | { planFile: string };

/** The circuit breaker's setting: stop after `seconds` in a row above `maxErrorRate` overload errors. */
export interface CircuitBreakerSetting {
  maxErrorRate: number;
  seconds: number;
}

/** What the run workflow is asked to do: every value parsed and checked by the caller. */
export interface RunWorkflowRequest {
  source: PlanSource;
  /** Base URL of the system under test; default: the profile's target. */
  target?: string;
  /** Non-loopback hosts the user allowed (the config file's are added). */
  allowHosts: readonly string[];
  driver: DriverName;
  /** Run directory (default runs/<id>). */
  out?: string;
  segment?: Segment;
  /** N local k6 processes, one segment each, merged (engine/k6/local-fleet.ts); needs driver k6. */
  generators?: number;
  /** The generators are ECS Fargate tasks of the fleet in `fleetFile` (workflows/fleet.ts); needs `generators`. */
  fleet?: { platform: 'ecs'; fleetFile: string; cluster?: string };
  k6Bin?: string;
  /** A budgets file whose abortOnFail budgets stop the run (exit 99). */
  budgetsFile?: string;
  timeoutMs: number;
  connections?: number;
  scheduler: SchedulerMode;
  spinAboveRps?: number;
  preconnect?: number;
  warmUpSeconds?: number;
  /** Engine worker threads (builtin driver); default: autoWorkers(plan) (engine/workers.ts). */
  workers?: number;
  /**
   * Closed loop instead of the plan's arrivals (builtin driver): `vus` virtual users per scenario for
   * the plan's wall duration (engine/engine.ts EngineOptions.closedLoop).
   */
  closedLoop?: { vus: number };
  /** null: off (a rehearsal against its own local stack). */
  circuitBreaker: CircuitBreakerSetting | null;
  /**
   * Ask the target whether it is a peakday stack (GET /_peakday/info); 'required' when it is the
   * caller's own stack (a rehearsal): a stack that does not take the clock stops the run before load.
   */
  stackHandshake: boolean | 'required';
  /**
   * The profile options as the user wrote them (e.g. duration "90s"), recorded as given in meta.json's
   * `options` for provenance; never read to decide anything.
   */
  given?: GivenOptions;
  sink: WorkflowSink;
  /** Aborting it stops the load; the run ends `interrupted` with what was measured (exit code 130). */
  signal?: AbortSignal;
}

/** Profile options as written, for meta.json (see RunWorkflowRequest.given). */
export interface GivenOptions {
  duration?: string;
  peakRps?: string;
  baselineRps?: string;
  window?: string;
  seed?: string;
  arrivals?: string;
  maxConcurrency?: string;
  segment?: string;
}

/** Per-request timeout when none is given (`--timeout`), ms. */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** The driver names `--driver` accepts. */
export type DriverName = 'builtin' | 'k6';

type Driver = (req: RunRequest & { k6Bin?: string }) => Promise<RunOutcome>;

/** The drivers, by `--driver` name. */
export const drivers = {
  builtin: async (req) => (await import('../engine/run.ts')).runBuiltin(req),
  k6: async (req) => (await import('../engine/k6/driver.ts')).runK6(req),
} satisfies Record<DriverName, Driver>;

/** The plan a run plays: a compiled plan file, or a profile compiled with the options; its data pools. */
export async function resolvePlan(source: PlanSource) {
  if ('planFile' in source) {
    const file = source.planFile;
    let plan: Plan;
    try {
      plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
    } catch (e) {
      throw invalidInput(
        'plan-invalid',
        `cannot read plan ${file}: ${(e as Error).message}`,
        'give a plan.json written by peakday',
      );
    }
    if (!Array.isArray(plan.scenarios) || typeof plan.timeScale !== 'number' || !plan.journeys) {
      throw invalidInput(
        'plan-invalid',
        `${file} is not a compiled plan`,
        'give a plan.json from a run directory',
      );
    }
    return { plan, pools: undefined, userPools: [], profileTarget: undefined };
  }
  const [{ loadProfile }, { compilePlan }, { createDataPools }] = await Promise.all([
    import('../scenarios/profile.ts'),
    import('../scenarios/compile.ts'),
    import('../scenarios/data-pools.ts'),
  ]);
  const profile = loadProfile(source.profile);
  const plan = compilePlan(profile, source.compile);
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
    [
      'not sent (empty template value)',
      e.emptyValue ?? 0,
      'a template resolved to an empty value, so the request was not sent: check the data pool for empty values',
    ],
  ];
  const present = kinds.filter(([, n]) => n > 0);
  // A failed check ranks only as far as there were answers to check: k6 counts the failed checks of
  // a request that got no answer too (a status check on a refused connection), so against a dead
  // target its checks outnumber the refusals, yet no answer was wrong.
  const answered = Math.max(0, s.requests.total - e.refused - e.timeout - e.reset - e.other);
  const rank = ([k, n]: [string, number, string]) => (k === 'failed checks' ? Math.min(n, answered) : n);
  const top = [...present].sort((a, b) => rank(b) - rank(a))[0];
  present.sort((a, b) => b[1] - a[1]);
  if (!top) return `${failed} of ${s.requests.total} requests failed`;
  const breakdown = present.map(([k, n]) => `${n} ${k}`).join(', ');
  return `${failed} of ${s.requests.total} requests failed, mostly: ${top[2]} (${breakdown})`;
}

/** Runs the run workflow: plays the plan into a run directory and returns the outcome (exit code in it). */
export async function runWorkflow(req: RunWorkflowRequest): Promise<RunOutcome> {
  const config = readConfig();
  const resolved = await resolvePlan(req.source);
  const targetText = req.target ?? resolved.profileTarget;
  if (targetText === undefined) {
    throw invalidInput(
      'target-missing',
      'no target to send load to',
      'add --target http://127.0.0.1:PORT (e.g. the reference stack from `peakday stack up`)',
    );
  }
  const target = checkTarget(targetText, [...req.allowHosts, ...config.allowedHosts]);
  const plan = req.segment ? segmentPlan(resolved.plan, req.segment) : resolved.plan;
  const workers = req.workers ?? autoWorkers(plan);

  const abortRules: AbortRule[] = [];
  if (req.circuitBreaker)
    abortRules.push(createCircuitBreaker({ ...req.circuitBreaker, target: target.host }));
  if (req.budgetsFile !== undefined) {
    const [{ readBudgets }, { createBudgetAbortRule }] = await Promise.all([
      import('../scenarios/budgets/parse-budgets.ts'),
      import('../engine/budget-abort-rule.ts'),
    ]);
    const set = readBudgets(req.budgetsFile);
    abortRules.push(
      createBudgetAbortRule(set.budgets, { eventStart: plan.eventStart, timeScale: plan.timeScale }),
    );
  }
  const outDir = req.out ?? join(config.runsDir, createRunId(plan.profile.name));
  const given = req.given ?? {};
  const options: Record<string, unknown> = {
    profile: 'profile' in req.source ? req.source.profile : null,
    plan: 'planFile' in req.source ? req.source.planFile : null,
    target: redactUrl(target),
    driver: req.driver,
    duration: given.duration ?? null,
    peakRps: given.peakRps ?? null,
    baselineRps: given.baselineRps ?? null,
    window: given.window ?? null,
    seed: given.seed ?? null,
    arrivals: given.arrivals ?? null,
    maxConcurrency: given.maxConcurrency ?? null,
    segment: given.segment ?? null,
    generators: req.generators ?? null,
    fleet: req.fleet?.platform ?? null,
    budgets: req.budgetsFile ?? null,
    timeoutMs: req.timeoutMs,
    connections: req.connections ?? null,
    scheduler: req.scheduler,
    spinAboveRps: req.spinAboveRps ?? null,
    preconnect: req.preconnect ?? null,
    warmUp: req.warmUpSeconds ?? null,
    workers: req.driver === 'builtin' ? workers : null,
    closedLoopVus: req.closedLoop?.vus ?? null,
    circuitBreaker: req.circuitBreaker,
    allowHost: [...req.allowHosts],
  };
  // A peakday stack runs its clock at most MAX_LIVE_TIME_SCALE x: a faster plan would play load the
  // stack's scaling and deals cannot follow (and `collect` could not align). Refused before any load;
  // --no-stack-handshake is the explicit opt-out.
  if (req.stackHandshake && plan.timeScale > MAX_LIVE_TIME_SCALE && (await isPeakdayStack(target))) {
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
  const segment = req.segment;
  req.sink.log(
    `peakday run: ${plan.profile.name} → ${target.origin} with ${req.driver}: ${plan.durationSeconds.toFixed(0)} s wall, ${plan.timeScale.toFixed(2)}x, ${req.closedLoop ? `closed loop of ${req.closedLoop.vus} virtual users per scenario` : `${plannedIterations(plan)} iterations planned`}${segment ? ` (segment ${segment.index}/${segment.count})` : ''}${req.generators ? ` on ${req.generators} ${req.fleet ? 'ECS Fargate tasks' : 'local k6 processes'} (segment i/${req.generators} each)` : ''}${req.driver === 'builtin' && workers > 1 ? ` on ${workers} engine workers` : ''}`,
  );
  const generators = req.generators;
  const fleet = req.fleet;
  const driver: Driver =
    fleet && generators
      ? async (r) =>
          (await import('./fleet.ts')).runEcsFleetDriver({
            ...r,
            generators,
            fleetFile: fleet.fleetFile,
            ...(fleet.cluster ? { cluster: fleet.cluster } : {}),
          })
      : generators
        ? async (r) => (await import('../engine/k6/local-fleet.ts')).runLocalK6Fleet({ ...r, generators })
        : drivers[req.driver];
  const outcome = await driver({
    plan,
    target,
    outDir,
    options,
    abortRules,
    timeoutMs: req.timeoutMs,
    ...(req.connections ? { connections: req.connections } : {}),
    scheduler: req.scheduler,
    ...(req.spinAboveRps ? { spinAboveRps: req.spinAboveRps } : {}),
    ...(req.preconnect !== undefined ? { preconnect: req.preconnect } : {}),
    ...(req.warmUpSeconds !== undefined ? { warmUpSeconds: req.warmUpSeconds } : {}),
    ...(req.driver === 'builtin' ? { workers } : {}),
    ...(req.closedLoop ? { closedLoop: req.closedLoop } : {}),
    ...(resolved.pools ? { pools: resolved.pools } : {}),
    userPools: resolved.userPools,
    ...(req.sink.engineProgress ? { progress: req.sink.engineProgress } : {}),
    ...(req.signal ? { signal: req.signal } : {}),
    noHandshake: !req.stackHandshake,
    ...(req.stackHandshake === 'required' ? { stackRequired: true } : {}),
    ...(req.k6Bin ? { k6Bin: req.k6Bin } : {}),
  });
  req.sink.runFinished?.(outcome);
  // An engine run its load generator's own failure stopped (exit 8: engine.ts onLocalFailure) has said
  // so; its failed requests are not the target's.
  const ownFailure = req.driver === 'builtin' && outcome.exitCode === ExitCode.environment;
  const failures = ownFailure ? null : describeFailures(outcome.summary, target.host);
  if (failures) req.sink.log(`failed requests: ${failures}`);
  return outcome;
}
