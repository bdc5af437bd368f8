/**
 * Reads k6's outputs point by point, streaming, whichever form they come in:
 *
 * - `--out json=F` (NDJSON): `{"type":"Metric","data":{"name","type","contains",...}}` declarations
 *   and `{"type":"Point","metric","data":{"time","value","tags"}}` samples, one per line (k6 v0.45
 *   through v1: the same format);
 * - `--out csv=F`: a header `metric_name,timestamp,metric_value,check,error,error_code,
 *   expected_response,group,method,name,proto,scenario,service,status,subproto,tls_version,url,
 *   extra_tags,metadata`, one sample per row; the timestamp is unix seconds by default (k6's
 *   `timeFormat` may make it unix_milli/micro/nano or RFC 3339: all are recognised); `extra_tags` is
 *   `k=v&k2=v2`; fields are quoted as Go's encoding/csv quotes them. CSV declares no metric types;
 *   k6's built-in metrics have known types and custom ones are `unknown` unless a summary says;
 * - either of them gzip-compressed (`--out json=F.gz` writes gzip; detected by its magic bytes).
 *
 * Nothing is held but the current line, so a file of any size reads in flat memory. A line that is not
 * k6 output is an error naming `file:line:column`, except a torn last line (k6 killed mid-write),
 * which is skipped and reported.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { PeakdayError, validationError } from '../../core/errors.ts';
import type { K6MetricType } from '../../core/run-format.ts';

/** One k6 sample. `ms` is its wall-clock time (epoch ms); tags without empty values. */
export interface K6Point {
  metric: string;
  ms: number;
  value: number;
  tags: Record<string, string>;
}

/** A metric declaration (JSON output) or what the summary says of a metric. */
export interface K6MetricDecl {
  name: string;
  type: K6MetricType;
  /** `time` for durations in ms, `data` for bytes, `default` otherwise. */
  contains?: string;
  /** The thresholds the script set on it (JSON output declares them). */
  thresholds?: string[];
}

/** The type of every k6 built-in metric (k6 docs "Built-in metrics"). */
export const K6_BUILTIN_TYPES: Record<string, K6MetricType> = {
  http_reqs: 'counter',
  iterations: 'counter',
  dropped_iterations: 'counter',
  data_sent: 'counter',
  data_received: 'counter',
  http_req_failed: 'rate',
  checks: 'rate',
  vus: 'gauge',
  vus_max: 'gauge',
  http_req_duration: 'trend',
  http_req_blocked: 'trend',
  http_req_connecting: 'trend',
  http_req_tls_handshaking: 'trend',
  http_req_sending: 'trend',
  http_req_waiting: 'trend',
  http_req_receiving: 'trend',
  iteration_duration: 'trend',
  group_duration: 'trend',
  ws_connecting: 'trend',
  ws_session_duration: 'trend',
  ws_msgs_sent: 'counter',
  ws_msgs_received: 'counter',
  ws_sessions: 'counter',
  ws_ping: 'trend',
  grpc_req_duration: 'trend',
};

/** Which output format a file holds. */
export type K6OutputFormat = 'json' | 'csv';

/** What the reader learnt besides the points. */
export interface K6ReadInfo {
  format: K6OutputFormat;
  gzip: boolean;
  lines: number;
  /** Whether a torn last line was skipped. */
  tornLastLine: boolean;
}

/** Options of {@link readK6Points}. */
export interface ReadK6PointsOptions {
  /** Called with each metric declaration (JSON output). */
  onMetric?: (decl: K6MetricDecl) => void;
  /** Filled in as the file is read. */
  info?: K6ReadInfo;
}

const CSV_STANDARD = [
  'check',
  'error',
  'error_code',
  'expected_response',
  'group',
  'method',
  'name',
  'proto',
  'scenario',
  'service',
  'status',
  'subproto',
  'tls_version',
  'url',
] as const;

async function isGzip(file: string): Promise<boolean> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new PeakdayError('k6-output-unreadable', `cannot read ${file}: ${(e as Error).message}`, {
      hint: 'pass the file k6 wrote with --out json=FILE (or csv=FILE)',
    });
  }
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

