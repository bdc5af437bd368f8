/**
 * `calibration.json`: what a capacity probe measured, read by `peakday simulate --calibration`.
 * The probe writes it into its run directory (docs/simulation.md "Calibration file"):
 *
 *   { "formatVersion": 1, "kind": "peakday-calibration", "arch": "headless", "measuredAt": ISO,
 *     "source": "probe <run dir>",
 *     "services": { "<service>": { "capacityRpsPerTask": 118.5, "efficiency": 0.94,
 *                                   "uncertainty": 0.06, "provenance": "measured", ... } } }
 *
 * `efficiency` is measured capacity ÷ the emulated model's capacity for the same request mix (1 = the
 * task serves exactly its vCPU budget); the simulator multiplies capacity by it, so a probe on the
 * local stack or on a user's own system calibrates the same model.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput } from '../core/errors.ts';
import { RUN_FILES } from '../core/run-format.ts';
import type { Arch, ServiceName } from '../reference-stack/topology.ts';
import type { ServiceCalibration } from './simulate.ts';

/** One service's entry in calibration.json. */
export interface CalibrationEntry {
  /** Requests per second one task served at the knee (within the latency budget). */
  capacityRpsPerTask: number;
  efficiency: number;
  uncertainty?: number;
  provenance: 'measured' | 'model-input';
  /** Mean emulated CPU-ms per request at the probed mix (model), for reference. */
  demandCpuMsPerRequest?: number;
  /** The stepped-load points the knee was found on. */
  steps?: { rps: number; achievedRps: number; p95Ms: number; errorRate: number; cpu?: number | null }[];
  replicas?: number;
}

/** The calibration file. */
export interface CalibrationFile {
  formatVersion: 1;
  kind: 'peakday-calibration';
  arch?: Arch;
  measuredAt: string;
  source: string;
  services: Record<string, CalibrationEntry>;
  /**
   * Services the source could not measure, with the reason (e.g. never busy enough in a rehearsal's
   * live run): a simulation with this file keeps the model table for them and says why.
   */
  unmeasured?: Record<string, string>;
}

/** Reads a calibration file, or the calibration.json inside a run directory. */
export function readCalibrationFile(path: string): CalibrationFile {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, RUN_FILES.calibration) : path;
  if (!existsSync(file)) {
    throw invalidInput(
      'calibration-missing',
      `${file}: no such calibration file`,
      'run `peakday probe` first, or pass its run directory or its calibration.json',
    );
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw invalidInput('calibration-invalid', `${file}: not JSON (${(e as Error).message})`);
  }
  const c = data as Partial<CalibrationFile>;
  if (
    c.kind !== 'peakday-calibration' ||
    c.formatVersion !== 1 ||
    typeof c.services !== 'object' ||
    !c.services
  ) {
    throw invalidInput(
      'calibration-invalid',
      `${file}: not a peakday calibration file (expected kind "peakday-calibration", formatVersion 1, services)`,
      'pass the calibration.json written by `peakday probe`',
    );
  }
  for (const [name, e] of Object.entries(c.services)) {
    if (!(typeof e?.efficiency === 'number' && e.efficiency > 0 && Number.isFinite(e.efficiency))) {
      throw invalidInput(
        'calibration-invalid',
        `${file}: services.${name}.efficiency must be a positive number`,
        'rerun `peakday probe`',
      );
    }
  }
  return c as CalibrationFile;
}

/** The simulator's view of a calibration file. */
export function toServiceCalibration(
  file: CalibrationFile,
): Partial<Record<ServiceName, ServiceCalibration>> {
  const out: Partial<Record<ServiceName, ServiceCalibration>> = {};
  for (const [name, e] of Object.entries(file.services)) {
    out[name as ServiceName] = {
      efficiency: e.efficiency,
      uncertainty: e.uncertainty,
      provenance: e.provenance,
      source: file.source,
    };
  }
  // Services the file names as unmeasured keep the model table, labelled with the reason.
  for (const [name, why] of Object.entries(file.unmeasured ?? {}))
    if (!out[name as ServiceName])
      out[name as ServiceName] = {
        efficiency: 1,
        provenance: 'model-input',
        source: `model table: not measured in ${file.source}: ${why}`,
      };
  return out;
}
