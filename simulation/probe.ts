/**
 * The capacity probe's pure core: the stepped-load plan, the knee, and capacity per task.
 *
 * A probe plays rising constant-rate steps with the replica count pinned and scaling off. Each step
 * is measured (workflows/probe.ts does the I/O) as offered and achieved requests/s, p95 of the
 * intended-start latency, error rate, and per service the requests per task and CPU of each settled
 * telemetry period. From those:
 *
 * - a step *passes* when p95 ≤ the budget, errors ≤ 1% and achieved ≥ 95% of offered;
 * - the *knee* is the highest passing step (a lower failing step is reported as non-monotone, a
 *   sign of a noisy host); it is *reached* when some step above it failed, otherwise the capacity is
 *   only known to be at least the top step;
 * - a service's *capacity per task* is requests/s per task ÷ CPU fraction, averaged over the settled
 *   periods of the steps at or below the knee whose CPU was 10–95% (below 10% the CPU reading is
 *   mostly noise, above 95% the task is saturated and queues), with its standard error relative to
 *   the mean as the uncertainty;
 * - *efficiency* is the model's CPU for the load actually served ÷ the CPU it took, over the same
 *   periods (the entry's requests × the model's CPU-ms per public request on the service ÷ the
 *   service's vCPU): the factor `simulate --calibration` applies to the model's capacity. It equals
 *   measured capacity ÷ modelled capacity (vCPU × 1000 ÷ CPU-ms per request) when the service counts
 *   one request per public request; behind a gateway that calls a service twice per public request
 *   (cart on add-to-cart) the CPU ratio stays right where the request ratio would not. Without the
 *   entry's request count (a user's target reporting only CPU), the request ratio is used.
 */

import type { CalibrationEntry, CalibrationFile } from '../core/calibration-file.ts';
import {
  type Arch,
  DEFAULT_TASK_SIZES,
  type ServiceName,
  type TaskSize,
} from '../reference-stack/topology.ts';
import type { Journey } from '../scenarios/journey.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanScenario } from '../scenarios/plan.ts';
import { computeScenarioDemands } from './demand.ts';

/** One (channel, journey) of the probed mix and its share of iterations. */
export interface ProbeMixEntry {
  channel: string;
  journey: Journey;
  /** Relative iteration weight (any positive scale). */
  weight: number;
}

/** One settled telemetry period of one service during a step. */
export interface ProbePeriodSample {
  /** Requests per wall second per task. */
  rpsPerTask: number;
  /** CPU utilization in percent of the task's vCPU (may exceed 100 when the emulator throttles). */
  cpu: number;
  /**
   * CPU (percent) the model predicts for this period: the public requests the entry served ×
   * the model's CPU-ms per public request on this service ÷ (tasks × vCPU × 1000). Absent when
   * the entry's request count is unknown.
   */
  modelCpu?: number;
}

/** What one step measured for one service. */
export interface ProbeServiceStep {
  tasks: number;
  /** Mean over the settled periods. */
  rpsPerTask: number;
  cpu: number | null;
  samples: ProbePeriodSample[];
}

/** What one step measured. */
export interface ProbeStepMeasurement {
  /** Offered HTTP requests per wall second (the plan's). */
  offeredRps: number;
  achievedRps: number;
  /** p95 of intended-start latency (ms) over the settled seconds; null when nothing completed. */
  p95Ms: number | null;
  /** p95 and achieved req/s over the whole step, settling and tail included (for reference). */
  p95WholeStepMs?: number | null;
  achievedWholeStepRps?: number;
  /**
   * Requests the system failed to serve ÷ sent: 5xx, timeouts, refused and reset connections.
   * Failed checks (a 4xx or an empty result the journey logic rejects, e.g. order status on a fresh
   * stack with no orders yet) and `other` client errors (a request the client could not send, e.g. a
   * URL with an unencoded space) are functional, not capacity: counted in `functionalFailureRate`.
   */
  errorRate: number;
  /** Failed checks and other client errors ÷ sent requests (reported, not a knee criterion). */
  functionalFailureRate?: number;
  /**
   * Iterations started ÷ planned: the open model keeping its schedule. Below 1 when arrivals were
   * dropped (the concurrency cap reached: the target is far behind) or the load generator lagged.
   * The throughput criterion falls back to it when functional failures exceed the error bound
   * (an iteration that fails a check stops, so fewer requests are sent whatever the capacity).
   */
  startedRatio?: number;
  /** Per service; empty when the target reports no telemetry. */
  services: Record<string, ProbeServiceStep>;
  /** The step's run directory. */
  dir?: string;
}

