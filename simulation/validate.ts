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
import { readActivities, readRun, readSeriesSync, readTimeline } from '../core/run-directory.ts';
import type { Provenance, ScalingActivity, SeriesRecord, TimelineRecord } from '../core/run-format.ts';
import { mergeEncoded, percentilesMs } from '../engine/histogram.ts';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { demandTableForRun } from '../reference-stack/capacity/demand-table.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { heldPeriodStarts } from '../telemetry/emulation.ts';
import { percentilesOf } from './client-latency.ts';
import { LOCAL_STORE_LIMITS } from './local-store.ts';
import type { MixtureComponent } from './queueing.ts';
import { type SimulateOptions, type SimulationResult, simulate } from './simulate.ts';
import { SIMULATION_INPUTS } from './simulate-types.ts';
import { MIN_PERIODS, measureVisitOverhead } from './visit-overhead.ts';

/** The agreement bound on running tasks per service (issue 19's target: 15%). */
export const VALIDATION_BOUND = 0.15;
/** The agreement bound on p95, overall and per channel (issue 19's target: 25%). */
export const P95_BOUND = 0.25;
/** The agreement bound on the error rate, absolute (issue 19's target: 2 points). */
export const ERROR_POINTS_BOUND = 0.02;

/** One compared quantity. */
export interface Agreement {
  live: number | null;
  simulated: number | null;
  /** |sim − live| / live, or null when live is 0 or missing. */
  relativeError: number | null;
  /**
   * A live p95 over held periods: the requests it is the p95 of, and the 95% interval the true p95
   * lies in given that sample (order statistics, distribution-free; simulation/validate.ts `p95Interval`).
   */
  liveSamples?: number;
  liveInterval?: [number, number];
}

/**
 * The 95% confidence interval of a p95 estimated from `n` requests, as the quantiles (%) of the
 * sample to read it at: the ranks n·0.95 ∓ 1.96·√(n·0.95·0.05) (the normal approximation of the
 * binomial count below the true p95). With 100 requests it spans the sample's p90.7 to p99.3: on a
 * latency with a cliff (most answers fast, 5% slow) a channel's p95 can sit anywhere on the cliff.
 */
export function p95Interval(n: number): [number, number] {
  if (n <= 0) return [0, 100];
  const half = 1.96 * Math.sqrt(n * 0.95 * 0.05);
  return [Math.max(0, ((n * 0.95 - half) / n) * 100), Math.min(100, ((n * 0.95 + half) / n) * 100)];
}

/**
 * Whether a p95 agrees as far as its live sample can tell: within `bound` (strict agreement), or the
 * live sample does not pin its own p95 to within `bound` (its 95% interval reaches past
 * live × (1 ± bound): too few requests, or a p95 on a cliff) and the simulated p95 is within `bound`
 * of a p95 that interval leaves possible. A live p95 its sample does determine is judged strictly.
 */
export function withinSampling(a: Agreement, bound: number): boolean {
  if (a.relativeError === null || a.relativeError <= bound) return true;
  if (!a.liveInterval || a.simulated === null || a.live === null) return false;
  const [lo, hi] = a.liveInterval;
  const undetermined = lo < (1 - bound) * a.live || hi > (1 + bound) * a.live;
  return undetermined && a.simulated >= (1 - bound) * lo && a.simulated <= (1 + bound) * hi;
}

