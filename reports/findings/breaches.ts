/**
 * Under-provisioned windows per service, hot partitions in stores, budget-breach minutes per
 * channel attributed to the bottleneck that overlapped them, and the revenue at risk while budgets
 * were breached (an estimate from documented conversion figures, with its assumptions stated).
 */
import type { Provenance } from '../../core/run-format.ts';
import { judgeReading } from '../../scenarios/budgets/budget.ts';
import type { LoadSeries } from '../run/load-series.ts';
import { type ServiceCapacity, utilisation } from './capacity.ts';
import type { ServiceSeries, StorePeriod } from './service-series.ts';
import type { ChannelBudget, ChannelLimit, Finding } from './types.ts';

/** A contiguous event-time window. */
export interface Window {
  start: number;
  end: number;
}

/** Utilisation above which a period counts as under-provisioned. */
export const UNDER_PROVISIONED_UTILISATION = 1.0;
/** CPU above which a period counts as under-provisioned when capacity is unknown. */
export const UNDER_PROVISIONED_CPU = 0.9;

/** Merges flagged periods into windows. */
export function mergeWindows(times: number[], width: number, flagged: boolean[]): Window[] {
  const out: Window[] = [];
  for (let i = 0; i < times.length; i++) {
    if (!flagged[i]) continue;
    const t = times[i]!;
    const last = out[out.length - 1];
    if (last && t <= last.end + 1e-9) last.end = t + width;
    else out.push({ start: t, end: t + width });
  }
  return out;
}

/** A bottleneck in one window: a service short of capacity or a store throttling. */
export interface Bottleneck {
  kind: 'service' | 'store';
  name: string;
  window: Window;
  /** Peak utilisation (services) or throttled requests (stores). */
  severity: number;
  hotKey?: string;
  table?: string;
  /** Stores: DynamoDB ThrottledRequests in the window, in all and by operation, when reported. */
  throttledRequests?: number;
  throttledOperations?: Record<string, number>;
  /** Stores: throttle events (Read/WriteThrottleEvents, or the local stack's throttles). */
  throttleEvents?: number;
}

/** Finds service and store bottlenecks. */
export function computeBottlenecks(series: ServiceSeries[], caps: ServiceCapacity[]): Bottleneck[] {
  const out: Bottleneck[] = [];
  series.forEach((s, k) => {
    const cap = caps[k]!;
    const util = s.times.map((_, i) => utilisation(s, cap, i));
    const flagged = util.map((u, i) =>
      cap.rpsPerTask !== null
        ? u !== null && u > UNDER_PROVISIONED_UTILISATION
        : (s.cpu[i] ?? 0) >= UNDER_PROVISIONED_CPU,
    );
    for (const w of mergeWindows(s.times, s.period, flagged)) {
      let worst = 0;
      s.times.forEach((t, i) => {
        if (t >= w.start && t < w.end) worst = Math.max(worst, util[i] ?? 0);
      });
      out.push({ kind: 'service', name: s.name, window: w, severity: worst });
    }
    // Per table, every table the service used (not only its busiest): a table that throttled is the
    // hot-partition signal. Throttled requests (DynamoDB ThrottledRequests) when reported, else
    // throttle events (Read/WriteThrottleEvents, the local stack's throttles).
    const byPeriod = s.storesByPeriod ?? s.storeByPeriod.map((st): StorePeriod[] => (st ? [st] : []));
    const tables = [...new Set(byPeriod.flatMap((p) => p.map((x) => x.table)))].sort();
    for (const table of tables) {
      const at = byPeriod.map((p) => p.find((x) => x.table === table));
      const hit = (st: StorePeriod | undefined) =>
        (st?.throttledRequests ?? 0) > 0 || (st?.throttles ?? 0) > 0;
      for (const w of mergeWindows(s.times, s.period, at.map(hit))) {
        let total = 0;
        let requests = 0;
        let events = 0;
        let hotKey: string | undefined;
        const operations: Record<string, number> = {};
        s.times.forEach((t, i) => {
          const st = at[i];
          if (!st || t < w.start || t >= w.end) return;
          events += st.throttles;
          requests += st.throttledRequests ?? 0;
          for (const [op, n] of Object.entries(st.throttledOperations ?? {}))
            operations[op] = (operations[op] ?? 0) + n;
          if (st.hotKey) hotKey = st.hotKey;
        });
        total = requests > 0 ? requests : events;
        out.push({
          kind: 'store',
          name: s.name,
          window: w,
          severity: total,
          table,
          ...(hotKey ? { hotKey } : {}),
          ...(requests > 0 ? { throttledRequests: requests, throttledOperations: operations } : {}),
          ...(events > 0 ? { throttleEvents: events } : {}),
        });
      }
    }
  });
  return out;
}