/** What a step must hold to count as within budget. */
export interface KneeCriteria {
  p95Ms: number;
  /** Default 0.01. */
  maxErrorRate: number;
  /** Default 0.95. */
  minAchievedRatio: number;
}

/** Default knee criteria except the latency budget (the brief's: 1% errors, 95% of offered). */
export const DEFAULT_KNEE_CRITERIA: Omit<KneeCriteria, 'p95Ms'> = {
  maxErrorRate: 0.01,
  minAchievedRatio: 0.95,
};

/** Default p95 budget when neither `--p95` nor `--budgets` gives one (an assumption; overridable). */
export const DEFAULT_PROBE_P95_MS = 1000;

/** CPU range (percent) in which a period measures capacity (see the module comment). */
export const CPU_WINDOW = { min: 10, max: 95 } as const;

/** Why a step fails the criteria; empty when it passes. */
export function stepFailures(step: ProbeStepMeasurement, c: KneeCriteria): string[] {
  const out: string[] = [];
  if (step.p95Ms === null) out.push('no request completed');
  else if (step.p95Ms > c.p95Ms) out.push(`p95 ${Math.round(step.p95Ms)} ms > ${c.p95Ms} ms`);
  if (step.errorRate > c.maxErrorRate)
    out.push(`errors ${(step.errorRate * 100).toFixed(1)}% > ${(c.maxErrorRate * 100).toFixed(1)}%`);
  // Throughput: achieved ÷ offered requests, unless functional failures (which end iterations early,
  // so fewer requests are sent for reasons other than capacity) exceed the error bound: then the
  // arrivals started ÷ planned.
  const byArrivals = step.startedRatio !== undefined && (step.functionalFailureRate ?? 0) > c.maxErrorRate;
  const kept = byArrivals
    ? (step.startedRatio as number)
    : step.offeredRps > 0
      ? step.achievedRps / step.offeredRps
      : 1;
  if (kept < c.minAchievedRatio)
    out.push(
      byArrivals
        ? `started ${(kept * 100).toFixed(1)}% < ${Math.round(c.minAchievedRatio * 100)}% of planned arrivals`
        : `achieved ${step.achievedRps.toFixed(1)} < ${Math.round(c.minAchievedRatio * 100)}% of ${step.offeredRps.toFixed(1)} req/s`,
    );
  return out;
}

/** The knee of a stepped-load probe. */
export interface Knee {
  /** Index of the highest passing step; null when no step passed. */
  index: number | null;
  /** True when a step above the knee failed (the knee is bracketed), false when every step passed. */
  reached: boolean;
  /** Offered req/s at the knee (null when no step passed). */
  rps: number | null;
  /** Indices of failing steps below the knee (noise, or a system that recovers: reported). */
  nonMonotone: number[];
  /** Per step, why it failed (empty when it passed). */
  failures: string[][];
}

/** Finds the knee: the highest step within the criteria. Steps must be in rising order. Pure. */
export function findKnee(steps: readonly ProbeStepMeasurement[], c: KneeCriteria): Knee {
  const failures = steps.map((s) => stepFailures(s, c));
  let index: number | null = null;
  for (let i = steps.length - 1; i >= 0; i--)
    if (failures[i]?.length === 0) {
      index = i;
      break;
    }
  const nonMonotone: number[] = [];
  if (index !== null) for (let i = 0; i < index; i++) if ((failures[i]?.length ?? 0) > 0) nonMonotone.push(i);
  return {
    index,
    reached: index === null ? steps.length > 0 : index < steps.length - 1,
    rps: index === null ? null : (steps[index]?.offeredRps ?? null),
    nonMonotone,
    failures,
  };
}

/** A service's capacity per task estimated from period samples. */
export interface CapacityEstimate {
  capacityRpsPerTask: number;
  /** Standard error of the mean ÷ the mean; null with a single sample. */
  uncertainty: number | null;
  samples: number;
  /**
   * Mean of modelCpu ÷ cpu over the same samples (the model's CPU for the load actually served ÷
   * the CPU it took), with its relative standard error; null when samples carry no modelCpu.
   */
  efficiency: { mean: number; uncertainty: number | null } | null;
}

function meanAndRelativeError(xs: readonly number[]): { mean: number; uncertainty: number | null } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  if (xs.length === 1) return { mean, uncertainty: null };
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, uncertainty: sd / Math.sqrt(xs.length) / mean };
}

