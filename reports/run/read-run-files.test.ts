import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { writeFixtureRun } from '../testing/fixture-run.ts';
import { readRunForReport } from './read-run-files.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-read-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const simple = (
  name: string,
  extra: Parameters<typeof writeFixtureRun>[1] extends infer S ? Partial<S> : never = {},
) =>
  writeFixtureRun(join(root, name), {
    eventEnd: 600,
    timeScale: 60,
    channels: [
      { name: 'web', rps: () => 10, latencyMs: (t) => (t < 300 ? 20 : 200), ordersPerSecond: () => 1 },
      { name: 'pos', rps: () => 5, latencyMs: () => 50 },
    ],
    ...extra,
  });

async function errorOf(dir: string): Promise<PeakdayError> {
  try {
    await readRunForReport(dir);
  } catch (e) {
    if (e instanceof PeakdayError) return e;
    throw e;
  }
  throw new Error('expected an error');
}

describe('readRunForReport', () => {
  it('aggregates load per channel with exact merged percentiles', async () => {
    const r = await readRunForReport(simple('ok'));
    expect(r.partial).toBe(false);
    expect(r.load.times).toEqual([0, 60, 120, 180, 240, 300, 360, 420, 480, 540]);
    expect(r.load.channels.web?.rps[0]).toBe(10);
    expect(r.load.all.rps[0]).toBe(15);
    expect(r.load.channels.web?.p95Ms[0]).toBeCloseTo(20, 0);
    expect(r.load.channels.web?.p95Ms[9]).toBeCloseTo(200, 0);
    expect(r.load.ordersTotal).toBe(10);
    expect(r.load.latencyKind).toBe('intended-start');
  });

  it.each([
    ['meta.json is missing', 'meta.json', null, 'run-file-missing'],
    ['meta.json is not JSON', 'meta.json', '{"id":', 'run-file-corrupt'],
    ['meta.json lacks fields', 'meta.json', '{"id":"x"}', 'run-file-corrupt'],
    ['scaling-activities.json is not an array', 'scaling-activities.json', '{}', 'run-file-corrupt'],
    ['calibration.json lacks capacity', 'calibration.json', '{"services":{"cart":{}}}', 'run-file-corrupt'],
    ['meta.json is from a newer peakday', 'meta.json', '{"formatVersion":99}', 'run-format-newer'],
    ['series.ndjson is missing', 'series.ndjson', null, 'run-file-missing'],
    ['summary.json is not JSON', 'summary.json', '{"partial":', 'run-file-corrupt'],
    ['summary.json lacks fields', 'summary.json', '{}', 'run-file-corrupt'],
  ])('names the file when %s', async (_name, file, content, code) => {
    const dir = simple(`bad-${file}-${code}-${String(content).length}`);
    if (content === null) rmSync(join(dir, file));
    else writeFileSync(join(dir, file), content);
    const e = await errorOf(dir);
    expect(e.code).toBe(code);
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain(file);
    expect(e.problems[0]?.file).toContain(file);
  });

  it('names the line of a corrupt series record', async () => {
    const dir = simple('bad-series-line');
    appendFileSync(
      join(dir, 'series.ndjson'),
      '{"t":"x","dt":1,"channel":"web","journey":"a","step":null}\n{}\n',
    );
    const e = await errorOf(dir);
    expect(e.problems[0]?.line).toBe(41);
    expect(e.problems[0]?.path).toBe('t');
  });

  it('names the line of a corrupt timeline record, even the last one', async () => {
    const dir = simple('bad-timeline', {
      services: [{ name: 'cart', requests: () => 600, running: () => 2, cpu: () => 50 }],
    });
    appendFileSync(join(dir, 'timeline.ndjson'), '{"t":600,"period":60,"serv');
    const e = await errorOf(dir);
    expect(e.code).toBe('run-file-corrupt');
    expect(e.message).toMatch(/timeline\.ndjson:11/);
    expect(e.problems[0]).toMatchObject({ line: 11, message: 'line is not valid JSON' });
  });

  it('reads a run whose summary says partial as partial', async () => {
    const r = await readRunForReport(simple('summary-partial', { partial: true }));
    expect(r.partial).toBe(true);
    expect(r.notes.join(' ')).toContain('did not play its whole plan');
  });

  it('reads a run with a truncated last line as partial', async () => {
    const dir = simple('truncated');
    appendFileSync(join(dir, 'series.ndjson'), '{"t":600,"wall":10,"dt');
    const r = await readRunForReport(dir);
    expect(r.partial).toBe(true);
    expect(r.notes.join(' ')).toContain('truncated');
  });

  it('reads a run without summary.json as partial', async () => {
    const r = await readRunForReport(simple('nosummary', { noSummary: true }));
    expect(r.partial).toBe(true);
    expect(r.notes.join(' ')).toContain('summary.json is missing');
  });

  it('rejects a directory that does not exist', async () => {
    const e = await errorOf(join(root, 'nope'));
    expect(e.code).toBe('run-not-found');
  });
});
