/**
 * `peakday probe`: the I/O edge around simulation/probe.ts. It resolves the mix and the latency
 * budget, starts the local stack in-process with scaling off and the replica count pinned (or uses
 * the user's `--target`, whose replicas the user pins), plays each constant-rate step with the
 * embedded engine into its own run directory, reads the stack's telemetry for the step, and writes
 * `calibration.json` (the shared calibration format plus the probe's steps and knee):
 *
 *   <dir>/warmup/                 the unmeasured warm-up at the lowest rate
 *   <dir>/step-01/ ... step-NN/   each step's run directory (plan, series, summary, timeline)
 *   <dir>/calibration.json        `peakday simulate --calibration <dir>` reads it
 *   <dir>/stack-data/             the local stack's data and telemetry (local stack only)
 *
 * Ctrl-C stops the current step, stops the stack, and still writes what was measured.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readConfig } from '../core/config.ts';
import { ExitCode, invalidInput, PeakdayError } from '../core/errors.ts';
import { MAX_LIVE_TIME_SCALE } from '../core/event-clock.ts';
import { createRunId } from '../core/run-directory.ts';
import { RUN_FILES, type RunSummary, type TimelineRecord } from '../core/run-format.ts';
import type { OverloadCause } from '../engine/abort-rules.ts';
import type { RunOutcome } from '../engine/run.ts';
import type { Supervisor } from '../reference-stack/orchestrator/supervisor.ts';
import {
  type Arch,
  DEFAULT_TASK_SIZES,
  MIN_TASKS,
  servicesOf,
  TOPOLOGIES,
} from '../reference-stack/topology.ts';
import type { Budget } from '../scenarios/budgets/budget.ts';
import { modelDemandPerRequest } from '../simulation/calibrate-from-run.ts';
import {
  buildStepPlan,
  computeProbeCalibration,
  DEFAULT_KNEE_CRITERIA,
  DEFAULT_PROBE_P95_MS,
  findKnee,
  geometricSteps,
  type KneeCriteria,
  mixTouching,
  modelCpuMsPerPublicRequest,
  modelKneeRps,
  type ProbeCalibrationFile,
  type ProbeMixEntry,
  type ProbeServiceStep,
  type ProbeStepMeasurement,
  unitMixPlan,
} from '../simulation/probe.ts';
import type { WorkflowSink } from './sink.ts';

/** The profile whose channels and journeys make the default mix (every channel and journey). */
export const PROBE_MIX_PROFILE = 'ci-smoke';
/** Default wall seconds per step, and the first seconds of each step not measured (settling). */
export const DEFAULT_HOLD_SECONDS = 8;
export const DEFAULT_SETTLE_SECONDS = 2;
/** Default unmeasured warm-up before the first step (an assumption: enough for a fresh stack's JIT and pools). */
export const DEFAULT_WARMUP_SECONDS = 5;
/** Default step count; steps are geometric from 25% to 150% of the model's knee (an assumption). */
export const DEFAULT_STEP_COUNT = 6;

/** What `peakday probe` was asked to do, flags parsed. */
export interface ProbeRequest {
  /** A user's own system; omitted: the local stack of `arch`. */
  target?: URL;
  arch: Arch;
  service?: string;
  journey?: string;
  /** Tasks per service: pinned on the local stack, declared by the user for a target. */
  replicas?: number;
  budgets?: string;
  p95Ms?: number;
  out?: string;
  /** Offered req/s per step, rising; default: geometric around the model's knee. */
  steps?: number[];
  holdSeconds?: number;
  settleSeconds?: number;
  /** Wall seconds of unmeasured load at the lowest rate before the first step (default 5; 0: none). */
  warmupSeconds?: number;
  /** Stop after the first failing step once a step has passed (default true). */
  stopAtKnee?: boolean;
  seed?: number;
  port?: number;
  /** Progress lines (the CLI writes them to stderr). */
  sink: WorkflowSink;
  /** Aborting it stops the current step and the stack; what was measured is still written (exit 130). */
  signal?: AbortSignal;
}

/** What a probe produced. */
export interface ProbeOutcome {
  dir: string;
  calibration: ProbeCalibrationFile;
  exitCode: number;
}

