import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readConfig } from './config.ts';
import type { PeakdayError } from './errors.ts';

describe('peakday.config.yaml', () => {
  it('gives defaults when absent', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-cfg-'));
    expect(readConfig(dir)).toMatchObject({ allowedHosts: [], runsDir: 'runs' });
  });

  it('reads allowed hosts, default rates and pricing overrides', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-cfg-'));
    writeFileSync(
      join(dir, 'peakday.config.yaml'),
      'allowedHosts: [staging.example.com]\ndefaults: { peakRps: 300, duration: 2m }\npricing: { overrides: { fargate.x86.vcpuHour: 0.05 } }\n',
    );
    const c = readConfig(dir);
    expect(c.allowedHosts).toEqual(['staging.example.com']);
    expect(c.defaults).toEqual({ peakRps: 300, duration: 120 });
    expect(c.pricing.overrides['fargate.x86.vcpuHour']).toBe(0.05);
  });

  it('reports bad values with their location', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-cfg-'));
    writeFileSync(join(dir, 'peakday.config.yaml'), 'defaults:\n  peakRps: -1\n  drivr: k6\n');
    try {
      readConfig(dir);
      expect.fail('should throw');
    } catch (e) {
      const err = e as PeakdayError;
      expect(err.code).toBe('config-invalid');
      expect(err.problems.map((p) => p.line).sort()).toEqual([2, 3]);
    }
  });
});
