import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkCalibrationFile, readCalibrationFile } from './calibration-file.ts';
import { PeakdayError } from './errors.ts';

const GOOD = {
  formatVersion: 1,
  kind: 'peakday-calibration',
  arch: 'headless',
  measuredAt: '2026-12-02T00:00:00Z',
  source: 'probe runs/p',
  services: {
    cart: { capacityRpsPerTask: 118.5, efficiency: 0.94, uncertainty: 0.06, provenance: 'measured' },
  },
};

describe('the calibration file', () => {
  it('accepts what a probe writes', () => {
    expect(checkCalibrationFile(GOOD, 'c.json')).toEqual([]);
  });

  it('lists every problem at once, each at its path', () => {
    const bad = {
      kind: 'other',
      services: { cart: { efficiency: 0 }, search: { capacityRpsPerTask: 10, efficiency: 1 } },
    };
    expect(checkCalibrationFile(bad, 'c.json').map((p) => `${p.path}: ${p.message}`)).toEqual([
      'kind: is "other"',
      'formatVersion: is undefined',
      'services.cart.capacityRpsPerTask: is missing or not positive',
      'services.cart.efficiency: is missing or not positive',
    ]);
  });

  it('reads the file, or the calibration.json inside a run directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-cal-'));
    mkdirSync(join(dir, 'run'));
    writeFileSync(join(dir, 'run', 'calibration.json'), JSON.stringify(GOOD));
    expect(readCalibrationFile(join(dir, 'run')).services.cart?.capacityRpsPerTask).toBe(118.5);
    expect(readCalibrationFile(join(dir, 'run', 'calibration.json')).source).toBe('probe runs/p');
  });

  it.each([
    ['a missing file', null, 'calibration-missing'],
    ['text that is not JSON', '{', 'calibration-invalid'],
    ['JSON that is not a calibration', '[1]', 'calibration-invalid'],
  ])('refuses %s (exit 2, %s)', (_name, text, code) => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-cal-'));
    const file = join(dir, 'calibration.json');
    if (text !== null) writeFileSync(file, text);
    let err: unknown;
    try {
      readCalibrationFile(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PeakdayError);
    expect(err).toMatchObject({ code, exitCode: 2 });
  });
});
