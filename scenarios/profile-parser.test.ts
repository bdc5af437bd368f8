import { describe, expect, it } from 'vitest';
import { PeakdayError, type Problem } from '../core/errors.ts';
import { minimalProfile, profileFromText } from './testing/profile-fixtures.ts';

function problemsOf(text: string, env: Record<string, string> = {}): Problem[] {
  try {
    profileFromText(text, env);
  } catch (e) {
    if (e instanceof PeakdayError) return e.problems;
    throw e;
  }
  return [];
}

describe('profile parser', () => {
  it('accepts a minimal profile and resolves built-in journeys', () => {
    const p = profileFromText(minimalProfile());
    expect(p.model.eventSeconds).toBe(3600);
    expect(Object.keys(p.model.journeys).sort()).toEqual(['browse', 'checkout']);
    expect(p.model.journeys.checkout?.requestsPerIteration).toBe(5);
  });

  it.each([
    ['an unknown top-level key', minimalProfile({ extra: 'chanels: {}' }), 'chanels', 'unknown key'],
    ['a negative local rate', minimalProfile({ local: '{ peakRps: -5 }' }), 'local.peakRps', 'is -5'],
    [
      'a non-finite level',
      minimalProfile({ shape: '  - baseline: { level: .inf }' }),
      'shape[0].baseline.level',
      'is Infinity',
    ],
    [
      'an unknown block',
      minimalProfile({ shape: '  - baseline: {}\n  - brust: { at: 1m }' }),
      'shape[1].brust',
      'unknown building block',
    ],
    [
      'a burst outside the event',
      minimalProfile({
        shape: '  - baseline: {}\n  - burst: { name: b, at: 2h, plateau: 1m, multiplier: 2 }',
      }),
      'shape[1].burst.at',
      'outside the event',
    ],
    [
      'a burst running past the end',
      minimalProfile({
        shape: '  - baseline: {}\n  - burst: { name: b, at: 59m, plateau: 5m, multiplier: 2 }',
      }),
      'shape[1].burst',
      'after the event',
    ],
    [
      'shares that do not sum to 1',
      minimalProfile({
        channels:
          '  web: { share: 0.7, journeys: { browse: 1 } }\n  pos: { share: 0.2, journeys: { store-lookup: 1 } }',
      }),
      'channels',
      'sum to 0.9',
    ],
    [
      'an unknown journey',
      minimalProfile({ channels: '  web: { share: 1, journeys: { brwse: 1 } }' }),
      'channels.web.journeys.brwse',
      'unknown journey',
    ],
    [
      'a window outside the event',
      minimalProfile({ extra: 'windows:\n  late: { start: 50m, end: 2h }' }),
      'windows.late',
      'outside the event',
    ],
    [
      'an unknown rehearsal window',
      minimalProfile({ extra: 'rehearsal: [doors]' }),
      'rehearsal[0]',
      'unknown window',
    ],
    [
      'a missing data file',
      minimalProfile({ extra: 'pools:\n  users: { file: no-such-file.csv }' }),
      'pools.users.file',
      'does not exist',
    ],
    [
      'a missing environment variable',
      minimalProfile({
        channels: '  web: { share: 1, journeys: { mine: 1 } }',
        extra:
          'journeys:\n  mine:\n    auth: { header: Authorization, fromEnv: SHOP_TOKEN }\n    steps: [{ name: a, method: GET, path: /x }]',
      }),
      'journeys.mine.auth.fromEnv',
      'SHOP_TOKEN is not set',
    ],
    [
      'an undefined template variable',
      minimalProfile({
        channels: '  web: { share: 1, journeys: { mine: 1 } }',
        extra:
          'journeys:\n  mine:\n    steps: [{ name: a, method: GET, path: "/api/products/{{productid}}" }]',
      }),
      'journeys.mine.steps[0].path',
      'not defined before this step',
    ],
    [
      'an unknown data pool',
      minimalProfile({
        channels: '  web: { share: 1, journeys: { mine: 1 } }',
        extra:
          'journeys:\n  mine:\n    data: { id: { pool: productId } }\n    steps: [{ name: a, method: GET, path: "/api/products/{{id}}" }]',
      }),
      'journeys.mine.data.id.pool',
      'unknown data pool',
    ],
    [
      'a long event without rehearsal windows',
      minimalProfile({ event: '48h', local: '{ peakRps: 10, duration: 3m }' }),
      undefined,
      'too long to play whole',
    ],
  ])('reports %s with its location', (_what, text, path, message) => {
    const problems = problemsOf(text);
    const p = problems.find((x) => x.message.includes(message));
    expect(p, JSON.stringify(problems)).toBeDefined();
    expect(p?.path).toBe(path);
    expect(p?.file).toBe('inline.yaml');
    expect(p?.line).toBeGreaterThan(0);
    expect(p?.column).toBeGreaterThan(0);
  });

  it('reports every problem at once', () => {
    const problems = problemsOf(
      minimalProfile({
        local: '{ peakRps: 0 }',
        shape: '  - baseline: { level: -1 }',
        channels: '  web: { share: 1, journeys: { nope: 1 } }',
        extra: 'colour: red',
      }),
    );
    expect(problems.length).toBeGreaterThanOrEqual(4);
  });

  it('accepts an auth secret from an environment variable that is set, without storing its value', () => {
    const p = profileFromText(
      minimalProfile({
        channels: '  web: { share: 1, journeys: { mine: 1 } }',
        extra:
          'journeys:\n  mine:\n    auth: { header: Authorization, prefix: "Bearer ", fromEnv: SHOP_TOKEN }\n    steps: [{ name: a, method: GET, path: /x }]',
      }),
      { SHOP_TOKEN: 'secret-value' },
    );
    expect(JSON.stringify(p.model)).not.toContain('secret-value');
    expect(p.model.journeys.mine?.auth).toEqual({
      header: 'Authorization',
      prefix: 'Bearer ',
      fromEnv: 'SHOP_TOKEN',
    });
  });
});
