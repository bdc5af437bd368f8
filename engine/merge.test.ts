import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRunDirectory, readRun } from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { createLatencyHistogram, encodeHistogram, percentilesMs } from './histogram.ts';
import { mergeRuns } from './merge.ts';
import { initialMeta, plannedIterations, runBuiltin } from './run.ts';
import { segmentPlan } from './segments.ts';
import { createTestPlan, getJourney, startTestServer } from './test-support.ts';

const plan = createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 60 }], 2);

function histOf(valuesMs: number[]): string {
  const h = createLatencyHistogram();
  for (const v of valuesMs) h.recordValue(Math.round(v * 1000));
  return encodeHistogram(h);
}

const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

function stepRecord(t: number, wall: number, values: number[]): SeriesRecord {
  return {
    t,
    wall,
    dt: 1,
    channel: 'web',
    journey: 'browse',
    step: 'step-1',
    requests: values.length,
    failed: 0,
    status: { '2xx': values.length, '3xx': 0, '4xx': 0, '5xx': 0 },
    errors: { timeout: 0, refused: 0, reset: 0, check: 1, other: 0 },
    checks: { passed: values.length, failed: 0 },
    latency: histOf(values),
    latencySend: histOf(values.map((v) => v / 2)),
  };
}

function writeRun(dir: string, records: SeriesRecord[], index = 1): void {
  const seg = segmentPlan(plan, { index, count: 2 });
  const meta = initialMeta(
    seg,
    { plan: seg, target: new URL('http://127.0.0.1:1'), outDir: dir, options: {} },
    'builtin',
    'x',
  );
  meta.endReason = 'completed';
  const w = createRunDirectory(dir, { meta, plan: seg });
  w.appendSeries(records);
}

describe('peakday merge', () => {
  it('merges histograms exactly and aligns series by event time, not wall clock', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-merge-'));
    writeRun(join(tmp, 'a'), [stepRecord(0, 0, range(1, 1000))]);
    // The second generator started later: same event seconds, different wall offsets.
    writeRun(
      join(tmp, 'b'),
      [stepRecord(0, 0.4, range(1001, 1500)), stepRecord(1, 1.4, range(1501, 2000))],
      2,
    );
    const { summary } = await mergeRuns([join(tmp, 'a'), join(tmp, 'b')], join(tmp, 'ab'));
    const direct = createLatencyHistogram();
    for (const v of range(1, 2000)) direct.recordValue(v * 1000);
    expect(summary.latency.intended?.overall).toEqual(percentilesMs(direct));
    expect(summary.requests.total).toBe(2000);
    expect(summary.requests.errors.check).toBe(3);
    const merged: SeriesRecord[] = [];
    for await (const r of readRun(join(tmp, 'ab')).series()) merged.push(r);
    expect(merged.map((r) => [r.t, r.wall, r.requests])).toEqual([
      [0, 0, 1500],
      [1, 1.4, 500],
    ]);
    expect(readRun(join(tmp, 'ab')).meta.driver).toBe('merge');
  });

  it('sums the 429 answers (rateLimited) of every segment, kept absent where none came', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-merge-'));
    const limited = (t: number, wall: number, n: number): SeriesRecord => ({
      ...stepRecord(t, wall, range(1, 10)),
      status: { '2xx': 10 - n, '3xx': 0, '4xx': n, '5xx': 0 },
      rateLimited: n,
    });
    writeRun(join(tmp, 'a'), [limited(0, 0, 3), stepRecord(1, 1, range(1, 10))]);
    writeRun(join(tmp, 'b'), [limited(0, 0.2, 4), stepRecord(1, 1.2, range(1, 10))], 2);
    await mergeRuns([join(tmp, 'a'), join(tmp, 'b')], join(tmp, 'ab'));
    const merged: SeriesRecord[] = [];
    for await (const r of readRun(join(tmp, 'ab')).series()) merged.push(r);
    expect(merged.map((r) => [r.t, r.status?.['4xx'], r.rateLimited])).toEqual([
      [0, 7, 7],
      [1, 0, undefined],
    ]);
  });

  it('stops on its signal while it reads (Ctrl-C): merge-interrupted, nothing written, inputs untouched', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-merge-'));
    writeRun(join(tmp, 'a'), [stepRecord(0, 0, range(1, 10)), stepRecord(1, 1, range(1, 10))]);
    writeRun(join(tmp, 'b'), [stepRecord(0, 0.2, range(1, 10))], 2);
    const before = ['a', 'b'].map((d) => readdirSync(join(tmp, d)).sort());
    const c = new AbortController();
    const merging = mergeRuns([join(tmp, 'a'), join(tmp, 'b')], join(tmp, 'ab'), {}, c.signal);
    // The merge has checked its inputs and begun reading their series (asynchronously) by now.
    c.abort();
    await expect(merging).rejects.toMatchObject({ code: 'merge-interrupted', exitCode: 130 });
    expect(existsSync(join(tmp, 'ab'))).toBe(false);
    expect(['a', 'b'].map((d) => readdirSync(join(tmp, d)).sort())).toEqual(before);
  });

  it('refuses runs of different plans', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-merge-'));
    writeRun(join(tmp, 'a'), []);
    const other = createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 60 }], 2, { timeScale: 30 });
    const meta = initialMeta(
      other,
      { plan: other, target: new URL('http://127.0.0.1:1'), outDir: '', options: {} },
      'builtin',
      'y',
    );
    createRunDirectory(join(tmp, 'b'), { meta, plan: other });
    await expect(mergeRuns([join(tmp, 'a'), join(tmp, 'b')], join(tmp, 'ab'))).rejects.toThrow(
      /different clock/,
    );
  });

  it('adds the segments of one plan, played against a server, up to the whole plan', async () => {
    const s = await startTestServer();
    try {
      const tmp = mkdtempSync(join(tmpdir(), 'peakday-merge-'));
      const dirs: string[] = [];
      for (const index of [1, 2]) {
        const dir = join(tmp, `seg${index}`);
        dirs.push(dir);
        await runBuiltin({
          plan: segmentPlan(plan, { index, count: 2 }),
          target: new URL(s.url),
          outDir: dir,
          options: {},
          noHandshake: true,
        });
      }
      const { summary, meta } = await mergeRuns(dirs, join(tmp, 'all'));
      expect(summary.iterations.planned).toBe(plannedIterations(plan));
      expect(summary.iterations.started).toBe(120);
      expect(summary.requests.total).toBe(s.received.count);
      expect(summary.schedulerLag?.count).toBe(120);
      expect(meta.notes[0]).toMatch(/segments 1\/2, 2\/2/);
    } finally {
      await s.close();
    }
  });
});
