import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { loadProfile } from '../profile.ts';
import { listDefaultBudgets, loadBudgetsForProfile } from './defaults.ts';

describe('default budgets per built-in profile', () => {
  const profiles = [
    'black-friday',
    'ci-smoke',
    'flash-sale',
    'prime-day',
    'prime-day-4d',
    'product-drop',
    'soak',
  ];

  it('ships one file for every built-in profile', () => {
    expect(listDefaultBudgets()).toEqual(profiles);
  });

  it.each(profiles)('%s parses and gates latency, errors and dropped iterations', (name) => {
    const set = loadBudgetsForProfile(name);
    const metrics = new Set(set.budgets.map((b) => b.metric));
    expect(metrics).toEqual(
      new Set(['latency', 'error_rate', 'dropped_rate', ...(name === 'ci-smoke' ? ['check_pass_rate'] : [])]),
    );
    expect(set.budgets.some((b) => b.abortOnFail)).toBe(true);
  });

  it.each(profiles)('%s budgets only channels its profile has (others could never be judged)', (name) => {
    const channels = new Set(loadProfile(name).model.channels.map((c) => c.name));
    for (const b of loadBudgetsForProfile(name).budgets)
      if (b.scope.channel !== undefined) expect(channels, `${b.name}`).toContain(b.scope.channel);
  });

  it('uses the given file instead of the default', () => {
    const set = loadBudgetsForProfile('no-such-profile', 'scenarios/budgets/ci-smoke.yaml');
    expect(set.file).toBe('scenarios/budgets/ci-smoke.yaml');
  });

  it('asks for --budgets when a profile has no default (exit 2)', () => {
    try {
      loadBudgetsForProfile('my-own-profile');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(PeakdayError);
      expect((e as PeakdayError).exitCode).toBe(2);
      expect((e as PeakdayError).hint).toMatch(/--budgets/);
    }
  });
});
