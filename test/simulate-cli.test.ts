import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { runCli } from './cli-helper.ts';

describe('peakday simulate', () => {
  it('plays the whole flash sale and writes a run directory that reads back as simulated', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-sim-')), 'run');
    const r = await runCli(['simulate', 'flash-sale', '--peak-rps', '800', '--out', out, '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const printed = JSON.parse(r.stdout) as { dir: string; summary: { mode: string } };
    expect(printed.dir).toBe(out);
    const run = readRun(out);
    expect(run.meta.mode).toBe('simulated');
    expect(run.meta.driver).toBe('simulator');
    expect(run.summary?.mode).toBe('simulated');
    expect(run.meta.timeScale).toBe(1);
    expect(run.plan?.eventEnd).toBe(3600);
    expect(run.has('timeline.ndjson')).toBe(true);
    expect(run.has('scaling-activities.json')).toBe(true);
    let steps = 0;
    for await (const rec of run.series()) if (rec.step !== null && rec.latencyEstimate) steps++;
    expect(steps).toBeGreaterThan(0);
  });

  it('refuses an unknown topology with exit 2 and a hint', async () => {
    const r = await runCli(['simulate', 'flash-sale', '--arch', 'mainframe']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/headless or monolith/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('names a missing calibration file', async () => {
    const r = await runCli(['simulate', 'flash-sale', '--calibration', '/nonexistent/calibration.json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/peakday probe/);
  });
});
