/**
 * `peakday simulate --validate <live-run-dir>`: replays a live run's plan (same window, time scale
 * and seed) through the simulator, on the topology and scaling the live stack ran, and compares what
 * the live run measured with what the simulator predicts: running tasks per service over time, p95
 * latency per channel, error rate, and when each service first scaled out. The relative errors are
 * the simulator's credibility, reported as they are (docs/simulation.md "Validation").
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { invalidInput } from '../core/errors.ts';
import { readActivities, readRun, readTimeline } from '../core/run-directory.ts';
import type { Provenance, ScalingActivity, TimelineRecord } from '../core/run-format.ts';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { type SimulateOptions, type SimulationResult, simulate } from './simulate.ts';

/** The agreement bound the issue asks for on tasks and p95 (15%). */
export const VALIDATION_BOUND = 0.15;

/** One compared quantity. */
export interface Agreement {
  live: number | null;
  simulated: number | null;
  /** |sim − live| / live, or null when live is 0 or missing. */
  relativeError: number | null;
}

/** What validation found. */
export interface ValidationReport {
  liveRun: string;
  arch: Arch;
  bound: number;
  /** Mean running tasks per service over the run. */
  tasks: Record<string, Agreement>;
  /** Mean absolute per-period difference in running tasks, per service. */
  tasksPerPeriodMae: Record<string, number>;
  p95ByChannel: Record<string, Agreement>;
  p95: Agreement;
  errorRate: { live: number; simulated: number; absoluteDifference: number };
  /** Event time of each service's first scale-out. */
  firstScaleOut: Record<
    string,
    { live: number | null; simulated: number | null; differenceSeconds: number | null }
  >;
  /** Whether tasks and p95 agree within the bound. */
  withinBound: { tasks: boolean; p95: boolean };
  /** The capacity per task the replay used, per service: measured (with its efficiency) or the model table. */
  capacities: Record<string, { provenance: Provenance; efficiency: number; source: string }>;
  notes: string[];
}

function agreement(live: number | null | undefined, simulated: number | null | undefined): Agreement {
  const l = live ?? null;
  const s = simulated ?? null;
  return {
    live: l,
    simulated: s,
    relativeError: l !== null && s !== null && l > 0 ? Math.round((Math.abs(s - l) / l) * 1000) / 1000 : null,
  };
}

function meanTasks(timeline: readonly TimelineRecord[]): Map<string, number> {
  const sums = new Map<string, { n: number; sum: number }>();
  for (const r of timeline) {
    if (r.service.startsWith('store/')) continue;
    const e = sums.get(r.service) ?? { n: 0, sum: 0 };
    e.n++;
    e.sum += r.running;
    sums.set(r.service, e);
  }
  return new Map([...sums].map(([k, v]) => [k, v.n > 0 ? v.sum / v.n : 0]));
}

function firstScaleOut(activities: readonly ScalingActivity[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of activities) {
    const service = a.ResourceId.split('/').pop() ?? a.ResourceId;
    const up =
      a.toCapacity !== undefined && a.fromCapacity !== undefined
        ? a.toCapacity > a.fromCapacity
        : /increas|setting desired count/i.test(a.Description) && a.StatusCode !== 'Failed';
    if (up && !out.has(service)) out.set(service, a.eventTime);
  }
  return out;
}

