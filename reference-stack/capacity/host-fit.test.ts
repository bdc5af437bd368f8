import { describe, expect, it } from 'vitest';
import { faithfulRate, HOST_CPU_MS_PER_REQUEST, hostFitWarning, UTILISATION_TARGET } from './host-fit.ts';

describe('the rate a host emulates faithfully', () => {
  it.each(['headless', 'monolith'] as const)('%s: cores × target ÷ real CPU per request', (arch) => {
    const exact = (2 * UTILISATION_TARGET * 1000) / HOST_CPU_MS_PER_REQUEST[arch].value;
    expect(faithfulRate(arch, 2)).toBeLessThanOrEqual(exact);
    expect(faithfulRate(arch, 2)).toBeGreaterThan(exact - 5);
    expect(faithfulRate(arch, 4)).toBeGreaterThanOrEqual(2 * faithfulRate(arch, 2));
  });

  it('the headless stack costs the host more per request than the monolith (every internal call is a hop)', () => {
    expect(faithfulRate('headless', 2)).toBeLessThan(faithfulRate('monolith', 2));
  });

  it('warns above the faithful rate, naming the rate to use, and not below it', () => {
    const fit = faithfulRate('headless', 2);
    expect(hostFitWarning('headless', fit, 2)).toBeNull();
    const w = hostFitWarning('headless', fit + 50, 2);
    expect(w).toContain(`above the ~${fit} req/s a 2-core host emulates the headless stack at faithfully`);
    expect(w).toContain(`--live-peak-rps ${fit}`);
  });
});