/** The default mix: every (channel, journey) of the ci-smoke profile, weighted by its iterations. */
async function defaultMix(): Promise<ProbeMixEntry[]> {
  const [{ loadProfile }, { compilePlan }] = await Promise.all([
    import('../scenarios/profile.ts'),
    import('../scenarios/compile.ts'),
  ]);
  const plan = compilePlan(loadProfile(PROBE_MIX_PROFILE), {});
  return plan.scenarios.flatMap((s) => {
    const journey = plan.journeys[s.journey];
    return journey && s.iterations > 0 ? [{ channel: s.channel, journey, weight: s.iterations }] : [];
  });
}

/** Resolves `--journey` / `--service` into the mix; every bad name is an exit-2 error. */
export async function resolveMix(arch: Arch, journey?: string, service?: string): Promise<ProbeMixEntry[]> {
  let mix = await defaultMix();
  if (journey !== undefined) {
    const { builtinJourneys } = await import('../scenarios/profile.ts');
    const inMix = mix.filter((m) => m.journey.name === journey);
    const builtin = builtinJourneys()[journey];
    if (inMix.length > 0) mix = inMix;
    else if (builtin) {
      const channel = builtin.steps.some((s) => s.graphql) ? 'mobile-app' : 'web';
      mix = [{ channel, journey: builtin, weight: 1 }];
    } else
      throw invalidInput(
        'invalid-flag',
        `--journey: "${journey}" is not a built-in journey`,
        `use one of: ${Object.keys(builtinJourneys()).join(', ')}`,
      );
  }
  if (service !== undefined) {
    const names = servicesOf(arch).filter((s) => s !== 'bus');
    if (!(names as string[]).includes(service))
      throw invalidInput(
        'invalid-flag',
        `--service: "${service}" is not a service of the ${arch} topology`,
        `use one of: ${names.join(', ')}`,
      );
    const touching = mixTouching(mix, arch, service);
    if (touching.length === 0)
      throw invalidInput(
        'invalid-flag',
        `--service: no journey${journey ? ` "${journey}"` : ''} of the mix touches ${service}`,
        'drop --journey, or pick a journey that calls this service',
      );
    mix = touching;
  }
  return mix;
}

/** The tightest unscoped p95 latency budget of a budgets file (scoped ones when none is unscoped). */
export function p95FromBudgets(budgets: readonly Budget[], file: string): { p95Ms: number; note?: string } {
  const p95 = budgets.filter(
    (b) =>
      b.metric === 'latency' &&
      b.stat.kind === 'percentile' &&
      b.stat.p === 95 &&
      (b.op === '<' || b.op === '<='),
  );
  const unscoped = p95.filter((b) => !b.scope.channel && !b.scope.journey && !b.scope.step);
  const pool = unscoped.length > 0 ? unscoped : p95;
  if (pool.length === 0)
    throw invalidInput(
      'probe-no-budget',
      `${file}: no p95 latency budget (e.g. \`latency: p95 < 1s\`) to find the knee against`,
      'add one, or pass --p95 <ms>',
    );
  const limit = Math.min(...pool.map((b) => b.limit));
  return unscoped.length > 0
    ? { p95Ms: limit }
    : {
        p95Ms: limit,
        note: `no unscoped p95 budget in ${file}: using the tightest scoped one (${limit} ms) for the whole mix`,
      };
}

/** What turns the entry's request count into each service's predicted CPU. */
export interface ProbeCpuModel {
  /** The deployable every public request enters (gateway or monolith). */
  entry: string;
  cpuMsPerPublicRequest: Record<string, number>;
  vcpu: Record<string, number>;
}

/**
 * Folds one step's timeline into per-service measurements, skipping the settling periods; with a
 * CPU model, each sample carries the CPU the model predicts for the public requests the entry
 * served in that period. Pure.
 */
