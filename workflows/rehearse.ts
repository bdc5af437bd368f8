/**
 * `peakday rehearse <profile>`: the product's main job, chaining the stages through their run
 * directories: local stack up (with the autoscaler) → live run of the profile's rehearsal window(s)
 * at ≤ 60x → collect the stack's telemetry → capacity per task measured from the run → the
 * simulator replays the live window (its agreement with the live run is measured) and plays the whole
 * event at the requested peak → reports → stack down. Everything is torn down on Ctrl-C too, and
 * whatever was measured stays in the rehearsal directory:
 *
 *   <dir>/live/        the live run (plan, series, summary, timeline, scaling activities, report/)
 *   <dir>/replay/      the simulator's replay of the live window, with validation.json
 *   <dir>/event/       the whole event simulated at --peak-rps (report/)
 *   <dir>/calibration.json, rehearsal.json, rehearsal.md
 *   <dir>/scaling.yaml  a copy of the scaling file the stack and the replay ran with (--scaling), so a
 *                       later replay of the live run (bench/simulator-validation.ts) uses the same one
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { CalibrationFile } from '../core/calibration-file.ts';
import { readConfig } from '../core/config.ts';
import { ExitCode, PeakdayError } from '../core/errors.ts';
import { createRunId, readActivities, readTimeline } from '../core/run-directory.ts';
import { RUN_FILES, type ScalingActivity } from '../core/run-format.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import type { SupervisorOptions } from '../reference-stack/orchestrator/supervisor.ts';
import type { Arch } from '../reference-stack/topology.ts';
import {
  DEFAULT_DECISION_MARGIN,
  describeLiveMargins,
  scalingMargins,
} from '../reports/findings/scaling-margin.ts';
import { formatEventTime } from '../reports/renderers/format.ts';
import type { CompileOptions } from '../scenarios/compile.ts';
import type { PricingTable } from '../simulation/pricing/pricing-table.ts';
import type { SimulateOutcome } from '../simulation/run-simulation.ts';
import type { SimulationResult } from '../simulation/simulate.ts';
import type { Agreement } from '../simulation/validate.ts';
import type { EmulationSummary } from '../telemetry/emulation.ts';
import type { GivenOptions } from './run.ts';
import type { WorkflowSink } from './sink.ts';

/**
 * The copy of `--scaling` in a rehearsal directory, named by rehearsal.json `scalingFile`: a replay
 * of the live run must use the scaling the stack ran with.
 */
export const REHEARSAL_SCALING_FILE = 'scaling.yaml';

/**
 * The rehearsal.json that `dir` belongs to (a rehearsal directory, or its live/ run), parsed, and
 * the rehearsal's directory; null for a bare run or an unreadable file.
 */
function rehearsalRecord(dir: string): { dir: string; record: Record<string, unknown> } | null {
  const abs = resolve(dir);
  for (const candidate of [abs, dirname(abs)]) {
    const file = join(candidate, 'rehearsal.json');
    if (!existsSync(file)) continue;
    // The parent only when `dir` is that rehearsal's own live run.
    if (candidate !== abs && resolve(candidate, 'live') !== abs) continue;
    try {
      return { dir: candidate, record: JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown> };
    } catch {
      return null;
    }
  }
  return null;
}

/**
 * The scaling file a rehearsal's live run ran with, for a replay of it (`simulate --validate`): `dir`
 * is a rehearsal directory or its live/ run, and the rehearsal recorded a copy (rehearsal.json
 * `scalingFile`, relative to the rehearsal). Null for a bare live run or a rehearsal on the default
 * scaling file.
 */
export function recordedScaling(dir: string): string | null {
  const r = rehearsalRecord(dir);
  return r && typeof r.record.scalingFile === 'string' ? resolve(r.dir, r.record.scalingFile) : null;
}

/**
 * The topology a live run ran on, for a replay of it (`simulate --validate`): its rehearsal's
 * `arch`, else its timeline's services (a `monolith` service, or the headless ones). Null when the
 * run says neither (no rehearsal, no timeline collected): then only the user can say. A replay on
 * the other topology compares no service: the validation would judge nothing.
 */
