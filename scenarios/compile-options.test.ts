import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import { compileOptionsFrom } from './compile-options.ts';

describe('compileOptionsFrom', () => {
  it.each([
    [{ duration: '90s', peakRps: '50' }, {}, { durationSeconds: 90, peakRps: 50 }],
    [{}, { peakRps: 200, duration: 120, seed: 9 }, { durationSeconds: 120, peakRps: 200, seed: 9 }],
    [{ baselineRps: '5' }, { peakRps: 200 }, { baselineRps: 5 }],
    [
      { window: 'doors-open', seed: '3', arrivals: 'poisson' },
      {},
      { window: 'doors-open', seed: 3, arrivals: 'poisson' },
    ],
  ])('turns flags %j with config defaults %j into %j', (flags, defaults, expected) => {
    expect(compileOptionsFrom(flags, { defaults })).toEqual(expected);
  });

  it.each([
    [{ duration: 'ten' }, '--duration'],
    [{ peakRps: '-1' }, '--peak-rps'],
    [{ peakRps: '10', baselineRps: '1' }, 'mutually exclusive'],
    [{ arrivals: 'burst' }, '--arrivals'],
    [{ window: 'a', whole: true }, '--whole'],
  ])('rejects %j naming the flag', (flags, text) => {
    let err: unknown;
    try {
      compileOptionsFrom(flags);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PeakdayError);
    expect((err as PeakdayError).exitCode).toBe(2);
    expect(`${(err as PeakdayError).message} ${JSON.stringify((err as PeakdayError).problems)}`).toContain(
      text,
    );
  });
});
