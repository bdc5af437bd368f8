import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RUN_FILES } from '../core/run-format.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { readRunForReport } from '../reports/run/read-run-files.ts';
import { compileRealTimePlan } from '../simulation/run-simulation.ts';
import { simulate } from '../simulation/simulate.ts';
import { writeSimulationRun } from '../simulation/write-run.ts';
import { renderSeries, reportRunOf } from './compare-series.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-compare-series-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('a reported configuration rendered where it was simulated', () => {
  const plan = compileRealTimePlan('flash-sale', {});
  const result = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
  const started = new Date('2026-12-04T00:00:00Z');
  const options = { compare: 'headless-autoscaled', capacity: { mode: 'test' } };

  it('writes series.ndjson byte for byte as the records themselves are written', () => {
    const fromRecords = join(root, 'records');
    const fromText = join(root, 'text');
    writeSimulationRun(fromRecords, plan, result, options, started);
    // In pieces of 100 records: the pieces' boundaries must not show in the file.
    const rendered = renderSeries(result.series, plan.timeScale, 100);
    writeSimulationRun(fromText, plan, { ...result, series: [] }, options, started, rendered.text);
    expect(rendered.text).toHaveLength(Math.ceil(result.series.length / 100));
    expect(rendered.text.length).toBeGreaterThan(2);
    const a = readFileSync(join(fromRecords, RUN_FILES.series));
    expect(a.length).toBeGreaterThan(0);
    expect(readFileSync(join(fromText, RUN_FILES.series)).equals(a)).toBe(true);
  });

  it('gives the report the run it would read back from the files, without reading them', async () => {
    const dir = join(root, 'report');
    const rendered = renderSeries(result.series, plan.timeScale);
    const meta = writeSimulationRun(dir, plan, { ...result, series: [] }, options, started, rendered.text);
    const fromMemory = reportRunOf(dir, plan, result, meta, rendered.load);
    const fromFiles = await readRunForReport(dir);
    expect(fromMemory.load.records).toBe(result.series.length);
    expect(fromMemory.edge?.length).toBeGreaterThan(0);
    expect(fromMemory.timeline.length).toBeGreaterThan(0);
    expect(fromMemory).toStrictEqual(fromFiles);
  });
});
