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
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readConfig } from '../core/config.ts';
import { ExitCode } from '../core/errors.ts';
import { createRunId } from '../core/run-directory.ts';
import { RUN_FILES } from '../core/run-format.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import type { Arch } from '../reference-stack/topology.ts';
import type { CalibrationFile } from '../simulation/calibration-file.ts';

/** What `rehearse` was asked to do. */
export interface RehearseRequest {
  profile: string;
  arch: Arch;
  window?: string;
  /** Requests/s at the event's peak for the whole-event simulation (default: the live run's peak). */
  peakRps?: string;
  /** Wall-clock length of the live run (default: the profile's local duration). */
  duration?: string;
  budgets?: string;
  scaling?: string;
  out?: string;
  port?: number;
  seed?: string;
  /** Print the live run's summary on stderr (a caller whose stdout is its own: `compare --live`). */
  runSummaryToStderr?: boolean;
  log: (line: string) => void;
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
  const log = req.log;
  const scaling = loadScaling(req.scaling);
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

  // 4. Capacity per task from the run, and the simulator's replay of the live window.
  log('[4/6] measuring capacity per task and replaying the live window in the simulator');
  const [{ calibrationFromRun }, { validateAgainstLive, writeValidation }, { writeSimulationRun }] =
    await Promise.all([
      import('../simulation/calibrate-from-run.ts'),
      import('../simulation/validate.ts'),
      import('../simulation/write-run.ts'),
    ]);
  const calibration: CalibrationFile | null = calibrationFromRun(liveDir, req.arch);
  if (calibration)
    writeFileSync(join(dir, RUN_FILES.calibration), `${JSON.stringify(calibration, null, 2)}\n`);
  const started = new Date();
  const validation = validateAgainstLive(liveDir, { arch: req.arch, scaling });
  outcome.replayDir = join(dir, 'replay');
  writeSimulationRun(
    outcome.replayDir,
    validation.plan,
    validation.result,
    { replayOf: liveDir, arch: req.arch },
    started,
  );
  writeValidation(outcome.replayDir, validation.report);

  // 5. The whole event at the requested peak.
  log('[5/6] simulating the whole event');
  const { simulateProfile } = await import('../simulation/run-simulation.ts');
  const livePeak = validation.plan.peakRps;
  const event = simulateProfile({
    profile: req.profile,
    arch: req.arch,
    flags: { peakRps: req.peakRps ?? String(livePeak), ...(req.seed ? { seed: req.seed } : {}) },
    ...(req.scaling ? { scalingFile: req.scaling } : {}),
    seeds: 1,
    out: join(dir, 'event'),
  });
  outcome.eventDir = event.dir;
  log(
    `      ${((event.plan.eventEnd - event.plan.eventStart) / 3600).toFixed(1)} h of event in ${(event.elapsedMs / 1000).toFixed(1)} s`,
  );

  // 6. Reports.
  log('[6/6] writing the reports');
  const [{ generateReport }, { createResimulate }, { resolvePricing }] = await Promise.all([
    import('../reports/generate.ts'),
    import('../simulation/resimulate.ts'),
    import('../simulation/pricing/pricing-table.ts'),
  ]);
  const pricing = resolvePricing({ region: config.pricing.region, overrides: config.pricing.overrides });
  const now = new Date().toISOString();
  // Every recommendation is checked by re-simulating with it applied (before/after in the report).
  const reportOf = (runDir: string, plan: typeof event.plan) =>
    generateReport(runDir, {
      outDir: join(runDir, 'report'),
      config,
      now,
      resimulate: createResimulate(plan, { arch: req.arch, scaling, seed: plan.seed, pricing }),
    });
  const live = await reportOf(liveDir, validation.plan);
  outcome.reports.live = live.files.html?.[0];
  const ev = await reportOf(event.dir, event.plan);
  outcome.reports.event = ev.files.html?.[0];

