import { describe, expect, it } from 'vitest';
import { exportK6Script } from '../../scenarios/k6-export.ts';
import { segmentPlan } from '../segments.ts';
import { createTestPlan, getJourney } from '../test-support.ts';

/** The script without its comment header and its segment options: what k6 schedules from. */
const body = (script: string) =>
  script
    .split('\n')
    .filter((l) => !l.startsWith('//') && !/executionSegment/.test(l))
    .join('\n');

describe('k6 scripts of a split plan', () => {
  // Three scenarios at rates low enough that one segment's own count is 0 for some of them.
  const plan = createTestPlan(
    [
      { journey: getJourney('browse', ['/a']), rate: 0.5, maxConcurrency: 1 },
      { journey: getJourney('search', ['/s']), rate: 7.3, maxConcurrency: 5 },
      { journey: getJourney('cart', ['/c', '/d']), rate: 2, maxConcurrency: 2 },
    ],
    2,
  );

  it('are one script for every segment (k6 stripes one schedule), whatever each segment counts', () => {
    const scripts = [1, 2, 3].map(
      (index) =>
        exportK6Script(segmentPlan(plan, { index, count: 3 }), { baseUrl: 'http://127.0.0.1:1' }).script,
    );
    expect(segmentPlan(plan, { index: 3, count: 3 }).scenarios[0]?.iterations).toBe(0);
    expect(body(scripts[1] as string)).toBe(body(scripts[0] as string));
    expect(body(scripts[2] as string)).toBe(body(scripts[0] as string));
    expect(scripts[2]).toMatch(/"executionSegment": "2\/3:1"/);
  });

  it('give every segment the VUs a single generator has (k6 divides them among segments)', () => {
    const whole = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:1' }).script;
    const seg = exportK6Script(segmentPlan(plan, { index: 1, count: 3 }), {
      baseUrl: 'http://127.0.0.1:1',
    }).script;
    const maxVus = (s: string) => [...s.matchAll(/"maxVUs": (\d+)/g)].map((m) => Number(m[1]));
    expect(maxVus(whole)).toEqual([1, 5, 2]);
    expect(maxVus(seg)).toEqual([3, 15, 6]);
  });
});
