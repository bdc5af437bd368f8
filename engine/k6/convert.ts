/**
 * Converts k6's outputs (`--out json` NDJSON and `--summary-export`, k6 v0.48+ formats as in
 * test/fixtures/k6/README.md) into peakday's series records, so reports and gates read the
 * same files whichever driver ran. Mapping:
 *
 * - tag set: `channel` and `journey` tags (our exported scripts set both as scenario tags and on
 *   every request); when a point lacks them (k6's `dropped_iterations` carries only `scenario`),
 *   the scenario's channel/journey learnt from its other points is used, else the scenario name;
 *   `step` is the `step` tag, else the request `name`.
 * - `http_reqs` → requests and status classes (`status: "0"` is a transport error, classified by
 *   k6's `error_code`); `http_req_failed` value 1 → failed; `http_req_duration` (ms) → the
 *   send-time histogram (k6 has no intended-start latency: `latency` is never written);
 *   `checks` → checks passed/failed (a failed check also counts as an error of kind `check`);
 *   `iterations` → completed (and started: k6 reports no starts); `dropped_iterations` → dropped.
 * - time: points are bucketed by wall second since the run started (the driver passes when it
 *   started k6; otherwise the first point's second) and mapped to event time by the plan's clock.
 * - every other metric (and `http_reqs`, `iterations`, `vus`, `vus_max` again) → one MetricRecord per
 *   second per tag set when `onMetrics` is given (`peakday import k6`; `metrics.ndjson`).
 *
 * Streaming: seconds are emitted once points have moved {@link K6_LATENESS_SECONDS} past them (k6
 * flushes its samples about once a second, so points arrive nearly in time order); a point for a
 * second already emitted starts a second record for it (readers sum records, so counts stay exact).
 * Memory is that of the open seconds, whatever the file's size.
 */
import type { ErrorCounts, K6MetricType, MetricRecord, SeriesRecord } from '../../core/run-format.ts';
import { createLatencyHistogram, encodeHistogram, type LatencyHistogram } from '../histogram.ts';
import type { TransportError } from '../http-client.ts';
import {
  K6_BUILTIN_TYPES,
  type K6MetricDecl,
  type K6Point,
  type K6ReadInfo,
  readK6Points,
} from './points.ts';

/** k6 error codes (docs: "k6 error codes") mapped onto peakday's transport error kinds. */
export const K6_ERROR_KINDS: Record<string, TransportError> = {
  '1050': 'timeout',
  '1211': 'timeout',
  '1212': 'refused',
  '1220': 'reset',
  '1221': 'reset',
};

/** Seconds a second stays open for late points before it is emitted. */
export const K6_LATENESS_SECONDS = 5;

interface StepAcc {
  requests: number;
  failed: number;
  status: [number, number, number, number, number];
  errors: ErrorCounts;
  checksPassed: number;
  checksFailed: number;
  send: LatencyHistogram | null;
}

interface IterAcc {
  completed: number;
  dropped: number;
  checksPassed: number;
  checksFailed: number;
}

interface MetricAcc {
  count: number;
  sum: number;
  min: number;
  max: number;
  nonZero: number;
  last: number;
  lastMs: number;
  hist: LatencyHistogram | null;
  negative: number;
}

/**
 * Which tags name a record's channel, journey and step. Defaults: `channel`, `journey`, `step`; a
 * point without them takes its scenario's value learnt from its other points, else the scenario name
 * (channel, journey) or the request `name` (step).
 */
export interface K6TagMapping {
  channel: string;
  journey: string;
  step: string;
}

/** The default tag mapping. */
export const DEFAULT_K6_TAG_MAPPING: K6TagMapping = { channel: 'channel', journey: 'journey', step: 'step' };

