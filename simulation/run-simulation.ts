/**
 * The I/O edge of `peakday simulate`: loads the profile, scaling file and calibration, compiles the
 * plan at real time (time scale 1: a simulated event plays its own clock), runs the pure simulator
 * for one or several seeds, and writes the first seed's run directory. Shared by the CLI and by
 * `rehearse`.
 */
import { join } from 'node:path';
import { type CalibrationFile, readCalibrationFile } from '../core/calibration-file.ts';
import { readConfig } from '../core/config.ts';
import { createRunId } from '../core/run-directory.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { type CompileOptions, compilePlan } from '../scenarios/compile.ts';
import { compileOptionsFrom, type ProfileFlags } from '../scenarios/compile-options.ts';
import type { Plan } from '../scenarios/plan.ts';
import { loadProfile } from '../scenarios/profile.ts';
import {
  type CapacityInput,
  type CapacityMode,
  type CapacityResolution,
  capacityWarnings,
  classifyCalibration,
  efficiencyOf,
  readCapacityInputs,
  resolveCapacity,
} from './capacity-sources.ts';
import { type SimulateOptions, type SimulationResult, simulate } from './simulate.ts';
import { writeSimulationRun } from './write-run.ts';

/** What `simulateProfile` needs, already parsed. */
export interface SimulateRequest {
  profile: string;
  arch: Arch;
  flags: ProfileFlags;
  scalingFile?: string;
  /** A calibration.json (or the run directory holding one), recorded in meta.json's options. */
  calibrationFile?: string;
  /**
   * More calibrations (`--calibration` repeated): probe files, or run directories whose collected
   * timeline gives capacity per task (simulation/capacity-sources.ts decides which one wins).
   */
  calibrationFiles?: string[];
  /** The calibration already read (rehearse measures it in the same process); wins over reading the file. */
  calibration?: CalibrationFile;
  /** `--capacity`: where capacity comes from when nothing measured it (default `auto`). */
  capacity?: CapacityMode;
  seeds: number;
  out?: string;
  stepSeconds?: number;
  vcpuQuota?: number;
  hotKeys?: number;
}

/** Spread of the headline numbers over seeds. */
export interface SeedSpread {
  seeds: number[];
  p95Ms: { min: number; max: number };
  failedRate: { min: number; max: number };
  peakTasks: Record<string, { min: number; max: number }>;
}

/** Result of simulating a profile: the plan, the first seed's result, the run directory and the spread. */
export interface SimulateOutcome {
  plan: Plan;
  result: SimulationResult;
  /** Where each service's capacity per task came from. */
  capacity: CapacityResolution;
  dir: string;
  spread: SeedSpread | null;
  elapsedMs: number;
}

/** Compiles a plan that plays the requested range of the event at real time (time scale 1). */
export function compileRealTimePlan(profileName: string, flags: ProfileFlags): Plan {
  const profile = loadProfile(profileName);
  const opts: CompileOptions = compileOptionsFrom({ ...flags, duration: undefined }, readConfig());
  if (opts.window === undefined) opts.whole = true;
  const probe = compilePlan(profile, opts);
  const span = probe.eventEnd - probe.eventStart;
  // --peak-rps and --baseline-rps are rates the system sees; at time scale 1 they are per event second.
  return compilePlan(profile, { ...opts, durationSeconds: span });
}

/** Runs the simulation and writes its run directory. */
export function simulateProfile(req: SimulateRequest): SimulateOutcome {
  const started = new Date();
  const t0 = performance.now();
  const plan = compileRealTimePlan(req.profile, req.flags);
  const scaling = loadScaling(req.scalingFile);
  const calibrationFile =
    req.calibration ?? (req.calibrationFile ? readCalibrationFile(req.calibrationFile) : undefined);
  const inputs: CapacityInput[] = [
    ...(calibrationFile
      ? [
          {
            kind: classifyCalibration(calibrationFile),
            path: req.calibrationFile ?? calibrationFile.source,
            file: calibrationFile,
          },
        ]
      : []),
    ...readCapacityInputs(req.calibrationFiles ?? [], req.arch),
  ];
  // Event scale: rates the user named. There the local emulation never stands in for production
  // unless asked for (simulation/capacity-sources.ts).
  const scale = req.flags.peakRps !== undefined || req.flags.baselineRps !== undefined ? 'event' : 'local';
  const capacity = resolveCapacity({ arch: req.arch, scale, inputs, mode: req.capacity ?? 'auto' });
  const base: Omit<SimulateOptions, 'seed'> = {
    arch: req.arch,
    scaling,
    efficiency: efficiencyOf(capacity),
    ...(req.stepSeconds ? { stepSeconds: req.stepSeconds } : {}),
    ...(req.vcpuQuota ? { vcpuQuota: req.vcpuQuota } : {}),
    ...(req.hotKeys ? { hotKeys: req.hotKeys } : {}),
  };
  const seeds = Array.from({ length: Math.max(1, req.seeds) }, (_, i) => plan.seed + i);
  const results = seeds.map((seed) => simulate(plan, { ...base, seed }));
  const result = results[0]!;
  result.findings.warnings = capacityWarnings(result.findings.warnings, capacity);
  const elapsedMs = performance.now() - t0;
  const dir = req.out ?? join(readConfig().runsDir, createRunId(`${plan.profile.name}-sim-${req.arch}`));
  writeSimulationRun(
    dir,
    plan,
    result,
    {
      arch: req.arch,
      ...req.flags,
      scaling: scaling.file,
      calibration: req.calibrationFile ?? calibrationFile?.source ?? null,
      ...(req.calibrationFiles?.length ? { calibrations: req.calibrationFiles } : {}),
      capacity: capacityMeta(capacity, req.capacity ?? 'auto'),
      seeds: seeds.length,
      step: base.stepSeconds ?? 1,
    },
    started,
  );
  return {
    plan,
    result,
    capacity,
    dir,
    spread: seeds.length > 1 ? spreadOf(seeds, results) : null,
    elapsedMs,
  };
}

/** meta.json's `options.capacity`: the mode, the scale, and per service its source kind and efficiency. */
export function capacityMeta(c: CapacityResolution, mode: CapacityMode): Record<string, unknown> {
  return {
    mode,
    scale: c.scale,
    services: Object.fromEntries(
      Object.entries(c.services).map(([s, v]) => [
        s,
        { kind: v.kind, provenance: v.provenance, efficiency: v.efficiency, source: v.source },
      ]),
    ),
  };
}

function spreadOf(seeds: number[], results: SimulationResult[]): SeedSpread {
  const range = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });
  const services = Object.keys(results[0]!.findings.services);
  return {
    seeds,
    p95Ms: range(results.map((r) => r.summary.latency.intended?.overall.p95 ?? 0)),
    failedRate: range(
      results.map((r) =>
        r.summary.requests.total > 0 ? r.summary.requests.failed / r.summary.requests.total : 0,
      ),
    ),
    peakTasks: Object.fromEntries(
      services.map((s) => [s, range(results.map((r) => r.findings.services[s]?.peakTasks ?? 0))]),
    ),
  };
}
