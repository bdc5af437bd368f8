import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../../core/run-directory.ts';
import type { SeriesRecord } from '../../core/run-format.ts';
import { segmentPlan } from '../segments.ts';
import { createTestPlan, getJourney } from '../test-support.ts';
import { DEFAULT_VALIDITY_BOUNDS, type ValidityBounds } from '../validity.ts';
import { findK6, runK6 } from './driver.ts';
import { K6_FIXTURES as FIXTURES, k6SummaryCount, standInK6 } from './stand-in.ts';

/** Iterations k6 dropped in the `dropped` fixture run, as k6's own summary counts them. */
const DROPPED = k6SummaryCount('dropped', 'dropped_iterations');

interface K6Trend {
  [k: string]: number;
}

function k6Summary(fixture: string): Record<string, K6Trend> {
  return JSON.parse(readFileSync(join(FIXTURES, `${fixture}.summary.json`), 'utf8')).metrics;
}

/** The raw `http_req_duration` samples (ms) of a fixture, optionally filtered by a tag. */
function rawDurations(fixture: string, tag?: [string, string]): number[] {
  return readFileSync(join(FIXTURES, `${fixture}.out.ndjson`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((p) => p.type === 'Point' && p.metric === 'http_req_duration')
    .filter((p) => !tag || p.data.tags[tag[0]] === tag[1])
    .map((p) => p.data.value as number)
    .sort((a, b) => a - b);
}

/** Our percentile must lie between the samples k6 interpolates between, within HDR precision (0.1%, 1 µs). */
function expectWithinPrecision(ours: number, k6Value: number, samples: number[], q: number): void {
  const pos = q * (samples.length - 1);
  const lo = samples[Math.floor(pos)] as number;
  const hi = samples[Math.ceil(pos)] as number;
  expect(k6Value).toBeGreaterThanOrEqual(lo - 1e-9);
  expect(k6Value).toBeLessThanOrEqual(hi + 1e-9);
  expect(ours).toBeGreaterThanOrEqual(lo * 0.999 - 0.0015);
  expect(ours).toBeLessThanOrEqual(hi * 1.001 + 0.0015);
}

async function convertWith(
  fixture: string,
  exit = 0,
  segment?: { index: number; count: number },
  extra: { cap?: number; console?: string; bounds?: ValidityBounds } = {},
) {
  const tmp = mkdtempSync(join(tmpdir(), 'peakday-k6-'));
  const k6Bin = standInK6(tmp);
  const argsFile = join(tmp, 'args.json');
  const base = createTestPlan(
    [{ journey: getJourney('browse', ['/']), rate: 10, maxConcurrency: extra.cap ?? 400 }],
    3,
  );
  const plan = segment ? segmentPlan(base, segment) : base;
  const r = await runK6({
    plan,
    target: new URL('http://127.0.0.1:18090'),
    outDir: join(tmp, 'run'),
    options: { driver: 'k6' },
    k6Bin,
    noHandshake: true,
    ...(extra.bounds ? { validityBounds: extra.bounds } : {}),
    env: {
      ...process.env,
      STANDIN_FIXTURE: fixture,
      STANDIN_ARGS: argsFile,
      STANDIN_EXIT: String(exit),
      STANDIN_CONSOLE: extra.console ?? '',
      // The driver samples the host's CPU for any stretch of 100 ms or more: a stand-in that exits at
      // once would leave k6-host.ndjson empty on a quiet host.
      STANDIN_LINGER_MS: '250',
    },
  });
  const series: SeriesRecord[] = [];
  for await (const x of readRun(r.dir).series()) series.push(x);
  return { r, series, args: JSON.parse(readFileSync(argsFile, 'utf8')) as string[] };
}

describe('the k6 driver', () => {
  it('converts a real multi-scenario k6 run: counts, failures, tags and percentiles', async () => {
    const { r, series, args } = await convertWith('channels', 99);
    const k6 = k6Summary('channels');
    const s = r.summary;
    expect(r.exitCode).toBe(0);
    expect(s.requests.total).toBe(k6.http_reqs?.count);
    expect(s.iterations.completed).toBe(k6.iterations?.count);
    expect(s.requests.failed).toBe(k6.http_req_failed?.passes);
    expect(s.requests.errors.refused).toBe(k6.http_req_failed?.passes);
    expect(s.iterations.dropped).toBe(0);
    expect(s.latency.intended).toBeNull();
    const send = s.latency.send;
    if (!send) throw new Error('no send latency');
    for (const q of [0.5, 0.9, 0.95] as const) {
      const key = q === 0.5 ? 'med' : `p(${q * 100})`;
      expectWithinPrecision(
        send.overall[q === 0.5 ? 'p50' : q === 0.9 ? 'p90' : 'p95'],
        k6.http_req_duration?.[key] as number,
        rawDurations('channels'),
        q,
      );
    }
    expectWithinPrecision(
      send.byChannel.web?.p95 as number,
      k6['http_req_duration{channel:web}']?.['p(95)'] as number,
      rawDurations('channels', ['channel', 'web']),
      0.95,
    );
    expectWithinPrecision(
      send.byJourney.checkout?.p95 as number,
      k6['http_req_duration{journey:checkout}']?.['p(95)'] as number,
      rawDurations('channels', ['journey', 'checkout']),
      0.95,
    );
    expect(send.overall.max).toBeCloseTo(k6.http_req_duration?.max as number, 2);
    const tagsets = new Set(series.filter((x) => x.step).map((x) => `${x.channel}/${x.journey}/${x.step}`));
    expect(tagsets).toEqual(
      new Set(['web/browse/home', 'web/browse/pdp', 'mobile/checkout/add-to-cart', 'mobile/checkout/pay']),
    );
    expect(new Set(series.filter((x) => x.step === null).map((x) => `${x.channel}/${x.journey}`))).toEqual(
      new Set(['web/browse', 'mobile/checkout']),
    );
    expect(series.every((x) => x.latency === undefined)).toBe(true);
    expect(r.meta.capabilities.intendedStartLatency).toBe(false);
    expect(r.meta.notes.join(' ')).toMatch(/cannot measure intended-start/);
    expect(args.slice(0, 2)).toEqual(['run', '--out']);
    expect(args).toContain('--summary-export');
    expect(args).not.toContain('--execution-segment');
    expect(readFileSync(join(r.dir, 'k6-script.js'), 'utf8')).toMatch(/scenarios/);
  });

  it('converts dropped iterations, tagged only by scenario', async () => {
    const { r, series } = await convertWith('dropped');
    const k6 = k6Summary('dropped');
    expect(r.summary.iterations.dropped).toBe(k6.dropped_iterations?.count);
    expect(r.summary.iterations.completed).toBe(k6.iterations?.count);
    expect(series.reduce((a, x) => a + (x.dropped ?? 0), 0)).toBe(DROPPED);
    // The run spans about three seconds, one record per second per tag set.
    expect(new Set(series.map((x) => x.wall)).size).toBeGreaterThanOrEqual(3);
    expectWithinPrecision(
      r.summary.latency.send?.overall.p95 as number,
      k6.http_req_duration?.['p(95)'] as number,
      rawDurations('dropped'),
      0.95,
    );
  });

  it.each([
    {
      name: 'judges a real run that dropped below the cap, without k6 warning of the cap, invalid',
      cap: 400,
      console: '',
      valid: false,
      reason: new RegExp(`k6 fell behind the plan: it dropped ${DROPPED} iterations of scenario car`),
    },
    {
      name: 'judges the same drops valid when every VU of the cap was in use, and says they were the cap’s',
      cap: 5,
      console: '',
      valid: true,
      note: new RegExp(`${DROPPED} iterations were dropped at the concurrency cap`),
    },
    {
      name: 'reads k6’s cap warning from its console',
      cap: 400,
      // k6's own message (lib/executor/constant_arrival_rate.go) in its logfmt form; the fixture run has no console.
      console:
        'time="2026-11-25T00:28:38Z" level=warning msg="Insufficient VUs, reached 5 active VUs and cannot initialize more" executor=constant-arrival-rate scenario=car\n',
      valid: true,
      note: /dropped at the concurrency cap/,
    },
  ])('$name', async ({ cap, console: text, valid, reason, note }) => {
    // The host's CPU and k6's own CPU wait are judged in validity.test.ts; here a busy shared test
    // host must not decide.
    const bounds = { ...DEFAULT_VALIDITY_BOUNDS, saturatedSecondsShare: 1, maxCpuWaitShare: 1 };
    const { r } = await convertWith('dropped', 0, undefined, { cap, console: text, bounds });
    expect(r.summary.valid).toBe(valid);
    expect(r.meta.valid).toBe(valid);
    if (reason) expect(r.summary.invalidReasons.join(' ')).toMatch(reason);
    else expect(r.summary.invalidReasons).toEqual([]);
    if (note) expect(r.meta.notes.join(' ')).toMatch(note);
    // What k6 cannot tell is listed, never silently counted as met.
    expect(r.summary.validityUnmeasured?.join(' ')).toMatch(/scheduler lag/);
    expect(r.meta.notes.join(' ')).toMatch(/not measurable with k6: scheduler lag/);
    const host = readFileSync(join(r.dir, 'k6-host.ndjson'), 'utf8').trim().split('\n');
    expect(host.length).toBeGreaterThanOrEqual(1);
    for (const h of host) expect(JSON.parse(h).hostCpu).toBeGreaterThanOrEqual(0);
  });

  it('passes a segment on as k6 execution segments', async () => {
    const { args, r } = await convertWith('dropped', 0, { index: 2, count: 3 });
    const i = args.indexOf('--execution-segment');
    expect(args.slice(i, i + 4)).toEqual([
      '--execution-segment',
      '1/3:2/3',
      '--execution-segment-sequence',
      '0,1/3,2/3,1',
    ]);
    expect(r.meta.segment).toEqual({ index: 2, count: 3 });
  });

  it.each([
    [107, 2, 'the script threw an exception (k6 exit 107)'],
    [109, 8, 'k6 crashed (k6 exit 109'],
  ])(
    'marks a run whose k6 failed (exit %i) as an error with the exit code that means (%i), not 1',
    async (k6Exit, exit, detail) => {
      const { r } = await convertWith('dropped', k6Exit);
      expect(r.meta.endReason).toBe('error');
      expect(r.meta.endDetail).toContain(detail);
      expect(r.exitCode).toBe(exit);
    },
  );

  it('says how to install k6 when it is missing', () => {
    expect(() => findK6(undefined, { PATH: '/nonexistent' })).toThrow(/k6 was not found on PATH/);
    let err: { code?: string; hint?: string } = {};
    try {
      findK6('/nonexistent/k6');
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('k6-not-found');
    expect(err.hint).toMatch(/install k6/);
  });
});