const overlap = (a: Window, b: Window) => Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start));
const mins = (s: number) => `${(s / 60).toFixed(1)} min`;
const describe = (b: Bottleneck) =>
  b.kind === 'store'
    ? b.hotKey
      ? `hot partition ${b.hotKey} in table ${b.table} (via ${b.name})`
      : `throttling in table ${b.table} (via ${b.name})`
    : `${b.name} short of capacity (peak utilisation ${Number.isFinite(b.severity) ? `${(b.severity * 100).toFixed(0)}%` : 'with no tasks running'})`;

/** A count as people read it: whole (simulated counts are fractional), grouped, singular or plural. */
function countOf(n: number, noun: string): string {
  const whole = Math.round(n);
  return `${whole.toLocaleString('en-US')} ${noun}${whole === 1 ? '' : 's'}`;
}

/** Findings for under-provisioned windows and hot partitions. */
export function bottleneckFindings(bs: Bottleneck[], provenance: (service: string) => Provenance): Finding[] {
  return bs.map((b) =>
    b.kind === 'store'
      ? {
          id: `hot-partition/${b.table}@${b.window.start}`,
          kind: 'hot-partition',
          severity: 'critical',
          service: b.name,
          title: b.hotKey
            ? `Hot partition: key ${b.hotKey} in ${b.table} throttled ${countOf(b.severity, 'request')} over ${mins(b.window.end - b.window.start)}`
            : `${b.table} throttled ${countOf(b.severity, 'request')} over ${mins(b.window.end - b.window.start)}`,
          window: b.window,
          value: b.severity,
          unit: 'throttled requests',
          provenance: provenance(b.name),
          evidence: [
            b.throttledRequests !== undefined
              ? `DynamoDB ThrottledRequests of ${b.table} from event ${b.window.start}s to ${b.window.end}s: ${Object.entries(
                  b.throttledOperations ?? {},
                )
                  .sort((x, y) => y[1] - x[1])
                  .map(([op, n]) => `${op} ${countOf(n, 'request')}`)
                  .join(
                    ', ',
                  )}${b.throttleEvents !== undefined ? ` (${countOf(b.throttleEvents, 'throttle event')})` : ''}; a table that throttles below its capacity is the hot-partition signal`
              : `store throttles reported by ${b.name} from event ${b.window.start}s to ${b.window.end}s`,
            'a DynamoDB partition serves up to 3,000 RCU/s and 1,000 WCU/s (DynamoDB docs; docs/sources.md, DynamoDB capacity)',
          ],
          data: { ...b },
        }
      : {
          id: `under-provisioned/${b.name}@${b.window.start}`,
          kind: 'under-provisioned',
          severity: b.severity > 1.2 ? 'critical' : 'warning',
          service: b.name,
          title: `${b.name} under-provisioned for ${mins(b.window.end - b.window.start)} (peak ${Number.isFinite(b.severity) ? `${(b.severity * 100).toFixed(0)}%` : '∞'} of capacity)`,
          window: b.window,
          value: b.window.end - b.window.start,
          unit: 's',
          provenance: provenance(b.name),
          evidence: [`demand above capacity in service from event ${b.window.start}s to ${b.window.end}s`],
          data: { ...b },
        },
  );
}

/** The budget that applies to a channel (its own, else `*`). */
export function budgetFor(channel: string, budgets: ChannelBudget[]): ChannelBudget | undefined {
  return budgets.find((b) => b.channel === channel) ?? budgets.find((b) => b.channel === '*');
}

/** Breach of one channel. */
export interface ChannelBreach {
  channel: string;
  budget: ChannelBudget;
  windows: (Window & { attributedTo: string | null; worstP95Ms: number | null; worstErrorRate: number })[];
  minutes: number;
  /** Index flags into load.times. */
  flagged: boolean[];
  /** Excess p95 over budget (ms) at each time (0 when within). */
  excessMs: number[];
}

/**
 * The bottleneck that covers most of a breach window: each service's (or table's) windows are taken
 * together and the one covering the most event time wins; on equal cover a throttling store comes
 * first (a hot partition slows requests while the services look idle), then the most overloaded
 * service. Its worst severity within the window is named, and the share it covers when that is not
 * (nearly) all of it, so a 48-h breach is not pinned on a bottleneck that lasted an hour.
 */
