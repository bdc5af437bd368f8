/**
 * `compare --live`: a short live run of each topology checks the simulation the comparison rests
 * on. One topology at a time: the local stack up, a short live run of the profile's rehearsal window,
 * telemetry, stack down (`runLiveWindow`, the rehearsal's own steps 1–3), then the simulator replays
 * that run's own plan on the same topology and scaling (`validateAgainstLive`, simulation/validate.ts)
 * and the agreement is reported. Torn down on Ctrl-C and on error (by `runLiveWindow`); after
 * Ctrl-C the next topology is not started. Layout:
 *
 *   <dir>/live-<arch>/run/      the live run (with its telemetry)
 *   <dir>/live-<arch>/replay/   the simulator's replay, with validation.json
 */
import { join } from 'node:path';
import type { Arch } from '../reference-stack/topology.ts';
import type { CompileOptions } from '../scenarios/compile.ts';
import type { LiveCheck } from '../simulation/sizing/compare.ts';
import type { GivenOptions } from './run.ts';
import type { WorkflowSink } from './sink.ts';

/** What `compare --live` asks for. */
export interface LiveCheckRequest {
  profile: string;
  dir: string;
  /** Each live run's compile options (window, wall duration, seed; the config file's defaults applied). */
  live: CompileOptions;
  /** The live runs' options as the user wrote them, for their meta.json. */
  given?: GivenOptions;
  budgets?: string;
  scaling?: string;
  archs?: readonly Arch[];
  /** Progress lines and each live run's summary (the CLI prints the summaries on stderr). */
  sink: WorkflowSink;
  /** Aborting it stops the current live run and its stack; the checks so far are returned. */
  signal?: AbortSignal;
}

/** Runs the live check of each topology in turn; `interrupted` when Ctrl-C stopped it. */
export async function runLiveChecks(
  req: LiveCheckRequest,
): Promise<{ checks: LiveCheck[]; interrupted: boolean }> {
  const [
    { runLiveWindow },
    { validateAgainstLive, writeValidation },
    { writeSimulationRun },
    { loadScaling },
    { readRun },
  ] = await Promise.all([
    import('./rehearse.ts'),
    import('../simulation/validate.ts'),
    import('../simulation/write-run.ts'),
    import('../reference-stack/autoscaling/scaling-file.ts'),
    import('../core/run-directory.ts'),
  ]);
  const scaling = loadScaling(req.scaling);
  const checks: LiveCheck[] = [];
  const archs = req.archs ?? (['monolith', 'headless'] as const);
  for (const [i, arch] of archs.entries()) {
    const dir = join(req.dir, `live-${arch}`);
    const liveDir = join(dir, 'run');
    const { runCode, interrupted } = await runLiveWindow(
      {
        profile: req.profile,
        arch,
        live: req.live,
        ...(req.given ? { given: req.given } : {}),
        sink: req.sink,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.budgets ? { budgets: req.budgets } : {}),
        ...(req.scaling ? { scaling: req.scaling } : {}),
      },
      dir,
      liveDir,
      (n) => `[live ${arch} ${i + 1}/${archs.length}: ${n}/3]`,
    );
    if (interrupted) return { checks, interrupted: true };
    const started = new Date();
    const v = validateAgainstLive(liveDir, { arch, scaling });
    const replayDir = join(dir, 'replay');
    writeSimulationRun(replayDir, v.plan, v.result, { replayOf: liveDir, arch }, started);
    writeValidation(replayDir, v.report);
    const { meta } = readRun(liveDir);
    let worst: [string, number] | null = null;
    for (const [s, a] of Object.entries(v.report.tasks))
      if (a.relativeError !== null && (worst === null || a.relativeError > worst[1]))
        worst = [s, a.relativeError];
    checks.push({
      arch,
      liveDir,
      replayDir,
      runExitCode: runCode,
      valid: meta.valid,
      invalidReasons: meta.invalidReasons,
      worstTaskError: worst?.[1] ?? null,
      worstTaskService: worst?.[0] ?? null,
      p95: v.report.p95,
      errorRate: v.report.errorRate,
      withinBound: v.report.withinBound,
      notes: v.report.notes,
    });
    req.sink.log(
      `      ${arch}: tasks within ±${v.report.bound * 100}% ${v.report.withinBound.tasks ? 'yes' : 'no'}, p95 live ${v.report.p95.live} ms vs simulated ${v.report.p95.simulated} ms`,
    );
  }
  return { checks, interrupted: false };
}
