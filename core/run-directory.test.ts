import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialMeta } from '../engine/run.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';
import { createRunDirectory, listRuns, readRun } from './run-directory.ts';
import type { SeriesRecord } from './run-format.ts';

const plan = createTestPlan([{ journey: getJourney('a', ['/a']), rate: 1 }], 2);
const meta = () =>
  initialMeta(
    plan,
    { plan, target: new URL('http://user:pw@127.0.0.1:1/'), outDir: '', options: {} },
    'builtin',
    'r',
  );
const rec = (t: number): SeriesRecord => ({
  t,
  wall: t,
  dt: 1,
  channel: 'web',
  journey: 'a',
  step: null,
  started: 1,
});

describe('the run directory', () => {
  it('reads back what a killed writer left: every whole line, no summary, still running', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    const w = createRunDirectory(dir, { meta: meta(), plan });
    w.appendSeries([rec(0), rec(1)]);
    appendFileSync(join(dir, 'series.ndjson'), '{"t":2,"wall":2,"dt":1,"chan');
    const r = readRun(dir);
    const got: SeriesRecord[] = [];
    for await (const x of r.series()) got.push(x);
    expect(got.map((x) => x.t)).toEqual([0, 1]);
    expect(r.summary).toBeNull();
    expect(r.meta.endReason).toBe('running');
    expect(r.plan?.scenarios).toHaveLength(1);
    expect(listRuns(join(dir, '..'))).toEqual([dir]);
  });

  it('never writes credentials from the target URL', () => {
    expect(meta().target).toBe('http://***:***@127.0.0.1:1/');
  });

  it('refuses to overwrite a run and explains a directory that is not one', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    createRunDirectory(dir, { meta: meta(), plan });
    expect(() => createRunDirectory(dir, { meta: meta(), plan })).toThrow(/already holds a run/);
    expect(() => readRun(tmpdir())).toThrow(/not a run directory/);
  });

  it('refuses a newer format version', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    const m = meta();
    (m as { formatVersion: number }).formatVersion = 99;
    createRunDirectory(dir, { meta: m, plan });
    expect(() => readRun(dir)).toThrow(/upgrade|reads up to/);
  });
});
