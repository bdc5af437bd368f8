/**
 * `peakday fleet size <profile> --peak-rps R`: how many k6 generators of which Fargate size a plan
 * needs at its peak, and why. Pure: the plan and the figures in, a table of options out, each figure
 * with its source (docs/sources.md, "k6 load generators"):
 *
 *   CPU      generators = ceil(peak requests/s ÷ (requests/s per vCPU × vCPU × CPU target))
 *   VUs      Little's law per scenario: peak iterations/s × iteration time (requests × assumed
 *            response time + think time), summed over scenarios (their peaks may not coincide: an
 *            upper bound), ×1.2 headroom as the k6 export sizes preAllocatedVUs
 *   memory   VUs per generator × MB per VU + a base per generator, rounded up to a Fargate size
 *   cost     generators × (vCPU × $/vCPU-hour + GB × $/GB-hour), Fargate Linux on ARM, us-east-1
 */
import { ASSUMED_RESPONSE_SECONDS, estimateVus, VU_HEADROOM } from './k6-export.ts';
import type { Plan } from './plan.ts';

/** Measured requests per second one vCPU of k6 sends with our scripts (docs/sources.md). */
export const K6_REQUESTS_PER_VCPU = 1300;
/** Measured resident memory per VU (MB) and the assumed base per generator (MB). */
export const K6_MB_PER_VU = 1;
export const K6_BASE_MB = 256;
/** Share of a generator's vCPU used at the peak (an assumption below the 95% saturation check). */
export const CPU_TARGET = 0.6;

/** Fargate vCPU sizes considered for a generator, with the memory range each allows (GiB). */
const SIZES = [
  { vcpu: 1, min: 2, max: 8, step: 1 },
  { vcpu: 2, min: 4, max: 16, step: 1 },
  { vcpu: 4, min: 8, max: 30, step: 1 },
  { vcpu: 8, min: 16, max: 60, step: 4 },
  { vcpu: 16, min: 32, max: 120, step: 8 },
] as const;

/** Figures the sizing uses; each defaults to a sourced or stated value. */
export interface FleetSizeInputs {
  rpsPerVcpu: number;
  mbPerVu: number;
  baseMb: number;
  cpuTarget: number;
  responseSeconds: number;
  prices: { vcpuHour: number; gbHour: number };
}

/** One generator size and what it takes. */
export interface FleetSizeOption {
  vcpu: number;
  memoryGb: number;
  generators: number;
  vusPerGenerator: number;
  usdPerHour: number;
  /** Why this many: `cpu` or `memory` decided. */
  boundBy: 'cpu' | 'memory';
}

/** The answer. */
export interface FleetSize {
  peakRps: number;
  vus: number;
  options: FleetSizeOption[];
  recommended: FleetSizeOption;
  why: string[];
}

/** Sizes a fleet for the plan's peak. */
export function computeFleetSize(plan: Plan, i: FleetSizeInputs): FleetSize {
  const peakRps = plan.peakRps;
  const vus = Math.ceil(
    plan.scenarios.reduce(
      (a, s) => a + estimateVus(s, plan.journeys[s.journey], plan.timeScale, i.responseSeconds).littleVus,
      0,
    ) * VU_HEADROOM,
  );
  const options: FleetSizeOption[] = [];
  for (const size of SIZES) {
    const byCpu = Math.max(1, Math.ceil(peakRps / (i.rpsPerVcpu * size.vcpu * i.cpuTarget)));
    // Memory: the most VUs a generator of the largest memory holds bounds the count from below.
    const maxVus = Math.floor((size.max * 1024 - i.baseMb) / i.mbPerVu);
    const byMemory = Math.max(1, Math.ceil(vus / Math.max(1, maxVus)));
    const generators = Math.max(byCpu, byMemory);
    const vusPerGenerator = Math.ceil(vus / generators);
    const needGb = (vusPerGenerator * i.mbPerVu + i.baseMb) / 1024;
    const memoryGb = Math.max(size.min, size.min + Math.ceil((needGb - size.min) / size.step) * size.step);
    const usdPerHour = generators * (size.vcpu * i.prices.vcpuHour + memoryGb * i.prices.gbHour);
    options.push({
      vcpu: size.vcpu,
      memoryGb: Math.min(memoryGb, size.max),
      generators,
      vusPerGenerator,
      usdPerHour,
      boundBy: byMemory > byCpu ? 'memory' : 'cpu',
    });
  }
  // The cheapest per hour; among equals, fewer generators (fewer tasks to start and merge).
  const recommended = [...options].sort(
    (a, b) => a.usdPerHour - b.usdPerHour || a.generators - b.generators,
  )[0] as FleetSizeOption;
  const why = [
    `peak ${peakRps.toFixed(0)} requests/s (the plan at --peak-rps)`,
    `k6 sends ${i.rpsPerVcpu} requests/s per vCPU with peakday's scripts (measured, docs/sources.md "k6 load generators"), used to ${Math.round(i.cpuTarget * 100)}% (assumption: headroom below the 95% saturation the validity check flags)`,
    `${vus} VUs at the peak by Little's law: per scenario peak iterations/s × (requests × ${Math.round(i.responseSeconds * 1000)} ms assumed response + think time), summed (an upper bound), ×${VU_HEADROOM} headroom`,
    `${i.mbPerVu} MB per VU (measured, docs/sources.md) + ${i.baseMb} MB per generator (assumption)`,
    `Fargate Linux/ARM $${i.prices.vcpuHour}/vCPU-hour, $${i.prices.gbHour}/GB-hour (us-east-1, docs/sources.md "Prices")`,
  ];
  return { peakRps, vus, options, recommended, why };
}

/** The default inputs. */
export const DEFAULT_FLEET_SIZE_INPUTS: FleetSizeInputs = {
  rpsPerVcpu: K6_REQUESTS_PER_VCPU,
  mbPerVu: K6_MB_PER_VU,
  baseMb: K6_BASE_MB,
  cpuTarget: CPU_TARGET,
  responseSeconds: ASSUMED_RESPONSE_SECONDS,
  prices: { vcpuHour: 0.03238, gbHour: 0.00356 },
};