/** Splits one CSV record as Go's encoding/csv writes it (quotes doubled inside quoted fields). */
export function splitCsvLine(line: string): string[] | null {
  const out: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= line.length) return null; // unbalanced: the record continues on the next line
        const c = line[i] as string;
        if (c === '"') {
          if (line[i + 1] === '"') {
            v += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += c;
        i++;
      }
      out.push(v);
      if (i < line.length && line[i] !== ',') return null;
      i++;
    } else {
      const j = line.indexOf(',', i);
      if (j < 0) {
        out.push(line.slice(i));
        break;
      }
      out.push(line.slice(i, j));
      i = j + 1;
      if (i === line.length) {
        out.push('');
        break;
      }
    }
  }
  return out;
}

/** A k6 CSV timestamp (unix s/ms/µs/ns, or RFC 3339) as epoch ms; NaN when it is none. */
export function csvTimeMs(text: string): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (text.length <= 11) return n * 1000;
    if (text.length <= 14) return n;
    if (text.length <= 17) return n / 1000;
    return n / 1e6;
  }
  if (/^\d+\.\d+$/.test(text)) return Number(text) * 1000;
  return Date.parse(text);
}

/** One line of k6's JSON output: a metric's declaration, a sample, another kind of line, or not k6's. */
export type K6JsonLine =
  | { kind: 'metric'; decl: K6MetricDecl }
  | { kind: 'point'; point: K6Point }
  | { kind: 'skip' }
  | { kind: 'bad'; problem: { message: string; expected: string } };

/**
 * Parses one line of k6's JSON output (`--out json`): what {@link readK6Points} reads from a file
 * and the k6 driver from the file k6 is still writing (engine/k6/live-rules.ts).
 */
export function parseK6JsonLine(text: string): K6JsonLine {
  let p: {
    type?: string;
    metric?: string;
    data?: {
      time?: string;
      value?: number;
      tags?: Record<string, string> | null;
      name?: string;
      type?: string;
      contains?: string;
      thresholds?: string[];
    };
  };
  try {
    p = JSON.parse(text);
  } catch (e) {
    return {
      kind: 'bad',
      problem: { message: `is not JSON (${(e as Error).message})`, expected: 'one k6 JSON object per line' },
    };
  }
  if (p.type === 'Metric' && p.data)
    return {
      kind: 'metric',
      decl: {
        name: p.data.name ?? p.metric ?? '',
        type: (['counter', 'gauge', 'rate', 'trend'].includes(p.data.type ?? '')
          ? p.data.type
          : 'unknown') as K6MetricType,
        contains: p.data.contains,
        thresholds: p.data.thresholds ?? [],
      },
    };
  if (p.type !== 'Point' || !p.data || typeof p.metric !== 'string') return { kind: 'skip' };
  const ms = Date.parse(p.data.time ?? '');
  if (!Number.isFinite(ms))
    return {
      kind: 'bad',
      problem: {
        message: `has no valid time (${JSON.stringify(p.data.time)})`,
        expected: 'data.time in RFC 3339',
      },
    };
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(p.data.tags ?? {}))
    if (v !== '' && v !== null && v !== undefined) tags[k] = String(v);
  return { kind: 'point', point: { metric: p.metric, ms, value: Number(p.data.value ?? 0), tags } };
}

/**
 * Streams the points of a k6 output file (JSON or CSV, plain or gzip). Metric declarations go to
 * `onMetric`. Throws `k6-output-invalid` (exit 2) at the first line that is not k6 output, unless it
 * is the last line.
 */
