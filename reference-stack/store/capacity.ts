/**
 * A DynamoDB-on-demand-like capacity model for the stack's stores (pure; time passed in).
 *
 * - Units: a read of up to 4 KB is one read unit, a write of up to 1 KB one write unit (DynamoDB
 *   docs); callers pass the units an operation consumes.
 * - Per partition key at most 3,000 read units/s and 1,000 write units/s (DynamoDB docs;
 *   docs/sources.md). A hot SKU during a flash sale is one partition key: the model throttles it.
 * - A table absorbs up to double its previous peak at once and throttles beyond that until it
 *   adapts (DynamoDB on-demand docs). "Previous peak" here is the highest per-second consumption
 *   seen at least `peakAdaptEventSeconds` of event time ago (DynamoDB: ~30 minutes), floored at an
 *   initial peak (assumption).
 * - The local stack carries a small fraction of real traffic, so every limit is multiplied by
 *   `localScale` (assumption, default 0.01: the local stack stands for 1% of the real one); set it
 *   to 1 for DynamoDB's real numbers.
 *
 * Seconds are wall seconds: capacity is a rate the store's hardware sustains, not event time.
 */
import type { StoreCapacityParams, StoreTableStats } from '../worker-protocol.ts';

/** Resolved store parameters. */
export type ResolvedStoreParams = Required<StoreCapacityParams>;

/** Defaults with their sources. */
export const STORE_DEFAULTS: ResolvedStoreParams = {
  partitionReadUnitsPerSec: 3000,
  partitionWriteUnitsPerSec: 1000,
  localScale: 0.01,
  /**
   * Assumption: before the event each table already served a daily peak of 50,000 read and 20,000
   * write units/s (at localScale 0.01: 500 and 200 per second locally), so baseline traffic never
   * throttles and a 10x spike on a read-heavy table does (more than double its previous peak).
   */
  initialPeakReadUnits: 50_000,
  initialPeakWriteUnits: 20_000,
  peakAdaptEventSeconds: 1800,
  disabled: false,
};

/** Why a request was throttled. */
export type ThrottleReason = 'partition' | 'table';

/** Outcome of charging units. */
export type ChargeResult = { ok: true } | { ok: false; reason: ThrottleReason; limit: number };

interface Window {
  second: number;
  eventTime: number;
  reads: Map<string, number>;
  writes: Map<string, number>;
  tableReads: number;
  tableWrites: number;
}

/** The per-table capacity model of one store. */
export interface StoreCapacity {
  /** Charges units to a table's partition key at wall time `wallMs` and event time `eventTime`. */
  charge(
    table: string,
    key: string,
    kind: 'read' | 'write',
    units: number,
    wallMs: number,
    eventTime: number,
  ): ChargeResult;
  /** Ends the stats period and returns per-table counters. */
  takeStats(): Record<string, StoreTableStats>;
  /** Sets how many replicas share the limits (each enforces 1/replicas). */
  setReplicas(n: number): void;
}

