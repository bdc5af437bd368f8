/**
 * `peakday run <profile> --driver k6 --generators 3` with a real k6 (K6_BIN) against a local server:
 * three k6 processes, one execution segment each, merged into one run that plays exactly the single
 * plan: planned iterations equal the whole plan's, k6 started at least 99% of them (k6's
 * ramping-arrival-rate starts the whole iterations its rate integral reaches, at most one per
 * scenario fewer than the plan's arrivals), the server counted every request the merge counts, and
 * the merged percentiles are those of every k6 sample across the segments within HDR precision.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readConfig } from '../core/config.ts';
import { readRun } from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { generatorDir } from '../engine/k6/local-fleet.ts';
import { countArrivals } from '../engine/segments.ts';
import { startTestServer, type TestServer } from '../engine/test-support.ts';
import { compileOptionsFrom } from '../scenarios/compile-options.ts';
import { resolvePlan } from '../workflows/run.ts';
import { runCli } from './cli-helper.ts';

const K6_BIN = process.env.K6_BIN;

/** k6's raw http_req_duration samples (ms) across the generators' NDJSON outputs, sorted. */
function rawDurations(dirs: string[]): number[] {
  const out: number[] = [];
  for (const d of dirs)
    for (const line of readFileSync(join(d, 'k6-out.ndjson'), 'utf8').split('\n')) {
      if (!line.includes('"http_req_duration"') || !line.includes('"Point"')) continue;
      out.push((JSON.parse(line) as { data: { value: number } }).data.value);
    }
  return out.sort((a, b) => a - b);
}

/** Our percentile lies between the samples around rank q, within HDR precision (0.1%, 1 µs). */
function expectWithinPrecision(ours: number, samples: number[], q: number): void {
  const pos = q * (samples.length - 1);
  const lo = samples[Math.floor(pos)] as number;
  const hi = samples[Math.min(samples.length - 1, Math.ceil(pos) + 1)] as number;
  expect(ours).toBeGreaterThanOrEqual(lo * 0.999 - 0.0015);
  expect(ours).toBeLessThanOrEqual(hi * 1.001 + 0.0015);
}

describe.runIf(K6_BIN)('peakday run --driver k6 --generators 3 (real k6)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it.each([
    ['ci-smoke', '20s', '400'],
    ['flash-sale', '20s', '300'],
  ])(
    '%s: the merged run plays the single plan exactly',
    async (profile, duration, peakRps) => {
      const dir = join(mkdtempSync(join(tmpdir(), 'peakday-local-fleet-')), 'run');
      const countBefore = server.received.count;
      const r = await runCli(
        [
          'run',
          profile,
          '--driver',
          'k6',
          '--k6-bin',
          K6_BIN as string,
          '--generators',
          '3',
          '--target',
          server.url,
          '--duration',
          duration,
          '--peak-rps',
          peakRps,
          '--no-stack-handshake',
          '--out',
          dir,
          '--json',
        ],
        { timeoutMs: 180_000 },
      );
      expect(r.code, r.stderr.slice(-2000)).toBe(0);
      const { summary, meta } = JSON.parse(r.stdout);
      const compile = compileOptionsFrom({ duration, peakRps }, readConfig(), { live: true });
      const { plan } = await resolvePlan({ profile, compile });
      const perScenario = countArrivals(plan);
      const planned = perScenario.reduce((a, b) => a + b, 0);
      expect(summary.iterations.planned).toBe(planned);
      expect(summary.iterations.started).toBeGreaterThanOrEqual(0.99 * planned);
      expect(summary.iterations.started).toBeLessThanOrEqual(planned);
      // Per scenario: k6 starts the whole iterations of its rate integral, never more than planned.
      const started = new Map<string, number>();
      for await (const rec of readRun(dir).series() as AsyncIterable<SeriesRecord>)
        if (rec.step === null)
          started.set(
            `${rec.channel}/${rec.journey}`,
            (started.get(`${rec.channel}/${rec.journey}`) ?? 0) + (rec.started ?? 0),
          );
      plan.scenarios.forEach((s, i) => {
        const n = perScenario[i] as number;
        expect(started.get(s.id) ?? 0, s.id).toBeLessThanOrEqual(n);
        expect(started.get(s.id) ?? 0, s.id).toBeGreaterThanOrEqual(n - 1);
      });
      // No request was sent to the handshake path, so the server's count is the load.
      expect(server.received.count - countBefore).toBe(summary.requests.total);
      expect(meta.driver).toBe('k6');
      expect(meta.notes[0]).toMatch(/local k6 fleet: 3 k6 processes/);
      const gens = [1, 2, 3].map((i) => generatorDir(dir, i, 3));
      expect(gens.map((g) => readRun(g).meta.segment)).toEqual([
        { index: 1, count: 3 },
        { index: 2, count: 3 },
        { index: 3, count: 3 },
      ]);
      const samples = rawDurations(gens);
      expect(samples.length).toBe(summary.requests.total);
      const l = summary.latency.send.overall;
      expect(l.count).toBe(samples.length);
      expectWithinPrecision(l.p50, samples, 0.5);
      expectWithinPrecision(l.p95, samples, 0.95);
      expectWithinPrecision(l.p99, samples, 0.99);
      expect(l.max).toBeGreaterThanOrEqual((samples[samples.length - 1] as number) * 0.999 - 0.0015);
      expect(l.max).toBeLessThanOrEqual((samples[samples.length - 1] as number) * 1.001 + 0.0015);
    },
    200_000,
  );
});

describe('peakday run --generators: bad combinations', () => {
  it.each([
    [['--generators', '3'], /--generators needs --driver k6/],
    [['--driver', 'k6', '--generators', '2', '--segment', '1/2'], /cannot be combined with --segment/],
    [['--driver', 'k6', '--generators', '0'], /not a whole number from 1 to 64/],
  ])('%j is refused with exit 2 before any load', async (flags, message) => {
    const r = await runCli(['run', 'ci-smoke', '--target', 'http://127.0.0.1:9', ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
