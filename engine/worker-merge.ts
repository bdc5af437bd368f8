/**
 * Merging what the engine's workers measured into what one engine would have written: a second's
 * series records (counts summed, histograms merged exactly: HDR histograms add), a second's health
 * (one record for the process, each worker's own figures kept beside it), and the whole-run
 * results. Pure: the worker pool (engine/workers.ts) feeds it the workers' messages.
 */
import type { EngineHealthRecord, SeriesRecord, StatusCounts } from '../core/run-format.ts';
import { addHistogram, decodeHistogram, encodeHistogram, type LatencyHistogram } from './histogram.ts';

const tagKey = (r: SeriesRecord) => `${r.channel}\u0000${r.journey}\u0000${r.step ?? ''}`;

type CountKey = 'planned' | 'started' | 'completed' | 'dropped' | 'failedIterations' | 'requests' | 'failed';
const COUNTS: CountKey[] = [
  'planned',
  'started',
  'completed',
  'dropped',
  'failedIterations',
  'requests',
  'failed',
];

/**
 * One second's records from every worker as one set: a record per tag set, in the order tag sets
 * first appear (iteration records first, as each worker writes them). Also returns the merged
 * intended-start histogram of all step records (the live p95).
 */
export function mergeSecondRecords(perWorker: readonly (readonly SeriesRecord[])[]): {
  records: SeriesRecord[];
  latency: LatencyHistogram | null;
} {
  const byKey = new Map<string, { rec: SeriesRecord; lat: LatencyHistogram[]; send: LatencyHistogram[] }>();
  for (const records of perWorker) {
    for (const r of records) {
      const k = tagKey(r);
      let m = byKey.get(k);
      if (!m) {
        m = {
          rec: {
            ...r,
            status: r.status ? { ...r.status } : undefined,
            errors: r.errors ? { ...r.errors } : undefined,
            checks: r.checks ? { ...r.checks } : undefined,
          },
          lat: [],
          send: [],
        };
        if (m.rec.status === undefined) delete m.rec.status;
        if (m.rec.errors === undefined) delete m.rec.errors;
        if (m.rec.checks === undefined) delete m.rec.checks;
        byKey.set(k, m);
      } else addCounts(m.rec, r);
      if (r.latency) m.lat.push(decodeHistogram(r.latency));
      if (r.latencySend) m.send.push(decodeHistogram(r.latencySend));
    }
  }
  const records: SeriesRecord[] = [];
  let all: LatencyHistogram | null = null;
  for (const m of byKey.values()) {
    const lat = sum(m.lat);
    const send = sum(m.send);
    if (lat) {
      m.rec.latency = encodeHistogram(lat);
      if (all) addHistogram(all, lat);
      else all = lat;
    }
    if (send) m.rec.latencySend = encodeHistogram(send);
    records.push(m.rec);
  }
  return { records, latency: all };
}

function sum(hs: LatencyHistogram[]): LatencyHistogram | null {
  const [first, ...rest] = hs;
  if (!first) return null;
  for (const h of rest) addHistogram(first, h);
  return first;
}

function addCounts(into: SeriesRecord, r: SeriesRecord): void {
  into.dt = Math.max(into.dt, r.dt);
  for (const k of COUNTS) if (r[k] !== undefined) into[k] = (into[k] ?? 0) + (r[k] as number);
  if (r.status) {
    const s: StatusCounts = into.status ?? { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    if (r.status['1xx']) s['1xx'] = (s['1xx'] ?? 0) + r.status['1xx'];
    s['2xx'] += r.status['2xx'];
    s['3xx'] += r.status['3xx'];
    s['4xx'] += r.status['4xx'];
    s['5xx'] += r.status['5xx'];
    into.status = s;
  }
  if (r.rateLimited) into.rateLimited = (into.rateLimited ?? 0) + r.rateLimited;
  if (r.errors) {
    const e = into.errors ?? { timeout: 0, refused: 0, reset: 0, check: 0, other: 0 };
    e.timeout += r.errors.timeout;
    e.refused += r.errors.refused;
    e.reset += r.errors.reset;
    e.check += r.errors.check;
    e.other += r.errors.other;
    if (r.errors.emptyValue) e.emptyValue = (e.emptyValue ?? 0) + r.errors.emptyValue;
    into.errors = e;
  }
  if (r.checks) {
    const c = into.checks ?? { passed: 0, failed: 0 };
    c.passed += r.checks.passed;
    c.failed += r.checks.failed;
    into.checks = c;
  }
}

/**
 * One health record for the process from its workers' records of the same second: worst lag,
 * delay and wait per slice, summed late starts, stalls, waits, GC pauses and in-flight iterations
 * (the longest GC pause of any); host and process figures (the same for every thread: host CPU,
 * steal, process CPU, RSS) from the highest. Each worker's own figures are kept
 * in `workers`, in worker order.
 */
export function mergeSecondHealth(perWorker: readonly EngineHealthRecord[]): EngineHealthRecord {
  const first = perWorker[0] as EngineHealthRecord;
  const max = (f: (h: EngineHealthRecord) => number) => Math.max(...perWorker.map(f));
  const total = (f: (h: EngineHealthRecord) => number) => perWorker.reduce((a, h) => a + f(h), 0);
  const waits = perWorker.filter((h) => h.cpuWait);
  const out: EngineHealthRecord = {
    t: first.t,
    wall: first.wall,
    schedulerLag: {
      p50: max((h) => h.schedulerLag.p50),
      p99: max((h) => h.schedulerLag.p99),
      max: max((h) => h.schedulerLag.max),
    },
    lateStarts: total((h) => h.lateStarts ?? 0),
    eventLoopDelay: {
      p50: max((h) => h.eventLoopDelay.p50),
      p99: max((h) => h.eventLoopDelay.p99),
      max: max((h) => h.eventLoopDelay.max),
    },
    loopStalls: total((h) => h.loopStalls ?? 0),
    hostCpu: max((h) => h.hostCpu),
    processCpu: max((h) => h.processCpu),
    inFlight: total((h) => h.inFlight),
    rssMb: max((h) => h.rssMb),
  };
  if (waits.length > 0)
    out.cpuWait = {
      ms: Math.round(total((h) => h.cpuWait?.ms ?? 0) * 100) / 100,
      perSliceMs: Math.max(...waits.map((h) => h.cpuWait?.perSliceMs ?? 0)),
    };
  const steals = perWorker.filter((h) => h.steal !== undefined);
  if (steals.length > 0) out.steal = Math.max(...steals.map((h) => h.steal ?? 0));
  const gcs = perWorker.filter((h) => h.gc);
  if (gcs.length > 0)
    out.gc = {
      ms: Math.round(total((h) => h.gc?.ms ?? 0) * 100) / 100,
      maxMs: Math.max(...gcs.map((h) => h.gc?.maxMs ?? 0)),
    };
  if (perWorker.some((h) => h.scheduler))
    out.scheduler = perWorker.some((h) => h.scheduler === 'spin') ? 'spin' : 'sleep';
  out.workers = perWorker.map((h) => ({
    schedulerLag: h.schedulerLag,
    ...(h.lateStarts !== undefined ? { lateStarts: h.lateStarts } : {}),
    eventLoopDelay: h.eventLoopDelay,
    ...(h.loopStalls !== undefined ? { loopStalls: h.loopStalls } : {}),
    ...(h.cpuWait ? { cpuWait: h.cpuWait } : {}),
    ...(h.gc ? { gc: h.gc } : {}),
    inFlight: h.inFlight,
  }));
  return out;
}
