import { describe, expect, it } from 'vitest';
import { invalidInput, PeakdayError } from '../core/errors.ts';
import { createFlagChecker } from './flags.ts';

function problemsOf(fn: () => void): { code: string; exitCode: number; message: string; problems: string[] } {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof PeakdayError)) throw e;
    return {
      code: e.code,
      exitCode: e.exitCode,
      message: e.message,
      problems: e.problems.map((p) => `${p.path}: ${p.message}`),
    };
  }
  throw new Error('no error');
}

describe('the flag checker', () => {
  it('reports every flag problem of a command at once, as one invalid-flag error (exit 2)', () => {
    const r = problemsOf(() => {
      const f = createFlagChecker('stack up');
      f.arch('mainframe');
      f.number('--port', '70000', { integer: true, min: 0, max: 65535 });
      f.number('--warm', '1.5', { integer: true, min: 0, max: 4 });
      f.number('--seed', '7', { integer: true, min: 0 });
      f.done();
    });
    expect(r).toEqual({
      code: 'invalid-flag',
      exitCode: 2,
      message: 'peakday stack up: 3 problems found',
      problems: [
        '--arch: "mainframe" is not a topology',
        '--port: "70000" is not a whole number from 0 to 65535',
        '--warm: "1.5" is not a whole number from 0 to 4',
      ],
    });
  });

  it.each([
    ['12', { positive: true }, 12],
    ['0.5', { positive: true }, 0.5],
    ['0', { positive: true }, undefined],
    ['-1', { min: 0 }, undefined],
    ['', {}, undefined],
    ['abc', {}, undefined],
    ['3', { integer: true, min: 1, max: 3 }, 3],
    [undefined, { positive: true }, undefined],
  ] as const)('reads %j with %j as %j', (raw, rule, value) => {
    const f = createFlagChecker('x');
    expect(f.number('--n', raw, rule)).toBe(value);
    expect(f.problems.length).toBe(raw === undefined || value !== undefined ? 0 : 1);
  });

  it('says what a value must be in the words a rule gives, when its bounds alone do not', () => {
    const f = createFlagChecker('run');
    f.number('--workers', '0', {
      integer: true,
      min: 1,
      max: 64,
      is: 'a whole number from 1 to 64, or auto',
    });
    expect(f.problems.map((p) => p.message)).toEqual(['"0" is not a whole number from 1 to 64, or auto']);
  });

  it('takes a parser that throws and records its message once, under the flag', () => {
    const f = createFlagChecker('probe');
    const v = f.parse('--hold', '8x', () => {
      throw invalidInput('invalid-duration', '--hold: "8x" is not a duration', 'write 8s');
    });
    expect(v).toBeUndefined();
    expect(f.problems).toEqual([{ path: '--hold', message: '"8x" is not a duration', hint: 'write 8s' }]);
  });

  it('lets a bug in a parser through instead of calling it a bad flag', () => {
    const f = createFlagChecker('probe');
    expect(() =>
      f.parse('--x', '1', () => {
        throw new TypeError('boom');
      }),
    ).toThrow(TypeError);
  });

  it('accepts a known value and returns without throwing when nothing is wrong', () => {
    const f = createFlagChecker('simulate');
    expect(f.arch('monolith')).toBe('monolith');
    expect(f.oneOf('--source', 'local', ['local', 'cloudwatch'])).toBe('local');
    expect(() => f.done()).not.toThrow();
  });
});