export function serviceSteps(
  timeline: readonly TimelineRecord[],
  window: { eventStart: number; eventEnd: number; timeScale: number; settleSeconds: number },
  model?: ProbeCpuModel,
): Record<string, ProbeServiceStep> {
  const from = window.eventStart + window.settleSeconds * window.timeScale;
  const by = new Map<string, TimelineRecord[]>();
  for (const r of timeline) {
    if (r.partial || r.t < from - 1e-9 || r.t + r.period > window.eventEnd + 1e-9) continue;
    by.set(r.service, [...(by.get(r.service) ?? []), r]);
  }
  const wallOf = (r: TimelineRecord) => r.period / window.timeScale;
  const publicRps = new Map<number, number>();
  if (model)
    for (const r of by.get(model.entry) ?? [])
      if (r.requests !== null) publicRps.set(r.t, r.requests / wallOf(r));
  const out: Record<string, ProbeServiceStep> = {};
  for (const [service, recs] of by) {
    const usable = recs.filter((r) => (r.healthy ?? r.running) > 0 && r.requests !== null);
    if (usable.length === 0) continue;
    const samples = usable.flatMap((r) => {
      const tasks = r.healthy ?? r.running;
      const rps = (r.requests ?? 0) / wallOf(r) / tasks;
      if (r.cpu === null) return [];
      const pub = publicRps.get(r.t);
      const perReq = model?.cpuMsPerPublicRequest[service];
      const vcpu = model?.vcpu[service];
      const modelCpu =
        pub !== undefined && perReq !== undefined && vcpu !== undefined
          ? ((pub * perReq) / (tasks * vcpu * 1000)) * 100
          : undefined;
      return [{ rpsPerTask: rps, cpu: r.cpu, ...(modelCpu !== undefined ? { modelCpu } : {}) }];
    });
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const rpsAll = usable.map((r) => (r.requests ?? 0) / wallOf(r) / (r.healthy ?? r.running));
    out[service] = {
      tasks: Math.round(mean(usable.map((r) => r.healthy ?? r.running)) * 100) / 100,
      rpsPerTask: Math.round(mean(rpsAll) * 100) / 100,
      cpu: samples.length > 0 ? Math.round(mean(samples.map((s) => s.cpu)) * 10) / 10 : null,
      samples,
    };
  }
  return out;
}

/** The step's load figures from its summary (see ProbeStepMeasurement for what counts as an error). Pure. */
export function loadFromSummary(
  summary: RunSummary,
  offeredRps: number,
  holdSeconds: number,
): Pick<
  ProbeStepMeasurement,
  'offeredRps' | 'achievedRps' | 'p95Ms' | 'errorRate' | 'functionalFailureRate' | 'startedRatio'
> {
  const total = summary.requests.total;
  const lat = summary.latency.intended ?? summary.latency.send;
  const e = summary.requests.errors;
  const served = e.timeout + e.refused + e.reset + summary.requests.byStatus['5xx'];
  const it = summary.iterations;
  return {
    offeredRps,
    achievedRps: Math.round((total / holdSeconds) * 100) / 100,
    p95Ms: lat && lat.overall.count > 0 ? lat.overall.p95 : null,
    errorRate: total > 0 ? served / total : 0,
    functionalFailureRate: total > 0 ? (e.check + e.other) / total : 0,
    startedRatio: it.planned > 0 ? it.started / it.planned : 1,
  };
}

/**
 * p95 and achieved req/s over the settled part of a step, from its series: the step records whose
 * 1-s wall interval starts in [settle, hold), latency histograms merged exactly. Null when the series
 * has none (then the summary's whole-step figures stand).
 */
export async function settledLoad(
  stepDir: string,
  settleSeconds: number,
  holdSeconds: number,
): Promise<{ p95Ms: number | null; achievedRps: number } | null> {
  const [{ readRun }, { mergeEncoded, percentilesMs }] = await Promise.all([
    import('../core/run-directory.ts'),
    import('../engine/histogram.ts'),
  ]);
  const hist: string[] = [];
  let requests = 0;
  let seconds = 0;
  const walls = new Set<number>();
  for await (const r of readRun(stepDir).series()) {
    if (r.step === null || r.wall < settleSeconds - 1e-9 || r.wall >= holdSeconds - 1e-9) continue;
    requests += r.requests ?? 0;
    if (r.latency) hist.push(r.latency);
    if (!walls.has(r.wall)) {
      walls.add(r.wall);
      seconds += r.dt;
    }
  }
  if (seconds === 0) return null;
  const p = percentilesMs(mergeEncoded(hist));
  return { p95Ms: p.count > 0 ? p.p95 : null, achievedRps: Math.round((requests / seconds) * 100) / 100 };
}

/** The failures of a target that is not there: no listener, or not reachable at all. */
const NOT_THERE: readonly OverloadCause[] = ['refused', 'other'];