export function attributeWindow(w: Window, bottlenecks: readonly Bottleneck[]): string | null {
  const groups = new Map<string, { cover: number; worst: Bottleneck }>();
  for (const b of bottlenecks) {
    const o = overlap(w, b.window);
    if (o <= 0) continue;
    const key = `${b.kind}\u0000${b.name}\u0000${b.table ?? ''}`;
    const g = groups.get(key);
    if (!g) groups.set(key, { cover: o, worst: b });
    else {
      g.cover += o;
      if (b.severity > g.worst.severity) g.worst = b;
    }
  }
  let best: { cover: number; worst: Bottleneck } | null = null;
  for (const g of groups.values()) {
    if (
      !best ||
      g.cover > best.cover ||
      (g.cover === best.cover &&
        (g.worst.kind === 'store' ? 1 : 0) - (best.worst.kind === 'store' ? 1 : 0) > 0) ||
      (g.cover === best.cover && g.worst.kind === best.worst.kind && g.worst.severity > best.worst.severity)
    )
      best = g;
  }
  if (!best) return null;
  const share = best.cover / (w.end - w.start);
  return share < 0.95
    ? `${describe(best.worst)} in ${(share * 100).toFixed(0)}% of the window`
    : describe(best.worst);
}

/**
 * Whether one interval breaches one limit, judged as the gate judges a window
 * ({@link judgeReading}: the budget's comparison, and no verdict on fewer than its minimum samples
 * or before its warm-up ends). A limit without a rule (the default assumption) is breached when the
 * value is over it.
 */
function overLimit(
  budget: ChannelBudget,
  limit: ChannelLimit,
  value: number | null,
  samples: number,
  t: number,
  eventStart: number,
): boolean {
  const max = budget[limit];
  if (max === undefined || value === null) return false;
  const rule = budget.rules?.[limit];
  if (!rule) return value > max;
  if (t < eventStart + rule.warmupSeconds) return false;
  return judgeReading(rule, samples, value) === 'breached';
}

/**
 * Budget-breach windows per channel, each attributed to the bottleneck covering it most
 * ({@link attributeWindow}). An interval counts only where the gate could judge it too: with at least
 * the budget's minimum samples, after its warm-up (from `eventStart`, the run's event start).
 */
export function computeBreaches(
  load: LoadSeries,
  budgets: ChannelBudget[],
  bottlenecks: Bottleneck[],
  eventStart = load.times[0] ?? 0,
): ChannelBreach[] {
  const out: ChannelBreach[] = [];
  for (const [channel, c] of Object.entries(load.channels)) {
    const budget = budgetFor(channel, budgets);
    if (!budget) continue;
    const excessMs: number[] = [];
    const flagged = load.times.map((t, i) => {
      const p95 = c.p95Ms[i] ?? null;
      const p99 = c.p99Ms[i] ?? null;
      const latencyN = c.latencySamples[i] ?? 0;
      const requests = c.requestCount[i] ?? 0;
      const rps = c.rps[i] ?? 0;
      const err = rps > 0 ? (c.failedRps[i] ?? 0) / rps : null;
      const overP95 = overLimit(budget, 'p95Ms', p95, latencyN, t, eventStart);
      const overP99 = overLimit(budget, 'p99Ms', p99, latencyN, t, eventStart);
      const overErr = overLimit(budget, 'errorRate', err, requests, t, eventStart);
      excessMs.push(
        overP95 ? Math.max(0, p95! - budget.p95Ms!) : overP99 ? Math.max(0, p99! - budget.p99Ms!) : 0,
      );
      return overP95 || overP99 || overErr;
    });
    const windows = mergeWindows(load.times, load.intervalSeconds, flagged).map((w) => {
      const blame = attributeWindow(w, bottlenecks);
      let worstP95: number | null = null;
      let worstErr = 0;
      load.times.forEach((t, i) => {
        if (t < w.start || t >= w.end) return;
        const p = c.p95Ms[i];
        if (p !== null && p !== undefined) worstP95 = Math.max(worstP95 ?? 0, p);
        const rps = c.rps[i] ?? 0;
        if (rps > 0) worstErr = Math.max(worstErr, (c.failedRps[i] ?? 0) / rps);
      });
      return {
        ...w,
        attributedTo: blame,
        worstP95Ms: worstP95,
        worstErrorRate: worstErr,
      };
    });
    const minutes = (flagged.filter(Boolean).length * load.intervalSeconds) / 60;
    out.push({ channel, budget, windows, minutes, flagged, excessMs });
  }
  return out;
}