export function recordedArch(dir: string): { arch: Arch; from: string } | null {
  const r = rehearsalRecord(dir);
  if (r && (r.record.arch === 'monolith' || r.record.arch === 'headless'))
    return { arch: r.record.arch, from: 'its rehearsal.json' };
  const live = r && resolve(dir) === r.dir ? join(r.dir, 'live') : resolve(dir);
  let services: string[];
  try {
    services = [...new Set(readTimeline(live).map((t) => t.service))];
  } catch {
    return null;
  }
  if (services.length === 0) return null;
  return { arch: services.includes('monolith') ? 'monolith' : 'headless', from: 'its timeline' };
}

/** What `rehearse` was asked to do. */
export interface RehearseRequest extends LiveWindowRequest {
  /** Requests/s at the event's peak for the whole-event simulation (default: the live run's peak). */
  peakRps?: number;
  out?: string;
}

/** What a live window needs (a rehearsal's steps 1–3, and each of `compare --live`'s runs). */
export interface LiveWindowRequest {
  profile: string;
  arch: Arch;
  /**
   * The live run's compile options (window, wall duration, live peak rate, seed; the config file's
   * defaults applied).
   */
  live: CompileOptions;
  /** The live run's options as the user wrote them, for its meta.json. */
  given?: GivenOptions;
  /** Budgets file: those with abortOnFail stop the live run (exit 99). */
  budgets?: string;
  /** Scaling policies file for the stack and the simulator. */
  scaling?: string;
  /** Gateway port of the local stack (default: any free port). */
  port?: number;
  /** Progress lines, the engine's live status and the live run's summary go here. */
  sink: WorkflowSink;
  /** Aborting it stops the live run and the stack; what was measured is kept (exit 130). */
  signal?: AbortSignal;
}

/** What a rehearsal produced. */
export interface RehearseOutcome {
  dir: string;
  liveDir: string;
  replayDir: string | null;
  eventDir: string | null;
  reports: { live?: string; event?: string };
  exitCode: number;
  summary: string[];
}

