/**
 * What the bench scripts that replay recorded rehearsals share (bench/simulator-validation.ts,
 * bench/replay-seconds.ts): where a rehearsal directory keeps its live run, its topology and the
 * scaling file its stack ran with, and the capacity per task measured from that live run, so that
 * every script replays a run exactly as `peakday rehearse` does. Reads only the directories.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { readTimeline } from '../core/run-directory.ts';
import { loadScaling, type ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { calibrationFromRun } from '../simulation/calibrate-from-run.ts';
import { efficiencyFromCalibration } from '../simulation/efficiency.ts';
import type { SimulateOptions } from '../simulation/simulate.ts';
import { recordedScaling } from '../workflows/rehearse.ts';

/** A rehearsal's live run, its topology, its label and the scaling file it recorded (if any). */
export interface LocatedRun {
  live: string;
  arch: Arch;
  label: string;
  /** The scaling file the rehearsal recorded (absent: the default file). */
  recordedScaling?: string;
}

/**
 * The live run inside a rehearsal directory (or the directory itself), its topology, and the scaling
 * file its stack ran with (the rehearsal's recorded copy; undefined: the default file). `fail` reports
 * a usage problem (each script prints its own usage and exits 2).
 */
export function locateRehearsal(
  dir: string,
  arch: Arch | undefined,
  fail: (problem: string) => never,
): LocatedRun {
  const abs = resolve(dir);
  const label = basename(abs);
  const rehearsal = join(abs, 'rehearsal.json');
  if (existsSync(rehearsal)) {
    const r = JSON.parse(readFileSync(rehearsal, 'utf8')) as { arch?: Arch; liveDir?: string };
    // The rehearsal's own live/ first: the recorded absolute path is stale once the directory moved.
    const live = existsSync(join(abs, 'live', 'meta.json')) ? join(abs, 'live') : (r.liveDir ?? '');
    const scaling = recordedScaling(abs) ?? undefined;
    if (scaling && !existsSync(scaling)) fail(`${dir}: its recorded scaling file ${scaling} is missing`);
    return {
      live,
      arch: arch ?? r.arch ?? 'headless',
      label,
      ...(scaling ? { recordedScaling: scaling } : {}),
    };
  }
  if (existsSync(join(abs, 'meta.json'))) {
    const monolith = readTimeline(abs).some((t) => t.service === 'monolith');
    return { live: abs, arch: arch ?? (monolith ? 'monolith' : 'headless'), label };
  }
  fail(`${dir} is neither a rehearsal directory (rehearsal.json) nor a run directory (meta.json)`);
}

/**
 * The replay's inputs for a located run: the scaling file (`override`, else the recorded one, else the
 * default) loaded, and the capacity per task measured from the live run (as `peakday rehearse`
 * recomputes it; undefined when the run measured none).
 */
export function replaySetup(
  run: LocatedRun,
  override?: string,
): LocatedRun & { scalingFile?: string; scaling: ScalingConfig; efficiency?: SimulateOptions['efficiency'] } {
  const scalingFile = override ?? run.recordedScaling;
  const calibration = calibrationFromRun(run.live, run.arch);
  return {
    ...run,
    ...(scalingFile ? { scalingFile } : {}),
    scaling: loadScaling(scalingFile),
    ...(calibration ? { efficiency: efficiencyFromCalibration(calibration) } : {}),
  };
}
