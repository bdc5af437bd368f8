import { appendFileSync, mkdtempSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import {
  createRunDirectory,
  listRuns,
  readNdjsonLines,
  readNdjsonLinesSync,
  readRun,
  withRunDirectory,
} from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { initialMeta } from '../engine/run.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';

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

/** The process's descriptors open on files in `d`. */
const openIn = (d: string) =>
  readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${d}/`);
    } catch {
      return false; // the directory listing's own descriptor, closed by now
    }
  }).length;

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

  it('holds the files it appends to open until the summary or close(), then lets them go', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    const w = createRunDirectory(dir, { meta: meta(), plan });
    expect(openIn(dir)).toBe(2); // series.ndjson and engine.ndjson
    w.appendSeries([rec(0)]);
    w.close();
    expect(openIn(dir)).toBe(0);
    w.close();
    // An append after close reopens its file rather than failing, and the summary closes it again.
    w.appendSeries([rec(1)]);
    expect(openIn(dir)).toBe(1);
    w.writeSummary({} as never);
    expect(openIn(dir)).toBe(0);
  });

  it('lets go of its files when the play into it throws before the summary', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    let during = -1;
    const play = withRunDirectory(dir, { meta: meta(), plan }, async (w) => {
      w.appendSeries([rec(0)]);
      during = openIn(dir);
      throw new Error('the engine failed');
    });
    await expect(play).rejects.toThrow('the engine failed');
    expect(during).toBe(2);
    expect(openIn(dir)).toBe(0);
    expect(readRun(dir).meta.endReason).toBe('running');
  });

  it('refuses a newer format version', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    const m = meta();
    (m as { formatVersion: number }).formatVersion = 99;
    createRunDirectory(dir, { meta: m, plan });
    expect(() => readRun(dir)).toThrow(/upgrade|reads up to/);
  });
});

describe('the strict NDJSON reader of run files', () => {
  const file = (name: string, text: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'peakday-nd-')), name);
    writeFileSync(f, text);
    return f;
  };
  const collect = async (f: string, o: Parameters<typeof readNdjsonLines>[1] = {}) => {
    const out: number[] = [];
    for await (const l of readNdjsonLines(f, o)) out.push(l.line);
    return out;
  };
  it.each([
    ['a bad middle line', '{"t":0}\nnot json\n{"t":2}\n', 2, 'line is not valid JSON'],
    ['a bad line before blank lines and another record', '{"t":0}\n{"t"\n\n{"t":2}\n', 2, 'not valid JSON'],
    ['a record the check rejects', '{"t":0}\n{"x":1}\n', 2, 'no t'],
  ])('names file:line for %s, streamed and synchronously', async (_n, text, line, message) => {
    const f = file('series.ndjson', text);
    const check = (v: unknown) => (typeof (v as { t?: unknown }).t === 'number' ? [] : [{ message: 'no t' }]);
    for (const read of [() => collect(f, { check }), async () => readNdjsonLinesSync(f, { check })]) {
      const e = await read().then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(PeakdayError);
      expect((e as PeakdayError).code).toBe('run-file-corrupt');
      expect((e as PeakdayError).message).toContain(`series.ndjson:${line}`);
      expect((e as PeakdayError).problems[0]).toMatchObject({ file: f, line });
      expect((e as PeakdayError).problems[0]?.message).toContain(message);
    }
  });

  it('tolerates a torn last line and says which, unless told not to', async () => {
    const f = file('series.ndjson', '{"t":0}\n\n{"t":1}\n{"t":2,"d');
    const torn: number[] = [];
    expect(await collect(f, { onTornLastLine: (n) => torn.push(n) })).toEqual([1, 3]);
    expect(torn).toEqual([4]);
    expect(readNdjsonLinesSync(f).map((l) => l.line)).toEqual([1, 3]);
    expect(() => readNdjsonLinesSync(f, { tolerateTornLastLine: false })).toThrow(/series\.ndjson:4/);
  });

  it('makes readRun refuse a series with a corrupt line in the middle', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-rd-')), 'run');
    const w = createRunDirectory(dir, { meta: meta(), plan });
    w.appendSeries([rec(0)]);
    appendFileSync(join(dir, 'series.ndjson'), 'garbage\n');
    w.appendSeries([rec(1)]);
    const read = async () => {
      for await (const _ of readRun(dir).series());
    };
    await expect(read()).rejects.toThrow(/series\.ndjson:2/);
  });
});
