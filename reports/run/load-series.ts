/**
 * Aggregates series records (one per interval per tag set) into per-channel load over event time:
 * the shape every finding and chart needs. Pure and streaming: records are added one at a time, so a
 * 48-hour run never sits in memory as records. Live runs' HDR histograms (µs) are merged exactly per
 * interval; simulated runs' latency estimates are combined request-weighted and labelled as estimates.
 */
import hdr from 'hdr-histogram-js';
import type { Provenance, SeriesRecord } from '../../core/run-format.ts';

/** Load of one channel (or of everything) at each event time of {@link LoadSeries.times}. */
export interface ChannelLoad {
  /** Requests per wall second, as the target saw them. */
  rps: number[];
  /** Failed requests per wall second. */
  failedRps: number[];
  /** Iterations dropped (not started: concurrency cap) per wall second. */
  droppedPerSecond: number[];
  /** Iterations started per wall second. */
  startedPerSecond: number[];
  /** Requests in each interval (a count, not a rate): the samples an error-rate budget reads. */
  requestCount: number[];
  /** Latency samples in each interval (histogram count, or the estimates' request weight). */
  latencySamples: number[];
  /** Latency percentiles in ms (null when no request completed in the interval). */
  p50Ms: (number | null)[];
  p95Ms: (number | null)[];
  p99Ms: (number | null)[];
  totals: { requests: number; failed: number; dropped: number; started: number; planned: number };
  /** Whole-run percentiles (ms). */
  overall: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
}

/** Aggregated load over the run. */
export interface LoadSeries {
  /** Event times (interval starts), sorted. */
  times: number[];
  /** Event seconds each interval covers. */
  intervalSeconds: number;
  /** Wall seconds each interval covers. */
  wallSeconds: number;
  channels: Record<string, ChannelLoad>;
  all: ChannelLoad;
  /** Completed, not failed, checkout iterations at each time (orders), and in total. */
  orders: number[];
  /** Orders per channel at each time. */
  ordersByChannel: Record<string, number[]>;
  ordersTotal: number;
  /** Failed checkout iterations (orders lost outright) in total. */
  failedCheckouts: number;
  /** Per journey: iterations started/completed/failed over the run. */
  journeys: Record<string, { started: number; completed: number; failed: number; dropped: number }>;
  /** `measured` (HDR histograms) or `simulated` (estimates). */
  latencyProvenance: Provenance;
  /** Which latency the percentiles are of. */
  latencyKind: 'intended-start' | 'send' | 'estimate' | 'none';
  records: number;
}

interface Cell {
  requests: number;
  failed: number;
  dropped: number;
  started: number;
  planned: number;
  hist: hdr.Histogram | null;
  /** Request-weighted sums of estimates (simulated runs). */
  estW: number;
  est50: number;
  est95: number;
  est99: number;
  wall: number;
}

const newCell = (): Cell => ({
  requests: 0,
  failed: 0,
  dropped: 0,
  started: 0,
  planned: 0,
  hist: null,
  estW: 0,
  est50: 0,
  est95: 0,
  est99: 0,
  wall: 0,
});

/** Streaming aggregator: `add` each record, then `finish` once. */
export interface LoadAggregator {
  add(record: SeriesRecord): void;
  finish(): LoadSeries;
}

const ALL = '\u0000all';

/**
 * Creates the aggregator. `timeScale` converts wall intervals to event intervals (event seconds per
 * wall second). Latency comes from `latency` (intended start) when present, else `latencySend`
 * (k6), else `latencyEstimate`.
 */
