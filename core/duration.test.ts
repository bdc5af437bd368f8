import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration, tryParseDuration } from './duration.ts';

describe('k6-style durations', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['1h30m', 5400],
    ['250ms', 0.25],
    ['1.5s', 1.5],
    ['2d', 172800],
    ['1h0m5s', 3605],
    ['0', 0],
  ])('parses %s as %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', '10', 'ten minutes', '5x', '1h 30m', '-5s', 's'])('rejects %j with a hint', (text) => {
    expect('error' in tryParseDuration(text)).toBe(true);
    expect(() => parseDuration(text)).toThrow(/not a duration|empty/);
  });

  it.each([
    [5400, '1h30m'],
    [0.25, '250ms'],
    [90, '1m30s'],
    [172800, '2d'],
    [0, '0s'],
  ])('formats %d seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });

  it('round-trips through format and parse', () => {
    for (const s of [1, 59, 61, 3599, 3601, 86399, 12.5])
      expect(parseDuration(formatDuration(s))).toBeCloseTo(s, 6);
  });
});