/**
 * Capacity per task = mean over samples with CPU in [10, 95]% of rpsPerTask ÷ (cpu/100), with the
 * relative standard error, and the efficiency over the same samples. Null when no sample qualifies. Pure.
 */
export function estimateCapacity(samples: readonly ProbePeriodSample[]): CapacityEstimate | null {
  const busy = samples.filter((s) => s.cpu >= CPU_WINDOW.min && s.cpu <= CPU_WINDOW.max && s.rpsPerTask > 0);
  if (busy.length === 0) return null;
  const cap = meanAndRelativeError(busy.map((s) => s.rpsPerTask / (s.cpu / 100)));
  const withModel = busy.filter((s) => s.modelCpu !== undefined && s.modelCpu > 0);
  return {
    capacityRpsPerTask: cap.mean,
    uncertainty: cap.uncertainty,
    samples: busy.length,
    efficiency:
      withModel.length === busy.length
        ? meanAndRelativeError(withModel.map((s) => (s.modelCpu as number) / s.cpu))
        : null,
  };
}

/** A service's entry in a probe's calibration.json: the shared entry plus what the probe saw at the knee. */
export interface ProbeCalibrationEntry extends CalibrationEntry {
  /** Service requests/s per task at the knee step (what one task actually served within budget). */
  kneeRpsPerTask: number | null;
  /** CPU (percent) at the knee step. */
  kneeCpu: number | null;
  /** The model's capacity per task at the probed mix (vCPU × 1000 ÷ demandCpuMsPerRequest). */
  modelCapacityRpsPerTask: number | null;
  /** Settled periods the capacity was averaged over. */
  samples: number;
}

/** What the probe adds to a calibration file. */
export interface ProbeResult {
  target: string;
  arch: Arch;
  /** Who pinned the replica count: peakday (local stack) or the user (their own system). */
  replicasPinnedBy: 'peakday' | 'user';
  replicas: number | null;
  mix: string[];
  service?: string;
  journey?: string;
  criteria: KneeCriteria;
  /** Where the p95 budget came from (`--p95`, a budgets file, or the default). */
  budgetSource: string;
  holdSeconds: number;
  settleSeconds: number;
  timeScale: number;
  knee: {
    reached: boolean;
    index: number | null;
    offeredRps: number | null;
    achievedRps: number | null;
    /**
     * End-to-end requests/s per task at the knee (achieved ÷ replicas): the endpoint's capacity per
     * task, the one figure a target without telemetry yields. Null without a replica count.
     */
    achievedRpsPerTask: number | null;
    p95Ms: number | null;
    /** Service with the highest CPU at the knee (the one that saturates first). */
    bottleneck: string | null;
    nonMonotone: number[];
  };
  steps: (ProbeStepMeasurement & { passed: boolean; failures: string[] })[];
  notes: string[];
}

/** The calibration file a probe writes (readable by `readCalibrationFile`). */
export interface ProbeCalibrationFile extends CalibrationFile {
  services: Record<string, ProbeCalibrationEntry>;
  probe: ProbeResult;
}

/** What `computeProbeCalibration` needs besides the steps. */
export interface ProbeCalibrationInput {
  steps: readonly ProbeStepMeasurement[];
  criteria: KneeCriteria;
  /** Mean emulated CPU-ms per request each service sees at the probed mix (modelDemandPerRequest). */
  demandCpuMsPerRequest: Partial<Record<string, number>>;
  taskSizes?: Partial<Record<string, TaskSize>>;
  measuredAt: string;
  source: string;
  probe: Omit<ProbeResult, 'knee' | 'steps' | 'criteria'>;
}

