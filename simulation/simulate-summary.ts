/**
 * The run's summary once the last step is played: summary.json (exact percentiles of the mixture of
 * every interval's latency components, overall, per channel and per journey; request and iteration
 * totals) and simulation.json's findings (per service peak tasks, need at the peak, minutes at max
 * capacity, vCPU-hours; per table units and throttles; the model inputs; the warnings a reader must
 * see). Reads the SimState it is given (simulation/simulate-state.ts).
 */
import type { LatencyBreakdown, RunSummary } from '../core/run-format.ts';
import { RUN_FORMAT_VERSION } from '../core/run-format.ts';
import { percentilesOf, round2 } from './client-latency.ts';
import type { MixtureComponent } from './queueing.ts';
import type { SimService, SimState } from './simulate-state.ts';
import { MODEL_TABLE_SOURCE, SIMULATION_INPUTS, type SimulationFindings } from './simulate-types.ts';

/** Latency percentiles overall, per channel and per journey: exact mixtures of the intervals' components. */
export function latencyBreakdown(st: SimState): LatencyBreakdown {
  const { timeoutMs } = st.inputs;
  const all: MixtureComponent[] = [];
  const byChannel = new Map<string, MixtureComponent[]>();
  const byJourney = new Map<string, MixtureComponent[]>();
  for (const f of st.flats) {
    const comps = st.stepComponents.get(f)!;
    for (const c of comps) all.push(c);
    const ch = byChannel.get(f.d.channel) ?? [];
    ch.push(...comps);
    byChannel.set(f.d.channel, ch);
    const jo = byJourney.get(f.d.journey) ?? [];
    jo.push(...comps);
    byJourney.set(f.d.journey, jo);
  }
  return {
    overall: percentilesOf(all, timeoutMs),
    byChannel: Object.fromEntries([...byChannel].map(([k2, v]) => [k2, percentilesOf(v, timeoutMs)])),
    byJourney: Object.fromEntries([...byJourney].map(([k2, v]) => [k2, percentilesOf(v, timeoutMs)])),
  };
}

/** summary.json of the simulated run (mode "simulated"; intended and send latency are one estimate). */
export function runSummary(st: SimState, breakdown: LatencyBreakdown): RunSummary {
  const { t0, t1, k } = st.inputs;
  const { totals } = st;
  const wallSeconds = (t1 - t0) / k;
  return {
    formatVersion: RUN_FORMAT_VERSION,
    mode: 'simulated',
    valid: true,
    invalidReasons: [],
    endReason: 'completed',
    partial: false,
    durationSeconds: wallSeconds,
    eventStart: t0,
    eventEnd: t1,
    timeScale: k,
    iterations: {
      planned: Math.round(totals.iterations + totals.dropped),
      started: Math.round(totals.iterations),
      completed: Math.round(totals.iterations - totals.failedIterations),
      dropped: Math.round(totals.dropped),
      failed: Math.round(totals.failedIterations),
    },
    requests: {
      total: Math.round(totals.requests),
      failed: Math.round(totals.failed),
      ratePerSecond: wallSeconds > 0 ? round2(totals.requests / wallSeconds) : 0,
      byStatus: {
        '2xx': Math.round(totals.requests - totals.failed),
        '3xx': 0,
        '4xx': 0,
        '5xx': Math.round(totals.failed - totals.timeouts),
      },
      errors: { timeout: Math.round(totals.timeouts), refused: 0, reset: 0, check: 0, other: 0 },
    },
    latency: { intended: breakdown, send: breakdown },
    schedulerLag: null,
  };
}

/** The model inputs the run used, each with its source ('user' when an option overrode the default). */
export function inputsOf(st: SimState): SimulationFindings['inputs'] {
  const { options } = st;
  const { hotKeys, launch, hopMs, queuePerVcpu, overhead, timeoutMs, limits } = st.inputs;
  return {
    hotKeys: {
      value: hotKeys,
      source: options.hotKeys === undefined ? SIMULATION_INPUTS.hotKeys.source : 'user',
    },
    launchRate: {
      value: launch,
      source: options.launchRate === undefined ? SIMULATION_INPUTS.launchRate.source : 'user',
    },
    hopLatencyMs: {
      value: hopMs,
      source:
        options.hopLatencyMs === undefined
          ? SIMULATION_INPUTS.hopLatencyMs.source
          : (options.hopLatencySource ?? 'user'),
    },
    queueLimitPerVcpu: { value: queuePerVcpu, source: SIMULATION_INPUTS.queueLimitPerVcpu.source },
    overheadPct: { value: overhead * 100, source: SIMULATION_INPUTS.overheadPct.source },
    clientTimeoutMs: {
      value: Number.isFinite(timeoutMs) ? timeoutMs : null,
      source: options.clientTimeoutMs === undefined ? SIMULATION_INPUTS.clientTimeoutMs.source : 'user',
    },
    store: { value: limits, source: options.store === undefined ? SIMULATION_INPUTS.store.source : 'user' },
    scaling: { value: options.scaling.file, source: 'scaling file' },
  };
}

