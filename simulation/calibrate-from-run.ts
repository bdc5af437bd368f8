/**
 * Capacity per task measured from a live run (the rehearsal's "probe data from the run"): for each
 * service, the requests one task served per second per unit of CPU it reported, extrapolated to a
 * full task (capacity = requests/s/task ÷ CPU fraction), over the periods where the service was
 * busy enough to measure (CPU 10–95%). Compared with the emulated model's capacity for the same
 * request mix, this gives the efficiency `simulate --calibration` applies. On the local stack CPU is
 * emulated, so the measurement checks the emulator (efficiency ≈ 1 minus queueing losses); on a
 * user's own system it measures the real thing.
 */

import type { CalibrationEntry, CalibrationFile } from '../core/calibration-file.ts';
import { readEdgeTimeline, readRun, readSeriesSync, readTimeline } from '../core/run-directory.ts';
import type { EdgeTimelineRecord, SeriesRecord, TimelineRecord } from '../core/run-format.ts';
import { type DemandTable, demandTableForRun } from '../reference-stack/capacity/demand-table.ts';
import {
  type Arch,
  DEFAULT_TASK_SIZES,
  isPageOperation,
  type ServiceName,
} from '../reference-stack/topology.ts';
import type { Plan } from '../scenarios/plan.ts';
import { HELD_MAX_STRETCHED_SHARE } from '../telemetry/emulation.ts';
import { pathVisits } from './call-path.ts';
import { computeScenarioDemands, type ScenarioDemand, type StepDemand } from './demand.ts';
import { PAGE_ROUTES } from './edge-cache.ts';
import { SIMULATION_INPUTS } from './simulate-types.ts';

/**
 * Mean emulated CPU-ms per request each service sees under a plan's request mix (`demandTable`:
 * default the current one). A request is one hold, as the service's balancer counts them (an
 * add-to-cart is two requests to the cart: simulation/call-path.ts `pathVisits`). Until 2026-12-03
 * session 14 it was one per step: the cart's add-to-cart counted once against the two its balancer
 * counted, and product-drop's carts measured 1.3–1.5 times the emulator's capacity.
 */
export function modelDemandPerRequest(
  plan: Plan,
  arch: Arch,
  demandTable?: DemandTable,
): Partial<Record<ServiceName, number>> {
  return meanDemandPerRequest(plan, computeScenarioDemands(plan, arch, demandTable));
}

/** modelDemandPerRequest over scenario demands already computed. */
function meanDemandPerRequest(
  plan: Plan,
  demands: readonly ScenarioDemand[],
): Partial<Record<ServiceName, number>> {
  const work: Partial<Record<ServiceName, number>> = {};
  const reqs: Partial<Record<ServiceName, number>> = {};
  for (const sc of demands) {
    const it = plan.scenarios[sc.index]?.iterations ?? 0;
    for (const st of sc.steps)
      for (const [k, l] of stepLoad(st)) {
        work[k] = (work[k] ?? 0) + it * l.cpuMs;
        reqs[k] = (reqs[k] ?? 0) + it * l.requests;
      }
  }
  const out: Partial<Record<ServiceName, number>> = {};
  for (const [s, w] of Object.entries(work)) {
    const n = reqs[s as ServiceName] ?? 0;
    if (n > 0) out[s as ServiceName] = (w as number) / n;
  }
  return out;
}

/** What one request of a step puts on each deployable: its requests there (holds, as the balancer counts them) and their demand-table CPU-ms. */
export interface Load {
  requests: number;
  cpuMs: number;
}

/**
 * One request of a step, per deployable: its holds along the path (an add-to-cart is two requests
 * to the cart: simulation/call-path.ts `pathVisits`) and the step's CPU-ms there, plus its events'
 * deliveries (simulation/events.ts: requests at the consumers' balancers in headless, in-process
 * work in the monolith). Pure.
 */
function stepLoad(st: StepDemand): Map<ServiceName, Load> {
  const load = new Map<ServiceName, Load>();
  const holds = pathVisits(st.path);
  for (const [s, ms] of Object.entries(st.cpuMs))
    load.set(s as ServiceName, { requests: holds[s as ServiceName]?.length ?? 1, cpuMs: ms ?? 0 });
  for (const e of st.events) {
    const l = load.get(e.service) ?? { requests: 0, cpuMs: 0 };
    load.set(e.service, {
      requests: l.requests + (e.counted ? e.holds : 0),
      cpuMs: l.cpuMs + e.holds * e.cpuMs,
    });
  }
  return load;
}

/**
 * CPU range (%) of a period the capacity is measured over: below, fixed costs and noise dominate the
 * ratio; above, the task is saturated and its requests/s are what it was given, not what it can do.
 */
export const MEASURABLE_CPU = { min: 10, max: 95 } as const;