/** Creates the model. Each replica process applies it to its own share of traffic. */
export function createStoreCapacity(params: StoreCapacityParams = {}, replicas = 1): StoreCapacity {
  const p = { ...STORE_DEFAULTS, ...params };
  let share = 1 / Math.max(1, replicas);
  const windows = new Map<string, Window>();
  /** Per table: per-second consumption history (event time, reads, writes) for the previous-peak rule. */
  const history = new Map<string, { eventTime: number; reads: number; writes: number }[]>();
  const stats = new Map<string, StoreTableStats & { keyUnits: Map<string, number> }>();

  const statsOf = (table: string) => {
    let s = stats.get(table);
    if (!s) {
      s = {
        consumedReadUnits: 0,
        consumedWriteUnits: 0,
        throttledReads: 0,
        throttledWrites: 0,
        hotPartitionThrottles: 0,
        keyUnits: new Map(),
      };
      stats.set(table, s);
    }
    return s;
  };

  const previousPeak = (table: string, eventTime: number) => {
    let reads = p.initialPeakReadUnits;
    let writes = p.initialPeakWriteUnits;
    for (const h of history.get(table) ?? []) {
      if (h.eventTime <= eventTime - p.peakAdaptEventSeconds) {
        reads = Math.max(reads, h.reads / p.localScale / share);
        writes = Math.max(writes, h.writes / p.localScale / share);
      }
    }
    return { reads: reads * p.localScale * share, writes: writes * p.localScale * share };
  };

  const windowOf = (table: string, second: number, eventTime: number): Window => {
    let w = windows.get(table);
    if (!w || w.second !== second) {
      if (w) {
        const h = history.get(table) ?? [];
        h.push({ eventTime: w.eventTime, reads: w.tableReads, writes: w.tableWrites });
        if (h.length > 4096) h.splice(0, h.length - 4096);
        history.set(table, h);
      }
      w = { second, eventTime, reads: new Map(), writes: new Map(), tableReads: 0, tableWrites: 0 };
      windows.set(table, w);
    }
    return w;
  };

  return {
    charge(table, key, kind, units, wallMs, eventTime) {
      const s = statsOf(table);
      if (p.disabled) {
        if (kind === 'read') s.consumedReadUnits += units;
        else s.consumedWriteUnits += units;
        return { ok: true };
      }
      const w = windowOf(table, Math.floor(wallMs / 1000), eventTime);
      const perKey = kind === 'read' ? w.reads : w.writes;
      const keyUsed = perKey.get(key) ?? 0;
      const keyLimit =
        (kind === 'read' ? p.partitionReadUnitsPerSec : p.partitionWriteUnitsPerSec) * p.localScale * share;
      const throttle = (reason: ThrottleReason, limit: number): ChargeResult => {
        if (kind === 'read') s.throttledReads++;
        else s.throttledWrites++;
        if (reason === 'partition') s.hotPartitionThrottles++;
        return { ok: false, reason, limit };
      };
      if (keyUsed + units > keyLimit) return throttle('partition', keyLimit);
      const peak = previousPeak(table, eventTime);
      const tableUsed = kind === 'read' ? w.tableReads : w.tableWrites;
      const tableLimit = 2 * (kind === 'read' ? peak.reads : peak.writes);
      if (tableUsed + units > tableLimit) return throttle('table', tableLimit);
      perKey.set(key, keyUsed + units);
      if (kind === 'read') {
        w.tableReads += units;
        s.consumedReadUnits += units;
      } else {
        w.tableWrites += units;
        s.consumedWriteUnits += units;
      }
      s.keyUnits.set(key, (s.keyUnits.get(key) ?? 0) + units);
      return { ok: true };
    },
    setReplicas(n) {
      share = 1 / Math.max(1, n);
    },
    takeStats() {
      const out: Record<string, StoreTableStats> = {};
      for (const [table, s] of stats) {
        let hottestKey: string | undefined;
        let hottestKeyUnits = 0;
        for (const [k, u] of s.keyUnits) {
          if (u > hottestKeyUnits) {
            hottestKey = k;
            hottestKeyUnits = u;
          }
        }
        out[table] = {
          consumedReadUnits: s.consumedReadUnits,
          consumedWriteUnits: s.consumedWriteUnits,
          throttledReads: s.throttledReads,
          throttledWrites: s.throttledWrites,
          hotPartitionThrottles: s.hotPartitionThrottles,
          ...(hottestKey === undefined ? {} : { hottestKey, hottestKeyUnits }),
        };
      }
      stats.clear();
      return out;
    },
  };
}

/** Read units for an item of `bytes` (strongly consistent: 1 per 4 KB, at least 1). */
export function readUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / 4096));
}

/** Write units for an item of `bytes` (1 per 1 KB, at least 1); transactional writes cost double. */
export function writeUnits(bytes: number, transactional = false): number {
  return Math.max(1, Math.ceil(bytes / 1024)) * (transactional ? 2 : 1);
}