/** What validation found. */
export interface ValidationReport {
  liveRun: string;
  arch: Arch;
  /** The bound on tasks (relative); `bounds` has all three. */
  bound: number;
  bounds: { tasks: number; p95: number; errorPoints: number };
  /** Whether the live run was valid (an invalid one's latency includes the load generator's own delay). */
  liveValid: boolean;
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
  /**
   * The p95 targets judged against what the live sample can say: overall and every channel within the
   * bound, or within the bound of the live p95's 95% interval (`withinSampling`). Never replaces
   * `withinBound.p95`, the target itself; it tells a miss from a p95 its few requests leave open.
   */
  p95WithinSampling?: boolean;
  /** Whether tasks, p95 and the error rate agree within their bounds. */
  withinBound: { tasks: boolean; p95: boolean; errors: boolean };
  /**
   * The periods compared: those where the local stack's emulation held (telemetry/emulation.ts); the
   * others are excluded (event times of their starts). Null when the live timeline does not say.
   */
  emulation: { periods: number; heldPeriods: number; excludedPeriods: number[] } | null;
  /**
   * The network hop the replay charged every visit: measured from the live run's quiet leaf periods
   * (simulation/visit-overhead.ts) or, where it has too few, the simulator's assumption.
   */
  hop?: { ms: number; provenance: 'measured' | 'model-input'; periods: number; services: string[] };
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

/** Each service's first scale-out, live and simulated (event seconds), and their difference. */
function firstScaleOutAgreement(
  live: readonly ScalingActivity[],
  simulated: readonly ScalingActivity[],
): ValidationReport['firstScaleOut'] {
  const liveOut = firstScaleOut(live);
  const simOut = firstScaleOut(simulated);
  const out: ValidationReport['firstScaleOut'] = {};
  for (const s of new Set([...liveOut.keys(), ...simOut.keys()])) {
    const l = liveOut.get(s) ?? null;
    const m = simOut.get(s) ?? null;
    out[s] = {
      live: l,
      simulated: m,
      differenceSeconds: l !== null && m !== null ? Math.round(m - l) : null,
    };
  }
  return out;
}

/** Mean running tasks per service, live against simulated, and the per-period mean absolute difference. */
function tasksAgreement(
  liveTimeline: readonly TimelineRecord[],
  simTimeline: readonly TimelineRecord[],
  liveTasks: Map<string, number>,
  simTasks: Map<string, number>,
  notes: string[],
): { tasks: Record<string, Agreement>; mae: Record<string, number> } {
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
    const livePeriods = liveTimeline.filter((r) => r.service === service);
    const simByT = new Map(
      simTimeline.filter((r) => r.service === service).map((r) => [Math.round(r.t), r.running]),
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
  return { tasks, mae };
}

/** What the validation says when none of the live run's services is a deployable of the replayed topology. */
function otherTopologyNote(arch: Arch, liveTasks: Map<string, number>): string {
  const other = arch === 'headless' ? 'monolith' : 'headless';
  return `none of the live run's services (${[...liveTasks.keys()].sort().join(', ')}) is a deployable of the ${arch} topology replayed: it ran the ${other} one (replay it with --arch ${other}); nothing is judged`;
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
    /** The live run's series: latency and errors over the held periods come from it. */
    series?: SeriesRecord[];
    /** The live run's validity (meta.json); default valid. */
    valid?: boolean;
    invalidReasons?: string[];
    /** The live engine's per-request timeout (ms): both sides record a timed-out request at it. */
    timeoutMs?: number;
  },
  sim: SimulationResult,
): ValidationReport {
  const notes: string[] = [];
  const liveValid = live.valid !== false;
  if (!liveValid)
    notes.push(
      `the live run is invalid (${(live.invalidReasons ?? []).map((r) => r.split(':')[0]).join('; ') || 'see its report'}): its latency includes the load generator's own delay on this host, which the replay does not model; agreement is not judged`,
    );
  // Only the periods where the local stack's emulation held (telemetry/emulation.ts): elsewhere the
  // live latency is partly the host's, which no model of the stack reproduces.
  const period = live.timeline.find((r) => r.period > 0)?.period ?? 60;
  const periodOf = (t: number) => Math.floor(t / period + 1e-9) * period;
  // Only the periods the replay simulates: a live run's timeline can go on past the plan's window
  // (its drain, the last answers and the metrics' last scrape), where the replay has no tasks at all.
  const simulated = new Set(sim.timeline.map((r) => periodOf(r.t)));
  const inWindow = (t: number) => simulated.size === 0 || simulated.has(periodOf(t));
  const past = [...new Set(live.timeline.filter((r) => !inWindow(r.t)).map((r) => periodOf(r.t)))];
  if (past.length > 0)
    notes.push(
      `the live run's period${past.length > 1 ? 's' : ''} at event ${past.sort((a, b) => a - b).join(', ')} s ${past.length > 1 ? 'lie' : 'lies'} past the replayed window (the run's drain): not compared`,
    );
  const fidelity = heldPeriodStarts(live.timeline.filter((r) => inWindow(r.t)));
  const judged = fidelity.held.size + fidelity.notHeld.size;
  const excluding = fidelity.notHeld.size > 0;
  // Excluding: only periods judged and held (a period with no request anywhere says nothing).
  const keep = (t: number) => inWindow(t) && (!excluding || fidelity.held.has(periodOf(t)));
  const nothingHeld = excluding && fidelity.held.size === 0;
  const liveTimeline = live.timeline.filter((r) => keep(r.t));
  const simTimeline = sim.timeline.filter((r) => keep(r.t));
  if (judged > 0 && fidelity.held.size === 0)
    notes.push(
      `the local stack's emulation held in none of the ${judged} periods: nothing left to compare on this host (rerun on a quieter host or at a lower rate)`,
    );
  else if (judged > 0)
    notes.push(
      excluding
        ? `uses the ${fidelity.held.size} of ${judged} periods where the local stack's emulation held; ${fidelity.notHeld.size} excluded (event ${[...fidelity.notHeld].sort((a, b) => a - b).join(', ')} s), where the host added service time the emulated tasks would not have had`
        : `uses all ${judged} periods: the local stack's emulation held in every one`,
    );
  const liveTasks = meanTasks(liveTimeline);
  const simTasks = meanTasks(simTimeline);
  if (live.timeline.length === 0)
    notes.push('the live run has no timeline: run `peakday collect <run> --source local` first');
  const { tasks, mae } = tasksAgreement(liveTimeline, simTimeline, liveTasks, simTasks, notes);
  // A live run of the other topology (a monolith's run replayed as headless, or the other way
  // round): no service to compare, and a latency from another stack. Nothing is judged.
  const otherTopology = liveTasks.size > 0 && Object.keys(tasks).length === 0;
  if (otherTopology) notes.push(otherTopologyNote(arch, liveTasks));
  const held =
    excluding && live.series
      ? heldLatency(live.series, sim, keep, live.timeoutMs ?? Number.POSITIVE_INFINITY)
      : null;
  if (excluding && !held)
    notes.push('latency and errors compared over the whole run: the live series was not given');
  if (held && !nothingHeld)
    notes.push(
      held.sim.exact
        ? "over the held periods, live p95 is exact (merged histograms) and so is the simulated one (the mixture of those intervals' latency components)"
        : 'over the held periods, live p95 is exact (merged histograms); the simulated p95 is the request-weighted mean of its per-interval estimates',
    );
  const simP95 = held
    ? Object.fromEntries(Object.entries(held.sim.byChannel).map(([c, v]) => [c, { p95: v }]))
    : (sim.summary.latency.intended?.byChannel ?? {});
  const liveP95 = held ? held.live.byChannel : live.p95;
  const p95ByChannel: Record<string, Agreement> = {};
  // A held p95 carries its sample's size and interval (what a p95 on few requests can say).
  const sampled = (a: Agreement, k: string): Agreement => {
    const sp = held?.live.spread[k];
    return sp ? { ...a, liveSamples: sp.n, liveInterval: sp.interval } : a;
  };
  for (const [ch, l] of Object.entries(liveP95))
    p95ByChannel[ch] = sampled(agreement(l, simP95[ch]?.p95), ch);
  const firstOut = firstScaleOutAgreement(live.activities, sim.activities);
  const simErr = held
    ? held.sim.errorRate
    : sim.summary.requests.total > 0
      ? sim.summary.requests.failed / sim.summary.requests.total
      : 0;
  const liveErr = held ? held.live.errorRate : live.errorRate;
  const p95 = held
    ? sampled(agreement(held.live.all, held.sim.all), '*')
    : agreement(live.p95All, sim.summary.latency.intended?.overall.p95);
  const judgedP95 = liveValid && !otherTopology && !nothingHeld && p95.relativeError !== null;
  const within = (a: Agreement, bound: number) => a.relativeError === null || a.relativeError <= bound;
  return {
    liveRun: liveDir,
    arch,
    bound: VALIDATION_BOUND,
    bounds: { tasks: VALIDATION_BOUND, p95: P95_BOUND, errorPoints: ERROR_POINTS_BOUND },
    liveValid,
    tasks,
    tasksPerPeriodMae: mae,
    p95ByChannel,
    p95,
    errorRate: {
      live: Math.round(liveErr * 10000) / 10000,
      simulated: Math.round(simErr * 10000) / 10000,
      absoluteDifference: Math.round(Math.abs(simErr - liveErr) * 10000) / 10000,
    },
    firstScaleOut: firstOut,
    p95WithinSampling:
      judgedP95 &&
      withinSampling(p95, P95_BOUND) &&
      Object.values(p95ByChannel).every((a) => withinSampling(a, P95_BOUND)),
    withinBound: {
      tasks:
        liveTasks.size > 0 &&
        !otherTopology &&
        Object.values(tasks).every((a) => within(a, VALIDATION_BOUND)),
      p95:
        judgedP95 && within(p95, P95_BOUND) && Object.values(p95ByChannel).every((a) => within(a, P95_BOUND)),
      errors: liveValid && !nothingHeld && !otherTopology && Math.abs(simErr - liveErr) <= ERROR_POINTS_BOUND,
    },
    emulation:
      judged > 0
        ? {
            periods: judged,
            heldPeriods: fidelity.held.size,
            excludedPeriods: [...fidelity.notHeld].sort((a, b) => a - b),
          }
        : null,
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
    efficiency?: SimulateOptions['efficiency'];
    /**
     * The replay's series resolution (event seconds; default the simulator's, 60 s for a rehearsal):
     * finer only to compare second by second (bench/replay-seconds.ts); the model's steps do not
     * depend on it.
     */
    resolutionSeconds?: number;
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
  const series = readSeriesSync(liveDir);
  // What this host adds to every visit outside the emulated CPU, from the run's own leaves.
  const overhead = measureVisitOverhead(timeline, options.arch);
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
    // The local stack's balancers hold at most 64 connections per target and queue the rest without
    // bound (reference-stack/orchestrator), so a replica's bounded queue never overflows there: what
    // the simulator's bounded task queue would reject with 503 waits in the balancer instead.
    queueLimitPerVcpu: Number.POSITIVE_INFINITY,
    // The local emulator reports the task's 2% overhead in CPUUtilization but gives its requests the
    // whole vCPU: near saturation 2% of capacity is the difference between a queue and a backlog.
    overheadTakesCapacity: false,
    // The local store's limits (scaled by localScale, shared by the replicas): a checkout's own
    // writes on its SKU exceed a replica's share at 4 replicas (simulation/local-store.ts).
    localStore: LOCAL_STORE_LIMITS,
    ...(overhead
      ? {
          hopLatencyMs: overhead.ms,
          hopLatencySource: `measured: the live run's leaves' response time over their emulated holds, median of ${overhead.periods} quiet periods (simulation/visit-overhead.ts)`,
        }
      : {}),
    ...(options.efficiency ? { efficiency: options.efficiency } : {}),
    ...(options.resolutionSeconds ? { resolutionSeconds: options.resolutionSeconds } : {}),
    // The demand table the live stack ran with (an older run: the page costs of its day).
    demandTable: demandTableForRun(run.meta.startedAt),
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
      series,
      valid: run.meta.valid,
      invalidReasons: run.meta.invalidReasons,
      ...(typeof run.meta.options.timeoutMs === 'number' ? { timeoutMs: run.meta.options.timeoutMs } : {}),
    },
    result,
  );
  report.hop = overhead
    ? { ms: overhead.ms, provenance: 'measured', periods: overhead.periods, services: overhead.services }
    : { ms: SIMULATION_INPUTS.hopLatencyMs.value, provenance: 'model-input', periods: 0, services: [] };
  report.notes.push(
    overhead
      ? `each visit's network hop is the live stack's own, ${overhead.ms} ms: its leaves' response time over their emulated holds, median of ${overhead.periods} quiet periods (${overhead.services.join(', ')})`
      : `each visit's network hop is the simulator's assumption, ${SIMULATION_INPUTS.hopLatencyMs.value} ms: the live run has no leaf service quiet in ${MIN_PERIODS} periods to measure it from`,
  );
  return { report, result, plan: run.plan };
}

