import { describe, expect, it } from 'vitest';
import type { PeakdayError } from './errors.ts';
import { createChecker, didYouMean, parseYamlSource } from './yaml-source.ts';

describe('YAML sources with positions', () => {
  it('reports a syntax error with its line and column', () => {
    try {
      parseYamlSource('a: 1\nb: [1, 2\nc: 3\n', 'x.yaml');
      expect.fail('should throw');
    } catch (e) {
      const err = e as PeakdayError;
      expect(err.exitCode).toBe(2);
      expect(err.problems[0]?.file).toBe('x.yaml');
      expect(err.problems[0]?.line).toBeGreaterThanOrEqual(2);
    }
  });

  it('locates a nested value by its path', () => {
    const src = parseYamlSource('channels:\n  web:\n    share: 0.5\n  pos:\n    share: 0.5\n', 'p.yaml');
    expect(src.locate(['channels', 'pos', 'share'])).toEqual({ line: 5, column: 12 });
  });

  it('collects every problem at once with expected values and hints', () => {
    const src = parseYamlSource('nmae: x\nrate: -3\nlength: 10\n', 'p.yaml');
    const c = createChecker(src, 'profile-invalid', 'profile');
    const root = c.object([], src.data, ['name', 'rate', 'length'])!;
    c.number(['rate'], root.rate, { min: 0 });
    c.duration(['length'], root.length);
    expect(c.problems).toHaveLength(3);
    expect(c.problems[0]).toMatchObject({ line: 1, path: 'nmae', hint: 'did you mean "name"?' });
    expect(c.problems[1]).toMatchObject({ line: 2, path: 'rate', expected: 'a number ≥ 0' });
    expect(c.problems[2]).toMatchObject({
      line: 3,
      path: 'length',
      hint: 'write "10s" if you meant seconds',
    });
    expect(() => c.throwIfAny()).toThrow(/3 problems/);
  });

  it('suggests only plausible typos', () => {
    expect(didYouMean('chanels', ['channels', 'journeys'])).toBe('channels');
    expect(didYouMean('zzz', ['channels', 'journeys'])).toBeUndefined();
  });
});