/**
 * Why a warm-up or step says the target is not there, or undefined: the circuit breaker stopped
 * it (5 s of mostly refused or unreachable), or every request of a run too short for the breaker
 * failed that way (at least 5).
 */
export function notAnswering(
  outcome: Pick<RunOutcome, 'exitCode' | 'meta' | 'summary'>,
  host: string,
): string | undefined {
  if (outcome.exitCode === ExitCode.circuitBreaker) return outcome.meta.endDetail ?? 'the target failed';
  const e = outcome.summary.requests.errors;
  const total = outcome.summary.requests.total;
  if (total < 5 || e.refused + e.other < total) return undefined;
  return `every request failed without an answer (${e.refused} refused, ${e.other} other transport errors on ${host}): is the target running?`;
}

async function waitForReplicas(sup: Supervisor, replicas: number, log: (l: string) => void): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const st = sup.stack.status();
    const short = st.services.filter((s) => s.scalable && (s.healthy !== replicas || s.running !== replicas));
    if (short.length === 0) return;
    if (Date.now() > deadline)
      throw invalidInput(
        'probe-replicas',
        `replicas did not settle at ${replicas}: ${short.map((s) => `${s.name} ${s.healthy}/${replicas}`).join(', ')}`,
        'the host may be overloaded; try fewer --replicas',
      );
    log(`      waiting for ${short.map((s) => `${s.name} ${s.healthy}/${replicas}`).join(', ')}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** Runs a probe end to end. */
export async function runProbe(req: ProbeRequest): Promise<ProbeOutcome> {
  const log = (line: string) => req.sink.log(line);
  const holdSeconds = req.holdSeconds ?? DEFAULT_HOLD_SECONDS;
  const settleSeconds = req.settleSeconds ?? Math.min(DEFAULT_SETTLE_SECONDS, Math.floor(holdSeconds / 3));
  const timeScale = MAX_LIVE_TIME_SCALE;
  const replicas = req.replicas ?? (req.target ? undefined : MIN_TASKS);
  const mix = await resolveMix(req.arch, req.journey, req.service);

  const notes: string[] = [];
  let budgetSource = `default p95 ${DEFAULT_PROBE_P95_MS} ms (an assumption; --p95 or --budgets override)`;
  let p95Ms = DEFAULT_PROBE_P95_MS;
  if (req.p95Ms !== undefined) {
    p95Ms = req.p95Ms;
    budgetSource = `--p95 ${req.p95Ms}`;
  } else if (req.budgets) {
    const { readBudgets } = await import('../scenarios/budgets/parse-budgets.ts');
    const b = p95FromBudgets(readBudgets(req.budgets).budgets, req.budgets);
    p95Ms = b.p95Ms;
    budgetSource = `${req.budgets} (p95 ${b.p95Ms} ms)`;
    if (b.note) notes.push(b.note);
  }
  const criteria: KneeCriteria = { p95Ms, ...DEFAULT_KNEE_CRITERIA };

  const mixPlan = unitMixPlan(mix);
  const modelKnee = modelKneeRps(mixPlan, req.arch, replicas ?? MIN_TASKS);
  const rates =
    req.steps ??
    geometricSteps(Math.max(1, modelKnee * 0.25), Math.max(2, modelKnee * 1.5), DEFAULT_STEP_COUNT);

  const config = readConfig();
  const dir = resolve(req.out ?? join(config.runsDir, createRunId('probe')));
  mkdirSync(dir, { recursive: true });

  // The engine stops the current step on the same signal; this stops the steps and the stack.
  let interrupted = false;
  const onAbort = () => {
    interrupted = true;
    log('interrupted: stopping the current step and the stack');
  };
  if (req.signal?.aborted) onAbort();
  else req.signal?.addEventListener('abort', onAbort, { once: true });

  let sup: Supervisor | undefined;
  let stackDir: string | undefined;
  // The run the circuit breaker stopped, and why: the target was not there.
  let targetFailed: { run: string; detail: string } | undefined;
  let target: URL;
  const steps: ProbeStepMeasurement[] = [];
  try {
    if (req.target) {
      target = req.target;
      notes.push(
        replicas === undefined
          ? 'the target’s replica count was not given (--replicas): per-task figures assume the telemetry’s task counts; pin them yourself and keep scaling off'
          : `the user pinned ${replicas} replica(s) per service on ${target.origin} (peakday cannot check that scaling is off)`,
      );
    } else {
      log(`starting the ${req.arch} reference stack (scaling off, ${replicas} replica(s) per service)`);
      const { startSupervisor, DEFAULT_MAX_TASKS } = await import(
        '../reference-stack/orchestrator/supervisor.ts'
      );
      sup = await startSupervisor({
        cwd: dir,
        arch: req.arch,
        host: '127.0.0.1',
        port: req.port ?? 0,
        mode: 'foreground',
        dataDir: join(dir, 'stack-data'),
        autoscaling: false,
        handleSignals: false,
        maxTasks: Math.max(DEFAULT_MAX_TASKS, replicas ?? 0),
        ...(req.seed !== undefined ? { seed: req.seed } : {}),
        log: (l) => log(`      ${l}`),
      });
      stackDir = sup.stack.dataDir;
      target = new URL(sup.stack.url);
      for (const s of sup.stack.status().services)
        if (s.scalable && s.desired !== replicas) sup.stack.setDesiredCount(s.name, replicas as number);
      await waitForReplicas(sup, replicas as number, log);
      notes.push(
        `peakday pinned ${replicas} replica(s) per service on the local ${req.arch} stack, scaling off`,
      );
    }

    const cpuModel: ProbeCpuModel = {
      entry: TOPOLOGIES[req.arch].entry,
      cpuMsPerPublicRequest: modelCpuMsPerPublicRequest(mixPlan, req.arch),
      vcpu: Object.fromEntries(Object.entries(DEFAULT_TASK_SIZES).map(([k, v]) => [k, v.vcpu])),
    };
    const { runBuiltin } = await import('../engine/run.ts');
    const { collectTelemetry } = await import('../telemetry/collect.ts');
    const { createCircuitBreaker } = await import('../engine/abort-rules.ts');
    // The steps are meant to overload the target, so 5xx, timeouts and resets never stop them; a
    // target that is not there (connections refused, unreachable) stops the probe: its steps would
    // measure nothing and put the knee "below the lowest step".
    const notThere = () => [createCircuitBreaker({ target: target.host, causes: NOT_THERE })];
    let telemetryMissing = false;
    // Warm-up: a fresh stack's first seconds (JIT, connection pools, store caches) are slow at
    // any rate; played at the lowest rate and never measured.
    const warmupSeconds = req.warmupSeconds ?? DEFAULT_WARMUP_SECONDS;
    if (warmupSeconds > 0 && !interrupted) {
      log(`warm-up: ${rates[0]} req/s for ${warmupSeconds} s (not measured)`);
      const warm = await runBuiltin({
        plan: buildStepPlan({
          mix,
          rps: rates[0] as number,
          holdSeconds: warmupSeconds,
          timeScale,
          eventStart: 0,
          seed: req.seed ?? 1,
          name: 'probe-warmup',
        }),
        target,
        outDir: join(dir, 'warmup'),
        options: { probe: true, warmup: true },
        abortRules: notThere(),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const gone = notAnswering(warm, target.host);
      if (gone) targetFailed = { run: join(dir, 'warmup'), detail: gone };
    }
    for (let i = 0; i < rates.length && !interrupted && !targetFailed; i++) {
      const rps = rates[i] as number;
      const plan = buildStepPlan({
        mix,
        rps,
        holdSeconds,
        timeScale,
        // Steps apart in event time (10 idle periods between them, the warm-up first), so no
        // telemetry period is shared.
        eventStart: (i + 1) * (Math.max(holdSeconds, warmupSeconds) * timeScale + 600),
        seed: req.seed ?? 1,
        name: `probe-step-${i + 1}`,
      });
      const stepDir = join(dir, `step-${String(i + 1).padStart(2, '0')}`);
      log(`step ${i + 1}/${rates.length}: ${rps} req/s for ${holdSeconds} s`);
      const outcome = await runBuiltin({
        plan,
        target,
        outDir: stepDir,
        options: {
          probe: true,
          step: i + 1,
          rps,
          holdSeconds,
          ...(stackDir ? { stackDataDir: stackDir } : {}),
        },
        abortRules: notThere(),
        ...(req.signal ? { signal: req.signal } : {}),
      });
      const gone = notAnswering(outcome, target.host);
      if (gone) {
        // The target is not there: the step says nothing of its capacity at this rate.
        targetFailed = { run: stepDir, detail: gone };
        notes.push(
          `step ${i + 1} (${rps} req/s) was stopped: ${targetFailed.detail} (its run is in ${stepDir})`,
        );
        break;
      }
      if (outcome.meta.endReason === 'interrupted' || interrupted) {
        // A step cut short measures nothing about its rate: kept on disk, left out of the knee.
        interrupted = true;
        notes.push(`step ${i + 1} (${rps} req/s) was interrupted: left out (its run is in ${stepDir})`);
        break;
      }
      const whole = loadFromSummary(outcome.summary, rps, holdSeconds);
      // Steady state: the settled seconds' p95 and throughput; the whole step's stay for reference.
      const settled = await settledLoad(stepDir, settleSeconds, holdSeconds);
      const load = settled
        ? { ...whole, ...settled, p95WholeStepMs: whole.p95Ms, achievedWholeStepRps: whole.achievedRps }
        : whole;
      let services: Record<string, ProbeServiceStep> = {};
      if (!telemetryMissing && outcome.summary.requests.total > 0) {
        try {
          // A target's telemetry only from the target itself (GET /_peakday/info), never from a
          // stack that happens to run in the working directory: the probe directory has none.
          const { result } = await collectTelemetry(stepDir, 'local', stackDir ? { stackDir } : { cwd: dir });
          services = serviceSteps(
            result.timeline,
            { eventStart: plan.eventStart, eventEnd: plan.eventEnd, timeScale, settleSeconds },
            cpuModel,
          );
        } catch (e) {
          telemetryMissing = true;
          notes.push(
            `no telemetry from ${target.origin} (${(e as Error).message}): only the end-to-end knee is measured, not capacity per service`,
          );
        }
      }
      const m: ProbeStepMeasurement = { ...load, services, dir: stepDir };
      steps.push(m);
      const busiest = Object.entries(services).sort((a, b) => (b[1].cpu ?? 0) - (a[1].cpu ?? 0))[0];
      log(
        `      achieved ${m.achievedRps} req/s, p95 ${m.p95Ms === null ? '—' : Math.round(m.p95Ms)} ms, errors ${(m.errorRate * 100).toFixed(2)}%${busiest ? `, busiest ${busiest[0]} ${busiest[1].cpu ?? '—'}% CPU` : ''}`,
      );
      const knee = findKnee(steps, criteria);
      if ((req.stopAtKnee ?? true) && knee.index !== null && knee.reached) {
        log('      past the knee: stopping');
        break;
      }
    }
  } finally {
    if (sup) {
      log('stopping the stack');
      await sup.shutdown(interrupted ? 'interrupted' : 'probe done');
    }
    req.signal?.removeEventListener('abort', onAbort);
  }
  if (interrupted)
    notes.push(`interrupted after ${steps.length} step(s): the knee is from the steps measured`);
  if (targetFailed && steps.length === 0)
    throw new PeakdayError(
      'probe-target-failing',
      `the probe stopped before it measured a step: ${targetFailed.detail}; no calibration was written (what was sent is in ${targetFailed.run})`,
      { hint: 'start the target, or fix --target, and probe again' },
    );
  if (targetFailed)
    notes.push(
      `the target stopped answering after ${steps.length} step(s): the knee is from the steps measured`,
    );

  const calibration = computeProbeCalibration({
    steps,
    criteria,
    demandCpuMsPerRequest: modelDemandPerRequest(mixPlan, req.arch),
    measuredAt: new Date().toISOString(),
    source: `probe ${dir}`,
    probe: {
      target: req.target ? req.target.origin : `local ${req.arch} stack`,
      arch: req.arch,
      replicasPinnedBy: req.target ? 'user' : 'peakday',
      replicas: replicas ?? null,
      mix: mix.map((m) => `${m.channel}/${m.journey.name}`),
      ...(req.service ? { service: req.service } : {}),
      ...(req.journey ? { journey: req.journey } : {}),
      budgetSource,
      holdSeconds,
      settleSeconds,
      timeScale,
      notes,
    },
  });
  writeFileSync(join(dir, RUN_FILES.calibration), `${JSON.stringify(calibration, null, 2)}\n`);
  return {
    dir,
    calibration,
    exitCode: interrupted ? ExitCode.interrupted : targetFailed ? ExitCode.circuitBreaker : ExitCode.ok,
  };
}