  const v = validation.report;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);
  const lines = [
    `# Rehearsal: ${req.profile} (${req.arch})`,
    '',
    `- live run: \`${liveDir}\` — report \`${outcome.reports.live ?? 'not written'}\``,
    `- whole event simulated at ${Math.round(event.plan.peakRps).toLocaleString('en-US')} req/s peak: \`${event.dir}\` — report \`${outcome.reports.event ?? 'not written'}\``,
    `- simulator replay of the live window: \`${outcome.replayDir}\` (validation.json)`,
    '',
    '## Agreement of the simulator with the live run',
    '',
    '| quantity | live | simulated | error |',
    '|---|---|---|---|',
    ...Object.entries(v.tasks).map(
      ([s, a]) =>
        `| mean running tasks, ${s} | ${a.live?.toFixed(2)} | ${a.simulated?.toFixed(2)} | ${pct(a.relativeError)} |`,
    ),
    `| p95 latency, all (ms) | ${v.p95.live} | ${v.p95.simulated} | ${pct(v.p95.relativeError)} |`,
    ...Object.entries(v.p95ByChannel).map(
      ([c, a]) => `| p95 latency, ${c} (ms) | ${a.live} | ${a.simulated} | ${pct(a.relativeError)} |`,
    ),
    `| error rate | ${pct(v.errorRate.live)} | ${pct(v.errorRate.simulated)} | ${pct(v.errorRate.absoluteDifference)} (absolute) |`,
    '',
    `Within ±${v.bound * 100}%: tasks ${v.withinBound.tasks ? 'yes' : 'no'}, p95 ${v.withinBound.p95 ? 'yes' : 'no'}.`,
    ...v.notes.map((n) => `- note: ${n}`),
    '',
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
        ]
      : ['No service was busy enough in the live run to measure its capacity per task.']),
    '',
  ];
  writeFileSync(join(dir, 'rehearsal.md'), lines.join('\n'));
  writeFileSync(
    join(dir, 'rehearsal.json'),
    `${JSON.stringify({ profile: req.profile, arch: req.arch, liveDir, replayDir: outcome.replayDir, eventDir: event.dir, reports: outcome.reports, validation: v, runExitCode: runCode }, null, 2)}\n`,
  );
  outcome.summary.push(...live.summary);
  outcome.exitCode = runCode;
  if (!live.report.run.valid) {
    outcome.summary.push('the live run was marked invalid: its numbers cannot be trusted (see the report)');
    if (outcome.exitCode === ExitCode.ok) outcome.exitCode = ExitCode.noVerdict;
  }
  return outcome;
}

/**
 * How long a rehearsal's stack may outlive the rehearsal (s): a safety net for a killed rehearsal,
 * well beyond any rehearsal window (the built-in profiles' are 2–3 minutes of wall time).
 */
const SUPERVISOR_TTL_SECONDS = 3600;

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
  req: RehearseRequest,
  dir: string,
  liveDir: string,
  step: (n: number) => string = (n) => `[${n}/6]`,
): Promise<LiveWindowOutcome> {
  const log = req.log;
  let interrupted = false;
  let runCode: number = ExitCode.ok;
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
  const started = await startDetachedSupervisor({
    cwd: dir,
    arch: req.arch,
    host: '127.0.0.1',
    port: req.port ?? 0,
    dataDir: join(dir, 'stack-data'),
    ...(req.scaling ? { scalingFile: req.scaling } : {}),
    autoscaling: true,
    ttlSeconds: SUPERVISOR_TTL_SECONDS,
  });
  // Its scaling activities and other events, as it logs them, shown here as they were in-process.
  const stopFollowing = followSupervisorLog(started.logFile, (l) => log(`      ${l}`));
  const { url, dataDir } = started.state;
  log(`      supervisor log: ${started.logFile}`);
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`      stack ready at ${url}`);
    // 2. The live run (the engine sets the stack's event clock through the handshake).
    log(`${step(2)} live run of the rehearsal window`);
    const { executeRun } = await import('./run.ts');
    runCode = await executeRun(req.profile, {
      target: url,
      out: liveDir,
      allowHost: [],
      // The target is our own local stack: a breach during scale-out lag is what the rehearsal is
      // for, so the circuit breaker that protects real systems stays off (budgets may still abort).
      circuitBreaker: 'off',
      ...(req.window ? { window: req.window } : {}),
      ...(req.duration ? { duration: req.duration } : {}),
      ...(req.seed ? { seed: req.seed } : {}),
      ...(req.budgets ? { budgets: req.budgets } : {}),
      ...(req.runSummaryToStderr ? { summaryToStderr: true } : {}),
    });
    if (runCode === ExitCode.interrupted) interrupted = true;
    // 3. Telemetry, while the stack's files are there.
    log(`${step(3)} collecting the stack’s telemetry`);
    const { collectTelemetry } = await import('../telemetry/collect.ts');
    try {
      const { info } = await collectTelemetry(liveDir, 'local', { stackDir: dataDir });
      log(
        `      ${info.records} timeline records, ${info.activities} scaling activities${info.partial ? ' (partial)' : ''}`,
      );
    } catch (e) {
      // Interrupted before the stack wrote a metric: keep the interruption as the outcome (exit 130).
      if (!interrupted) throw e;
      log(`      no telemetry collected: ${(e as Error).message}`);
    }
  } finally {
    log('      stopping the stack');
    const r = await stopStack(dir);
    stopFollowing();
    log(
      `      stack stopped (${interrupted ? 'interrupted' : 'rehearsal done'})${'killed' in r && r.killed ? ': it had to be killed' : ''}`,
    );
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return { runCode, interrupted };
}
