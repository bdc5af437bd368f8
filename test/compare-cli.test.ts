import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helper.ts';

describe('peakday compare', () => {
  it('writes the 2×2 with a report per configuration', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'pd-cmp-')), 'cmp');
    const r = await runCli(['compare', 'ci-smoke', '--seeds', '1', '--out', out, '--json'], {
      timeoutMs: 300_000,
    });
    expect(r.code).toBe(0);
    const c = JSON.parse(r.stdout) as {
      configurations: { arch: string; provisioning: string; computeCostUsd: number; vcpuHours: number }[];
      reports: Record<string, string>;
    };
    expect(c.configurations.map((x) => `${x.arch}-${x.provisioning}`).sort()).toEqual([
      'headless-autoscaled',
      'headless-provisioned',
      'monolith-autoscaled',
      'monolith-provisioned',
    ]);
    for (const x of c.configurations) expect(x.computeCostUsd).toBeGreaterThan(0);
    for (const path of Object.values(c.reports)) expect(existsSync(path)).toBe(true);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toMatch(/monolith provisioned/);
  }, 320_000);

  it('rejects a bad seed count with exit 2', async () => {
    const r = await runCli(['compare', 'ci-smoke', '--seeds', 'many']);
    expect(r.code).toBe(2);
  });
});
