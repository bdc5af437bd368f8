/**
 * The end of a metric period (60 s of event time): each service's CPUUtilization and
 * RequestCountPerTarget datapoint and timeline record, the very same `decide()` the live stack uses
 * (reference-stack/autoscaling/decide.ts), the Fargate launch queue re-planned for the tasks it
 * launched, the account's vCPU quota, and the tables' on-demand adaptation. Reads and updates the
 * SimState it is given (simulation/simulate-state.ts).
 */
import type { EdgeTimelineRecord, TimelineRecord } from '../core/run-format.ts';
import { decide } from '../reference-stack/autoscaling/decide.ts';
import type { MetricDatapoint, TaskRecord } from '../reference-stack/autoscaling/types.ts';
import { CAPACITY_DEFAULTS } from '../reference-stack/capacity/params.ts';
import { EDGE_ROUTES } from '../reference-stack/edge/cache-policy.ts';
import { round2 } from './client-latency.ts';
import type { WaitingTask } from './launch-queue.ts';
import { EDGE_FIELDS, type SimService, type SimState } from './simulate-state.ts';

/** Closes the metric period ending at event time `end`. */
export function endPeriod(st: SimState, end: number): void {
  const p = end - st.periodStart;
  const launchedNow: WaitingTask[][] = st.svcList.map(() => []);
  for (let si = 0; si < st.svcList.length; si++) {
    const s = st.svcList[si] as SimService;
    recordPeriod(st, s, end, p);
    launchedNow[si] = scaleService(st, s, si, end);
    resetPeriod(s, p, st.inputs.k);
  }
  planLaunches(st, end, launchedNow);
  if (st.options.vcpuQuota !== undefined) applyVcpuQuota(st, end, st.options.vcpuQuota);
  let vcpu = 0;
  for (const s of st.svcList) vcpu += s.state.desired * s.size.vcpu;
  st.peakVcpu = Math.max(st.peakVcpu, vcpu);
  adaptTables(st);
  recordEdgePeriod(st, p);
  st.periodStart = end;
}

/**
 * The edge's timeline record for the period, under CloudFront's metric names (core/run-format.ts
 * EdgeTimelineRecord): requests and the hit rate over cacheable requests per route, the requests
 * sent to the origin and the offload, BytesDownloaded (every request's measured body bytes,
 * simulation/edge-cache.ts `responseBytesOf`; headers and compression not counted) and OriginLatency
 * (the mean simulated latency of the requests that reached the origin, ms; null when none did).
 * Clears the period's counts.
 */
export function recordEdgePeriod(st: SimState, p: number): void {
  const e = st.edgePeriod;
  if (st.options.timeline === false) {
    e.fill(0);
    return;
  }
  let requests = 0;
  let hits = 0;
  let misses = 0;
  let origin = 0;
  let bytes = 0;
  let originMs = 0;
  const routes: EdgeTimelineRecord['routes'] = {};
  EDGE_ROUTES.forEach((route, i) => {
    const at = i * EDGE_FIELDS;
    const [n, h, m, pass] = [e[at]!, e[at + 1]!, e[at + 2]!, e[at + 3]!];
    if (n <= 0) return;
    requests += n;
    hits += h;
    misses += m;
    origin += m + pass;
    bytes += e[at + 4]!;
    originMs += e[at + 5]!;
    routes[route] = {
      Requests: round2(n),
      CacheHits: round2(h),
      CacheMisses: round2(m),
      CachePasses: round2(pass),
      OriginRequests: round2(m + pass),
      CacheHitRate: h + m > 0 ? round2((100 * h) / (h + m)) : null,
    };
  });
  e.fill(0);
  if (requests <= 0) return;
  st.edgeTimeline.push({
    t: st.periodStart,
    period: p,
    service: 'edge',
    kind: 'edge',
    Requests: round2(requests),
    BytesDownloaded: Math.round(bytes),
    CacheHitRate: hits + misses > 0 ? round2((100 * hits) / (hits + misses)) : null,
    OriginLatency: origin > 0 ? round2(originMs / origin) : null,
    OriginRequests: round2(origin),
    originOffload: Math.round((1 - origin / requests) * 1e4) / 1e4,
    routes,
    source: 'simulator',
    provenance: 'simulated',
  });
}

/**
 * The service's datapoint for the autoscaler and its timeline record for the period (none with
 * `timeline: false`).
 */
