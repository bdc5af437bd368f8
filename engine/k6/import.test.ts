import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNdjsonLinesSync, readRun } from '../../core/run-directory.ts';
import type { MetricRecord, RunSummary, SeriesRecord } from '../../core/run-format.ts';
import { importK6Run } from './import.ts';
import { csvTimeMs, readK6Points, splitCsvLine } from './points.ts';
import { K6_FIXTURES, k6SummaryCount } from './stand-in.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'peakday-import-'));

/** k6's samples of a metric in an NDJSON output (plain), optionally filtered by tags. */
function samples(file: string, metric: string, tags: Record<string, string> = {}): number[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((p) => p.type === 'Point' && p.metric === metric)
    .filter((p) => Object.entries(tags).every(([k, v]) => p.data.tags?.[k] === v))
    .map((p) => p.data.value as number)
    .sort((a, b) => a - b);
}

/** Our percentile lies between the samples k6 interpolates between, within HDR precision (0.1%, 1 µs). */
function expectWithinPrecision(ours: number, k6Value: number, sorted: number[], q: number): void {
  const pos = q * (sorted.length - 1);
  const lo = sorted[Math.floor(pos)] as number;
  const hi = sorted[Math.ceil(pos)] as number;
  expect(k6Value).toBeGreaterThanOrEqual(lo - 1e-9);
  expect(k6Value).toBeLessThanOrEqual(hi + 1e-9);
  expect(ours).toBeGreaterThanOrEqual(lo * 0.999 - 0.0015);
  expect(ours).toBeLessThanOrEqual(hi * 1.001 + 0.0015);
}

function series(dir: string): SeriesRecord[] {
  return readNdjsonLinesSync(join(dir, 'series.ndjson')).map((l) => l.value as SeriesRecord);
}

describe('importK6Run on the real k6 fixtures (k6 v0.48)', () => {
  it('counts exactly what k6 summarised for the channels run, and keeps its four thresholds as budgets', async () => {
    const out = join(tmp(), 'run');
    const r = await importK6Run({
      output: join(K6_FIXTURES, 'channels.out.ndjson'),
      summary: join(K6_FIXTURES, 'channels.summary.json'),
      outDir: out,
    });
    expect(r.checks.length).toBeGreaterThanOrEqual(5);
    for (const c of r.checks)
      expect({ metric: c.metric, n: c.peakday }).toEqual({ metric: c.metric, n: c.k6 });
    const k6 = JSON.parse(readFileSync(join(K6_FIXTURES, 'channels.summary.json'), 'utf8')).metrics;
    expect(r.summary.requests.total).toBe(k6.http_reqs.count);
    expect(r.summary.iterations.completed).toBe(k6.iterations.count);
    const all = samples(join(K6_FIXTURES, 'channels.out.ndjson'), 'http_req_duration');
    const overall = r.summary.latency.send?.overall;
    expectWithinPrecision(overall?.p95 as number, k6.http_req_duration['p(95)'], all, 0.95);
    expectWithinPrecision(overall?.p90 as number, k6.http_req_duration['p(90)'], all, 0.9);
    expect(r.budgetsFrom).toBe('summary');
    expect(r.budgets).toBe(4);
    const run = readRun(out);
    expect(run.meta.startedAt).toBe('2026-11-25T00:37:56.000Z');
    expect(run.meta.capabilities.intendedStartLatency).toBe(false);
    expect(run.plan).toBeNull();
    // Scenario and group tags are kept on the records.
    const recs = series(out);
    expect(new Set(recs.map((x) => x.scenario))).toEqual(new Set(['web', 'mobile']));
    expect(recs.some((x) => x.group === '::cart' && x.step === 'add-to-cart')).toBe(true);
  });

  it('counts every dropped iteration of the dropped run, by scenario, as k6 did', async () => {
    const out = join(tmp(), 'run');
    const r = await importK6Run({
      output: join(K6_FIXTURES, 'dropped.out.ndjson'),
      summary: join(K6_FIXTURES, 'dropped.summary.json'),
      outDir: out,
    });
    expect(r.summary.iterations.dropped).toBe(k6SummaryCount('dropped', 'dropped_iterations'));
    expect(r.summary.iterations.completed).toBe(285);
    expect(r.checks.every((c) => c.k6 === c.peakday)).toBe(true);
    const dropped = series(out).filter((x) => x.step === null && (x.dropped ?? 0) > 0);
    expect(new Set(dropped.map((x) => x.scenario))).toEqual(new Set(['car']));
    // vus and vus_max are kept per second.
    const metrics = readNdjsonLinesSync(join(out, 'metrics.ndjson')).map((l) => l.value as MetricRecord);
    expect(metrics.some((m) => m.metric === 'vus_max' && m.type === 'gauge' && m.last === 5)).toBe(true);
  });

  it('reads the same run gzip-compressed, to the same records', async () => {
    const dir = tmp();
    const gz = join(dir, 'out.json.gz');
    writeFileSync(gz, gzipSync(readFileSync(join(K6_FIXTURES, 'dropped.out.ndjson'))));
    const a = await importK6Run({ output: join(K6_FIXTURES, 'dropped.out.ndjson'), outDir: join(dir, 'a') });
    const b = await importK6Run({ output: gz, outDir: join(dir, 'b') });
    expect(b.info.gzip).toBe(true);
    expect(series(join(dir, 'b'))).toEqual(series(join(dir, 'a')));
    expect(b.summary).toEqual(a.summary);
  });

  it('maps channel, journey and step from other tags when told (journey from the k6 group)', async () => {
    const out = join(tmp(), 'run');
    await importK6Run({
      output: join(K6_FIXTURES, 'channels.out.ndjson'),
      outDir: out,
      mapping: { journey: 'group', channel: 'scenario' },
    });
    const steps = series(out).filter((x) => x.step !== null);
    expect(new Set(steps.map((x) => x.journey))).toEqual(new Set(['::home', '::pdp', '::cart', '::pay']));
    expect(new Set(steps.map((x) => x.channel))).toEqual(new Set(['web', 'mobile']));
  });
});

