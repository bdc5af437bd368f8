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
import type { ValidationReport } from '../simulation/validate.ts';

/** The live check of one topology: the run's validity and how the simulator agreed with it. */
export interface LiveCheck {
  arch: Arch;
  liveDir: string;
  replayDir: string;
  /** The engine's exit code for the live run. */
  runExitCode: number;
  valid: boolean;
  invalidReasons: string[];
  /** The largest relative error of mean running tasks over services, and that service. */
  worstTaskError: number | null;
  worstTaskService: string | null;
  p95: ValidationReport['p95'];
  errorRate: ValidationReport['errorRate'];
  withinBound: ValidationReport['withinBound'];
  notes: string[];
}

/** What `compare --live` asks for. */
export interface LiveCheckRequest {
  profile: string;
  dir: string;
  /** Wall-clock length of each live run (default: the profile's local duration). */
  duration?: string;
  window?: string;
  seed?: string;
  budgets?: string;
  scaling?: string;
  archs?: readonly Arch[];
  log: (line: string) => void;
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
        log: req.log,
        runSummaryToStderr: true,
        ...(req.window ? { window: req.window } : {}),
        ...(req.duration ? { duration: req.duration } : {}),
        ...(req.seed ? { seed: req.seed } : {}),
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
    req.log(
      `      ${arch}: tasks within ±${v.report.bound * 100}% ${v.report.withinBound.tasks ? 'yes' : 'no'}, p95 live ${v.report.p95.live} ms vs simulated ${v.report.p95.simulated} ms`,
    );
  }
  return { checks, interrupted: false };
}
