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
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ErrorCounts, SeriesRecord } from '../../core/run-format.ts';
import { createLatencyHistogram, encodeHistogram, type LatencyHistogram } from '../histogram.ts';
import type { TransportError } from '../http-client.ts';

/** k6 error codes (docs: "k6 error codes") mapped onto peakday's transport error kinds. */
export const K6_ERROR_KINDS: Record<string, TransportError> = {
  '1050': 'timeout',
  '1211': 'timeout',
  '1212': 'refused',
  '1220': 'reset',
  '1221': 'reset',
};

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

/** A k6 NDJSON line. */
interface K6Line {
  type: 'Metric' | 'Point';
  metric: string;
  data: { time?: string; value?: number; tags?: Record<string, string> | null };
}

/** Options of the conversion. */
export interface K6ConvertOptions {
  /** Epoch ms at which k6 was started (wall second 0); default: the first point's second. */
  startedAtMs?: number;
  eventStart: number;
  timeScale: number;
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
  records: SeriesRecord[];
  /** Wall seconds from start to the last point. */
  durationSeconds: number;
  /** Points read, by metric (for notes and tests). */
  points: Record<string, number>;
  /** k6's own gauges and drops per wall second, in order (for run validity). */
  generator: K6GeneratorSecond[];
}

const emptyErrors = (): ErrorCounts => ({ timeout: 0, refused: 0, reset: 0, check: 0, other: 0 });

