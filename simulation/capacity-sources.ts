/**
 * Where each service's capacity per task comes from in a simulation, and the one place that
 * decides it. At event scale (rates the user names with `--peak-rps` / `--baseline-rps`) a
 * simulation takes capacity per task, per service, from the first of:
 *
 *   1. a calibration measured on the real system: `peakday probe --target <your stack>`'s
 *      calibration.json (the user pinned the replicas), or capacity per task derived from a run
 *      directory whose timeline was collected from CloudWatch (`peakday collect --source cloudwatch`);
 *   2. a user's calibration file: any other calibration.json the user passes (hand-written, or
 *      measured on the local stack — which measures the local emulation, and says so);
 *   3. the documented defaults ({@link PRODUCTION_DEFAULT}): the demand table's measured relative
 *      costs, anchored at a production Node service's published throughput; a "model input".
 *
 * The local emulator's capacity (the demand table at its scale factor, sized so the stack fits a
 * 2-core laptop) is used only at local scale (the profile's own rates, where it is what the local
 * stack serves) or when asked for (`--capacity emulated`): it never stands in for production
 * silently. Every simulated run carries the per-service answer ({@link CapacityResolution.services})
 * in meta.json (`options.capacity`) and in simulation.json (`services.<name>.capacitySource`).
 *
 * Pure except {@link readCapacityInputs}, the I/O edge that reads the files.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CalibrationFile, readCalibrationFile } from '../core/calibration-file.ts';
import { invalidInput } from '../core/errors.ts';
import { readRun, readTimeline } from '../core/run-directory.ts';
import { type Provenance, RUN_FILES } from '../core/run-format.ts';
import { DEMAND_TABLE, type DemandTable } from '../reference-stack/capacity/demand-table.ts';
import {
  type Arch,
  computeDemandTable,
  type ServiceName,
  TOPOLOGIES,
  type Topology,
} from '../reference-stack/topology.ts';
import { calibrationFromRun } from './calibrate-from-run.ts';
import type { ServiceEfficiency } from './simulate.ts';

/** Where one service's capacity per task came from, best first. */
export type CapacitySourceKind =
  | 'measured-real-system'
  | 'user-file'
  | 'measured-local-stack'
  | 'published-default'
  | 'local-emulation';

/** Precedence of the kinds (lower wins). A local-stack measurement is a user's file: it ranks with them. */
const RANK: Record<CapacitySourceKind, number> = {
  'measured-real-system': 0,
  'user-file': 1,
  'measured-local-stack': 1,
  'published-default': 2,
  'local-emulation': 3,
};

/** A calibration the user passed, classified. */
export interface CapacityInput {
  kind: Extract<CapacitySourceKind, 'measured-real-system' | 'user-file' | 'measured-local-stack'>;
  /** The path the user gave. */
  path: string;
  file: CalibrationFile;
}

/** One service's answer. */
export interface ServiceCapacitySource {
  kind: CapacitySourceKind;
  provenance: Provenance;
  /** Capacity ÷ the emulated model's capacity (what the simulator multiplies capacity by). */
  efficiency: number;
  /** Where the number comes from, in words (a file, a probe, or the defaults and their source). */
  source: string;
}

/** How capacity was chosen for a run, per service. */
export interface CapacityResolution {
  /** `event`: rates named by the user (real scale); `local`: the profile's local rates. */
  scale: 'event' | 'local';
  services: Record<string, ServiceCapacitySource>;
}

/** `--capacity`: `auto` follows the order above; `emulated` and `defaults` force one source. */
export type CapacityMode = 'auto' | 'emulated' | 'defaults';

/** The accepted `--capacity` values. */
export const CAPACITY_MODES: readonly CapacityMode[] = ['auto', 'emulated', 'defaults'];

/**
 * The documented production default: one anchor, applied uniformly so that every service and both
 * topologies keep the demand table's measured relative costs (hops included; the compare null test
 * rests on that). The anchor request is catalog's share of `getProduct` in the headless topology:
 * one key-value read and a ~1 KB JSON answer. A production Node service doing that serves
 * `anchorRpsPerVcpu` requests per second per vCPU — a model input within the published range in
 * docs/sources.md, "Node service throughput" (framework-only upper bound ~16,000 req/s per process
 * for Express; 500–2,000 req/s for a database-backed CRUD endpoint). Override it with a calibration
 * file, or measure it with `peakday probe --target`.
 */