export function recordPeriod(st: SimState, s: SimService, end: number, p: number): void {
  const { k } = st.inputs;
  const cpu = s.pCap > 0 ? Math.min(100, (100 * s.pBusy) / s.pCap) : null;
  const healthyAvg = s.pSteps > 0 ? s.pHealthySum / s.pSteps : 0;
  const rpt = healthyAvg > 0 ? (s.pReqs / healthyAvg) * (60 / p) : null;
  const datapoint: MetricDatapoint = {
    t: st.periodStart,
    period: p,
    cpu,
    memory: null,
    requestsPerTarget: rpt,
  };
  s.history.push(datapoint);
  if (s.history.length > 64) s.history.splice(0, s.history.length - 64);
  if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, end);
  const counts = s.counter.countsAt(s.state.desired, end);
  if (s.state.desired >= s.state.maxCapacity) s.atMaxPeriods++;
  if (st.options.timeline === false) return;
  // Memory: a task's base plus a per-request share of the requests in flight (Little's law).
  const meanLatencyS = s.pLatencyW > 0 ? s.pLatencySum / s.pLatencyW / 1000 : 0;
  const inFlightPerTask = counts.running > 0 ? ((s.pReqs / (p / k)) * meanLatencyS) / counts.running : 0;
  const memMb = CAPACITY_DEFAULTS.taskBaseMemoryMb + CAPACITY_DEFAULTS.requestMemoryMb * inFlightPerTask;
  const memPct = counts.running > 0 ? Math.min(100, (100 * memMb) / (s.size.memoryGb * 1024)) : null;
  const stores = [...s.pStore.entries()]
    .map(([table, v]) => ({
      table,
      readUnits: round2(v.readUnits),
      writeUnits: round2(v.writeUnits),
      throttles: round2(v.throttles),
    }))
    .sort((a, b) => b.throttles - a.throttles || b.readUnits + b.writeUnits - (a.readUnits + a.writeUnits));
  const record: TimelineRecord = {
    t: st.periodStart,
    period: p,
    service: s.name,
    desired: s.state.desired,
    running: counts.running,
    pending: counts.pending,
    cpu: cpu === null ? null : round2(cpu),
    memory: memPct === null ? null : round2(memPct),
    requests: round2(s.pReqs),
    requestsPerTarget: rpt === null ? null : round2(rpt),
    responseTimeMs: s.pLatencyW > 0 ? round2(s.pLatencySum / s.pLatencyW) : null,
    http5xx: round2(s.pRejected),
    ...(stores[0] ? { store: stores[0], stores } : {}),
    source: 'simulator',
    provenance: 'simulated',
  };
  st.timeline.push(record);
}

/**
 * Decides at the period boundary; returns the tasks it launched, which wait for Fargate's launch
 * tokens (planned once every service has decided).
 */
export function scaleService(st: SimState, s: SimService, si: number, end: number): WaitingTask[] {
  const prevNext = s.state.nextTaskId;
  const prevDesired = s.state.desired;
  const r = decide(s.scaling, s.history, s.state, end);
  s.state = r.state;
  if (s.state.desired < prevDesired) st.touched.add(si);
  for (const a of r.activities) st.activities.push(a);
  const list: WaitingTask[] = [];
  if (s.state.nextTaskId > prevNext) {
    // setDesired appends the new tasks at the end of the list: only that tail is visited.
    const all = s.state.tasks;
    let from = all.length;
    while (from > 0 && (all[from - 1] as TaskRecord).id >= prevNext) from--;
    for (let q = from; q < all.length; q++) {
      const task = all[q] as TaskRecord;
      list.push({
        service: si,
        id: task.id,
        launchedAt: task.launchedAt,
        startLatency: task.runningAt - task.launchedAt,
        healthDelay: task.healthyAt - task.runningAt,
        admitAt: Number.NaN,
      });
    }
  }
  s.peakTasks = Math.max(s.peakTasks, s.state.desired);
  return list;
}

/** Folds the period into the service's run totals and clears its period accumulators. */
export function resetPeriod(s: SimService, p: number, k: number): void {
  s.peakDemandRate = Math.max(s.peakDemandRate, s.pOffered / (p / k));
  s.pOffered = 0;
  s.nextChange = Number.NEGATIVE_INFINITY;
  s.pBusy = 0;
  s.pCap = 0;
  s.totalRequests += s.pReqs;
  s.totalRejected += s.pRejected;
  s.pReqs = 0;
  s.pHealthySum = 0;
  s.pSteps = 0;
  s.pRejected = 0;
  s.pLatencyW = 0;
  s.pLatencySum = 0;
  s.pStore.clear();
}

