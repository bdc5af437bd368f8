/**
 * One timeline from any telemetry source. Sources turn what they read (EMF records from the local
 * stack, GetMetricData results from CloudWatch) into `MetricSample`s keyed by service and wall time;
 * this module aligns them to the run's event clock and folds them into TimelineRecords (one per
 * service per period, core/run-format.ts). Pure: the run window and the samples are passed in.
 */
import type { RunMeta, TimelineRecord } from '../core/run-format.ts';

/** The run's two clocks, as collect needs them. */
export interface RunWindow {
  startedAtMs: number;
  endedAtMs: number;
  /**
   * The wall-clock range to read (epoch ms) when it is not the run's own (`collect --from/--to` on a
   * run directory); event times still count from `startedAtMs`.
   */
  fromMs?: number;
  toMs?: number;
  timeScale: number;
  eventStart: number;
  eventEnd: number;
}

/** The run window from meta.json; a run without endedAt ends where its plan would have. */
export function runWindow(
  meta: Pick<RunMeta, 'startedAt' | 'endedAt' | 'timeScale' | 'eventStart' | 'eventEnd'>,
): RunWindow {
  const startedAtMs = Date.parse(meta.startedAt);
  const planned = startedAtMs + ((meta.eventEnd - meta.eventStart) / meta.timeScale) * 1000;
  const ended = meta.endedAt ? Date.parse(meta.endedAt) : Number.NaN;
  return {
    startedAtMs,
    endedAtMs: Number.isFinite(ended) ? ended : planned,
    timeScale: meta.timeScale,
    eventStart: meta.eventStart,
    eventEnd: meta.eventEnd,
  };
}

/** Event time (s) at a wall-clock instant (epoch ms) of the run. */
export function eventTimeAt(w: RunWindow, epochMs: number): number {
  return w.eventStart + ((epochMs - w.startedAtMs) / 1000) * w.timeScale;
}

/** Wall-clock instant (epoch ms) at an event time of the run. */
export function wallAt(w: RunWindow, eventTime: number): number {
  return w.startedAtMs + ((eventTime - w.eventStart) / w.timeScale) * 1000;
}

/** The timeline fields a sample can fill. */
export type TimelineField =
  | 'desired'
  | 'running'
  | 'pending'
  | 'healthy'
  | 'cpu'
  | 'memory'
  | 'requests'
  | 'requestsPerTarget'
  | 'responseTimeMs'
  | 'http5xx'
  | 'eventsPublished'
  | 'responseTimeP50Ms'
  | 'responseTimeP95Ms'
  | 'responseTimeP99Ms'
  | 'elb5xx'
  | 'rejectedConnections'
  | 'eventInvocations'
  | 'eventFailedInvocations'
  | 'eventThrottledRules'
  | 'queueDepth';

/** Per-table store usage in one period. */
export interface StoreSample {
  table: string;
  readUnits?: number;
  writeUnits?: number;
  throttles?: number;
  provisionedReadUnits?: number;
  provisionedWriteUnits?: number;
  /** ThrottledRequests of one operation (`operation`) of the table. */
  throttledRequests?: number;
  operation?: string;
}

/** One value for one service and period, already in timeline units (ms for response time). */
export interface MetricSample {
  service: string;
  /** Event time at the start of the period (s). */
  t: number;
  /** Period length (event s). */
  period: number;
  field: TimelineField;
  value: number;
  /** 5xx counts from several sources (target and load balancer) add up; other fields replace. */
  additive?: boolean;
  /** The metric came back incomplete (CloudWatch PartialData): this field of the record is partial. */
  partial?: boolean;
}

/**
 * What a source asked for: the fields it read for each service, and the periods (event time of each
 * start) of the window. A field with no datapoint in a period is missing there (unknown, not zero),
 * and a period with no datapoint at all for a service still gets its record, every field missing.
 */
export interface TimelineExpectation {
  fields: ReadonlyMap<string, readonly TimelineField[]>;
  times: readonly number[];
  period: number;
}

/**
 * Folds samples into one record per (service, t), sorted by time then service. With `expect`, each
 * record lists the fields the source read but got no datapoint for (`missing`), and periods with no
 * datapoint for a service are kept as records whose every field is missing, never dropped.
 */
