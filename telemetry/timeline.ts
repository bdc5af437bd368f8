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
  | 'eventThrottledRules';

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

/** Folds samples into one record per (service, t), sorted by time then service. */
export function buildTimeline(
  samples: readonly MetricSample[],
  stores: readonly (StoreSample & { service: string; t: number; period: number })[],
  source: TimelineRecord['source'],
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
  return [...byKey.values()].sort((a, b) => a.t - b.t || a.service.localeCompare(b.service));
}

/** Parses "changing the desired capacity from 2 to 6" out of an activity's Cause, as AWS writes it. */
export function capacityChange(cause: string): { from: number; to: number } | undefined {
  const m = /from (\d+) to (\d+)/.exec(cause);
  return m ? { from: Number(m[1]), to: Number(m[2]) } : undefined;
}