/** Options of the conversion. */
export interface K6ConvertOptions {
  /** Epoch ms at which k6 was started (wall second 0); default: the first point's second. */
  startedAtMs?: number;
  eventStart: number;
  timeScale: number;
  mapping?: K6TagMapping;
  /** Keep the `scenario` and `group` tags on records (and in their key). Default false. */
  keepScenarioAndGroup?: boolean;
  /** Receives series records as their seconds close; default: collected into `records`. */
  onRecords?: (records: SeriesRecord[]) => void;
  /** Receives per-second metric records; when absent no metric records are built. */
  onMetrics?: (records: MetricRecord[]) => void;
  /** Metric types known from elsewhere (a summary) for CSV output, which declares none. */
  types?: Record<string, K6MetricType>;
  /** Filled in by the reader. */
  info?: K6ReadInfo;
}

/**
 * What k6 said about itself in one wall second: its VU gauges (`vus`: VUs running an iteration,
 * `vus_max`: VUs initialized so far; the last sample of the second, null when none) and the
 * iterations it dropped, by k6 scenario. Input of engine/k6/validity.ts.
 */
export interface K6GeneratorSecond {
  wall: number;
  vus: number | null;
  vusMax: number | null;
  dropped: Record<string, number>;
}

/** What the conversion produced. */
export interface K6Conversion {
  /** The series records, unless `onRecords` took them. */
  records: SeriesRecord[];
  /** Wall seconds from start to the last point. */
  durationSeconds: number;
  /** Points read, by metric (for notes and tests). */
  points: Record<string, number>;
  /** k6's own gauges and drops per wall second, in order (for run validity). */
  generator: K6GeneratorSecond[];
  /** Epoch ms of the earliest and latest point (NaN when there was none). */
  firstMs: number;
  lastMs: number;
  /** Epoch ms of wall second 0. */
  startMs: number;
  /** Metric declarations (JSON output) and types learnt. */
  metrics: Record<string, K6MetricDecl>;
  /** Points that arrived for a second already emitted. */
  latePoints: number;
}

const emptyErrors = (): ErrorCounts => ({ timeout: 0, refused: 0, reset: 0, check: 0, other: 0 });

/** Metrics the series records hold; the rest only go to metric records. */
const SERIES_ONLY = new Set(['http_req_duration', 'http_req_failed', 'checks', 'dropped_iterations']);

/** The streaming converter: feed it points, then `finish`. */
export interface K6SeriesBuilder {
  /** A metric declaration (k6's JSON output declares each metric before its first point). */
  declare(d: K6MetricDecl): void;
  add(p: K6Point): void;
  finish(): K6Conversion;
}