/** Reads k6's NDJSON output and builds per-second series records. */
export async function convertK6Output(ndjsonFile: string, opts: K6ConvertOptions): Promise<K6Conversion> {
  const steps = new Map<string, StepAcc>();
  // Scenario-level points are resolved to channel/journey after the whole file is read.
  const iters = new Map<string, IterAcc>();
  const scenarioTags = new Map<string, { channel?: string; journey?: string }>();
  const points: Record<string, number> = {};
  const generator = new Map<number, K6GeneratorSecond>();
  const genSecond = (wall: number): K6GeneratorSecond => {
    let g = generator.get(wall);
    if (!g) {
      g = { wall, vus: null, vusMax: null, dropped: {} };
      generator.set(wall, g);
    }
    return g;
  };
  let t0 = opts.startedAtMs;
  let lastMs = 0;
  const rl = createInterface({
    input: createReadStream(ndjsonFile, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  const stepAcc = (key: string): StepAcc => {
    let s = steps.get(key);
    if (!s) {
      s = {
        requests: 0,
        failed: 0,
        status: [0, 0, 0, 0, 0],
        errors: emptyErrors(),
        checksPassed: 0,
        checksFailed: 0,
        send: null,
      };
      steps.set(key, s);
    }
    return s;
  };
  const iterAcc = (key: string): IterAcc => {
    let a = iters.get(key);
    if (!a) {
      a = { completed: 0, dropped: 0, checksPassed: 0, checksFailed: 0 };
      iters.set(key, a);
    }
    return a;
  };
  for await (const line of rl) {
    if (!line.startsWith('{')) continue;
    let p: K6Line;
    try {
      p = JSON.parse(line) as K6Line;
    } catch {
      continue;
    }
    if (p.type !== 'Point' || !p.data.time) continue;
    const ms = Date.parse(p.data.time);
    if (t0 === undefined) t0 = Math.floor(ms / 1000) * 1000;
    if (ms > lastMs) lastMs = ms;
    const sec = Math.max(0, Math.floor((ms - t0) / 1000));
    const tags = p.data.tags ?? {};
    const scenario = tags.scenario ?? 'default';
    const known = scenarioTags.get(scenario) ?? {};
    if (tags.channel && !known.channel) known.channel = tags.channel;
    if (tags.journey && !known.journey) known.journey = tags.journey;
    scenarioTags.set(scenario, known);
    const value = p.data.value ?? 0;
    points[p.metric] = (points[p.metric] ?? 0) + 1;
    const stepKey = () =>
      JSON.stringify([
        sec,
        scenario,
        tags.channel ?? null,
        tags.journey ?? null,
        tags.step ?? tags.name ?? 'request',
      ]);
    switch (p.metric) {
      case 'http_reqs': {
        const s = stepAcc(stepKey());
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
        if (value === 1) stepAcc(stepKey()).failed++;
        break;
      }
      case 'http_req_duration': {
        const s = stepAcc(stepKey());
        if (!s.send) s.send = createLatencyHistogram();
        s.send.recordValue(Math.max(1, Math.round(value * 1000)));
        break;
      }
      case 'checks': {
        // A check carries a step tag when the script tags it (ours do); otherwise it belongs to the journey.
        if (tags.step) {
          const s = stepAcc(stepKey());
          if (value >= 1) s.checksPassed++;
          else {
            s.checksFailed++;
            s.errors.check++;
          }
        } else {
          const a = iterAcc(JSON.stringify([sec, scenario, tags.channel ?? null, tags.journey ?? null]));
          if (value >= 1) a.checksPassed++;
          else a.checksFailed++;
        }
        break;
      }
      case 'iterations':
      case 'dropped_iterations': {
        const a = iterAcc(JSON.stringify([sec, scenario, tags.channel ?? null, tags.journey ?? null]));
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
  }
  const start = t0 ?? 0;
  const resolve = (scenario: string, channel: string | null, journey: string | null) => {
    const k = scenarioTags.get(scenario) ?? {};
    return { channel: channel ?? k.channel ?? scenario, journey: journey ?? k.journey ?? scenario };
  };
  const bySecond = new Map<number, SeriesRecord[]>();
  const push = (sec: number, r: SeriesRecord) => {
    const list = bySecond.get(sec) ?? [];
    list.push(r);
    bySecond.set(sec, list);
  };
  const base = (sec: number) => ({ t: opts.eventStart + sec * opts.timeScale, wall: sec, dt: 1 });
  const addChecks = (r: SeriesRecord, a: IterAcc) => {
    if (a.checksPassed + a.checksFailed === 0) return;
    const c = r.checks ?? { passed: 0, failed: 0 };
    c.passed += a.checksPassed;
    c.failed += a.checksFailed;
    r.checks = c;
    const e = r.errors ?? emptyErrors();
    e.check += a.checksFailed;
    r.errors = e;
  };
  // Merge iteration records that resolve to the same (second, channel, journey).
  const iterMerged = new Map<string, SeriesRecord>();
  for (const [key, a] of iters) {
    const [sec, scenario, channel, journey] = JSON.parse(key) as [
      number,
      string,
      string | null,
      string | null,
    ];
    const tagset = resolve(scenario, channel, journey);
    const mk = JSON.stringify([sec, tagset.channel, tagset.journey]);
    const r = iterMerged.get(mk);
    if (r) {
      r.started = (r.started ?? 0) + a.completed;
      r.completed = (r.completed ?? 0) + a.completed;
      r.dropped = (r.dropped ?? 0) + a.dropped;
      r.planned = (r.planned ?? 0) + a.completed + a.dropped;
      addChecks(r, a);
    } else {
      const rec: SeriesRecord = {
        ...base(sec),
        ...tagset,
        step: null,
        planned: a.completed + a.dropped,
        started: a.completed,
        completed: a.completed,
        dropped: a.dropped,
      };
      addChecks(rec, a);
      iterMerged.set(mk, rec);
      push(sec, rec);
    }
  }
  const stepMerged = new Map<string, { rec: SeriesRecord; send: LatencyHistogram }>();
  for (const [key, s] of steps) {
    const [sec, scenario, channel, journey, step] = JSON.parse(key) as [
      number,
      string,
      string | null,
      string | null,
      string,
    ];
    const tagset = resolve(scenario, channel, journey);
    const mk = JSON.stringify([sec, tagset.channel, tagset.journey, step]);
    let m = stepMerged.get(mk);
    if (!m) {
      m = {
        rec: {
          ...base(sec),
          ...tagset,
          step,
          requests: 0,
          failed: 0,
          status: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
          errors: emptyErrors(),
          checks: { passed: 0, failed: 0 },
        },
        send: createLatencyHistogram(),
      };
      stepMerged.set(mk, m);
      push(sec, m.rec);
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
    for (const k of Object.keys(e) as (keyof ErrorCounts)[]) e[k] += s.errors[k];
    const c = r.checks as { passed: number; failed: number };
    c.passed += s.checksPassed;
    c.failed += s.checksFailed;
    if (s.send) m.send.add(s.send);
  }
  for (const { rec, send } of stepMerged.values())
    if (send.totalCount > 0) rec.latencySend = encodeHistogram(send);
  const records = [...bySecond.keys()].sort((a, b) => a - b).flatMap((sec) => bySecond.get(sec) ?? []);
  return {
    records,
    durationSeconds: Math.max(0, (lastMs - start) / 1000),
    points,
    generator: [...generator.values()].sort((a, b) => a.wall - b.wall),
  };
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