const r2 = (x: number) => Math.round(x * 100) / 100;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** The knee, each service's capacity per task and efficiency, as a calibration file. Pure. */
export function computeProbeCalibration(input: ProbeCalibrationInput): ProbeCalibrationFile {
  const { steps, criteria } = input;
  const knee = findKnee(steps, criteria);
  const sizes = input.taskSizes ?? (DEFAULT_TASK_SIZES as Partial<Record<string, TaskSize>>);
  const notes = [...input.probe.notes];
  // Steps measured for capacity: at or below the knee; all of them when the knee was not reached.
  const upTo = knee.index ?? -1;
  const names = new Set<string>();
  for (const s of steps) for (const n of Object.keys(s.services)) names.add(n);
  const services: Record<string, ProbeCalibrationEntry> = {};
  const kneeStep = knee.index === null ? undefined : steps[knee.index];
  for (const name of [...names].sort()) {
    const samples = steps.slice(0, upTo + 1).flatMap((s) => s.services[name]?.samples ?? []);
    const est = estimateCapacity(samples);
    const demand = input.demandCpuMsPerRequest[name];
    const size = sizes[name];
    if (!est) {
      notes.push(
        `${name}: no settled period at or below the knee had CPU in ${CPU_WINDOW.min}–${CPU_WINDOW.max}%; capacity not measured`,
      );
      continue;
    }
    // Efficiency: the model's CPU for the load served ÷ the CPU it took (same units whatever the
    // service counts as a request); else measured ÷ modelled capacity per request touching it.
    const direct = demand !== undefined && demand > 0 && size ? (size.vcpu * 1000) / demand : null;
    const efficiency = est.efficiency?.mean ?? (direct !== null ? est.capacityRpsPerTask / direct : null);
    if (efficiency === null || !(efficiency > 0)) {
      notes.push(`${name}: the model has no demand for it at this mix; efficiency not computed`);
      continue;
    }
    const model = est.capacityRpsPerTask / efficiency;
    const atKnee = kneeStep?.services[name];
    services[name] = {
      capacityRpsPerTask: r2(est.capacityRpsPerTask),
      efficiency: r3(efficiency),
      ...((est.efficiency ? est.efficiency.uncertainty : est.uncertainty) !== null
        ? { uncertainty: r3((est.efficiency ? est.efficiency.uncertainty : est.uncertainty) as number) }
        : {}),
      provenance: 'measured',
      ...(demand !== undefined ? { demandCpuMsPerRequest: r3(demand) } : {}),
      steps: steps.flatMap((s) =>
        s.p95Ms === null
          ? []
          : [
              {
                rps: r2(s.offeredRps),
                achievedRps: r2(s.achievedRps),
                p95Ms: Math.round(s.p95Ms),
                errorRate: r3(s.errorRate),
                cpu: s.services[name]?.cpu ?? null,
              },
            ],
      ),
      ...(atKnee ? { replicas: atKnee.tasks } : {}),
      kneeRpsPerTask: atKnee ? r2(atKnee.rpsPerTask) : null,
      kneeCpu: atKnee?.cpu ?? null,
      modelCapacityRpsPerTask: r2(model),
      samples: est.samples,
    };
  }
  let bottleneck: string | null = null;
  if (kneeStep) {
    let best = -1;
    for (const [n, s] of Object.entries(kneeStep.services))
      if (s.cpu !== null && s.cpu > best) {
        best = s.cpu;
        bottleneck = n;
      }
  }
  if (knee.nonMonotone.length > 0)
    notes.push(
      `steps ${knee.nonMonotone.map((i) => i + 1).join(', ')} failed below the knee: a noisy host or a system that recovers; rerun to confirm`,
    );
  if (!knee.reached && knee.index !== null)
    notes.push('every step passed: the knee lies above the highest step (raise --steps)');
  if (knee.index === null) notes.push('no step passed: the knee lies below the lowest step (lower --steps)');
  return {
    formatVersion: 1,
    kind: 'peakday-calibration',
    arch: input.probe.arch,
    measuredAt: input.measuredAt,
    source: input.source,
    services,
    probe: {
      ...input.probe,
      criteria,
      knee: {
        reached: knee.reached,
        index: knee.index,
        offeredRps: kneeStep ? r2(kneeStep.offeredRps) : null,
        achievedRps: kneeStep ? r2(kneeStep.achievedRps) : null,
        achievedRpsPerTask:
          kneeStep && input.probe.replicas ? r2(kneeStep.achievedRps / input.probe.replicas) : null,
        p95Ms: kneeStep?.p95Ms ?? null,
        bottleneck,
        nonMonotone: knee.nonMonotone,
      },
      steps: steps.map((s, i) => ({
        ...s,
        passed: knee.failures[i]?.length === 0,
        failures: knee.failures[i] ?? [],
      })),
      notes,
    },
  };
}

/** Requests/s at which each step is offered: `count` rates geometric from `low` to `high`. Pure. */
export function geometricSteps(low: number, high: number, count: number): number[] {
  if (count <= 1) return [low];
  const f = (high / low) ** (1 / (count - 1));
  return Array.from({ length: count }, (_, i) => Math.round(low * f ** i * 10) / 10);
}

