import { describe, expect, it } from 'vitest';
import {
  type ListenerPlan,
  MAX_VALUES_PER_CONDITION,
  MAX_VALUES_PER_RULE,
  planListener,
} from './origin-access.ts';

const PAGES = ['/', '/c/*', '/p/*', '/cart'];

/** Where the planned listener sends a request (ALB semantics: rules by priority, conditions ANDed, values ORed). */
function route(
  plan: ListenerPlan,
  req: { path: string; header: boolean; ip: string },
): 'pages' | 'entry' | 403 {
  const pathMatches = (patterns: string[]) =>
    patterns.some((p) => (p.endsWith('*') ? req.path.startsWith(p.slice(0, -1)) : req.path === p));
  const inCidr = (cidrs: string[]) => cidrs.some((c) => c.split('/')[0] === req.ip || c === '0.0.0.0/0');
  for (const r of [...plan.rules].sort((a, b) => a.priority - b.priority)) {
    if (r.paths && !pathMatches(r.paths)) continue;
    if (r.admission?.kind === 'origin-header' && !req.header) continue;
    if (r.admission?.kind === 'source-ip' && !inCidr(r.admission.cidrs)) continue;
    return r.target;
  }
  return plan.defaultAction === 'deny' ? 403 : 'entry';
}

describe('who the ALB answers', () => {
  const cidrs = ['203.0.113.7/32', '198.51.100.9/32', '192.0.2.1/32', '192.0.2.2/32', '192.0.2.3/32'];
  const cases: [
    string,
    Parameters<typeof planListener>[0],
    { path: string; header: boolean; ip: string },
    ReturnType<typeof route>,
  ][] = [
    [
      'the edge with its header: a page goes to the storefront',
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/p/sku-1', header: true, ip: '8.8.8.8' },
      'pages',
    ],
    [
      'the edge with its header: the cart page too',
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/cart', header: true, ip: '8.8.8.8' },
      'pages',
    ],
    [
      'the edge with its header: the API goes to the entry',
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/api/products', header: true, ip: '8.8.8.8' },
      'entry',
    ],
    [
      "another account's distribution (CloudFront's address, no header): 403",
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/api/products', header: false, ip: '8.8.8.8' },
      403,
    ],
    [
      "another account's distribution asking for a page: 403",
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/p/sku-1', header: false, ip: '8.8.8.8' },
      403,
    ],
    [
      'an allowed CIDR directly (the origin alone): the API',
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/api/products', header: false, ip: '192.0.2.3' },
      'entry',
    ],
    [
      'an allowed CIDR directly: a page, from the last CIDR of the list',
      { edge: true, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/c/shoes', header: false, ip: '192.0.2.3' },
      'pages',
    ],
    [
      'the edge and no CIDR: only the header gets in',
      { edge: true, pagePaths: PAGES, allowCidrs: [] },
      { path: '/', header: false, ip: '203.0.113.7' },
      403,
    ],
    [
      'the monolith with the edge: no page rules, the header to the entry',
      { edge: true, pagePaths: [], allowCidrs: [] },
      { path: '/p/sku-1', header: true, ip: '8.8.8.8' },
      'entry',
    ],
    [
      '--no-edge: the entry by default, as before',
      { edge: false, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/api', header: false, ip: '8.8.8.8' },
      'entry',
    ],
    [
      '--no-edge: pages to the storefront with no header',
      { edge: false, pagePaths: PAGES, allowCidrs: cidrs },
      { path: '/cart', header: false, ip: '8.8.8.8' },
      'pages',
    ],
  ];
  it.each(cases)('%s', (_name, inputs, req, expected) => {
    expect(route(planListener(inputs), req)).toBe(expected);
  });

  it("keeps every rule within the ALB's limits (3 values a condition, 5 a rule), however many CIDRs", () => {
    const many = Array.from({ length: 200 }, (_, i) => `10.${Math.floor(i / 100)}.${i % 100}.0/24`);
    for (const edge of [true, false]) {
      const plan = planListener({ edge, pagePaths: PAGES, allowCidrs: many });
      const priorities = plan.rules.map((r) => r.priority);
      expect(new Set(priorities).size).toBe(priorities.length);
      for (const r of plan.rules) {
        const ips = r.admission?.kind === 'source-ip' ? r.admission.cidrs.length : 0;
        expect(r.paths?.length ?? 0).toBeLessThanOrEqual(MAX_VALUES_PER_CONDITION);
        expect(ips).toBeLessThanOrEqual(MAX_VALUES_PER_CONDITION);
        expect(
          (r.paths?.length ?? 0) + ips + (r.admission?.kind === 'origin-header' ? 1 : 0),
        ).toBeLessThanOrEqual(MAX_VALUES_PER_RULE);
      }
      // Every CIDR admitted to every page path and to the entry.
      if (edge)
        for (const ip of many.map((c) => c.split('/')[0]!))
          for (const path of ['/', '/c/x', '/p/x', '/cart'])
            expect(route(plan, { path, header: false, ip })).toBe('pages');
    }
    // Page rules come before the entry's.
    const plan = planListener({ edge: true, pagePaths: PAGES, allowCidrs: many });
    const lastPage = Math.max(...plan.rules.filter((r) => r.target === 'pages').map((r) => r.priority));
    const firstEntry = Math.min(...plan.rules.filter((r) => r.target === 'entry').map((r) => r.priority));
    expect(lastPage).toBeLessThan(firstEntry);
  });
});
