import { describe, expect, it } from 'vitest';
import type { SeriesRecord } from '../core/run-format.ts';
import { createCircuitBreaker, dominantCause, tallyOverload } from './abort-rules.ts';

/** One second's step record with the given counts (everything else zero). */
function second(
  requests: number,
  f: { refused?: number; timeout?: number; check?: number; s5xx?: number; s4xx?: number; r429?: number } = {},
): SeriesRecord[] {
  const errors = {
    timeout: f.timeout ?? 0,
    refused: f.refused ?? 0,
    reset: 0,
    check: f.check ?? 0,
    other: 0,
  };
  const answered = requests - errors.timeout - errors.refused;
  const s4xx = (f.s4xx ?? 0) + (f.r429 ?? 0);
  const s5xx = f.s5xx ?? 0;
  return [
    { t: 0, wall: 0, dt: 1, channel: 'web', journey: 'j', step: null, planned: requests, started: requests },
    {
      t: 0,
      wall: 0,
      dt: 1,
      channel: 'web',
      journey: 'j',
      step: 's',
      requests,
      failed: errors.timeout + errors.refused + errors.check + s4xx + s5xx,
      status: { '2xx': answered - s4xx - s5xx, '3xx': 0, '4xx': s4xx, '5xx': s5xx },
      ...(f.r429 ? { rateLimited: f.r429 } : {}),
      errors,
    },
  ];
}

function feed(rule: ReturnType<typeof createCircuitBreaker>, seconds: SeriesRecord[][]) {
  return seconds.map((records, wall) => rule({ t: wall, wall, records }));
}

describe('the circuit breaker', () => {
  it('ignores failed checks and extractions, however many', () => {
    const rule = createCircuitBreaker({ seconds: 2 });
    const d = feed(
      rule,
      Array.from({ length: 10 }, () => second(100, { check: 100 })),
    );
    expect(d.every((x) => !x.abort)).toBe(true);
  });

  it('ignores 4xx other than 429', () => {
    const rule = createCircuitBreaker({ seconds: 2 });
    const d = feed(
      rule,
      Array.from({ length: 10 }, () => second(100, { s4xx: 100 })),
    );
    expect(d.every((x) => !x.abort)).toBe(true);
  });

  it.each([
    ['5xx', { s5xx: 2 }, '127.0.0.1:18099 answered 5xx'],
    ['429', { r429: 2 }, 'answered 429 Too Many Requests'],
    ['timeout', { timeout: 2 }, 'requests to 127.0.0.1:18099 timed out'],
    ['refused', { refused: 2 }, 'connection refused on 127.0.0.1:18099: is the target running?'],
  ] as const)('trips on %s at 2 requests a second on the 5th second', (_cause, f, phrase) => {
    const rule = createCircuitBreaker({ target: '127.0.0.1:18099' });
    const d = feed(
      rule,
      Array.from({ length: 6 }, () => second(2, f)),
    );
    expect(d.findIndex((x) => x.abort)).toBe(4);
    const hit = d[4];
    expect(hit?.abort && hit.exitCode).toBe(97);
    expect(hit?.abort && hit.reason).toContain(phrase);
  });

  it('names the dominant cause and the target', () => {
    const rule = createCircuitBreaker({ seconds: 2, target: '127.0.0.1:18099' });
    const d = feed(rule, [second(10, { refused: 8, s5xx: 1 }), second(10, { refused: 9 })]);
    const hit = d[1];
    expect(hit?.abort).toBe(true);
    expect(hit?.abort && hit.reason).toMatch(
      /^circuit breaker: connection refused on 127\.0\.0\.1:18099: is the target running\? \(18 of 20 requests failed in the last 2 s: 17 refused, 1 5xx/,
    );
  });

  it('counts only the causes it is given (a probe: a target that is not there, never overload)', () => {
    const rule = createCircuitBreaker({ seconds: 2, target: '127.0.0.1:1', causes: ['refused', 'other'] });
    const overloaded = second(10, { s5xx: 6, timeout: 4 });
    expect(feed(rule, [overloaded, overloaded, overloaded]).some((x) => x.abort)).toBe(false);
    const d = feed(rule, [second(10, { refused: 9, s5xx: 1 }), second(10, { refused: 10 })]);
    expect(d[1]?.abort).toBe(true);
    // The streak and its causes are the counted ones only: the 5xx is not in the reason.
    expect(d[1]?.abort && d[1].reason).toMatch(/\(19 of 20 requests failed in the last 2 s: 19 refused;/);
    // The same seconds trip a breaker counting every cause, and it does name the 5xx.
    const all = feed(createCircuitBreaker({ seconds: 2 }), [
      second(10, { refused: 9, s5xx: 1 }),
      second(10, { refused: 10 }),
    ]);
    expect(all[1]?.abort && all[1].reason).toMatch(/20 of 20 requests failed .*: 19 refused, 1 5xx;/);
  });

  it('is reset by a healthy second and not by a second without requests', () => {
    const rule = createCircuitBreaker({ seconds: 3 });
    const bad = second(10, { s5xx: 10 });
    expect(feed(rule, [bad, bad, second(10), bad, bad]).some((x) => x.abort)).toBe(false);
    const rule2 = createCircuitBreaker({ seconds: 3 });
    expect(feed(rule2, [bad, bad, second(0), bad]).map((x) => x.abort)).toEqual([false, false, false, true]);
  });

  it('needs the minimum of requests over the streak, not per second', () => {
    const rule = createCircuitBreaker({ seconds: 2, minRequests: 5 });
    const d = feed(rule, [second(1, { refused: 1 }), second(1, { refused: 1 }), second(1, { refused: 1 })]);
    expect(d.map((x) => x.abort)).toEqual([false, false, false]);
    const d2 = feed(rule, [second(1, { refused: 1 }), second(1, { refused: 1 })]);
    expect(d2.map((x) => x.abort)).toEqual([false, true]);
  });

  it('tallies causes from step records only', () => {
    const t = tallyOverload(second(10, { refused: 3, timeout: 1, r429: 2, check: 4 }));
    expect(t).toMatchObject({ requests: 10, overload: 6 });
    expect(dominantCause(t.causes)).toBe('refused');
  });
});