/** Breach findings, one per window. */
export function breachFindings(breaches: ChannelBreach[], provenance: Provenance): Finding[] {
  const out: Finding[] = [];
  for (const b of breaches)
    for (const w of b.windows) {
      const limits = [
        b.budget.p95Ms !== undefined ? `p95 ≤ ${b.budget.p95Ms} ms` : null,
        b.budget.p99Ms !== undefined ? `p99 ≤ ${b.budget.p99Ms} ms` : null,
        b.budget.errorRate !== undefined ? `errors ≤ ${(b.budget.errorRate * 100).toFixed(1)}%` : null,
      ].filter(Boolean);
      out.push({
        id: `budget-breach/${b.channel}@${w.start}`,
        kind: 'budget-breach',
        severity: 'critical',
        channel: b.channel,
        title: `${b.channel}: budget breached for ${mins(w.end - w.start)} — ${w.attributedTo ?? 'not explained by capacity'}`,
        window: { start: w.start, end: w.end },
        value: (w.end - w.start) / 60,
        unit: 'event minutes',
        provenance,
        evidence: [
          `budget ${limits.join(', ')} (${b.budget.source})`,
          `worst p95 ${w.worstP95Ms === null ? 'n/a' : `${w.worstP95Ms.toFixed(0)} ms`}, worst error rate ${(w.worstErrorRate * 100).toFixed(2)}%`,
          w.attributedTo
            ? `attributed to the bottleneck overlapping the window most: ${w.attributedTo}`
            : 'no service or store was short of capacity in this window: latency is not explained by capacity',
        ],
        data: { ...w, budget: b.budget },
      });
    }
  return out;
}

/** Inputs of the revenue-at-risk estimate; every default is sourced or marked an assumption. */
export interface RevenueAssumptions {
  /** Conversion lost per 100 ms of extra latency (Akamai, 2017: 100 ms ≈ −7%). */
  conversionLossPer100Ms: number;
  /** Average order value (USD). No source: an assumption the user should override. */
  averageOrderValue: number;
}

/** Defaults with their sources. */
export const DEFAULT_REVENUE_ASSUMPTIONS: RevenueAssumptions = {
  conversionLossPer100Ms: 0.07,
  averageOrderValue: 100,
};

/**
 * Revenue at risk: in each breached interval, orders × min(1, loss per 100 ms × excess/100 ms),
 * plus failed checkouts as lost orders; × average order value; × timeScale to express a compressed
 * rehearsal at event scale. An estimate, labelled as such.
 */
export function revenueFinding(
  load: LoadSeries,
  breaches: ChannelBreach[],
  timeScale: number,
  a: RevenueAssumptions,
  provenance: Provenance,
): Finding | null {
  let ordersAtRisk = 0;
  for (const b of breaches) {
    const orders = load.ordersByChannel[b.channel];
    if (!orders) continue;
    b.flagged.forEach((f, i) => {
      if (!f) return;
      const loss = Math.min(1, (a.conversionLossPer100Ms * (b.excessMs[i] ?? 0)) / 100);
      ordersAtRisk += (orders[i] ?? 0) * loss;
    });
  }
  const breachMinutes = breaches.reduce((s, b) => s + b.minutes, 0);
  if (breachMinutes === 0 && load.failedCheckouts === 0) return null;
  const lost = load.failedCheckouts;
  const usd = (ordersAtRisk + lost) * a.averageOrderValue * timeScale;
  return {
    id: 'revenue-at-risk',
    kind: 'revenue-at-risk',
    severity: usd > 0 ? 'warning' : 'info',
    title: `Estimated revenue at risk: $${Math.round(usd).toLocaleString('en-US')} (about ${Math.round((ordersAtRisk + lost) * timeScale).toLocaleString('en-US')} orders) — an estimate`,
    value: usd,
    unit: 'USD (estimate)',
    provenance: 'model-input',
    evidence: [
      `${(ordersAtRisk * timeScale).toFixed(1)} orders at risk from slow responses during ${breachMinutes.toFixed(1)} breach minutes (${provenance} latency)`,
      `${(lost * timeScale).toFixed(0)} checkouts failed outright`,
      timeScale !== 1
        ? `counts × ${timeScale} (time scale): the rehearsal's rates held for event time`
        : 'counts as run',
    ],
    assumptions: [
      `conversion falls ${(a.conversionLossPer100Ms * 100).toFixed(0)}% per 100 ms of latency over budget, linear and capped at 100% (Akamai 2017, docs/sources.md, Page speed and revenue; the linear extrapolation is an assumption)`,
      `average order value $${a.averageOrderValue} (assumption: no source; set assumptions.averageOrderValue in peakday.config.yaml)`,
    ],
    data: { ordersAtRisk: ordersAtRisk * timeScale, failedCheckouts: lost * timeScale, usd, assumptions: a },
  };
}
