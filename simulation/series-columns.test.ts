import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { compileRealTimePlan } from './run-simulation.ts';
import { SeriesColumns } from './series-columns.ts';
import { simulate } from './simulate.ts';

describe('a series kept as columns', () => {
  it('holds the very records the series would, and changes nothing else of the run', () => {
    const plan = compileRealTimePlan('flash-sale', {});
    const options = { arch: 'headless' as const, scaling: loadScaling(), seed: 3, stepSeconds: 5 };
    const records = simulate(plan, options);
    const columns = simulate(plan, { ...options, seriesColumns: true });
    expect(records.seriesColumns).toBeUndefined();
    expect(columns.series).toEqual([]);
    const cols = columns.seriesColumns!;
    expect(cols.length).toBe(records.series.length);
    expect(cols.toRecords()).toStrictEqual(records.series);
    // Both kinds of record, and figures that are not whole numbers, are in there.
    expect(records.series.some((r) => r.step === null)).toBe(true);
    expect(records.series.some((r) => (r.latencyEstimate?.p99 ?? 0) % 1 !== 0)).toBe(true);
    expect(cols.toRecords(cols.perInterval * 3)).toStrictEqual(records.series.slice(cols.perInterval * 3));
    const { series: _a, seriesColumns: _b, ...rest } = columns;
    const { series: _c, ...restRecords } = records;
    expect(rest).toStrictEqual(restRecords);
  });

  it('gives its buffers to the next run once released, which holds its own series all the same', () => {
    const plan = compileRealTimePlan('flash-sale', {});
    const options = {
      arch: 'monolith' as const,
      scaling: loadScaling(),
      stepSeconds: 5,
      seriesColumns: true,
    };
    const first = simulate(plan, { ...options, seed: 1 }).seriesColumns!;
    const want = first.toRecords();
    const steps = first.steps;
    first.release();
    expect(first.length).toBe(0);
    expect(first.toRecords()).toEqual([]);
    // The next run of the plan takes the released buffers, and writes over every figure.
    const second = simulate(plan, { ...options, seed: 2 }).seriesColumns!;
    expect(second.steps).toBe(steps);
    const records = simulate(plan, { ...options, seed: 2, seriesColumns: false }).series;
    expect(second.toRecords()).toStrictEqual(records);
    expect(records).not.toStrictEqual(want);
  });

  it('grows as intervals come, keeping what it held', () => {
    const cols = new SeriesColumns(
      [{ channel: 'web', journey: 'j', step: null }],
      [{ channel: 'web', journey: 'j', step: 's' }],
      2,
    );
    for (let i = 0; i < 9; i++) {
      const n = cols.beginInterval(i * 60, i, 60);
      cols.setIteration(n, 0, i, i, i, 0, 0);
      cols.setStep(n, 0, i + 0.5, 0, i + 0.5, 0, 0, { p50: i, p90: i, p95: i, p99: i, max: i, mean: i });
    }
    expect(cols.intervals).toBe(9);
    expect(cols.recordAt(0)).toMatchObject({ t: 0, step: null, planned: 0 });
    expect(cols.recordAt(17)).toMatchObject({ t: 480, wall: 8, step: 's', requests: 8.5 });
  });
});
