import { describe, expect, it } from 'vitest';
import { resolvePricing } from '../../simulation/pricing/pricing-table.ts';
import type { ServiceSeries } from '../findings/service-series.ts';
import { billedTaskSeconds, type CostInputs, computeCost, DEFAULT_COST_ASSUMPTIONS } from './cost-model.ts';

function series(name: string, running: number[], period = 60, requestsPerPeriod = 0): ServiceSeries {
  const times = running.map((_, i) => i * period);
  return {
    name,
    times,
    period,
    running,
    desired: running,
    pending: running.map(() => 0),
    cpu: running.map(() => null),
    rps: running.map(() => requestsPerPeriod / period),
    rpsPerTask: running.map(() => null),
    requestsTotal: requestsPerPeriod * running.length,
    store: null,
    storeByPeriod: running.map(() => null),
    provenance: 'simulated',
    partial: false,
  };
}

const size = { vcpu: 0.5, memoryGb: 1, arch: 'x86' as const, source: 'test' };

function inputs(over: Partial<CostInputs>): CostInputs {
  return {
    pricing: resolvePricing(),
    topology: 'monolith',
    eventSeconds: 3600,
    timeScale: 1,
    services: [],
    taskSizes: {},
    defaultTaskSize: size,
    edgeRps: [],
    edgeIntervalSeconds: 60,
    edgeProvenance: 'simulated',
    orders: 0,
    assumptions: DEFAULT_COST_ASSUMPTIONS,
    ...over,
  };
}

describe('billedTaskSeconds', () => {
  it.each([
    ['constant tasks', [0, 60, 120], 60, [2, 2, 2], 360],
    ['a task living 30 s is billed a minute', [0, 30, 60], 30, [0, 1, 0], 60],
    ['a task living 90 s is billed 90 s', [0, 30, 60, 90, 120], 30, [0, 1, 1, 1, 0], 90],
  ])('bills %s', (_n, times, period, running, expected) => {
    expect(billedTaskSeconds(times, period, running, 60)).toBe(expected);
  });
});

describe('computeCost', () => {
  it('prices Fargate task-hours exactly and provisions for the peak', () => {
    const running = [...Array(50).fill(2), ...Array(10).fill(10)];
    const c = computeCost(inputs({ services: [series('cart', running)] }));
    const perTaskHour = 0.5 * 0.04048 + 1 * 0.004445;
    const taskHours = (50 * 2 + 10 * 10) / 60;
    expect(c.byService.cart).toBeCloseTo(taskHours * perTaskHour, 10);
    expect(c.provisionedForPeak.byService.cart).toBeCloseTo(10 * perTaskHour, 10);
    expect(c.provisionedForPeak.total).toBeGreaterThan(c.total);
  });

  it('uses ARM prices for an ARM task', () => {
    const c = computeCost(
      inputs({ services: [series('s', Array(60).fill(1))], taskSizes: { s: { ...size, arch: 'arm' } } }),
    );
    expect(c.byService.s).toBeCloseTo(0.5 * 0.03238 + 0.00356, 10);
    expect(c.lines[0]?.priceVerified).toBe(false);
  });

  it('adds cross-AZ traffic and extra rules only for headless', () => {
    const svc = [
      series('gateway', Array(60).fill(2), 60, 6000),
      series('cart', Array(60).fill(2), 60, 12000),
    ];
    const edgeRps = Array(60).fill(100);
    const assumptions = { ...DEFAULT_COST_ASSUMPTIONS, rulesPerRequest: 40 };
    const mono = computeCost(inputs({ services: svc, edgeRps, assumptions }));
    const head = computeCost(inputs({ services: svc, edgeRps, assumptions, topology: 'headless' }));
    expect(mono.headlessExtra).toBe(0);
    const xaz = head.lines.find((l) => l.item.startsWith('cross-AZ'))!;
    // internal calls = (6000 + 12000) * 60 - 100 * 3600 = 720000; × 2048 B × 2/3 crossing.
    expect(xaz.quantity).toBeCloseTo((720000 * 2048 * (2 / 3)) / 1e9, 9);
    expect(xaz.usd).toBeCloseTo(xaz.quantity * 0.02, 12);
    expect(xaz.priceVerified).toBe(false);
    const rules = head.lines.find((l) => l.item.startsWith('extra ALB rules'))!;
    // 100 rps × 30 billable rules / 1000 = 3 LCU vs 0.4 from bytes → 2.6 extra LCU for 1 h.
    expect(rules.quantity).toBeCloseTo(3 - (100 * 4096 * 3600) / 1e9, 6);
    expect(head.headlessExtra).toBeCloseTo(xaz.usd + rules.usd, 12);
  });

  it('derives the headless rule count from the topology: one path rule per service plus a default', () => {
    const svc = Array.from({ length: 12 }, (_, i) => series(`s${i}`, Array(60).fill(2)));
    const head = computeCost(inputs({ services: svc, edgeRps: Array(60).fill(1000), topology: 'headless' }));
    const rules = head.lines.find((l) => l.item.startsWith('extra ALB rules'))!;
    expect(rules.item).toContain('13 evaluated per request');
    // 1000 rps × (13 − 10 free) / 1000 = 3 LCU vs 1000 × 4096 B × 3600 / 1e9 = 14.7 LCU from bytes: no extra.
    expect(rules.quantity).toBe(0);
    expect(head.assumptions).toContain('rulesPerRequest = 13 (assumption)');
  });

  it('gives cost per 1,000 orders and says every line provenance and price source', () => {
    const c = computeCost(inputs({ services: [series('m', Array(60).fill(2))], orders: 500 }));
    expect(c.costPer1000Orders).toBeCloseTo(c.total * 2, 10);
    for (const l of c.lines) {
      expect(['measured', 'simulated', 'model-input']).toContain(l.provenance);
      expect(l.priceSource.length).toBeGreaterThan(10);
    }
  });
});