/** Writes validation.json next to a simulated run's files. */
export function writeValidation(dir: string, report: ValidationReport): void {
  writeFileSync(join(dir, VALIDATION_FILE), `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * p95 (overall and per channel) and error rate over the kept periods: the live side merges the
 * series' HDR histograms of intended-start latency (exact); the simulated side solves the p95 of
 * the mixture of the kept intervals' latency components (exact for the model, `exact`), or, for a
 * result without them, weights its per-interval p95 estimates by requests (a mean of p95s is not
 * the p95 of the whole: it understates a run whose slow intervals hold the tail, overstates one
 * whose slow intervals are few).
 */
function heldLatency(
  liveSeries: readonly SeriesRecord[],
  sim: Pick<SimulationResult, 'series' | 'latencyComponents'>,
  keep: (t: number) => boolean,
  timeoutMs: number,
): {
  live: {
    all: number | null;
    byChannel: Record<string, number>;
    errorRate: number;
    /** Per channel and `*` (all): the requests and the p95's 95% interval. */
    spread: Record<string, { n: number; interval: [number, number] }>;
  };
  sim: { all: number | null; byChannel: Record<string, number>; errorRate: number; exact: boolean };
} {
  const liveHist = new Map<string, string[]>();
  let liveReq = 0;
  let liveFailed = 0;
  for (const r of liveSeries) {
    if (r.step === null || !keep(r.t)) continue;
    liveReq += r.requests ?? 0;
    liveFailed += r.failed ?? 0;
    if (!r.latency) continue;
    for (const k of ['*', r.channel]) liveHist.set(k, [...(liveHist.get(k) ?? []), r.latency]);
  }
  const liveBy: Record<string, number> = {};
  const spread: Record<string, { n: number; interval: [number, number] }> = {};
  let liveAll: number | null = null;
  for (const [k, enc] of liveHist) {
    const h = mergeEncoded(enc);
    const p95 = percentilesMs(h).p95;
    if (k === '*') liveAll = p95;
    else liveBy[k] = p95;
    const [lo, hi] = p95Interval(h.totalCount);
    const at = (q: number) => Math.round(h.getValueAtPercentile(q)) / 1000;
    spread[k] = { n: h.totalCount, interval: [at(lo), at(hi)] };
  }
  let simReq = 0;
  let simFailed = 0;
  for (const r of sim.series) {
    if (r.step === null || !keep(r.t)) continue;
    simReq += r.requests ?? 0;
    simFailed += r.failed ?? 0;
  }
  const simBy: Record<string, number> = {};
  let simAll: number | null = null;
  const exact = sim.latencyComponents !== undefined;
  if (sim.latencyComponents) {
    // The engine records a timed-out request at its timeout: so does percentilesOf.
    const comps = new Map<string, MixtureComponent[]>();
    for (const iv of sim.latencyComponents) {
      if (!keep(iv.t)) continue;
      for (const k of ['*', iv.channel]) {
        const list = comps.get(k) ?? [];
        for (const c of iv.components) list.push(c);
        comps.set(k, list);
      }
    }
    const p95 = (list: MixtureComponent[]) => Math.round(percentilesOf(list, timeoutMs).p95);
    for (const [k, list] of comps) {
      if (k === '*') simAll = p95(list);
      else simBy[k] = p95(list);
    }
  } else {
    const simW = new Map<string, { w: number; sum: number }>();
    for (const r of sim.series) {
      if (r.step === null || !keep(r.t)) continue;
      const n = r.requests ?? 0;
      const p = r.latencyEstimate?.p95;
      if (p === undefined || n <= 0) continue;
      for (const k of ['*', r.channel]) {
        const e = simW.get(k) ?? { w: 0, sum: 0 };
        e.w += n;
        e.sum += n * p;
        simW.set(k, e);
      }
    }
    for (const [k, e] of simW) if (k !== '*') simBy[k] = Math.round(e.sum / e.w);
    const all = simW.get('*');
    simAll = all ? Math.round(all.sum / all.w) : null;
  }
  return {
    live: {
      all: liveAll,
      byChannel: liveBy,
      errorRate: liveReq > 0 ? liveFailed / liveReq : 0,
      spread,
    },
    sim: { all: simAll, byChannel: simBy, errorRate: simReq > 0 ? simFailed / simReq : 0, exact },
  };
}
