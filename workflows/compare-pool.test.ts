import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CompareRequest, compareWorkflow } from './compare.ts';
import { silentSink } from './sink.ts';

const dir = mkdtempSync(join(tmpdir(), 'pd-compare-pool-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A comparison's answer without what says how it was computed (trial counts, report paths). */
function answer(c: Awaited<ReturnType<typeof compareWorkflow>>['comparison']) {
  return JSON.parse(
    JSON.stringify(c, (k, v) => (k === 'simulations' || k === 'reports' ? undefined : v)),
  ) as unknown;
}

describe('compare on worker threads', () => {
  const request = (workers: number, out: string): CompareRequest => ({
    profile: 'ci-smoke',
    planFlags: {},
    seeds: 2,
    searchSteps: 2,
    breakEven: ['hop-cost', 'start-time'],
    breakEvenSteps: 1,
    workers,
    out: join(dir, out),
    sink: silentSink,
  });

  it('gives the same comparison, bit for bit, as the sequential code (2×2, seeds, break-evens)', async () => {
    const one = await compareWorkflow(request(1, 'one'));
    const two = await compareWorkflow(request(2, 'two'));
    expect(answer(two.comparison)).toEqual(answer(one.comparison));
    expect(two.comparison.breakEven?.results).toHaveLength(2);
    // The threads ran the searches: the main thread's memo holds their trials.
    expect(two.timing.simulations).toBe(one.timing.simulations);
    // With threads the reports are written while they run the break-evens: every one is there.
    expect(Object.keys(two.reports).sort()).toEqual(Object.keys(one.reports).sort());
    for (const html of Object.values(two.reports)) expect(html && existsSync(html)).toBe(true);
  }, 240_000);
});
