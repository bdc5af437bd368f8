import { describe, expect, it } from 'vitest';
import type { RunSummary, TimelineRecord } from '../core/run-format.ts';
import { parseBudgetsText } from '../scenarios/budgets/parse-budgets.ts';
import { loadFromSummary, p95FromBudgets, serviceSteps } from './probe.ts';

function rec(service: string, t: number, requests: number, cpu: number, running = 2): TimelineRecord {
  return {
    t,
    period: 60,
    service,
    desired: running,
    running,
    pending: 0,
    healthy: running,
    cpu,
    memory: null,
    requests,
    requestsPerTarget: null,
    responseTimeMs: null,
    http5xx: null,
    source: 'local',
    provenance: 'measured',
  } as TimelineRecord;
}

describe('serviceSteps', () => {
  // Time scale 60: one 60-s period is one wall second. Step from event 600 to 1080 (8 s), settle 2 s.
  const w = { eventStart: 600, eventEnd: 1080, timeScale: 60, settleSeconds: 2 };
  const timeline = [
    rec('gateway', 600, 10, 50), // settling: left out
    rec('gateway', 720, 20, 40),
    rec('cart', 720, 16, 20),
    rec('gateway', 1020, 20, 40),
    rec('cart', 1020, 16, 20),
    rec('gateway', 1080, 20, 40), // after the step: left out
  ];
  const model = {
    entry: 'gateway',
    cpuMsPerPublicRequest: { gateway: 30, cart: 5 },
    vcpu: { gateway: 0.5, cart: 0.25 },
  };

  it('keeps settled periods inside the step and gives requests per wall second per task', () => {
    const s = serviceSteps(timeline, w, model);
    expect(s.gateway?.samples.length).toBe(2);
    expect(s.gateway?.rpsPerTask).toBe(10);
    expect(s.gateway?.cpu).toBe(40);
    expect(s.cart?.rpsPerTask).toBe(8);
  });
  it("predicts each period's CPU from the entry's requests and the model", () => {
    const s = serviceSteps(timeline, w, model);
    // gateway: 20 req/s × 30 ms ÷ (2 × 0.5 × 1000) = 60%; cart: 20 × 5 ÷ (2 × 0.25 × 1000) = 20%.
    expect(s.gateway?.samples[0]?.modelCpu).toBeCloseTo(60, 9);
    expect(s.cart?.samples[0]?.modelCpu).toBeCloseTo(20, 9);
  });
  it('leaves model CPU out without a model', () => {
    expect(serviceSteps(timeline, w).cart?.samples[0]?.modelCpu).toBeUndefined();
  });
});

describe('loadFromSummary', () => {
  it('counts 5xx and transport errors as errors and failed checks apart', () => {
    const summary = {
      requests: {
        total: 200,
        failed: 9,
        ratePerSecond: 25,
        byStatus: { '2xx': 197, '3xx': 0, '4xx': 0, '5xx': 3 },
        errors: { timeout: 1, refused: 0, reset: 0, check: 4, other: 1 },
      },
      iterations: { planned: 100, started: 90, completed: 90, dropped: 10, failed: 5 },
      latency: {
        intended: {
          overall: { count: 200, mean: 1, p50: 1, p90: 2, p95: 3, p99: 4, max: 5 },
          byChannel: {},
          byJourney: {},
        },
        send: null,
      },
    } as unknown as RunSummary;
    expect(loadFromSummary(summary, 25, 8)).toEqual({
      offeredRps: 25,
      achievedRps: 25,
      p95Ms: 3,
      errorRate: 0.02,
      functionalFailureRate: 0.025,
      startedRatio: 0.9,
    });
  });
});

describe('p95FromBudgets', () => {
  const budgets = (...lines: string[]) =>
    parseBudgetsText(['version: 1', 'budgets:', ...lines, ''].join('\n'), 'b.yaml').budgets;
  it('takes the tightest unscoped p95 latency budget', () => {
    const b = budgets(
      '  - { name: all, metric: latency, threshold: p95 < 800ms }',
      '  - { name: loose, metric: latency, threshold: p95 < 2s }',
      '  - { name: web, channel: web, metric: latency, threshold: p95 < 300ms }',
    );
    expect(p95FromBudgets(b, 'b.yaml')).toEqual({ p95Ms: 800 });
  });
  it('uses the tightest scoped one, and says so, when none is unscoped', () => {
    const r = p95FromBudgets(
      budgets('  - { name: web, channel: web, metric: latency, threshold: p95 < 300ms }'),
      'b.yaml',
    );
    expect(r.p95Ms).toBe(300);
    expect(r.note).toMatch(/no unscoped p95 budget/);
  });
  it('fails with exit 2 when the file has no p95 latency budget', () => {
    const b = budgets('  - { name: errs, metric: error_rate, threshold: rate < 1% }');
    expect(() => p95FromBudgets(b, 'b.yaml')).toThrow(/no p95 latency budget/);
  });
});