export async function* readK6Points(file: string, opts: ReadK6PointsOptions = {}): AsyncGenerator<K6Point> {
  const gzip = await isGzip(file);
  const raw = createReadStream(file);
  const input = gzip ? raw.pipe(createGunzip()) : raw;
  const info: K6ReadInfo = opts.info ?? { format: 'json', gzip, lines: 0, tornLastLine: false };
  info.gzip = gzip;
  const rl = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let format: K6OutputFormat | null = null;
  let header: string[] = [];
  let col: Record<string, number> = {};
  let lineNo = 0;
  let pending: { line: number; column: number; message: string; expected: string } | null = null;
  let carry = '';
  let carryStart = 0;
  const fail = (p: NonNullable<typeof pending>) =>
    validationError('k6-output-invalid', `${file} is not a k6 output file`, [
      {
        file,
        line: p.line,
        column: p.column,
        message: p.message,
        expected: p.expected,
        hint: 'pass the file k6 wrote with --out json=FILE or --out csv=FILE (gzip is fine)',
      },
    ]);
  try {
    for await (const text of rl) {
      lineNo++;
      if (pending) throw fail(pending);
      if (text.length === 0 && carry === '') continue;
      if (format === null) {
        const trimmed = text.replace(/^\uFEFF/, '');
        if (trimmed.startsWith('{')) format = 'json';
        else if (trimmed.startsWith('metric_name,')) {
          format = 'csv';
          header = trimmed.split(',');
          col = Object.fromEntries(header.map((h, i) => [h, i]));
          for (const need of ['timestamp', 'metric_value'])
            if (col[need] === undefined)
              throw fail({
                line: lineNo,
                column: 1,
                message: `the CSV header has no "${need}" column`,
                expected: 'k6 CSV output (metric_name,timestamp,metric_value,...)',
              });
          info.format = 'csv';
          continue;
        } else {
          throw fail({
            line: lineNo,
            column: 1,
            message: `starts with ${JSON.stringify(trimmed.slice(0, 20))}`,
            expected: 'k6 JSON output (one JSON object per line) or k6 CSV output (a metric_name,... header)',
          });
        }
        info.format = 'json';
      }
      if (format === 'json') {
        const parsed = parseK6JsonLine(text);
        if (parsed.kind === 'bad') pending = { line: lineNo, column: 1, ...parsed.problem };
        else if (parsed.kind === 'metric') opts.onMetric?.(parsed.decl);
        else if (parsed.kind === 'point') yield parsed.point;
      } else {
        const record = carry === '' ? text : `${carry}\n${text}`;
        const fields = splitCsvLine(record);
        if (!fields) {
          if (carry === '') carryStart = lineNo;
          carry = record;
          if (carry.length > 1_000_000)
            throw fail({
              line: carryStart,
              column: 1,
              message: 'has an unterminated quoted field',
              expected: 'a k6 CSV record',
            });
          continue;
        }
        carry = '';
        const at = (name: string) => {
          const i = col[name];
          return i === undefined ? undefined : fields[i];
        };
        const metric = fields[0] ?? '';
        const ms = csvTimeMs(at('timestamp') ?? '');
        const value = Number(at('metric_value'));
        if (metric === '' || !Number.isFinite(ms) || !Number.isFinite(value)) {
          pending = {
            line: lineNo,
            column: 1,
            message: `is not a k6 CSV sample (${JSON.stringify(record.slice(0, 60))})`,
            expected: `${header.length} comma-separated fields: metric_name, a timestamp, a number, ...`,
          };
          continue;
        }
        const tags: Record<string, string> = {};
        for (const name of CSV_STANDARD) {
          const v = at(name);
          if (v) tags[name] = v;
        }
        const extra = at('extra_tags');
        if (extra) {
          for (const kv of extra.split('&')) {
            const i = kv.indexOf('=');
            if (i > 0 && i < kv.length - 1) tags[kv.slice(0, i)] = kv.slice(i + 1);
          }
        }
        yield { metric, ms, value, tags };
      }
    }
  } finally {
    info.lines = lineNo;
    rl.close();
    raw.destroy();
  }
  if (pending || carry !== '') info.tornLastLine = true;
  if (format === null) {
    throw new PeakdayError('k6-output-empty', `${file} holds no k6 output`, {
      hint: 'did k6 run? pass the file written by k6 run --out json=FILE',
    });
  }
}

/**
 * The metric types a k6 summary tells: `--summary-export` (flat: trend `{avg,p(95),...}`, counter
 * `{count,rate}`, rate `{passes,fails,value}`, gauge `{value,min,max}`) or the handleSummary data
 * (`{type, values}`). Submetric keys (`name{tag:v}`) are skipped.
 */
export function typesFromSummary(summary: unknown): Record<string, K6MetricType> {
  const out: Record<string, K6MetricType> = {};
  const metrics = (summary as { metrics?: Record<string, Record<string, unknown>> } | null)?.metrics ?? {};
  for (const [key, m] of Object.entries(metrics)) {
    if (key.includes('{') || !m || typeof m !== 'object') continue;
    if (typeof m.type === 'string' && ['counter', 'gauge', 'rate', 'trend'].includes(m.type)) {
      out[key] = m.type as K6MetricType;
      continue;
    }
    if ('passes' in m) out[key] = 'rate';
    else if ('count' in m) out[key] = 'counter';
    else if ('avg' in m || 'med' in m) out[key] = 'trend';
    else if ('value' in m) out[key] = 'gauge';
  }
  return out;
}