describe('readK6Points: bad input', () => {
  it('names file:line of a line that is not k6 output, and skips a torn last line', async () => {
    const dir = tmp();
    const good = readFileSync(join(K6_FIXTURES, 'dropped.out.ndjson'), 'utf8').split('\n').slice(0, 40);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, [...good.slice(0, 10), 'not json', ...good.slice(10)].join('\n'));
    await expect(async () => {
      for await (const _ of readK6Points(bad));
    }).rejects.toMatchObject({ code: 'k6-output-invalid', problems: [{ file: bad, line: 11 }] });
    const torn = join(dir, 'torn.json');
    writeFileSync(torn, `${good.join('\n')}{"metric":"http_re`);
    const info = { format: 'json' as const, gzip: false, lines: 0, tornLastLine: false };
    let n = 0;
    for await (const _ of readK6Points(torn, { info })) n++;
    expect(n).toBeGreaterThan(10);
    expect(info.tornLastLine).toBe(true);
    const text = join(dir, 'text.txt');
    writeFileSync(text, 'hello\n');
    await expect(importK6Run({ output: text, outDir: join(dir, 'x') })).rejects.toMatchObject({
      code: 'k6-output-invalid',
      exitCode: 2,
    });
  });

  it.each([
    [
      'a plain row',
      'http_reqs,1796217169,1.000000,,,,true,,GET',
      ['http_reqs', '1796217169', '1.000000', '', '', '', 'true', '', 'GET'],
    ],
    ['a quoted field with a comma and a doubled quote', 'a,"x, ""y""",b', ['a', 'x, "y"', 'b']],
    ['a trailing empty field', 'a,b,', ['a', 'b', '']],
  ])('splits k6 CSV: %s', (_name, line, fields) => {
    expect(splitCsvLine(line)).toEqual(fields);
  });

  it.each([
    ['unix seconds', '1796217169', 1796217169000],
    ['unix ms', '1796217169123', 1796217169123],
    ['unix µs', '1796217169123456', 1796217169123.456],
    ['RFC 3339', '2026-12-02T13:12:49.5Z', Date.parse('2026-12-02T13:12:49.5Z')],
  ])('reads CSV timestamps in %s', (_name, text, ms) => {
    expect(csvTimeMs(text)).toBeCloseTo(ms, 3);
  });
});

