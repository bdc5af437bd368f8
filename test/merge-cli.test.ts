/**
 * `peakday merge` through the real CLI: segments of one plan merge into the whole; anything else
 * (the same directory twice, another plan, overlapping splits, a whole run among segments) is
 * refused with exit 2; a missing segment or an unfinished input makes the merge partial and is named.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { plannedIterations } from '../engine/run.ts';
import { createTestPlan, getJourney, startTestServer, type TestServer } from '../engine/test-support.ts';
import { runCli } from './cli-helper.ts';

let server: TestServer;
let dir: string;
const plan = createTestPlan([{ journey: getJourney('browse', ['/a', '/b']), rate: 30 }], 2);
const other = createTestPlan([{ journey: getJourney('browse', ['/a', '/b']), rate: 31 }], 2);

async function play(planFile: string, out: string, segment?: string): Promise<void> {
  const r = await runCli([
    'run',
    '--plan',
    planFile,
    '--target',
    server.url,
    '--no-stack-handshake',
    ...(segment ? ['--segment', segment] : []),
    '--out',
    join(dir, out),
  ]);
  expect(r.code, r.stderr).toBe(0);
}

const merge = (inputs: string[], out: string) =>
  runCli(['merge', ...inputs.map((d) => join(dir, d)), '--out', join(dir, out), '--json']);

beforeAll(async () => {
  server = await startTestServer();
  dir = mkdtempSync(join(tmpdir(), 'peakday-merge-cli-'));
  writeFileSync(join(dir, 'plan.json'), JSON.stringify(plan));
  writeFileSync(join(dir, 'other.json'), JSON.stringify(other));
  await Promise.all([
    play(join(dir, 'plan.json'), 's1', '1/3'),
    play(join(dir, 'plan.json'), 's2', '2/3'),
    play(join(dir, 'plan.json'), 's3', '3/3'),
  ]);
  await Promise.all([
    play(join(dir, 'plan.json'), 'half1', '1/2'),
    play(join(dir, 'plan.json'), 'whole'),
    play(join(dir, 'other.json'), 'other1', '1/3'),
  ]);
}, 120_000);

afterAll(async () => {
  await server?.close();
});

describe('peakday merge', () => {
  it('merges the three segments of one plan into exactly the whole plan', async () => {
    const m = await merge(['s1', 's2', 's3'], 'all');
    expect(m.code, m.stderr).toBe(0);
    const { summary, missingSegments } = JSON.parse(m.stdout);
    expect(summary.iterations.planned).toBe(plannedIterations(plan));
    expect(summary.iterations.started).toBe(plannedIterations(plan));
    expect(summary.partial).toBe(false);
    expect(missingSegments).toEqual([]);
    const parts = ['s1', 's2', 's3'].map((d) => readRun(join(dir, d)).summary?.requests.total ?? 0);
    expect(summary.requests.total).toBe(parts.reduce((a, b) => a + b, 0));
    const merged = readRun(join(dir, 'all'));
    expect(merged.plan?.segment).toBeUndefined();
    expect(merged.plan?.iterations).toBe(plannedIterations(plan));
  });

  it.each([
    ['the same directory twice', ['s1', 's1'], /given twice/],
    ['the same segment twice from two directories', ['s1', 's2', 's1copy'], /segment 1\/3 is given twice/],
    ['segments of another plan (other rates)', ['s1', 'other1'], /another plan/],
    ['segments of two different splits', ['s1', 'half1'], /different splits.*overlap/],
    ['a whole run among segments', ['s1', 'whole'], /not a segment.*overlaps/],
  ])('refuses %s with exit 2 and writes nothing', async (_name, inputs, message) => {
    cpSync(join(dir, 's1'), join(dir, 's1copy'), { recursive: true });
    const out = `refused-${inputs.join('-')}`;
    const m = await merge(inputs, out);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(message);
    expect(m.stderr).not.toMatch(/\n\s+at /);
    expect(() => readRun(join(dir, out))).toThrow(/not a run directory/);
  });

  it('refuses to write the merge over one of its inputs', async () => {
    const m = await runCli(['merge', join(dir, 's1'), join(dir, 's2'), '--out', join(dir, 's2')]);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/is one of the inputs/);
  });

  it('names a missing segment and marks the merge partial, planned still the whole plan', async () => {
    const m = await merge(['s1', 's3'], 'no2');
    expect(m.code, m.stderr).toBe(0);
    const { summary, missingSegments, meta } = JSON.parse(m.stdout);
    expect(missingSegments).toEqual(['2/3']);
    expect(summary.partial).toBe(true);
    expect(summary.iterations.planned).toBe(plannedIterations(plan));
    expect(summary.iterations.started).toBeLessThan(plannedIterations(plan));
    expect(meta.notes.join('\n')).toMatch(/segment 2\/3 missing/);
    const text = await runCli(['merge', join(dir, 's1'), join(dir, 's3'), '--out', join(dir, 'no2text')]);
    expect(text.stdout).toMatch(/\(partial\)/);
    expect(text.stdout).toMatch(/missing segments: 2\/3/);
  });

  it('marks the merge partial and names an input that did not finish; planned stays an integer', async () => {
    cpSync(join(dir, 's2'), join(dir, 's2dead'), { recursive: true });
    rmSync(join(dir, 's2dead', 'summary.json'));
    const metaFile = join(dir, 's2dead', 'meta.json');
    writeFileSync(
      metaFile,
      JSON.stringify({ ...JSON.parse(readFileSync(metaFile, 'utf8')), endReason: 'running' }),
    );
    const m = await merge(['s1', 's2dead', 's3'], 'dead');
    expect(m.code, m.stderr).toBe(0);
    const { summary, unfinished, meta } = JSON.parse(m.stdout);
    expect(summary.partial).toBe(true);
    expect(Number.isInteger(summary.iterations.planned)).toBe(true);
    expect(summary.iterations.planned).toBe(plannedIterations(plan));
    expect(unfinished).toEqual([expect.stringMatching(/s2dead did not finish \(no summary.json/)]);
    expect(meta.endReason).toBe('error');
    expect(meta.endDetail).toMatch(/s2dead ended running/);
  });
});
