import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../core/run-format.ts';
import { parseBudgetsText } from '../../scenarios/budgets/parse-budgets.ts';
import { evaluateBudget, type RunInput } from './evaluate.ts';

/** cart at 60-s periods: CPU per minute, null where the datapoint is missing. */
const timeline = (cpu: (number | null)[]): TimelineRecord[] =>
  cpu.map((c, i) => ({
    t: i * 60,
    period: 60,
    service: 'cart',
    desired: 2,
    running: 2,
    pending: 0,
    cpu: c,
    memory: 30,
    requests: null,
    requestsPerTarget: null,
    responseTimeMs: null,
    http5xx: null,
    source: 'cloudwatch',
    provenance: 'measured',
    ...(c === null ? { missing: ['cpu'] } : {}),
  }));

const run = (tl: TimelineRecord[] | null): RunInput => ({
  meta: {
    id: 'r',
    mode: 'live',
    driver: 'k6',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: false, sendLatency: true },
    eventStart: 0,
    timeScale: 1,
    startedAt: '2026-11-27T14:00:00.000Z',
  },
  records: [],
  timeline: tl,
  durationSeconds: 300,
});

const budget = (expr: string) => parseBudgetsText(`thresholds:\n  ${expr}\n`, 'b.yaml').budgets[0]!;

describe('timeline budgets', () => {
  it.each([
    [
      'holds where data is: no verdict for the minutes missing',
      "service_cpu{service:cart}: ['max<80']",
      [40, null, null, 50, 60],
      'inconclusive',
      /cart: CPU utilisation \(cpu\) missing in 2 of 5 periods \(event 60–180 s, 14:01–14:03 UTC\): no verdict/,
    ],
    [
      'breached where data is: a breach, missing minutes or not',
      "service_cpu{service:cart}: ['max<55']",
      [40, null, null, 50, 60],
      'fail',
      /max<55: observed 60 over 3 timeline periods of cart/,
    ],
    [
      'every minute there and held: a pass',
      "service_cpu{service:cart}: ['avg<50']",
      [40, 50, 45, 50, 40],
      'pass',
      /avg<50: observed 45 over 5 timeline periods/,
    ],
    [
      'periods after the run are not read',
      "service_cpu{service:cart}: ['max<80']",
      [40, 50, 45, 50, 40, null],
      'pass',
      /over 5 timeline periods/,
    ],
  ])('%s', (_n, expr, cpu, verdict, reason) => {
    const r = evaluateBudget(budget(expr), run(timeline(cpu)));
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
  });

  it('a run with no timeline gives no verdict and says to collect', () => {
    const r = evaluateBudget(budget("service_cpu{service:cart}: ['max<80']"), run(null));
    expect(r.verdict).toBe('inconclusive');
    expect(r.reason).toMatch(/run `peakday collect`/);
  });

  it.each([
    ["service_cpu{service:cart,channel:web}: ['max<80']", /takes only the service tag, not channel/],
    ["service_cpu{service:cart}: ['count<80']", /"count" does not apply to service_cpu/],
    ["service_cpu{service:cart}: ['p(95)<80']", /"p\(95\)" does not apply to service_cpu/],
  ])('rejects %s with its location', (expr, message) => {
    let problems = '';
    try {
      budget(expr);
    } catch (e) {
      problems = ((e as { problems?: { line?: number; message: string }[] }).problems ?? [])
        .map((p) => `line ${p.line}: ${p.message}`)
        .join('\n');
    }
    expect(problems).toMatch(message);
    expect(problems).toMatch(/^line 2: /);
  });
});