/** Runs a rehearsal end to end; returns the exit code to use (0, 97, 99, 130 or 98). */
export async function rehearse(req: RehearseRequest): Promise<RehearseOutcome> {
  const config = readConfig();
  const dir = resolve(req.out ?? join(config.runsDir, createRunId(`${req.profile}-rehearsal`)));
  mkdirSync(dir, { recursive: true });
  const liveDir = join(dir, 'live');
  const log = (line: string) => req.sink.log(line);
  const scaling = loadScaling(req.scaling);
  // The scaling file is part of what the live run measured (a stack pinned at 4 tasks is not the
  // default one): kept with the run before it starts, so even an interrupted rehearsal has it.
  const scalingCopy = req.scaling ? join(dir, REHEARSAL_SCALING_FILE) : null;
  if (req.scaling && scalingCopy && resolve(req.scaling) !== scalingCopy)
    writeFileSync(scalingCopy, readFileSync(req.scaling, 'utf8'));
  const outcome: RehearseOutcome = {
    dir,
    liveDir,
    replayDir: null,
    eventDir: null,
    reports: {},
    exitCode: ExitCode.ok,
    summary: [],
  };

  const { runCode, interrupted } = await runLiveWindow(req, dir, liveDir);
  if (interrupted) {
    outcome.exitCode = ExitCode.interrupted;
    outcome.summary.push(`interrupted: the live run is kept in ${liveDir}`);
    return outcome;
  }

  // 4. Capacity per task from the run, and the simulator's replay of the live window with it (and,
  //    to show what the measurement changed, with the model table).
  log('[4/6] measuring capacity per task and replaying the live window in the simulator');
  const [
    { calibrationFromRun },
    { efficiencyFromCalibration },
    { validateAgainstLive, writeValidation },
    { writeSimulationRun },
  ] = await Promise.all([
    import('../simulation/calibrate-from-run.ts'),
    import('../simulation/efficiency.ts'),
    import('../simulation/validate.ts'),
    import('../simulation/write-run.ts'),
  ]);
  const calibration: CalibrationFile | null = calibrationFromRun(liveDir, req.arch);
  const calibrationPath = calibration ? join(dir, RUN_FILES.calibration) : null;
  if (calibration && calibrationPath)
    writeFileSync(calibrationPath, `${JSON.stringify(calibration, null, 2)}\n`);
  const measured = calibration ? efficiencyFromCalibration(calibration) : undefined;
  const started = new Date();
  const validation = validateAgainstLive(liveDir, {
    arch: req.arch,
    scaling,
    ...(measured ? { efficiency: measured } : {}),
  });
  const modelValidation = measured ? validateAgainstLive(liveDir, { arch: req.arch, scaling }) : null;
  outcome.replayDir = join(dir, 'replay');
  writeSimulationRun(
    outcome.replayDir,
    validation.plan,
    validation.result,
    { replayOf: liveDir, arch: req.arch, calibration: calibrationPath, scaling: scalingCopy },
    started,
  );
  writeValidation(outcome.replayDir, validation.report);
  if (modelValidation)
    writeFileSync(
      join(outcome.replayDir, MODEL_TABLE_VALIDATION_FILE),
      `${JSON.stringify(modelValidation.report, null, 2)}\n`,
    );

  // 5. The whole event at the requested peak, with the measured capacity (and with the model table).
  log('[5/6] simulating the whole event');
  const { resolvePricing } = await import('../simulation/pricing/pricing-table.ts');
  const pricing = resolvePricing({
    region: config.pricing.region,
    overrides: config.pricing.overrides,
  });
  const livePeak = validation.plan.peakRps;
  const { event, projection } = await simulateRehearsalEvent({
    profile: req.profile,
    arch: req.arch,
    peakRps: req.peakRps ?? livePeak,
    ...(req.live.seed !== undefined ? { seed: req.live.seed } : {}),
    ...(req.scaling ? { scalingFile: req.scaling } : {}),
    calibration,
    calibrationPath,
    out: join(dir, 'event'),
    pricing,
  });
  outcome.eventDir = event.dir;
  log(
    `      ${((event.plan.eventEnd - event.plan.eventStart) / 3600).toFixed(1)} h of event in ${(event.elapsedMs / 1000).toFixed(1)} s`,
  );
  const { generateReport, reportAssumptionsFromConfig } = await import('../reports/generate.ts');
  const decisionMargin = reportAssumptionsFromConfig(config).decisionMargin ?? DEFAULT_DECISION_MARGIN;
  const projectionLine = describeProjection(projection, decisionMargin);
  log(`      ${projectionLine}`);

  // 6. Reports.
  log('[6/6] writing the reports');
  const { createResimulate } = await import('./resimulate.ts');
  const now = new Date().toISOString();
  // Every recommendation is checked by re-simulating with it applied (before/after in the report),
  // with the capacity the run was simulated with.
  const reportOf = (runDir: string, plan: typeof event.plan) =>
    generateReport(runDir, {
      outDir: join(runDir, 'report'),
      config,
      now,
      resimulate: createResimulate(plan, {
        arch: req.arch,
        scaling,
        seed: plan.seed,
        pricing,
        ...(measured ? { efficiency: measured } : {}),
      }),
    });
  const live = await reportOf(liveDir, validation.plan);
  outcome.reports.live = live.files.html?.[0];
  const ev = await reportOf(event.dir, event.plan);
  outcome.reports.event = ev.files.html?.[0];

  const v = validation.report;
  const m = modelValidation?.report ?? null;
  const liveMargins = describeLiveMargins(
    readActivities(liveDir),
    [
      { label: m ? 'replay, measured capacity' : 'replay', activities: validation.result.activities },
      ...(modelValidation
        ? [{ label: 'replay, model table', activities: modelValidation.result.activities }]
        : []),
    ],
    decisionMargin,
    calibration,
  );
  const emulation = readTelemetryEmulation(liveDir);
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const num = (x: number | null | undefined, d = 0) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
  // One row per quantity: the live value, then the replay with the measured capacity, then (when a
  // calibration was measured) the replay with the model table, each with its error.
  const row = (q: string, a: Agreement, b: Agreement | undefined, d = 0) =>
    `| ${q} | ${num(a.live, d)} | ${num(a.simulated, d)} | ${pct(a.relativeError)} |${m ? ` ${num(b?.simulated, d)} | ${pct(b?.relativeError ?? null)} |` : ''}`;
  const lines = [
    `# Rehearsal: ${req.profile} (${req.arch})`,
    '',
    `- live run: \`${liveDir}\` — report \`${outcome.reports.live ?? 'not written'}\``,
    `- whole event simulated at ${Math.round(event.plan.peakRps).toLocaleString('en-US')} req/s peak: \`${event.dir}\` — report \`${outcome.reports.event ?? 'not written'}\``,
    `- simulator replay of the live window: \`${outcome.replayDir}\` (validation.json${m ? `; with the model table: ${MODEL_TABLE_VALIDATION_FILE}` : ''})`,
    `- capacity per task: ${calibrationPath ? `\`${calibrationPath}\`` : 'the model table (nothing measured)'}`,
    '',
    `**Whole event:** ${projectionLine}`,
    '',
    ...(emulation ? [`**Emulation:** ${describeEmulation(emulation)}`, ''] : []),
    '## Agreement of the simulator with the live run',
    '',
    m
      ? '| quantity | live | replay, measured capacity | error | replay, model table | error |'
      : '| quantity | live | replay, model table | error |',
    m ? '|---|---|---|---|---|---|' : '|---|---|---|---|',
    ...Object.entries(v.tasks).map(([s, a]) => row(`mean running tasks, ${s}`, a, m?.tasks[s], 2)),
    row('p95 latency, all (ms)', v.p95, m?.p95),
    ...Object.entries(v.p95ByChannel).map(([c, a]) => row(`p95 latency, ${c} (ms)`, a, m?.p95ByChannel[c])),
    `| error rate | ${pct(v.errorRate.live)} | ${pct(v.errorRate.simulated)} | ${pct(v.errorRate.absoluteDifference)} (absolute) |${m ? ` ${pct(m.errorRate.simulated)} | ${pct(m.errorRate.absoluteDifference)} (absolute) |` : ''}`,
    '',
    `Within the targets (tasks ±${v.bounds.tasks * 100}%, p95 ±${v.bounds.p95 * 100}%, errors ±${v.bounds.errorPoints * 100} points)${m ? ' with the measured capacity' : ''}: tasks ${v.withinBound.tasks ? 'yes' : 'no'}, p95 ${v.withinBound.p95 ? 'yes' : 'no'}, errors ${v.withinBound.errors ? 'yes' : 'no'}.${m ? ` With the model table: tasks ${m.withinBound.tasks ? 'yes' : 'no'}, p95 ${m.withinBound.p95 ? 'yes' : 'no'}, errors ${m.withinBound.errors ? 'yes' : 'no'}.` : ''}`,
    ...v.notes.map((n) => `- note: ${n}`),
    '',
    ...liveMargins,
    ...(liveMargins.length > 0 ? [''] : []),
    ...(calibration
      ? [
          '## Capacity per task measured in the live run',
          '',
          '| service | req/s per task | efficiency vs model | ± |',
          '|---|---|---|---|',
          ...Object.entries(calibration.services).map(
            ([s, e]) =>
              `| ${s} | ${e.capacityRpsPerTask} | ${e.efficiency} | ${pct(e.uncertainty ?? null)} |`,
          ),
          ...Object.entries(calibration.unmeasured ?? {}).map(
            ([s, why]) => `| ${s} | model table | 1 (not measured: ${why}) | |`,
          ),
        ]
      : ['No service was busy enough in the live run to measure its capacity per task.']),
    '',
  ];
  writeFileSync(join(dir, 'rehearsal.md'), lines.join('\n'));
  writeFileSync(
    join(dir, 'rehearsal.json'),
    `${JSON.stringify(
      {
        profile: req.profile,
        arch: req.arch,
        liveDir,
        replayDir: outcome.replayDir,
        eventDir: event.dir,
        calibration: calibrationPath,
        // Relative to the rehearsal directory (it may move); absent: the default scaling file.
        ...(req.scaling ? { scalingFile: REHEARSAL_SCALING_FILE, scalingSource: resolve(req.scaling) } : {}),
        reports: outcome.reports,
        validation: v,
        validationModelTable: m,
        eventProjection: projection,
        runExitCode: runCode,
      },
      null,
      2,
    )}\n`,
  );
  if (emulation) outcome.summary.push(describeEmulation(emulation));
  outcome.summary.push(...live.summary, `whole event: ${projectionLine}`);
  outcome.exitCode = runCode;
  if (!live.report.run.valid) {
    outcome.summary.push('the live run was marked invalid: its numbers cannot be trusted (see the report)');
    if (outcome.exitCode === ExitCode.ok) outcome.exitCode = ExitCode.noVerdict;
  }
  return outcome;
}

/** One line on whether the local stack's emulation held in the live run (telemetry.json `emulation`). */
export function describeEmulation(e: EmulationSummary): string {
  const worst = e.worstPeriods[0];
  return e.heldFraction === null
    ? 'emulation: no service-period had a request'
    : `emulation held in ${e.heldPeriods} of ${e.periods} service-periods (${Math.round(e.heldFraction * 100)}%)${worst ? `; worst: ${worst.service} at ${formatEventTime(worst.t)}, the host added ${Math.round(worst.addedFraction * 100)}% to service time` : ''}`;
}

function readTelemetryEmulation(runDir: string): EmulationSummary | null {
  try {
    const info = JSON.parse(readFileSync(join(runDir, RUN_FILES.telemetry), 'utf8')) as {
      emulation?: EmulationSummary;
    };
    return info.emulation ?? null;
  } catch {
    return null;
  }
}

/** The replay's agreement with the live run when it uses the model table instead of the measured capacity. */
export const MODEL_TABLE_VALIDATION_FILE = 'validation-model-table.json';

/** The p95 (ms) above which an event minute counts as breached in the projection (as in the recommendation checks). */
const PROJECTION_P95_MS = 2000;

/** What the whole event projects under one capacity basis. */
export interface EventProjectionSide {
  /** Most tasks each service ran during the event. */
  peakTasks: Record<string, number>;
  /** Tasks the busiest period needed at the service's CPU target (what target tracking settles at). */
  neededAtPeak: Record<string, number>;
  /** Event minutes with > 1% failed requests or an estimated p95 above {@link PROJECTION_P95_MS}. */
  breachMinutes: number;
  /** Fargate compute (vCPU-hours and GB-hours, x86) priced with the configured table, USD. */
  computeUsd: number;
  /**
   * Per service, its scale-out nearest to another capacity: the margin as a share of the metric
   * (reports/findings/scaling-margin.ts); absent for a service that did not scale out.
   */
  closestScaleOut: Record<string, number>;
}

/** The whole event with the capacity measured in the live run, next to the model table's projection. */
export interface EventProjection {
  /** Services simulated with their measured capacity per task. */
  measured: string[];
  /** Their measured capacity per task over the model table's (calibration `efficiency`). */
  efficiency: Record<string, number>;
  /** Services simulated with the model table, and why. */
  modelTable: Record<string, string>;
  /** With the measured capacity; null when the live run measured nothing. */
  withMeasured: EventProjectionSide | null;
  withModelTable: EventProjectionSide;
  breachDefinition: string;
}

/** What {@link simulateRehearsalEvent} needs. */
export interface RehearsalEventRequest {
  profile: string;
  arch: Arch;
  /** Requests/s at the event's peak. */
  peakRps: number;
  seed?: number;
  scalingFile?: string;
  /** Capacity per task measured in the live run (null: nothing measured, the model table throughout). */
  calibration: CalibrationFile | null;
  /** Where that calibration was written, named in the event's meta.json. */
  calibrationPath: string | null;
  out: string;
  pricing: PricingTable;
}

/**
 * Step 5 of a rehearsal: the whole event at the requested peak, simulated with the capacity per
 * task the live run measured (the model table only for services it could not measure) and written to
 * `out`; and the same event with the model table throughout, kept in memory, so the rehearsal can say
 * what the measurement changed.
 */
export async function simulateRehearsalEvent(
  req: RehearsalEventRequest,
): Promise<{ event: SimulateOutcome; projection: EventProjection }> {
  const [{ simulateProfile }, { simulate }, { breachMinutes, fargateComputeCost }] = await Promise.all([
    import('../simulation/run-simulation.ts'),
    import('../simulation/simulate.ts'),
    import('../simulation/cost.ts'),
  ]);
  const event = simulateProfile({
    profile: req.profile,
    arch: req.arch,
    flags: { peakRps: String(req.peakRps), ...(req.seed !== undefined ? { seed: String(req.seed) } : {}) },
    ...(req.scalingFile ? { scalingFile: req.scalingFile } : {}),
    ...(req.calibration ? { calibration: req.calibration } : {}),
    ...(req.calibrationPath ? { calibrationFile: req.calibrationPath } : {}),
    // The rehearsal projects what the local stack measured: the local emulation, said so in the run.
    capacity: 'emulated',
    seeds: 1,
    out: req.out,
  });
  const side = (r: SimulationResult): EventProjectionSide => {
    const services = Object.entries(r.findings.services);
    return {
      peakTasks: Object.fromEntries(services.map(([s, f]) => [s, f.peakTasks])),
      neededAtPeak: Object.fromEntries(services.map(([s, f]) => [s, f.neededAtPeak])),
      breachMinutes: Math.round(breachMinutes(r, PROJECTION_P95_MS).total * 10) / 10,
      computeUsd: Math.round(fargateComputeCost(r, req.pricing).usd * 100) / 100,
      closestScaleOut: closestScaleOuts(r.activities),
    };
  };
  const services = Object.entries(event.result.findings.services);
  const measured = services.filter(([, f]) => f.capacityProvenance === 'measured').map(([s]) => s);
  const withModelTable =
    measured.length > 0
      ? side(
          simulate(event.plan, {
            arch: req.arch,
            scaling: loadScaling(req.scalingFile),
            seed: event.plan.seed,
          }),
        )
      : side(event.result);
  return {
    event,
    projection: {
      measured,
      efficiency: Object.fromEntries(measured.map((s) => [s, req.calibration?.services[s]?.efficiency ?? 1])),
      modelTable: Object.fromEntries(
        services
          .filter(([, f]) => f.capacityProvenance !== 'measured')
          .map(([s, f]) => [s, f.capacitySource]),
      ),
      withMeasured: measured.length > 0 ? side(event.result) : null,
      withModelTable,
      breachDefinition: `an event minute with > 1% failed requests or an estimated p95 above ${PROJECTION_P95_MS} ms`,
    },
  };
}

/** Per service, the smallest margin of its scale-outs from another capacity. */
function closestScaleOuts(activities: readonly ScalingActivity[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of scalingMargins(activities)) out[m.service] = Math.min(out[m.service] ?? 1, m.margin);
  return out;
}

/**
 * The rehearsal summary's one line on the whole event: the measured projection and how the model
 * table differs. Where a service's peaks are one task apart on capacities less than `decisionMargin`
 * apart, and either projection scaled it within that margin of another capacity, the line says the
 * difference sits on a knee.
 */
export function describeProjection(p: EventProjection, decisionMargin = DEFAULT_DECISION_MARGIN): string {
  const usd = (x: number) =>
    `$${x.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
  const unmeasured = Object.keys(p.modelTable);
  if (!p.withMeasured) {
    const t = p.withModelTable;
    return `with the model table (the live run measured no service's capacity): peak tasks ${Object.entries(
      t.peakTasks,
    )
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}; ${t.breachMinutes} breach minutes; Fargate compute ${usd(t.computeUsd)}`;
  }
  const a = p.withMeasured;
  const b = p.withModelTable;
  return `with the measured capacity (${p.measured.join(', ')}${unmeasured.length > 0 ? `; model table for ${unmeasured.join(', ')}` : ''}): peak tasks (model table where it differs) ${Object.entries(
    a.peakTasks,
  )
    .map(([s, n]) => {
      if (b.peakTasks[s] === n) return `${s} ${n}`;
      // One task apart on capacities closer than the margin, with a scale-out nearer another capacity
      // than the two differ: the knee decided it, not the measurement.
      const knee = Math.min(a.closestScaleOut[s] ?? 1, b.closestScaleOut[s] ?? 1);
      const apart = Math.abs((p.efficiency[s] ?? 1) - 1);
      const why =
        Math.abs(n - (b.peakTasks[s] ?? n)) === 1 && knee < decisionMargin && apart < decisionMargin
          ? `; capacities ${(apart * 100).toFixed(1)}% apart and a scale-out ${(knee * 100).toFixed(1)}% from another capacity: a knee`
          : '';
      return `${s} ${n} (model table ${b.peakTasks[s] ?? 'n/a'}${why})`;
    })
    .join(
      ', ',
    )}; ${a.breachMinutes} breach minutes (model table ${b.breachMinutes}); Fargate compute ${usd(a.computeUsd)} (model table ${usd(b.computeUsd)})`;
}

/**
 * The local stack runs at this niceness below the rehearsal's engine (detach.ts DetachOptions): the
 * load generator and the system it measures share the host's cores, and the engine's schedule is what
 * makes a run valid, so its wake-ups come first.
 */
const STACK_NICENESS = 10;
/**
 * How long a rehearsal's stack may outlive the rehearsal (s): a safety net for a killed rehearsal,
 * well beyond any rehearsal window (the built-in profiles' are 2–3 minutes of wall time).
 */
const SUPERVISOR_TTL_SECONDS = 3600;

/**
 * The rehearsal's stack, as `peakday stack up --detach` starts one: on loopback, its state in the
 * rehearsal directory, with the autoscaler, and seeded with the live run's plan seed. A task's start
 * latency is drawn from (seed, service, task id), and the replay draws its tasks from the plan's seed
 * (simulation/validate.ts), so the stack draws from it too: a live task then starts when the replay's
 * does. (Until 2026-12-04 session 17 the stack always took seed 1, right only for the default plan.)
 */
export function rehearsalStackOptions(
  req: Pick<LiveWindowRequest, 'arch' | 'port' | 'scaling'>,
  dir: string,
  planSeed: number,
): Omit<SupervisorOptions, 'mode' | 'log'> {
  return {
    cwd: dir,
    arch: req.arch,
    host: '127.0.0.1',
    port: req.port ?? 0,
    dataDir: join(dir, 'stack-data'),
    ...(req.scaling ? { scalingFile: req.scaling } : {}),
    autoscaling: true,
    ttlSeconds: SUPERVISOR_TTL_SECONDS,
    seed: planSeed,
  };
}

/** What a live window produced: the engine's exit code and whether Ctrl-C stopped it. */
export interface LiveWindowOutcome {
  runCode: number;
  interrupted: boolean;
}

/**
 * Steps 1–3 of a rehearsal, also used by `peakday compare --live`: the local stack up (with the
 * autoscaler) → live run of the profile's rehearsal window(s) into `liveDir` → the stack's telemetry
 * collected → stack down. Owns Ctrl-C while it runs; the stack is stopped on error and on Ctrl-C.
 * `step` labels the progress lines (rehearse's `[n/6]`).
 */
export async function runLiveWindow(
  req: LiveWindowRequest,
  dir: string,
  liveDir: string,
  step: (n: number) => string = (n) => `[${n}/6]`,
): Promise<LiveWindowOutcome> {
  const log = (line: string) => req.sink.log(line);
  let interrupted = false;
  let runCode: number = ExitCode.ok;
  // 0. Whether this host can emulate the live window's rate faithfully (before anything starts).
  const [{ resolvePlan }, { hostFitWarning }] = await Promise.all([
    import('./run.ts'),
    import('../reference-stack/capacity/host-fit.ts'),
  ]);
  const { plan: livePlan } = await resolvePlan({ profile: req.profile, compile: req.live });
  const fitWarning = hostFitWarning(req.arch, livePlan.peakRps, availableParallelism());
  if (fitWarning) log(`warning: ${fitWarning}`);
  // 1. The local stack, supervised by its own process (as `peakday stack up --detach` runs it): the
  //    supervisor proxies every request through its ALB-like balancers, and on the engine's event loop
  //    it blocked the engine (event-loop delay p99 56 ms, scheduler lag p99 252 ms in a flash-sale
  //    rehearsal on 2 cores), making the live run invalid. Its state lives in the rehearsal directory;
  //    a time-to-live stops it even if this process is killed.
  log(`${step(1)} starting the ${req.arch} reference stack`);
  const [{ followSupervisorLog, startDetachedSupervisor }, { stopStack }] = await Promise.all([
    import('../reference-stack/orchestrator/detach.ts'),
    import('../reference-stack/orchestrator/down.ts'),
  ]);
  const started = await startDetachedSupervisor(rehearsalStackOptions(req, dir, livePlan.seed), {
    niceness: STACK_NICENESS,
  });
  // Its scaling activities and other events, as it logs them, shown here as they were in-process.
  const stopFollowing = followSupervisorLog(started.logFile, (l) => log(`      ${l}`));
  const { url, dataDir } = started.state;
  log(`      supervisor log: ${started.logFile}`);
  try {
    log(`      stack ready at ${url}`);
    // 2. The live run (the engine sets the stack's event clock through the handshake).
    log(`${step(2)} live run of the rehearsal window`);
    const { runWorkflow, DEFAULT_TIMEOUT_MS } = await import('./run.ts');
    const run = await runWorkflow({
      source: { profile: req.profile, compile: req.live },
      target: url,
      out: liveDir,
      allowHosts: [],
      driver: readConfig().defaults.driver ?? 'builtin',
      timeoutMs: DEFAULT_TIMEOUT_MS,
      scheduler: 'auto',
      // The target is our own local stack: a breach during scale-out lag is what the rehearsal is
      // for, so the circuit breaker that protects real systems stays off (budgets may still abort).
      circuitBreaker: null,
      stackHandshake: 'required',
      ...(req.given ? { given: req.given } : {}),
      ...(req.budgets ? { budgetsFile: req.budgets } : {}),
      sink: req.sink,
      ...(req.signal ? { signal: req.signal } : {}),
    });
    runCode = run.exitCode;
    if (runCode === ExitCode.interrupted || req.signal?.aborted) interrupted = true;
    // 3. Telemetry, while the stack's files are there.
    log(`${step(3)} collecting the stack’s telemetry`);
    const { collectTelemetry } = await import('../telemetry/collect.ts');
    try {
      const { info } = await collectTelemetry(liveDir, 'local', { stackDir: dataDir });
      log(
        `      ${info.records} timeline records, ${info.activities} scaling activities${info.partial ? ' (partial)' : ''}`,
      );
      if (info.emulation) log(`      ${describeEmulation(info.emulation)}`);
    } catch (e) {
      // Interrupted before the stack wrote a metric: keep the interruption as the outcome (exit 130).
      if (interrupted || req.signal?.aborted) {
        log(`      no telemetry collected: ${(e as Error).message}`);
      } else if (e instanceof PeakdayError && e.code === 'telemetry-no-data') {
        // The rehearsal's own stack, at its own data directory: not the user's input. A stack that
        // wrote nothing over the run was starved (or died); the live run is kept.
        throw new PeakdayError(
          'rehearsal-no-telemetry',
          `the rehearsal's stack wrote no metrics over its live run: ${e.message}`,
          {
            hint: `the live run is kept in ${liveDir} (peakday report works on it); rerun on a quieter host, and see the stack's supervisor log ${started.logFile}`,
            cause: e,
          },
        );
      } else throw e;
    }
  } finally {
    log('      stopping the stack');
    const r = await stopStack(dir);
    stopFollowing();
    log(
      `      stack stopped (${interrupted || req.signal?.aborted ? 'interrupted' : 'rehearsal done'})${'killed' in r && r.killed ? ': it had to be killed' : ''}`,
    );
  }
  return { runCode, interrupted: interrupted || req.signal?.aborted === true };
}
