/**
 * Pivots timeline records (one per service per period) into one series per service, on event time,
 * with request rates in wall requests per second (the rate a task saw). Timeline `period` is event
 * seconds, so a period covers `period / timeScale` wall seconds.
 */
import type { Provenance, TimelineRecord } from '../../core/run-format.ts';
import type { TrafficEstimate } from './estimated-traffic.ts';

/** One table's use in one period. */
export type StorePeriod = NonNullable<TimelineRecord['stores']>[number] & { hotKey?: string };

/** One service over the run. */
export interface ServiceSeries {
  name: string;
  times: number[];
  /** Event seconds per period (the first record's). */
  period: number;
  running: number[];
  desired: number[];
  pending: number[];
  /** CPU 0..1 (a timeline in percent is normalised, see computeServiceSeries), null when unknown. */
  cpu: (number | null)[];
  /** Wall requests per second the service received. */
  rps: (number | null)[];
  /** Wall requests per second per running task. */
  rpsPerTask: (number | null)[];
  requestsTotal: number;
  store:
    | { table: string; readUnits: number; writeUnits: number; throttles: number; hotKey?: string }[]
    | null;
  storeByPeriod: (TimelineRecord['store'] | null)[];
  /** Every table the service used in each period (the busiest first), with its throttling. */
  storesByPeriod?: StorePeriod[][];
  provenance: Provenance;
  partial: boolean;
  /**
   * Set when `rps` is not the service's own request metric but an estimate from the load run
   * (estimated-traffic.ts); every finding resting on it says so.
   */
  rpsEstimate?: TrafficEstimate;
  /** Per period, the fields the source read but got no datapoint for (`running` then is not 0 tasks). */
  missing?: (readonly string[])[];
}

/** Builds the per-service series, services sorted by name. */
export function computeServiceSeries(records: TimelineRecord[], timeScale: number): ServiceSeries[] {
  const by = new Map<string, TimelineRecord[]>();
  for (const r of records) {
    // A period the service reported nothing in has no value to chart or model: the report's banner
    // names it (missingDataBanner), and it is not read as zero tasks.
    if (r.noData) continue;
    let a = by.get(r.service);
    if (!a) {
      a = [];
      by.set(r.service, a);
    }
    a.push(r);
  }
  // CPU is a fraction (0..1) or a percent (CloudWatch CPUUtilization, the simulator): a run that has
  // any value above 1.5 is read as percent throughout.
  const cpuScale = records.some((r) => (r.cpu ?? 0) > 1.5) ? 100 : 1;
  const out: ServiceSeries[] = [];
  for (const name of [...by.keys()].sort()) {
    const rs = by.get(name)!.sort((a, b) => a.t - b.t);
    const period = rs[0]?.period ?? 60;
    const s: ServiceSeries = {
      name,
      times: [],
      period,
      running: [],
      desired: [],
      pending: [],
      cpu: [],
      rps: [],
      rpsPerTask: [],
      requestsTotal: 0,
      store: null,
      storeByPeriod: [],
      storesByPeriod: [],
      missing: [],
      provenance: rs[0]?.provenance ?? 'measured',
      partial: rs.some((r) => r.partial),
    };
    const storeTotals = new Map<string, NonNullable<TimelineRecord['store']>>();
    for (const r of rs) {
      const wall = (r.period || period) / timeScale;
      s.times.push(r.t);
      s.running.push(r.running);
      s.desired.push(r.desired);
      s.pending.push(r.pending);
      s.cpu.push(r.cpu === null || r.cpu === undefined ? null : r.cpu / cpuScale);
      const rps = r.requests === null || r.requests === undefined ? null : r.requests / wall;
      s.rps.push(rps);
      const runningKnown = !r.missing?.includes('running');
      s.rpsPerTask.push(rps === null || !runningKnown || r.running <= 0 ? null : rps / r.running);
      s.requestsTotal += r.requests ?? 0;
      s.storeByPeriod.push(r.store ?? null);
      s.missing?.push(r.missing ?? []);
      // Every table of the period (a source that reports only the busiest gives `store` alone); the
      // busiest keeps its hot key.
      const tables: StorePeriod[] = r.stores
        ? r.stores.map((x) =>
            r.store?.hotKey && x.table === r.store.table ? { ...x, hotKey: r.store.hotKey } : x,
          )
        : r.store
          ? [r.store]
          : [];
      s.storesByPeriod?.push(tables);
      for (const st of tables) {
        const k = st.table;
        const cur = storeTotals.get(k) ?? { table: k, readUnits: 0, writeUnits: 0, throttles: 0 };
        cur.readUnits += st.readUnits;
        cur.writeUnits += st.writeUnits;
        cur.throttles += st.throttles;
        if (st.hotKey && st.throttles > 0) cur.hotKey = st.hotKey;
        storeTotals.set(k, cur);
      }
    }
    if (storeTotals.size > 0) s.store = [...storeTotals.values()];
    out.push(s);
  }
  return out;
}