export const PRODUCTION_DEFAULT = {
  anchorService: 'catalog' as ServiceName,
  anchorOperation: 'getProduct' as const,
  anchorRpsPerVcpu: 1000,
  source:
    'docs/sources.md "Node service throughput": 1,000 req/s per vCPU for a single-key read service (assumption within the published 500–2,000 req/s range), the demand table giving the other services relative to it',
};

/** The uniform efficiency of the production default for a demand table. */
export function productionDefaultEfficiency(demandTable: DemandTable = DEMAND_TABLE): number {
  const ms = computeDemandTable('headless', demandTable)[PRODUCTION_DEFAULT.anchorOperation]?.[
    PRODUCTION_DEFAULT.anchorService
  ];
  if (!ms || ms <= 0) throw new Error('the anchor operation has no demand on the anchor service');
  return Math.round(((PRODUCTION_DEFAULT.anchorRpsPerVcpu * ms) / 1000) * 1000) / 1000;
}

const EMULATION_SOURCE =
  "local emulation: the demand table at its scale factor (reference-stack/capacity/demand-table.ts), sized so the stack fits a 2-core laptop; not a production service's capacity";

/** The scalable services of a topology (the bus and the stores are managed services, not tasks). */
function servicesOf(arch: Arch): ServiceName[] {
  const t: Topology = TOPOLOGIES[arch];
  return (Object.keys(t.deployables) as ServiceName[]).filter(
    (s) => t.deployables[s]?.standsInFor === undefined,
  );
}

/**
 * Decides every service's capacity source for one topology. Pure. Calibrations for another topology
 * are ignored (a monolith probe says nothing about the headless gateway); within a kind, the first
 * file given wins; a file's `unmeasured` services fall through to the next source.
 */
export function resolveCapacity(opts: {
  arch: Arch;
  scale: 'event' | 'local';
  inputs?: readonly CapacityInput[];
  mode?: CapacityMode;
  demandTable?: DemandTable;
}): CapacityResolution {
  const mode = opts.mode ?? 'auto';
  const inputs = [...(opts.inputs ?? [])]
    .filter((i) => i.file.arch === undefined || i.file.arch === opts.arch)
    .sort((a, b) => RANK[a.kind] - RANK[b.kind]);
  const fallback: ServiceCapacitySource =
    mode === 'emulated' || (mode === 'auto' && opts.scale === 'local')
      ? { kind: 'local-emulation', provenance: 'model-input', efficiency: 1, source: EMULATION_SOURCE }
      : {
          kind: 'published-default',
          provenance: 'model-input',
          efficiency: productionDefaultEfficiency(opts.demandTable),
          source: `model input: ${PRODUCTION_DEFAULT.source}`,
        };
  const services: Record<string, ServiceCapacitySource> = {};
  for (const s of servicesOf(opts.arch)) {
    const hit = inputs.find((i) => i.file.services[s]);
    const e = hit?.file.services[s];
    services[s] =
      hit && e
        ? {
            kind: hit.kind,
            provenance: e.provenance,
            efficiency: e.efficiency,
            source: `${describeKind(hit.kind)}: ${hit.path} (${hit.file.source})`,
          }
        : {
            ...fallback,
            source: unmeasuredReason(inputs, s)
              ? `${fallback.source}; not measured in ${unmeasuredReason(inputs, s)}`
              : fallback.source,
          };
  }
  return { scale: opts.scale, services };
}

function unmeasuredReason(inputs: readonly CapacityInput[], s: string): string | null {
  for (const i of inputs) {
    const why = i.file.unmeasured?.[s];
    if (why) return `${i.path}: ${why}`;
  }
  return null;
}

function describeKind(k: CapacitySourceKind): string {
  return {
    'measured-real-system': 'measured on the real system',
    'user-file': "user's calibration file",
    'measured-local-stack':
      "measured on the local stack (the local emulation's capacity, not a production service's)",
    'published-default': 'model input',
    'local-emulation': 'local emulation',
  }[k];
}