/** simulation.json: what the simulator learned beyond the run-directory files. */
export function findingsOf(st: SimState): SimulationFindings {
  const { options, svcList } = st;
  const { dtE, resolution, periodS, overhead } = st.inputs;
  return {
    arch: options.arch,
    seed: options.seed,
    stepSeconds: dtE,
    resolutionSeconds: resolution,
    inputs: inputsOf(st),
    services: Object.fromEntries(
      svcList.map((s) => {
        const vcpuSeconds = s.vcpuSeconds;
        const cal = options.efficiency?.[s.name];
        return [
          s.name,
          {
            taskSize: s.size,
            efficiency: s.efficiency,
            capacityProvenance: cal?.provenance ?? 'model-input',
            capacitySource: cal?.source ?? MODEL_TABLE_SOURCE,
            peakTasks: s.peakTasks,
            maxCapacity: s.scaling.maxCapacity,
            neededAtPeak: neededAtPeak(s, overhead),
            minutesAtMaxCapacity: (s.atMaxPeriods * periodS) / 60,
            tasksBlockedByQuota: s.quotaBlocked,
            vcpuHours: round2(vcpuSeconds / 3600),
            memoryGbHours: round2(((vcpuSeconds / s.size.vcpu) * s.size.memoryGb) / 3600),
            requests: Math.round(s.totalRequests),
            rejected: Math.round(s.totalRejected),
          },
        ];
      }),
    ),
    tables: Object.fromEntries(
      [...st.tables.values()].map((tb) => [
        tb.name,
        {
          peakReadUnits: round2(tb.peakRead),
          peakWriteUnits: round2(tb.peakWrite),
          throttled: round2(tb.throttled),
          hotThrottled: round2(tb.hotThrottled),
        },
      ]),
    ),
    launchDelayMaxSeconds: round2(st.launchDelayMax),
    warnings: warningsOf(
      svcList,
      st.launchDelayMax,
      periodS,
      overhead,
      svcList.filter((s) => options.efficiency?.[s.name]?.provenance !== 'measured').map((s) => s.name),
    ),
    quota: { vcpu: options.vcpuQuota ?? null, peakVcpu: round2(st.peakVcpu), exceeded: st.quotaExceeded },
  };
}

/** Tasks the busiest metric period's CPU demand needs at the service's CPU target. */
export function neededAtPeak(s: SimService, overhead: number): number {
  const perTask = s.size.vcpu * 1000 * (1 - overhead) * (s.efficiency || 1);
  return Math.ceil(s.peakDemandRate / (perTask * (s.cpuTarget / 100)) - 1e-9);
}

/** What a reader must know before trusting the numbers: cap hits, launch-rate compounding, capacity basis. */
export function warningsOf(
  list: SimService[],
  delayMax: number,
  period: number,
  overhead: number,
  modelled: string[],
): string[] {
  const out: string[] = [];
  for (const s of list) {
    const needed = neededAtPeak(s, overhead);
    if (s.atMaxPeriods > 0)
      out.push(
        `${s.name} spent ${(s.atMaxPeriods * period) / 60} min at its max capacity (${s.scaling.maxCapacity} tasks); the busiest minute needed ${needed} at ${s.cpuTarget}% CPU`,
      );
    else if (needed > s.scaling.maxCapacity)
      out.push(
        `${s.name}: max capacity ${s.scaling.maxCapacity} is below the ${needed} tasks the busiest minute needed`,
      );
  }
  const cooldown = Math.min(
    ...list.flatMap((s) =>
      s.scaling.policies.flatMap((p) => (p.type === 'TargetTrackingScaling' ? [p.scaleOutCooldown] : [])),
    ),
  );
  if (Number.isFinite(cooldown) && delayMax > cooldown)
    out.push(
      `Fargate's launch rate (burst 100, then 20 tasks/s per account) held tasks up to ${Math.round(delayMax / 60)} min before they started. Target tracking scales from the desired count, which counts those pending tasks, while CPUUtilization averages the RUNNING tasks only, so after every ${cooldown}-s cooldown it multiplies the desired count again until the launches catch up (the AWS behaviour, docs/simulation.md); pre-warm with scheduled actions`,
    );
  if (modelled.length > 0)
    out.push(
      `capacity per task of ${modelled.join(', ')} is a model input: the local emulation's demand table (measured CPU × the calibration scale factor 6, docs/reference-stack.md), not a measurement of a production service; measure yours with \`peakday probe\` and pass --calibration`,
    );
  return out;
}