/**
 * Derives a calibration from a live run's timeline (`overheadPct`: the task's own CPU, % of its
 * vCPUs, which the CPU reading includes). Services without busy periods are left out of
 * `services` and named in `unmeasured` with the reason, so whoever simulates with it can say why
 * those services still run on the model table.
 */
export function calibrationFromRun(
  runDir: string,
  arch: Arch,
  overheadPct: number = SIMULATION_INPUTS.overheadPct.value,
): CalibrationFile | null {
  const run = readRun(runDir);
  const timeline = readTimeline(runDir);
  if (!run.plan || timeline.length === 0) return null;
  // The model as the live stack charged it (an older run ran an older table: demandTableForRun).
  const demands = computeScenarioDemands(run.plan, arch, demandTableForRun(run.meta.startedAt));
  const demand = meanDemandPerRequest(run.plan, demands);
  const k = run.meta.timeScale;
  const work = finishedWork(demands, readSeriesSync(runDir), readEdgeTimeline(runDir));
  const services: Record<string, CalibrationEntry> = {};
  const by = new Map<string, TimelineRecord[]>();
  for (const r of timeline) by.set(r.service, [...(by.get(r.service) ?? []), r]);
  const unmeasured: Record<string, string> = {};
  for (const [service, recs] of by) {
    const d = demand[service as ServiceName];
    const size = DEFAULT_TASK_SIZES[service as ServiceName];
    if (!size) continue; // a stand-in for a managed service (the bus, the stores): not tasks
    if (d === undefined) {
      unmeasured[service] = 'the live window sent it no requests';
      continue;
    }
    const busy = recs.filter(
      (r) =>
        r.cpu !== null &&
        r.cpu >= MEASURABLE_CPU.min &&
        r.cpu <= MEASURABLE_CPU.max &&
        r.running > 0 &&
        (r.requests ?? 0) > 0,
    );
    // Only periods where the host let the emulation hold (telemetry/emulation.ts): elsewhere the
    // requests a task served per unit of CPU are partly the host's doing.
    const held = busy.filter(
      (r) =>
        !r.emulation ||
        r.emulation.holds === 0 ||
        r.emulation.stretched / r.emulation.holds <= HELD_MAX_STRETCHED_SHARE,
    );
    if (busy.length > 0 && held.length === 0) {
      unmeasured[service] =
        `the emulation did not hold in any of its ${busy.length} busy periods (the host was too loaded to measure it)`;
      continue;
    }
    if (busy.length === 0) {
      const peakCpu = Math.max(...recs.map((r) => r.cpu ?? 0));
      unmeasured[service] =
        peakCpu < MEASURABLE_CPU.min
          ? `never busy enough in the live run (CPU peaked at ${Math.round(peakCpu)}%, needs ${MEASURABLE_CPU.min}–${MEASURABLE_CPU.max}%)`
          : `no period with CPU between ${MEASURABLE_CPU.min} and ${MEASURABLE_CPU.max}% and requests (saturated whenever busy)`;
      continue;
    }
    // The task's own overhead is in its CPUUtilization but serves no request (the emulator adds it to
    // the metric; the simulator charges it apart): capacity is requests per unit of the rest. Until
    // 2026-12-02 it was left in, which at 20–30% CPU understated capacity by 7–10%.
    const net = (r: TimelineRecord) => Math.max(1e-9, ((r.cpu as number) - overheadPct) / 100);
    // The demand-table CPU-ms of what its tasks finished in a period: the requests they finished
    // (servedCounter) × the CPU-ms per request of that period's mix, from the steps the client
    // finished in it (finishedWork), or failing a series the plan's mean.
    const mix = work?.get(service);
    const served = servedCounter(recs);
    const workOf = (r: TimelineRecord) => {
      const m = mix?.(r.t, r.t + r.period);
      return served(r) * (m && m.requests > 0 ? m.cpuMs / m.requests : d);
    };
    // Table CPU-ms per second over the CPU-ms per second the tasks spent: the efficiency per period.
    const spent = (r: TimelineRecord) => r.running * net(r) * size.vcpu * 1000;
    const rates = held.map((r) => workOf(r) / (r.period / k));
    const spends = held.map(spent);
    // Summed across the periods: a quiet period's ratio is mostly noise, and a mean of ratios gives
    // it the weight of a busy one.
    const efficiency = rates.reduce((a, b) => a + b, 0) / spends.reduce((a, b) => a + b, 0);
    if (!(efficiency > 0) || !Number.isFinite(efficiency)) {
      // Busy and held, yet no request counted as finished there (a loaded host's short run): a
      // capacity of 0 would stall every simulated path through it; the model table stands in.
      unmeasured[service] =
        `no finished request counted in its ${held.length} measurable periods (nothing to measure capacity from)`;
      continue;
    }
    const samples = rates.map((x, i) => x / (spends[i] as number));
    const sd = Math.sqrt(
      samples.reduce((a, b) => a + (b - efficiency) ** 2, 0) / Math.max(1, samples.length - 1),
    );
    const mean = (efficiency * size.vcpu * 1000) / d;
    services[service] = {
      capacityRpsPerTask: Math.round(mean * 100) / 100,
      efficiency: Math.round(efficiency * 1000) / 1000,
      uncertainty: Math.round((sd / Math.sqrt(samples.length) / efficiency) * 1000) / 1000,
      provenance: 'measured',
      demandCpuMsPerRequest: Math.round(d * 1000) / 1000,
    };
  }
  return {
    formatVersion: 1,
    kind: 'peakday-calibration',
    arch,
    measuredAt: run.meta.endedAt ?? run.meta.startedAt,
    source: `live run ${runDir} (${Object.keys(services).length} services with busy periods)`,
    services,
    ...(Object.keys(unmeasured).length > 0 ? { unmeasured } : {}),
  };
}

