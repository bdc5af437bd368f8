import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { REPO_ROOT, runCli } from './cli-helper.ts';

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
    // At --peak-rps (event scale) every service's capacity is the documented default, said so in
    // meta.json (options.capacity), in simulation.json and in the notes the report shows.
    const capacity = run.meta.options.capacity as {
      scale: string;
      services: Record<string, { kind: string; provenance: string; source: string }>;
    };
    expect(capacity.scale).toBe('event');
    expect(Object.keys(capacity.services)).toContain('checkout');
    for (const s of Object.values(capacity.services)) {
      expect(s.kind).toBe('published-default');
      expect(s.provenance).toBe('model-input');
    }
    const findings = JSON.parse(readFileSync(join(out, 'simulation.json'), 'utf8')) as {
      services: Record<string, { capacitySource: string; efficiency: number }>;
      warnings: string[];
    };
    for (const s of Object.values(findings.services)) {
      expect(s.capacitySource).toMatch(/model input: docs\/sources.md/);
      expect(s.efficiency).toBeGreaterThan(1);
    }
    expect(run.meta.notes.join('\n')).toMatch(/capacity per task: .*model-input/);
    expect(findings.warnings.join('\n')).not.toMatch(/local emulation's demand table/);
  });

  it("keeps the local emulation at the profile's own rates and says so", async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-sim-')), 'run');
    const r = await runCli(['simulate', 'ci-smoke', '--arch', 'monolith', '--out', out, '--json']);
    expect(r.code).toBe(0);
    const run = readRun(out);
    const capacity = run.meta.options.capacity as {
      scale: string;
      services: Record<string, { kind: string; efficiency: number }>;
    };
    expect(capacity.scale).toBe('local');
    expect(capacity.services.monolith).toMatchObject({ kind: 'local-emulation', efficiency: 1 });
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

describe('peakday simulate --validate takes the live run’s topology', () => {
  const live = join(REPO_ROOT, 'test', 'fixtures', 'recorded-rehearsal', 'live');
  it('replays a monolith run on the monolith without --arch, and says where that came from', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-val-')), 'run');
    const r = await runCli(['simulate', '--validate', live, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/validation of the simulator against .* \(monolith\)/);
    expect(r.stdout).toMatch(/topology: monolith, the live run's own \(its timeline\)/);
    expect(r.stdout).toMatch(/^ {4}monolith +\d/m);
    expect(readRun(out).meta.options.arch).toBe('monolith');
  });

  it('refuses an --arch the live run did not run on (exit 2), and asks for one when the run cannot tell', async () => {
    const wrong = await runCli(['simulate', '--validate', live, '--arch', 'headless']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(
      /--arch: the live run ran on the monolith topology \(its timeline\), not headless/,
    );
    // The same run without its timeline (a run never collected) says nothing of its topology.
    const bare = mkdtempSync(join(tmpdir(), 'pd-val-bare-'));
    for (const f of ['meta.json', 'plan.json', 'summary.json', 'series.ndjson'])
      copyFileSync(join(live, f), join(bare, f));
    const unknown = await runCli(['simulate', '--validate', bare]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/hint: pass --arch headless or --arch monolith/);
  });
});
