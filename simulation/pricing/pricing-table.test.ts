import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { PRICE_KEYS, resolvePricing } from './pricing-table.ts';

describe('resolvePricing', () => {
  it('gives every price a unit, a source and a date', () => {
    const t = resolvePricing();
    expect(t.region).toBe('us-east-1');
    for (const k of PRICE_KEYS) {
      const p = t.prices[k];
      expect(p.value).toBeGreaterThanOrEqual(0);
      expect(p.unit.length).toBeGreaterThan(0);
      expect(p.source.length).toBeGreaterThan(0);
      expect(p.date.length).toBeGreaterThan(0);
    }
  });
  it('marks the cross-AZ and log ingestion prices unverified', () => {
    const t = resolvePricing();
    expect(t.prices['transfer.crossAzGbEachWay'].verified).toBe(false);
    expect(t.prices['cloudwatch.logIngestionGb'].verified).toBe(false);
    expect(t.prices['fargate.x86.vcpuHour'].verified).toBe(true);
  });
  it('applies an override and keeps the original for reference', () => {
    const t = resolvePricing({ overrides: { 'fargate.x86.vcpuHour': 0.05 }, overrideSource: 'cfg.yaml' });
    expect(t.prices['fargate.x86.vcpuHour'].value).toBe(0.05);
    expect(t.prices['fargate.x86.vcpuHour'].overridden).toEqual({ original: 0.04048, by: 'cfg.yaml' });
  });
  it('rejects an unknown override key with the valid keys in the problem', () => {
    try {
      resolvePricing({ overrides: { 'fargate.vcpu': 1 } });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PeakdayError);
      const err = e as PeakdayError;
      expect(err.exitCode).toBe(2);
      expect(err.problems[0]?.path).toBe('pricing.overrides.fargate.vcpu');
      expect(err.problems[0]?.expected).toContain('fargate.x86.vcpuHour');
    }
  });
  it('falls back to us-east-1 prices marked unverified for an unknown region', () => {
    const t = resolvePricing({ region: 'eu-west-1' });
    expect(t.region).toBe('eu-west-1');
    expect(t.notes[0]).toContain('eu-west-1');
    expect(t.prices['fargate.x86.vcpuHour'].verified).toBe(false);
  });
});
