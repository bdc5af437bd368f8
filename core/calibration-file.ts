/**
 * `calibration.json`: the one file type that says what capacity a probe measured, and its one reader.
 * `peakday probe` (and a rehearsal's live run) writes it into its run directory; `peakday simulate
 * --calibration` and the reports read it (docs/simulation.md "Calibration file"):
 *
 *   { "formatVersion": 1, "kind": "peakday-calibration", "arch": "headless", "measuredAt": ISO,
 *     "source": "probe <run dir>",
 *     "services": { "<service>": { "capacityRpsPerTask": 118.5, "efficiency": 0.94,
 *                                   "uncertainty": 0.06, "provenance": "measured", ... } } }
 *
 * `capacityRpsPerTask` is what one task served at the knee; `efficiency` is that capacity ÷ the
 * emulated model's capacity for the same request mix (1 = the task serves exactly its vCPU budget),
 * which the simulator multiplies capacity by. "Calibration" in peakday means this file and nothing
 * else (the CPU cost table is the demand table, reference-stack/capacity/demand-table.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput, type Problem, validationError } from './errors.ts';
import { RUN_FILES } from './run-format.ts';

/** One service's entry in calibration.json. */
export interface CalibrationEntry {
  /** Requests per second one task served at the knee (within the latency budget). */
  capacityRpsPerTask: number;
  /** Measured capacity ÷ the emulated model's capacity for the same mix. */
  efficiency: number;
  /** Relative uncertainty (± fraction) of the efficiency. */
  uncertainty?: number;
  provenance: 'measured' | 'model-input';
  /** Mean emulated CPU-ms per request at the probed mix (model), for reference. */
  demandCpuMsPerRequest?: number;
  /** The stepped-load points the knee was found on. */
  steps?: { rps: number; achievedRps: number; p95Ms: number; errorRate: number; cpu?: number | null }[];
  replicas?: number;
  /** (concurrency, throughput) points for a USL fit, when the probe recorded them. */
  points?: { concurrency: number; throughput: number }[];
}

/** The calibration file. */
export interface CalibrationFile {
  formatVersion: 1;
  kind: 'peakday-calibration';
  /** The topology it was measured on. */
  arch?: 'headless' | 'monolith';
  measuredAt: string;
  source: string;
  services: Record<string, CalibrationEntry>;
  /**
   * Services the source could not measure, with the reason (e.g. never busy enough in a rehearsal's
   * live run): a simulation with this file keeps the model table for them and says why.
   */
  unmeasured?: Record<string, string>;
}

const isPositive = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x) && x > 0;

/** Every problem of a parsed calibration file (empty when it is one), located by its path. */
export function checkCalibrationFile(data: unknown, file: string): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string, expected: string) =>
    problems.push({ file, path, message, expected });
  const c = (data ?? {}) as Partial<CalibrationFile>;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    add('', 'is not a JSON object', 'a calibration file written by `peakday probe`');
    return problems;
  }
  if (c.kind !== 'peakday-calibration') add('kind', `is ${JSON.stringify(c.kind)}`, '"peakday-calibration"');
  if (c.formatVersion !== 1) add('formatVersion', `is ${JSON.stringify(c.formatVersion)}`, '1');
  if (typeof c.services !== 'object' || c.services === null) {
    add('services', 'is missing', 'an object of services');
    return problems;
  }
  for (const [name, e] of Object.entries(c.services)) {
    if (!isPositive(e?.capacityRpsPerTask))
      add(
        `services.${name}.capacityRpsPerTask`,
        'is missing or not positive',
        'a number > 0 (requests/s per task)',
      );
    if (!isPositive(e?.efficiency))
      add(`services.${name}.efficiency`, 'is missing or not positive', 'a number > 0');
  }
  return problems;
}

/** Reads a calibration file, or the calibration.json inside a run directory (exit 2 with every problem). */
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
    throw invalidInput(
      'calibration-invalid',
      `${file}: not JSON (${(e as Error).message})`,
      'pass the calibration.json written by `peakday probe`',
    );
  }
  const problems = checkCalibrationFile(data, file);
  if (problems.length > 0)
    throw validationError('calibration-invalid', `${file}: not a calibration file`, problems);
  return data as CalibrationFile;
}