/** Re-plans the launch queue at a boundary and moves waiting tasks' lifecycle to their admission. */
export function planLaunches(st: SimState, end: number, launchedNow: WaitingTask[][]): void {
  const { svcList } = st;
  // A touched service's task ids, newest first, until the first one that cannot be waiting.
  const live = new Map<number, Set<number>>();
  const ids = (si: number): Set<number> => {
    let set = live.get(si);
    if (!set) {
      const s = svcList[si] as SimService;
      set = new Set<number>();
      const all = s.state.tasks;
      for (let q = all.length - 1; q >= 0; q--) {
        const task = all[q] as TaskRecord;
        if (task.runningAt <= end) break;
        if (!s.blocked.has(task.id)) set.add(task.id);
      }
      live.set(si, set);
    }
    return set;
  };
  const planned = st.launchQueue.plan(end, launchedNow, st.touched, (w) => ids(w.service).has(w.id));
  st.touched.clear();
  if (planned.length === 0) return;
  const byService: WaitingTask[][] = svcList.map(() => []);
  for (const w of planned) {
    byService[w.service]?.push(w);
    st.launchDelayMax = Math.max(st.launchDelayMax, w.admitAt - w.launchedAt);
  }
  svcList.forEach((s, si) => {
    const mine = byService[si] as WaitingTask[];
    if (mine.length > 0) admitTasks(s, mine, end);
  });
}

/**
 * Moves a service's admitted tasks' start to their admission. Both lists ascend by id. Records may
 * be shared with earlier states: replace them, never mutate them. The list itself is only this
 * service's current state's (decide() builds a new one on every change and the simulator keeps no
 * older state), so it is updated in place and the counter is told.
 */
function admitTasks(s: SimService, mine: WaitingTask[], end: number): void {
  const all = s.state.tasks;
  const first = (mine[0] as WaitingTask).id;
  let from = all.length;
  while (from > 0 && (all[from - 1] as TaskRecord).id >= first) from--;
  let k = 0;
  for (let q = from; q < all.length; q++) {
    const task = all[q] as TaskRecord;
    const w = mine[k];
    if (!w || w.id !== task.id) continue;
    k++;
    const runningAt = w.admitAt + w.startLatency;
    all[q] = { ...task, runningAt, healthyAt: runningAt + w.healthDelay };
  }
  s.counter.reset(all, end);
  s.nextChange = Number.NEGATIVE_INFINITY;
}

/** Keeps tasks beyond the account's vCPU quota pending (never started; a known simplification). */
export function applyVcpuQuota(st: SimState, end: number, quota: number): void {
  let used = 0;
  for (const s of st.svcList) {
    if (s.counter.tasks !== s.state.tasks) s.counter.reset(s.state.tasks, end);
    s.counter.countsAt(s.state.desired, end);
    // No task waiting to start: none can be blocked, every task with a start time counts.
    if (s.counter.pendingFinite() === 0) {
      for (let n = s.counter.finite(); n > 0; n--) used += s.size.vcpu;
      continue;
    }
    let blocked = false;
    const tasks = s.state.tasks.map((task) => {
      if (!Number.isFinite(task.runningAt)) return task;
      if (used + s.size.vcpu > quota && task.runningAt > end) {
        s.quotaBlocked++;
        s.blocked.add(task.id);
        st.quotaExceeded = true;
        blocked = true;
        return { ...task, runningAt: Number.POSITIVE_INFINITY, healthyAt: Number.POSITIVE_INFINITY };
      }
      used += s.size.vcpu;
      return task;
    });
    if (blocked) {
      s.state = { ...s.state, tasks };
      st.touched.add(st.svcList.indexOf(s));
    }
  }
}

/** Store tables: per-minute peaks for the on-demand doubling rule. */
export function adaptTables(st: SimState): void {
  for (const tb of st.tables.values()) {
    tb.peaksRead.push(tb.minuteRead);
    tb.peaksWrite.push(tb.minuteWrite);
    tb.minuteRead = 0;
    tb.minuteWrite = 0;
    // A peak raises the ceiling once the table has had `adaptSeconds` to adapt to it.
    const adapted = tb.peaksRead.length - 1 - st.inputs.adaptPeriods;
    if (adapted >= 0) {
      tb.readCeil = Math.max(tb.readCeil, 2 * (tb.peaksRead[adapted] as number));
      tb.writeCeil = Math.max(tb.writeCeil, 2 * (tb.peaksWrite[adapted] as number));
    }
  }
}