/**
 * The model's knee for a mix: the offered req/s at which the busiest service reaches 100% CPU with
 * `replicas` tasks each (vCPU × 1000 × replicas ÷ its CPU-ms per public request). Used only to place
 * the default steps around where the knee should be; the probe measures the real one. Pure.
 */
export function modelKneeRps(plan: Plan, arch: Arch, replicas: number): number {
  let knee = Number.POSITIVE_INFINITY;
  for (const [s, perRequest] of Object.entries(modelCpuMsPerPublicRequest(plan, arch))) {
    const size = DEFAULT_TASK_SIZES[s as ServiceName];
    if (perRequest > 0 && s !== 'bus') knee = Math.min(knee, (size.vcpu * 1000 * replicas) / perRequest);
  }
  return knee;
}

/**
 * The model's mean CPU-ms each service spends per public request of the mix (over all public
 * requests, touching the service or not): what turns the entry's request count into each service's
 * predicted CPU. Pure.
 */
export function modelCpuMsPerPublicRequest(plan: Plan, arch: Arch): Record<string, number> {
  const work: Record<string, number> = {};
  let requests = 0;
  for (const sc of computeScenarioDemands(plan, arch)) {
    const it = plan.scenarios[sc.index]?.iterations ?? 0;
    for (const st of sc.steps) {
      requests += it;
      for (const [s, ms] of Object.entries(st.cpuMs)) work[s] = (work[s] ?? 0) + it * (ms ?? 0);
    }
  }
  const out: Record<string, number> = {};
  for (const [s, w] of Object.entries(work)) if (requests > 0) out[s] = w / requests;
  return out;
}

/** Where and how fast one step plays. */
export interface StepPlanOptions {
  mix: readonly ProbeMixEntry[];
  /** Offered HTTP requests per wall second. */
  rps: number;
  holdSeconds: number;
  timeScale: number;
  eventStart: number;
  seed: number;
  name: string;
}

/**
 * A plan offering `rps` HTTP requests per wall second for `holdSeconds`, split over the mix by
 * iteration weight (each scenario's iteration rate = rps × its weight ÷ Σ weight × requests per
 * iteration). Pure.
 */
export function buildStepPlan(o: StepPlanOptions): Plan {
  const totalW = o.mix.reduce((a, m) => a + m.weight * m.journey.requestsPerIteration, 0);
  const eventEnd = o.eventStart + o.holdSeconds * o.timeScale;
  const scenarios: PlanScenario[] = o.mix.map((m) => {
    const rate = (o.rps * m.weight) / totalW;
    return {
      id: `${m.channel}/${m.journey.name}`,
      channel: m.channel,
      journey: m.journey.name,
      requestsPerIteration: m.journey.requestsPerIteration,
      times: [o.eventStart, eventEnd],
      rates: [rate, rate],
      iterations: rate * o.holdSeconds,
      // Room for 30 s of iterations in flight: drops only when the target is far past its knee.
      maxConcurrency: Math.max(20, Math.ceil(rate * 30)),
    };
  });
  const iterations = scenarios.reduce((a, s) => a + s.iterations, 0);
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    profile: { name: o.name, hash: 'probe', eventSeconds: eventEnd - o.eventStart },
    seed: o.seed,
    eventStart: o.eventStart,
    eventEnd,
    timeScale: o.timeScale,
    durationSeconds: o.holdSeconds,
    baselineRps: o.rps,
    peakRps: o.rps,
    arrivals: 'even',
    scenarios,
    journeys: Object.fromEntries(o.mix.map((m) => [m.journey.name, m.journey])),
    windows: [],
    bursts: [],
    iterations,
    requests: scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
  };
}

/** The mix at 1 req/s for one second: the plan whose scenarios say what the mix touches. Pure. */
export function unitMixPlan(mix: readonly ProbeMixEntry[]): Plan {
  return buildStepPlan({ mix, rps: 1, holdSeconds: 1, timeScale: 1, eventStart: 0, seed: 1, name: 'mix' });
}

/** The mix entries whose journeys touch `service` in `arch` (for `--service`). Pure. */
export function mixTouching(mix: readonly ProbeMixEntry[], arch: Arch, service: string): ProbeMixEntry[] {
  const plan = unitMixPlan(mix);
  const keep = new Set<number>();
  for (const sc of computeScenarioDemands(plan, arch))
    if (sc.steps.some((st) => (st.cpuMs as Record<string, number | undefined>)[service] !== undefined))
      keep.add(sc.index);
  return mix.filter((_, i) => keep.has(i));
}