// A real k6 (K6_BIN) against a local server: every form of output, compared with k6's own summary.
describe.runIf(process.env.K6_BIN)('importK6Run on outputs of a real k6', () => {
  let server: Server;
  let port = 0;
  let dir = '';
  let summary: Record<string, Record<string, unknown>> = {};
  beforeAll(async () => {
    server = createServer((req, res) => {
      const slow = req.url?.startsWith('/slow');
      setTimeout(
        () => {
          res.writeHead(req.url?.startsWith('/fail') ? 503 : 200, { 'content-type': 'text/plain' });
          res.end('ok');
        },
        slow ? 150 : 0,
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    dir = tmp();
    const script = join(dir, 'script.js');
    writeFileSync(
      script,
      `import http from 'k6/http';
import { check, group } from 'k6';
import { Counter, Gauge, Rate, Trend } from 'k6/metrics';
const cartValue = new Trend('cart_value');
const orders = new Counter('orders_placed');
const paid = new Rate('paid_rate');
const queue = new Gauge('queue_depth');
const base = 'http://127.0.0.1:${port}';
export const options = {
  scenarios: {
    web: { executor: 'ramping-vus', startVUs: 1, stages: [{ duration: '2s', target: 4 }, { duration: '1s', target: 1 }], exec: 'browse', tags: { channel: 'web' } },
    sale: { executor: 'constant-arrival-rate', rate: 60, timeUnit: '1s', duration: '3s', preAllocatedVUs: 2, maxVUs: 3, exec: 'buy', tags: { channel: 'app' } },
  },
  thresholds: {
    cart_value: ['med>0', 'p(95)<1000'],
    orders_placed: ['count>10'],
    paid_rate: ['rate>0.5'],
    queue_depth: ['value<100'],
    'http_req_duration{scenario:web}': ['p(95)<2000'],
    http_req_failed: ['rate<0.01'],
  },
};
export function browse() {
  group('home', () => { const r = http.get(base + '/', { tags: { journey: 'browse', step: 'home' } }); check(r, { 'home ok': (x) => x.status === 200 }); });
  group('fail', () => { http.get(base + '/fail', { tags: { journey: 'browse', step: 'oops' } }); });
}
export function buy() {
  group('checkout', () => { const r = http.get(base + '/slow', { tags: { journey: 'checkout', step: 'pay' } }); check(r, { 'paid': (x) => x.status === 200 });
    cartValue.add(10 + Math.random() * 90); orders.add(1); paid.add(r.status === 200); queue.add(__ITER % 7); });
}
`,
    );
    // k6 runs asynchronously: the server it loads lives in this process's event loop.
    const status = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(
        process.env.K6_BIN as string,
        [
          'run',
          '--quiet',
          '--out',
          `json=${join(dir, 'out.json.gz')}`,
          '--out',
          `csv=${join(dir, 'out.csv')}`,
          '--summary-export',
          join(dir, 'summary.json'),
          script,
        ],
        { cwd: dir, stdio: 'ignore' },
      );
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect([0, 99]).toContain(status);
    summary = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')).metrics;
  }, 90_000);
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const count = (m: string, f = 'count') => (summary[m]?.[f] as number | undefined) ?? 0;

  it.each(['out.json.gz', 'out.csv'])('%s: counts equal k6 summary exactly, drops included', async (file) => {
    const r = await importK6Run({
      output: join(dir, file),
      summary: join(dir, 'summary.json'),
      outDir: join(dir, `run-${file}`),
    });
    const s: RunSummary = r.summary;
    expect(s.requests.total).toBe(count('http_reqs'));
    expect(s.requests.failed).toBe(count('http_req_failed', 'passes'));
    expect(s.iterations.completed).toBe(count('iterations'));
    expect(s.iterations.dropped).toBe(count('dropped_iterations'));
    expect(s.iterations.dropped).toBeGreaterThan(0);
    for (const c of r.checks)
      expect({ metric: c.metric, n: c.peakday }).toEqual({ metric: c.metric, n: c.k6 });
    expect(r.metricNames).toEqual(
      expect.arrayContaining(['cart_value', 'orders_placed', 'paid_rate', 'queue_depth', 'vus', 'vus_max']),
    );
  });

  it('percentiles are within HDR precision of k6', async () => {
    const out = join(dir, 'run-verdicts');
    const r = await importK6Run({
      output: join(dir, 'out.json.gz'),
      summary: join(dir, 'summary.json'),
      outDir: out,
    });
    const plain = join(dir, 'plain.json');
    writeFileSync(
      plain,
      spawnSync('gzip', ['-dc', join(dir, 'out.json.gz')], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout,
    );
    const all = samples(plain, 'http_req_duration');
    const k6d = summary.http_req_duration as Record<string, number>;
    expectWithinPrecision(r.summary.latency.send?.overall.p95 as number, k6d['p(95)'] as number, all, 0.95);
  });
});