/**
 * The requests a service's tasks served in a period: what its CPU was spent on. The balancer's
 * RequestCount counts arrivals, and in a period where the queue grew they exceed what the tasks
 * finished: product-drop's surge minute sent a gateway 169 requests while it finished 136, and
 * with the drain in saturated periods (left out) that read as an 18% faster task (efficiency 1.18)
 * than the emulator it measured, which charges the demand table exactly (session 14). So a period
 * counts the holds its replicas finished (the emulation's counter), in requests: × the run's
 * requests per hold (1 where a request holds once; a monolith's modules hold once each). A
 * timeline without emulation counters (CloudWatch) falls back to RequestCount.
 */
export function servedCounter(recs: readonly TimelineRecord[]): (r: TimelineRecord) => number {
  let holds = 0;
  let requests = 0;
  for (const r of recs) {
    holds += r.emulation?.holds ?? 0;
    requests += r.requests ?? 0;
  }
  const perHold = holds > 0 ? requests / holds : 0;
  return (r) => (r.emulation && perHold > 0 ? r.emulation.holds * perHold : (r.requests ?? 0));
}

/**
 * The mix a service served per event-time window, as the client saw it finish: every step's finished
 * requests in the run's series × the step's requests there (its holds, as the balancer counts them)
 * and their demand-table CPU-ms, its events' deliveries included (simulation/events.ts); a cached
 * page's only as far as they reached the origin (its route's OriginRequests over Requests in the
 * edge's period). Only the mix is taken from it (CPU-ms per request): a request finishes at the
 * client after every deployable of its path, a queue behind one deployable moves its finish into a
 * later period than the work the one before it did. The plan's mean mix charged a flash sale's peak
 * minutes its quiet hours' requests (its gateway measured 0.93-0.95 of the emulator, which charges
 * the table exactly; session 14). Null without a series (a timeline collected with no run of ours).
 */
export function finishedWork(
  demands: readonly ScenarioDemand[],
  series: readonly SeriesRecord[],
  edge: readonly EdgeTimelineRecord[],
): Map<string, (from: number, to: number) => Load> | null {
  if (series.length === 0) return null;
  const steps = new Map<string, { load: Map<ServiceName, Load>; route: string | null }>();
  for (const sc of demands)
    for (const st of sc.steps) {
      const route = st.edge && isPageOperation(st.operation) ? PAGE_ROUTES[st.operation] : null;
      steps.set(`${sc.channel}\u0000${sc.journey}\u0000${st.step}`, { load: stepLoad(st), route });
    }
  const originShare = (route: string, t: number) => {
    const e = edge.find((x) => x.t <= t && t < x.t + x.period);
    const r = e?.routes[route];
    return r && r.Requests > 0 ? r.OriginRequests / r.Requests : 1;
  };
  const bySecond = new Map<string, { t: number; requests: number; cpuMs: number }[]>();
  for (const r of series) {
    if (r.step === null || !r.requests) continue;
    const st = steps.get(`${r.channel}\u0000${r.journey}\u0000${r.step}`);
    if (!st) continue;
    const n = r.requests * (st.route ? originShare(st.route, r.t) : 1);
    for (const [s, l] of st.load) {
      const list = bySecond.get(s) ?? [];
      list.push({ t: r.t, requests: n * l.requests, cpuMs: n * l.cpuMs });
      bySecond.set(s, list);
    }
  }
  const out = new Map<string, (from: number, to: number) => Load>();
  for (const [s, list] of bySecond)
    out.set(s, (from, to) => {
      const sum = { requests: 0, cpuMs: 0 };
      for (const x of list)
        if (x.t >= from && x.t < to) {
          sum.requests += x.requests;
          sum.cpuMs += x.cpuMs;
        }
      return sum;
    });
  return out;
}