/** Creates a streaming converter of k6 points into series (and metric) records. */
export function createK6SeriesBuilder(opts: K6ConvertOptions): K6SeriesBuilder {
  const mapping = opts.mapping ?? DEFAULT_K6_TAG_MAPPING;
  const keep = opts.keepScenarioAndGroup ?? false;
  const collected: SeriesRecord[] = [];
  const emit = opts.onRecords ?? ((rs: SeriesRecord[]) => collected.push(...rs));
  // Open seconds: sec -> key -> accumulator.
  const steps = new Map<number, Map<string, StepAcc>>();
  const iters = new Map<number, Map<string, IterAcc>>();
  const mets = new Map<number, Map<string, MetricAcc>>();
  const scenarioTags = new Map<string, { channel?: string; journey?: string }>();
  const points: Record<string, number> = {};
  const metrics: Record<string, K6MetricDecl> = {};
  const generator = new Map<number, K6GeneratorSecond>();
  let t0 = opts.startedAtMs;
  let firstMs = Number.NaN;
  let lastMs = Number.NaN;
  let maxSec = -1;
  let emittedBelow = 0;
  let latePoints = 0;
  const genSecond = (wall: number): K6GeneratorSecond => {
    let g = generator.get(wall);
    if (!g) {
      g = { wall, vus: null, vusMax: null, dropped: {} };
      generator.set(wall, g);
    }
    return g;
  };
  const slot = <T>(m: Map<number, Map<string, T>>, sec: number, key: string, make: () => T): T => {
    let inner = m.get(sec);
    if (!inner) {
      inner = new Map();
      m.set(sec, inner);
    }
    let a = inner.get(key);
    if (!a) {
      a = make();
      inner.set(key, a);
    }
    return a;
  };
  const newStep = (): StepAcc => ({
    requests: 0,
    failed: 0,
    status: [0, 0, 0, 0, 0],
    errors: emptyErrors(),
    checksPassed: 0,
    checksFailed: 0,
    send: null,
  });
  const newIter = (): IterAcc => ({ completed: 0, dropped: 0, checksPassed: 0, checksFailed: 0 });
  const newMetric = (): MetricAcc => ({
    count: 0,
    sum: 0,
    min: Number.POSITIVE_INFINITY,
    max: Number.NEGATIVE_INFINITY,
    nonZero: 0,
    last: 0,
    lastMs: 0,
    hist: null,
    negative: 0,
  });
  const typeOf = (metric: string): K6MetricType =>
    metrics[metric]?.type ?? opts.types?.[metric] ?? K6_BUILTIN_TYPES[metric] ?? 'unknown';

  const resolve = (scenario: string, channel: string | null, journey: string | null) => {
    const k = scenarioTags.get(scenario) ?? {};
    return { channel: channel ?? k.channel ?? scenario, journey: journey ?? k.journey ?? scenario };
  };
  const base = (sec: number) => ({ t: opts.eventStart + sec * opts.timeScale, wall: sec, dt: 1 });
  const sg = (scenario: string, group: string | null) =>
    keep ? { scenario, ...(group !== null ? { group } : {}) } : {};

  const emitSecond = (sec: number): void => {
    const out: SeriesRecord[] = [];
    const iterMerged = new Map<string, SeriesRecord>();
    for (const [key, a] of iters.get(sec) ?? []) {
      const [scenario, group, channel, journey] = JSON.parse(key) as [
        string,
        string | null,
        string | null,
        string | null,
      ];
      const tagset = resolve(scenario, channel, journey);
      const mk = JSON.stringify([
        tagset.channel,
        tagset.journey,
        keep ? scenario : null,
        keep ? group : null,
      ]);
      let r = iterMerged.get(mk);
      if (!r) {
        r = {
          ...base(sec),
          ...tagset,
          step: null,
          ...sg(scenario, group),
          planned: 0,
          started: 0,
          completed: 0,
          dropped: 0,
        };
        iterMerged.set(mk, r);
        out.push(r);
      }
      r.started = (r.started ?? 0) + a.completed;
      r.completed = (r.completed ?? 0) + a.completed;
      r.dropped = (r.dropped ?? 0) + a.dropped;
      r.planned = (r.planned ?? 0) + a.completed + a.dropped;
      if (a.checksPassed + a.checksFailed > 0) {
        const c = r.checks ?? { passed: 0, failed: 0 };
        c.passed += a.checksPassed;
        c.failed += a.checksFailed;
        r.checks = c;
        const e = r.errors ?? emptyErrors();
        e.check += a.checksFailed;
        r.errors = e;
      }
    }
    const stepMerged = new Map<string, { rec: SeriesRecord; send: LatencyHistogram | null }>();
    for (const [key, s] of steps.get(sec) ?? []) {
      const [scenario, group, channel, journey, step] = JSON.parse(key) as [
        string,
        string | null,
        string | null,
        string | null,
        string,
      ];
      const tagset = resolve(scenario, channel, journey);
      const mk = JSON.stringify([
        tagset.channel,
        tagset.journey,
        step,
        keep ? scenario : null,
        keep ? group : null,
      ]);
      let m = stepMerged.get(mk);
      if (!m) {
        m = {
          rec: {
            ...base(sec),
            ...tagset,
            step,
            ...sg(scenario, group),
            requests: 0,
            failed: 0,
            status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
            errors: emptyErrors(),
            checks: { passed: 0, failed: 0 },
          },
          send: null,
        };
        stepMerged.set(mk, m);
        out.push(m.rec);
      }
      const r = m.rec;
      r.requests = (r.requests ?? 0) + s.requests;
      r.failed = (r.failed ?? 0) + s.failed;
      const st = r.status as NonNullable<SeriesRecord['status']>;
      if (s.status[0] > 0) st['1xx'] = (st['1xx'] ?? 0) + s.status[0];
      st['2xx'] += s.status[1];
      st['3xx'] += s.status[2];
      st['4xx'] += s.status[3];
      st['5xx'] += s.status[4];
      const e = r.errors as ErrorCounts;
      for (const k of ['timeout', 'refused', 'reset', 'check', 'other'] as const) e[k] += s.errors[k];
      const c = r.checks as { passed: number; failed: number };
      c.passed += s.checksPassed;
      c.failed += s.checksFailed;
      if (s.send) {
        if (m.send) m.send.add(s.send);
        else m.send = s.send;
      }
    }
    for (const { rec, send } of stepMerged.values())
      if (send && send.totalCount > 0) rec.latencySend = encodeHistogram(send);
    steps.delete(sec);
    iters.delete(sec);
    if (out.length > 0) emit(out);
    const mm = mets.get(sec);
    if (mm && opts.onMetrics) {
      const recs: MetricRecord[] = [];
      for (const [key, a] of mm) {
        const [metric, scenario, group, channel, journey, step] = JSON.parse(key) as [
          string,
          string,
          string | null,
          string | null,
          string | null,
          string | null,
        ];
        const tagset = resolve(scenario, channel, journey);
        const rec: MetricRecord = {
          ...base(sec),
          metric,
          type: typeOf(metric),
          ...tagset,
          step,
          scenario,
          ...(group !== null ? { group } : {}),
          count: a.count,
          sum: a.sum,
          min: a.min,
          max: a.max,
          nonZero: a.nonZero,
          last: a.last,
          lastMs: a.lastMs,
        };
        if (a.hist && a.hist.totalCount > 0) rec.hist = encodeHistogram(a.hist);
        if (a.negative > 0) rec.negative = a.negative;
        recs.push(rec);
      }
      if (recs.length > 0) opts.onMetrics(recs);
    }
    mets.delete(sec);
  };
  const emitBelow = (limit: number): void => {
    const secs = new Set<number>([...steps.keys(), ...iters.keys(), ...mets.keys()]);
    for (const sec of [...secs].sort((a, b) => a - b)) if (sec < limit) emitSecond(sec);
    emittedBelow = Math.max(emittedBelow, limit);
  };

  return {
    declare(d) {
      metrics[d.name] = d;
    },
    add(p) {
      const ms = p.ms;
      if (t0 === undefined) t0 = Math.floor(ms / 1000) * 1000;
      if (Number.isNaN(firstMs) || ms < firstMs) firstMs = ms;
      if (Number.isNaN(lastMs) || ms > lastMs) lastMs = ms;
      const sec = Math.max(0, Math.floor((ms - t0) / 1000));
      if (sec > maxSec) {
        maxSec = sec;
        if (sec - K6_LATENESS_SECONDS > emittedBelow) emitBelow(sec - K6_LATENESS_SECONDS);
      }
      if (sec < emittedBelow) latePoints++;
      const tags = p.tags;
      const scenario = tags.scenario ?? 'default';
      const group = keep ? (tags.group ?? null) : null;
      const ch = tags[mapping.channel] ?? null;
      const jo = tags[mapping.journey] ?? null;
      const known = scenarioTags.get(scenario) ?? {};
      if (ch && !known.channel) known.channel = ch;
      if (jo && !known.journey) known.journey = jo;
      scenarioTags.set(scenario, known);
      const value = p.value;
      points[p.metric] = (points[p.metric] ?? 0) + 1;
      const step = tags[mapping.step] ?? tags.name ?? null;
      const stepKey = () => JSON.stringify([scenario, group, ch, jo, step ?? 'request']);
      const iterKey = () => JSON.stringify([scenario, group, ch, jo]);
      switch (p.metric) {
        case 'http_reqs': {
          const s = slot(steps, sec, stepKey(), newStep);
          s.requests += value;
          const status = Number(tags.status ?? '0');
          if (status === 0) s.errors[K6_ERROR_KINDS[tags.error_code ?? ''] ?? 'other'] += value;
          else {
            const c = Math.floor(status / 100) - 1;
            const i = c >= 0 && c <= 4 ? c : 4;
            s.status[i] = (s.status[i] as number) + value;
          }
          break;
        }
        case 'http_req_failed': {
          if (value === 1) slot(steps, sec, stepKey(), newStep).failed++;
          break;
        }
        case 'http_req_duration': {
          const s = slot(steps, sec, stepKey(), newStep);
          if (!s.send) s.send = createLatencyHistogram();
          s.send.recordValue(Math.max(1, Math.round(value * 1000)));
          break;
        }
        case 'checks': {
          // A check carries a step tag when the script tags it (ours do); otherwise it belongs to the journey.
          if (tags[mapping.step]) {
            const s = slot(steps, sec, stepKey(), newStep);
            if (value >= 1) s.checksPassed++;
            else {
              s.checksFailed++;
              s.errors.check++;
            }
          } else {
            const a = slot(iters, sec, iterKey(), newIter);
            if (value >= 1) a.checksPassed++;
            else a.checksFailed++;
          }
          break;
        }
        case 'iterations':
        case 'dropped_iterations': {
          const a = slot(iters, sec, iterKey(), newIter);
          if (p.metric === 'iterations') a.completed += value;
          else {
            a.dropped += value;
            const g = genSecond(sec);
            g.dropped[scenario] = (g.dropped[scenario] ?? 0) + value;
          }
          break;
        }
        case 'vus':
          genSecond(sec).vus = value;
          break;
        case 'vus_max':
          genSecond(sec).vusMax = value;
          break;
        default:
          break;
      }
      if (opts.onMetrics && !SERIES_ONLY.has(p.metric)) {
        const key = JSON.stringify([p.metric, scenario, tags.group ?? null, ch, jo, step]);
        const a = slot(mets, sec, key, newMetric);
        a.count++;
        a.sum += value;
        if (value < a.min) a.min = value;
        if (value > a.max) a.max = value;
        if (value !== 0) a.nonZero++;
        if (ms >= a.lastMs) {
          a.last = value;
          a.lastMs = ms;
        }
        const type = typeOf(p.metric);
        if (type === 'trend' || type === 'unknown') {
          if (value < 0) a.negative++;
          else {
            if (!a.hist) a.hist = createLatencyHistogram();
            a.hist.recordValue(Math.round(value * 1000));
          }
        }
      }
    },
    finish() {
      emitBelow(Number.POSITIVE_INFINITY);
      const start = t0 ?? 0;
      return {
        records: collected,
        durationSeconds: Number.isNaN(lastMs) ? 0 : Math.max(0, (lastMs - start) / 1000),
        points,
        generator: [...generator.values()].sort((a, b) => a.wall - b.wall),
        firstMs,
        lastMs,
        startMs: start,
        metrics,
        latePoints,
      };
    },
  };
}

/** Reads a k6 output file (JSON or CSV, plain or gzip) and builds per-second series records. */
export async function convertK6Output(file: string, opts: K6ConvertOptions): Promise<K6Conversion> {
  const builder = createK6SeriesBuilder(opts);
  for await (const p of readK6Points(file, { onMetric: (d) => builder.declare(d), info: opts.info }))
    builder.add(p);
  return builder.finish();
}

/** The parts of k6's `--summary-export` the driver reads (k6 v0.48: flat trend objects in ms). */
export interface K6SummaryExport {
  metrics: Record<string, Record<string, number | Record<string, boolean>>>;
}

/** Counts from the summary export: iterations, dropped, requests (dropped is absent when zero). */
export function readK6SummaryCounts(summary: K6SummaryExport): {
  iterations: number;
  dropped: number;
  requests: number;
  failed: number;
} {
  const m = summary.metrics;
  const num = (metric: string, field: string) => {
    const v = m[metric]?.[field];
    return typeof v === 'number' ? v : 0;
  };
  return {
    iterations: num('iterations', 'count'),
    dropped: num('dropped_iterations', 'count'),
    requests: num('http_reqs', 'count'),
    failed: num('http_req_failed', 'passes'),
  };
}
