/**
 * A scale-out near its boundary, through the CLI: `peakday simulate` records each scale-out's boundary
 * in scaling-activities.json, `peakday report` turns one within `assumptions.decisionMargin` into a
 * scaling-margin finding, and a margin that is not a number is a located config problem (exit 2).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ScalingActivity } from '../core/run-format.ts';
import { runCli } from './cli-helper.ts';

interface ReportJson {
  findings: { kind: string; title: string; value?: number; data?: Record<string, unknown> }[];
}

describe('peakday report: scale-outs near a boundary', () => {
  it('names a simulated scale-out within the margin, and none when the margin is smaller', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-margin-'));
    const run = join(dir, 'run');
    // product-drop on the monolith with the local emulator's capacity: 2 tasks scale out at 00:09 on
    // about 91% CPU, where 90% would ask for 3 tasks rather than 4 (target 60).
    const sim = await runCli(
      [
        'simulate',
        'product-drop',
        '--arch',
        'monolith',
        '--peak-rps',
        '60',
        '--capacity',
        'emulated',
        '--out',
        run,
      ],
      { cwd: dir },
    );
    expect(sim.code, sim.stderr).toBe(0);
    const activities = JSON.parse(
      readFileSync(join(run, 'scaling-activities.json'), 'utf8'),
    ) as ScalingActivity[];
    const out = activities.find((a) => a.StatusCode === 'Successful' && a.boundary);
    expect(out?.boundary?.metric).toBe('ECSServiceAverageCPUUtilization');
    const b = out!.boundary!;
    const margin = (b.value - (b.lower ?? 0)) / b.value;
    expect(margin).toBeGreaterThan(0);
    expect(margin).toBeLessThan(0.05);

    const read = () => JSON.parse(readFileSync(join(run, 'report', 'report.json'), 'utf8')) as ReportJson;
    expect((await runCli(['report', run], { cwd: dir })).code).toBe(0);
    const found = read().findings.filter((f) => f.kind === 'scaling-margin');
    expect(found).toHaveLength(1);
    expect(found[0]?.value).toBeCloseTo(margin, 9);
    expect(found[0]?.title).toMatch(
      /^monolith's scale-out to \d+ tasks at 00:\d\d was \d\.\d% from asking for fewer$/,
    );

    // A margin below this decision's: no finding.
    writeFileSync(join(dir, 'peakday.config.yaml'), `assumptions:\n  decisionMargin: ${margin / 2}\n`);
    expect((await runCli(['report', run], { cwd: dir })).code).toBe(0);
    expect(read().findings.filter((f) => f.kind === 'scaling-margin')).toEqual([]);

    writeFileSync(join(dir, 'peakday.config.yaml'), 'assumptions:\n  decisionMargin: five\n');
    const bad = await runCli(['report', run], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/assumptions\.decisionMargin/);
    expect(bad.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