/** The simulator's `efficiency` option for a resolution. */
export function efficiencyOf(res: CapacityResolution): Partial<Record<ServiceName, ServiceEfficiency>> {
  const out: Partial<Record<ServiceName, ServiceEfficiency>> = {};
  for (const [s, v] of Object.entries(res.services))
    out[s as ServiceName] = { efficiency: v.efficiency, provenance: v.provenance, source: v.source };
  return out;
}

/**
 * The simulator's warnings with its generic "capacity is a model input" line replaced by what the
 * resolution says (the simulator cannot know a default from the emulation). Pure.
 */
export function capacityWarnings(warnings: readonly string[], res: CapacityResolution): string[] {
  const kept = warnings.filter((w) => !/^capacity per task of .* is a model input/.test(w));
  const by = new Map<CapacitySourceKind, string[]>();
  for (const [s, v] of Object.entries(res.services)) by.set(v.kind, [...(by.get(v.kind) ?? []), s]);
  const emulated = by.get('local-emulation');
  if (emulated && res.scale === 'event')
    kept.push(
      `capacity per task of ${emulated.join(', ')} is the local emulation's, chosen explicitly (--capacity emulated, or a rehearsal projecting what the local stack measured): about 20 requests/s per task, sized for a laptop, not a production service`,
    );
  const defaults = by.get('published-default');
  if (defaults)
    kept.push(
      `capacity per task of ${defaults.join(', ')} is a model input (${PRODUCTION_DEFAULT.source}); measure yours with \`peakday probe --target\` and pass --calibration`,
    );
  if (emulated && res.scale === 'local')
    kept.push(
      `capacity per task of ${emulated.join(', ')} is the local emulation's (the demand table, docs/reference-stack.md): right for the local stack, not a measurement of a production service`,
    );
  return kept;
}

/**
 * Reads and classifies the calibrations a user passed (`--calibration`, repeatable): a probe's
 * calibration.json (or its run directory), or a run directory without one, whose capacity is derived
 * from its collected timeline (simulation/calibrate-from-run.ts). The I/O edge of this module.
 */
export function readCapacityInputs(paths: readonly string[], arch: Arch): CapacityInput[] {
  return paths.map((path) => {
    const isDir = existsSync(path) && statSync(path).isDirectory();
    if (
      isDir &&
      !existsSync(join(path, RUN_FILES.calibration)) &&
      existsSync(join(path, RUN_FILES.timeline))
    ) {
      const file = calibrationFromRun(
        path,
        readRun(path).meta.options?.arch === 'monolith' ? 'monolith' : arch,
      );
      if (!file || Object.keys(file.services).length === 0)
        throw invalidInput(
          'calibration-missing',
          `${path}: the run's timeline has no busy period to derive capacity per task from`,
          'collect the run with `peakday collect <run> --source cloudwatch` after a run that loaded the services (CPU 10–95%), or pass a probe calibration.json',
        );
      const fromCloudWatch = readTimeline(path).some((r) => r.source === 'cloudwatch');
      return { kind: fromCloudWatch ? 'measured-real-system' : 'measured-local-stack', path, file };
    }
    const file = readCalibrationFile(path);
    return { kind: classifyCalibration(file), path, file };
  });
}

/**
 * A calibration's kind: measured on the real system when a probe ran against the user's own target
 * (`probe.replicasPinnedBy: "user"`) or it was derived from CloudWatch data; measured on the local
 * stack when peakday pinned the replicas, the target is on loopback, or a rehearsal's live run
 * measured it; otherwise a user's file.
 */
export function classifyCalibration(file: CalibrationFile): CapacityInput['kind'] {
  const probe = (file as CalibrationFile & { probe?: { replicasPinnedBy?: string; target?: string } }).probe;
  const measured = Object.values(file.services).some((e) => e.provenance === 'measured');
  if (!measured) return 'user-file';
  // A probe of the user's own target; on loopback it is this machine, not the production system.
  if (probe?.replicasPinnedBy === 'user')
    return /^https?:\/\/(127\.|localhost|\[::1\])/.test(probe.target ?? '')
      ? 'measured-local-stack'
      : 'measured-real-system';
  if (/cloudwatch/i.test(file.source)) return 'measured-real-system';
  if (probe?.replicasPinnedBy === 'peakday' || /^live run /.test(file.source) || /^probe /.test(file.source))
    return 'measured-local-stack';
  return 'user-file';
}