export function createLoadAggregator(timeScale: number): LoadAggregator {
  const cells = new Map<string, Map<number, Cell>>();
  const totalHist = new Map<string, hdr.Histogram>();
  const journeys: LoadSeries['journeys'] = {};
  const orders = new Map<number, number>();
  const channelOrders = new Map<string, Map<number, number>>();
  let failedCheckouts = 0;
  let wallSeconds = 0;
  let records = 0;
  let sawHist = false;
  let sawSend = false;
  let sawEst = false;

  const cellFor = (channel: string, t: number): Cell => {
    let m = cells.get(channel);
    if (!m) {
      m = new Map();
      cells.set(channel, m);
    }
    let c = m.get(t);
    if (!c) {
      c = newCell();
      m.set(t, c);
    }
    return c;
  };

  const addHist = (key: string, c: Cell, h: hdr.Histogram): void => {
    if (!c.hist) c.hist = hdr.build();
    c.hist.add(h);
    let tot = totalHist.get(key);
    if (!tot) {
      tot = hdr.build();
      totalHist.set(key, tot);
    }
    tot.add(h);
  };

  return {
    add(r) {
      records++;
      if (r.dt > wallSeconds) wallSeconds = r.dt;
      const targets = [r.channel, ALL];
      if (r.step === null) {
        let j = journeys[r.journey];
        if (!j) {
          j = { started: 0, completed: 0, failed: 0, dropped: 0 };
          journeys[r.journey] = j;
        }
        j.started += r.started ?? 0;
        j.completed += r.completed ?? 0;
        j.failed += r.failedIterations ?? 0;
        j.dropped += r.dropped ?? 0;
        if (r.journey === 'checkout') {
          const ok = Math.max(0, (r.completed ?? 0) - (r.failedIterations ?? 0));
          orders.set(r.t, (orders.get(r.t) ?? 0) + ok);
          let co = channelOrders.get(r.channel);
          if (!co) {
            co = new Map();
            channelOrders.set(r.channel, co);
          }
          co.set(r.t, (co.get(r.t) ?? 0) + ok);
          failedCheckouts += r.failedIterations ?? 0;
        }
        for (const k of targets) {
          const c = cellFor(k, r.t);
          c.dropped += r.dropped ?? 0;
          c.started += r.started ?? 0;
          c.planned += r.planned ?? 0;
          c.wall = Math.max(c.wall, r.dt);
        }
        return;
      }
      const encoded = r.latency ?? r.latencySend;
      const h = encoded ? hdr.decodeFromCompressedBase64(encoded) : null;
      if (h) {
        sawHist = true;
        if (!r.latency) sawSend = true;
      }
      for (const k of targets) {
        const c = cellFor(k, r.t);
        c.requests += r.requests ?? 0;
        c.failed += r.failed ?? 0;
        c.wall = Math.max(c.wall, r.dt);
        if (h) addHist(k, c, h);
        else if (r.latencyEstimate && (r.requests ?? 0) > 0) {
          sawEst = true;
          const w = r.requests ?? 0;
          c.estW += w;
          c.est50 += w * r.latencyEstimate.p50;
          c.est95 += w * r.latencyEstimate.p95;
          c.est99 += w * r.latencyEstimate.p99;
        }
      }
    },
    finish() {
      const timeSet = new Set<number>();
      for (const m of cells.values()) for (const t of m.keys()) timeSet.add(t);
      const times = [...timeSet].sort((a, b) => a - b);
      const wall = wallSeconds || 1;
      const build = (key: string): ChannelLoad => {
        const m = cells.get(key) ?? new Map<number, Cell>();
        const out: ChannelLoad = {
          rps: [],
          failedRps: [],
          droppedPerSecond: [],
          startedPerSecond: [],
          requestCount: [],
          latencySamples: [],
          p50Ms: [],
          p95Ms: [],
          p99Ms: [],
          totals: { requests: 0, failed: 0, dropped: 0, started: 0, planned: 0 },
          overall: { p50: null, p95: null, p99: null, max: null },
        };
        let eW = 0;
        let e50 = 0;
        let e95 = 0;
        let e99 = 0;
        let eMax = 0;
        for (const t of times) {
          const c = m.get(t);
          const dt = c?.wall || wall;
          out.rps.push((c?.requests ?? 0) / dt);
          out.failedRps.push((c?.failed ?? 0) / dt);
          out.droppedPerSecond.push((c?.dropped ?? 0) / dt);
          out.startedPerSecond.push((c?.started ?? 0) / dt);
          out.requestCount.push(c?.requests ?? 0);
          out.latencySamples.push(
            c?.hist && c.hist.totalCount > 0 ? c.hist.totalCount : Math.round(c?.estW ?? 0),
          );
          if (c) {
            out.totals.requests += c.requests;
            out.totals.failed += c.failed;
            out.totals.dropped += c.dropped;
            out.totals.started += c.started;
            out.totals.planned += c.planned;
          }
          if (c?.hist && c.hist.totalCount > 0) {
            out.p50Ms.push(c.hist.getValueAtPercentile(50) / 1000);
            out.p95Ms.push(c.hist.getValueAtPercentile(95) / 1000);
            out.p99Ms.push(c.hist.getValueAtPercentile(99) / 1000);
          } else if (c && c.estW > 0) {
            out.p50Ms.push(c.est50 / c.estW);
            out.p95Ms.push(c.est95 / c.estW);
            out.p99Ms.push(c.est99 / c.estW);
            eW += c.estW;
            e50 += c.est50;
            e95 += c.est95;
            e99 += c.est99;
            eMax = Math.max(eMax, c.est99 / c.estW);
          } else {
            out.p50Ms.push(null);
            out.p95Ms.push(null);
            out.p99Ms.push(null);
          }
        }
        const tot = totalHist.get(key);
        if (tot && tot.totalCount > 0)
          out.overall = {
            p50: tot.getValueAtPercentile(50) / 1000,
            p95: tot.getValueAtPercentile(95) / 1000,
            p99: tot.getValueAtPercentile(99) / 1000,
            max: tot.maxValue / 1000,
          };
        else if (eW > 0)
          // Request-weighted means of interval estimates: an approximation, never exact percentiles.
          out.overall = { p50: e50 / eW, p95: e95 / eW, p99: e99 / eW, max: eMax };
        return out;
      };
      const channels: Record<string, ChannelLoad> = {};
      for (const k of [...cells.keys()].sort()) if (k !== ALL) channels[k] = build(k);
      const orderSeries = times.map((t) => orders.get(t) ?? 0);
      return {
        times,
        intervalSeconds: wall * timeScale,
        wallSeconds: wall,
        channels,
        all: build(ALL),
        orders: orderSeries,
        ordersByChannel: Object.fromEntries(
          [...channelOrders].map(([ch, m]) => [ch, times.map((t) => m.get(t) ?? 0)]),
        ),
        ordersTotal: orderSeries.reduce((a, b) => a + b, 0),
        failedCheckouts,
        journeys,
        latencyProvenance: sawHist ? 'measured' : sawEst ? 'simulated' : 'measured',
        latencyKind: sawHist ? (sawSend ? 'send' : 'intended-start') : sawEst ? 'estimate' : 'none',
        records,
      };
    },
  };
}