/** Compares a live run with its simulated replay. Pure given the live files. */
export function compareLiveAndSimulated(
  liveDir: string,
  arch: Arch,
  live: {
    timeline: TimelineRecord[];
    activities: ScalingActivity[];
    p95: Record<string, number>;
    p95All: number;
    errorRate: number;
  },
  sim: SimulationResult,
): ValidationReport {
  const notes: string[] = [];
  const liveTasks = meanTasks(live.timeline);
  const simTasks = meanTasks(sim.timeline);
  if (liveTasks.size === 0)
    notes.push('the live run has no timeline: run `peakday collect <run> --source local` first');
  const tasks: Record<string, Agreement> = {};
  const mae: Record<string, number> = {};
  for (const [service, l] of liveTasks) {
    if (!simTasks.has(service)) {
      notes.push(
        `${service} is not simulated as tasks (it stands in for a managed service, e.g. the bus for EventBridge)`,
      );
      continue;
    }
    tasks[service] = agreement(l, simTasks.get(service));
    const livePeriods = live.timeline.filter((r) => r.service === service);
    const simByT = new Map(
      sim.timeline.filter((r) => r.service === service).map((r) => [Math.round(r.t), r.running]),
    );
    let n = 0;
    let sum = 0;
    for (const r of livePeriods) {
      const s = simByT.get(Math.round(r.t));
      if (s === undefined) continue;
      n++;
      sum += Math.abs(s - r.running);
    }
    mae[service] = n > 0 ? Math.round((sum / n) * 100) / 100 : 0;
  }
  const simP95 = sim.summary.latency.intended?.byChannel ?? {};
  const p95ByChannel: Record<string, Agreement> = {};
  for (const [ch, l] of Object.entries(live.p95)) p95ByChannel[ch] = agreement(l, simP95[ch]?.p95);
  const liveOut = firstScaleOut(live.activities);
  const simOut = firstScaleOut(sim.activities);
  const services = new Set([...liveOut.keys(), ...simOut.keys()]);
  const firstOut: ValidationReport['firstScaleOut'] = {};
  for (const s of services) {
    const l = liveOut.get(s) ?? null;
    const m = simOut.get(s) ?? null;
    firstOut[s] = {
      live: l,
      simulated: m,
      differenceSeconds: l !== null && m !== null ? Math.round(m - l) : null,
    };
  }
  const simErr =
    sim.summary.requests.total > 0 ? sim.summary.requests.failed / sim.summary.requests.total : 0;
  const p95 = agreement(live.p95All, sim.summary.latency.intended?.overall.p95);
  const within = (a: Agreement) => a.relativeError === null || a.relativeError <= VALIDATION_BOUND;
  return {
    liveRun: liveDir,
    arch,
    bound: VALIDATION_BOUND,
    tasks,
    tasksPerPeriodMae: mae,
    p95ByChannel,
    p95,
    errorRate: {
      live: Math.round(live.errorRate * 10000) / 10000,
      simulated: Math.round(simErr * 10000) / 10000,
      absoluteDifference: Math.round(Math.abs(simErr - live.errorRate) * 10000) / 10000,
    },
    firstScaleOut: firstOut,
    withinBound: {
      tasks: liveTasks.size > 0 && Object.values(tasks).every(within),
      p95: within(p95) && Object.values(p95ByChannel).every(within),
    },
    capacities: Object.fromEntries(
      Object.entries(sim.findings.services).map(([s, f]) => [
        s,
        { provenance: f.capacityProvenance, efficiency: f.efficiency, source: f.capacitySource },
      ]),
    ),
    notes,
  };
}

/** The file validation writes into the simulated run directory. */
export const VALIDATION_FILE = 'validation.json';

/** Replays a live run through the simulator and compares (I/O edge). */
export function validateAgainstLive(
  liveDir: string,
  options: {
    arch: Arch;
    scaling: ScalingConfig;
    seed?: number;
    /** Capacity per task to replay with (default: the model table). */
    calibration?: SimulateOptions['calibration'];
  },
): {
  report: ValidationReport;
  result: SimulationResult;
  plan: NonNullable<ReturnType<typeof readRun>['plan']>;
} {
  const run = readRun(liveDir);
  if (run.meta.mode !== 'live') {
    throw invalidInput(
      'validate-not-live',
      `${liveDir} is a ${run.meta.mode} run`,
      'pass a live run directory',
    );
  }
  if (!run.plan || !run.summary) {
    throw invalidInput(
      'validate-incomplete',
      `${liveDir} has no ${run.plan ? 'summary.json' : 'plan.json'}`,
      'validate against a finished live run',
    );
  }
  const timeline = readTimeline(liveDir);
  const activities = readActivities(liveDir);
  // The live engine dropped iterations beyond its concurrency cap: the replay does the same.
  const result = simulate(run.plan, {
    arch: options.arch,
    scaling: options.scaling,
    seed: options.seed ?? run.meta.seed,
    clientConcurrencyCap: true,
    // The live engine's per-request timeout: it recorded slower requests as timeouts at that bound.
    ...(typeof run.meta.options.timeoutMs === 'number'
      ? { clientTimeoutMs: run.meta.options.timeoutMs }
      : {}),
    // The live stack started at its floor, not in the steady state of the first minute's load.
    warmStart: false,
    ...(options.calibration ? { calibration: options.calibration } : {}),
  });
  const intended = run.summary.latency.intended ?? run.summary.latency.send;
  const p95 = Object.fromEntries(Object.entries(intended?.byChannel ?? {}).map(([k, v]) => [k, v.p95]));
  const report = compareLiveAndSimulated(
    liveDir,
    options.arch,
    {
      timeline,
      activities,
      p95,
      p95All: intended?.overall.p95 ?? 0,
      errorRate:
        run.summary.requests.total > 0 ? run.summary.requests.failed / run.summary.requests.total : 0,
    },
    result,
  );
  return { report, result, plan: run.plan };
}

/** Writes validation.json next to a simulated run's files. */
export function writeValidation(dir: string, report: ValidationReport): void {
  writeFileSync(join(dir, VALIDATION_FILE), `${JSON.stringify(report, null, 2)}\n`);
}
