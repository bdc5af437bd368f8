import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { parseMaxRegression } from './gate.ts';

describe('--max-regression', () => {
  const valid: [string | undefined, number][] = [
    [undefined, 0.1],
    ['10%', 0.1],
    ['2.5%', 0.025],
    ['0.2', 0.2],
    ['150%', 1.5],
  ];
  it.each(valid)('reads %s as %d', (text, value) => {
    expect(parseMaxRegression(text)).toBeCloseTo(value, 12);
  });

  it.each(['ten', '-5%', '10 %', '1.5'])('rejects %s with a hint (exit 2)', (text) => {
    try {
      parseMaxRegression(text);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PeakdayError);
      expect((e as PeakdayError).exitCode).toBe(2);
      expect((e as PeakdayError).hint).toMatch(/--max-regression 10%/);
    }
  });
});