export function buildTimeline(
  samples: readonly MetricSample[],
  stores: readonly (StoreSample & { service: string; t: number; period: number })[],
  source: TimelineRecord['source'],
  expect?: TimelineExpectation,
): TimelineRecord[] {
  const byKey = new Map<string, TimelineRecord>();
  const get = (service: string, t: number, period: number) => {
    const key = `${service}\u0000${t}`;
    let r = byKey.get(key);
    if (!r) {
      r = {
        t,
        period,
        service,
        desired: 0,
        running: 0,
        pending: 0,
        cpu: null,
        memory: null,
        requests: null,
        requestsPerTarget: null,
        responseTimeMs: null,
        http5xx: null,
        source,
        provenance: 'measured',
      };
      byKey.set(key, r);
    }
    return r;
  };
  for (const s of samples) {
    const r = get(s.service, s.t, s.period);
    const rec = r as unknown as Record<TimelineField, number | null>;
    const before = rec[s.field] ?? null;
    rec[s.field] = s.additive && before !== null ? before + s.value : s.value;
    if (s.partial) {
      r.partial = true;
      const list = r.partialFields ?? [];
      if (!list.includes(s.field)) list.push(s.field);
      r.partialFields = list;
    }
  }
  const storeLists = new Map<TimelineRecord, NonNullable<TimelineRecord['stores']>>();
  for (const s of stores) {
    const r = get(s.service, s.t, s.period);
    const list = storeLists.get(r) ?? [];
    let entry = list.find((x) => x.table === s.table);
    if (!entry) {
      entry = { table: s.table, readUnits: 0, writeUnits: 0, throttles: 0 };
      list.push(entry);
    }
    entry.readUnits += s.readUnits ?? 0;
    entry.writeUnits += s.writeUnits ?? 0;
    entry.throttles += s.throttles ?? 0;
    if (s.provisionedReadUnits !== undefined) entry.provisionedReadUnits = s.provisionedReadUnits;
    if (s.provisionedWriteUnits !== undefined) entry.provisionedWriteUnits = s.provisionedWriteUnits;
    if (s.throttledRequests !== undefined) {
      entry.throttledRequests = (entry.throttledRequests ?? 0) + s.throttledRequests;
      const op = s.operation ?? 'unknown';
      const ops = entry.throttledOperations ?? {};
      ops[op] = (ops[op] ?? 0) + s.throttledRequests;
      entry.throttledOperations = ops;
    }
    storeLists.set(r, list);
  }
  for (const [r, list] of storeLists) {
    list.sort((a, b) => b.readUnits + b.writeUnits - (a.readUnits + a.writeUnits));
    r.stores = list;
    const top = list[0];
    if (top) r.store = { ...top };
  }
  if (expect) {
    const got = new Set(samples.map((x) => `${x.service}\u0000${x.t}\u0000${x.field}`));
    const reported = new Set(byKey.keys());
    for (const [service, fields] of expect.fields) {
      if (fields.length === 0) continue;
      for (const t of expect.times) {
        const missing = fields.filter((f) => !got.has(`${service}\u0000${t}\u0000${f}`));
        if (missing.length === 0) continue;
        const r = get(service, t, expect.period);
        r.missing = [...new Set(missing)].sort();
        if (!reported.has(`${service}\u0000${t}`)) r.noData = true;
      }
    }
  }
  return [...byKey.values()].sort((a, b) => a.t - b.t || a.service.localeCompare(b.service));
}

/** Parses "changing the desired capacity from 2 to 6" out of an activity's Cause, as AWS writes it. */
export function capacityChange(cause: string): { from: number; to: number } | undefined {
  const m = /from (\d+) to (\d+)/.exec(cause);
  return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
}

/** Where one field of one service is missing in a timeline: the periods, as event-time ranges. */
export interface MissingData {
  service: string;
  field: string;
  /** Periods missing, of `total` periods of the service in the timeline. */
  periods: number;
  total: number;
  /** Contiguous event-time ranges [start, end) of the missing periods. */
  ranges: { start: number; end: number }[];
}

/** Every (service, field) with missing periods in a timeline (records' `missing`), sorted. Pure. */
export function findMissing(records: readonly TimelineRecord[]): MissingData[] {
  const by = new Map<string, MissingData>();
  const totals = new Map<string, number>();
  const sorted = [...records].sort((a, b) => a.t - b.t);
  for (const r of sorted) totals.set(r.service, (totals.get(r.service) ?? 0) + 1);
  for (const r of sorted) {
    for (const field of r.missing ?? []) {
      const key = `${r.service}\u0000${field}`;
      let m = by.get(key);
      if (!m) {
        m = { service: r.service, field, periods: 0, total: totals.get(r.service) ?? 0, ranges: [] };
        by.set(key, m);
      }
      m.periods++;
      const last = m.ranges[m.ranges.length - 1];
      if (last && Math.abs(last.end - r.t) < 1e-9) last.end = r.t + r.period;
      else m.ranges.push({ start: r.t, end: r.t + r.period });
    }
  }
  return [...by.values()].sort(
    (a, b) => a.service.localeCompare(b.service) || a.field.localeCompare(b.field),
  );
}

/** "cart: cpu missing in 3 of 20 periods (event 720–900 s)": one sentence per missing field. */
export function describeMissing(m: MissingData): string {
  const ranges = m.ranges.map((r) => `${r.start}–${r.end} s`).join(', ');
  return `${m.service}: ${m.field} missing in ${m.periods} of ${m.total} periods (event ${ranges}): unknown, not zero`;
}
