import { describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { DEFAULT_ROUTE_TTLS, EDGE_ROUTES, routeOf } from '../../reference-stack/edge/cache-policy.ts';
import { resolvePricing } from '../../simulation/pricing/pricing-table.ts';
import { EDGE_PATH_PATTERNS, edgeBehaviourSpecs, viewerAllowListCode } from './edge.ts';
import { computeHourlyCost, formatHourlyCost } from './hourly-cost.ts';

/** A sample path a CloudFront path pattern matches (`*` stands for one segment). */
const sampleOf = (pattern: string) => pattern.replace('*', 'x-1');

describe("the edge's behaviours come from the local edge's route table", () => {
  it('has one behaviour per route pattern, cached exactly where the local edge caches, with its TTL bounds', () => {
    const specs = edgeBehaviourSpecs();
    expect(new Set(specs.map((s) => s.route))).toEqual(new Set(EDGE_ROUTES));
    for (const s of specs) {
      if (s.pathPattern !== '*') expect(routeOf(sampleOf(s.pathPattern)), s.pathPattern).toBe(s.route);
      const bounds = DEFAULT_ROUTE_TTLS[s.route];
      expect(s.ttl, s.route).toEqual(bounds.maxTtl > 0 ? bounds : null);
    }
    // The default behaviour is the API's: what matches no page pattern (the local edge's routeOf agrees).
    expect(specs.find((s) => s.pathPattern === '*')!.route).toBe('api');
    for (const path of ['/graphql', '/api/cart/1/checkout', '/checkout', '/health'])
      expect(routeOf(path)).toBe('api');
    expect(specs.filter((s) => s.ttl !== null).map((s) => s.route)).toEqual(['home', 'category', 'product']);
  });

  it('follows a changed table: a route given a maximum TTL is cached, one given 0 is not', () => {
    const specs = edgeBehaviourSpecs({
      ...DEFAULT_ROUTE_TTLS,
      cart: { minTtl: 0, defaultTtl: 0, maxTtl: 5 },
      home: { minTtl: 0, defaultTtl: 0, maxTtl: 0 },
    });
    expect(specs.find((s) => s.route === 'cart')!.ttl).toEqual({ minTtl: 0, defaultTtl: 0, maxTtl: 5 });
    expect(specs.find((s) => s.route === 'home')!.ttl).toBeNull();
  });

  it('uses the same page paths as the ALB rule', () => {
    expect(Object.values(EDGE_PATH_PATTERNS).flat()).toEqual(['/', '/c/*', '/p/*', '/cart']);
  });
});

describe("the viewer allow-list function (its code run in Node: CloudFront's runtime is not available here)", () => {
  const load = (cidrs: string[]) =>
    new Function(`${viewerAllowListCode(cidrs)}\nreturn handler;`)() as (e: unknown) => {
      statusCode?: number;
      uri?: string;
    };
  const request = { uri: '/p/1', method: 'GET', headers: {} };
  const status = (h: ReturnType<typeof load>, ip: string) => h({ viewer: { ip }, request }).statusCode ?? 200;

  it('admits the allowed IPv4 and IPv6 CIDRs and answers 403 to everyone else', () => {
    const h = load(['203.0.113.0/24', '198.51.100.7/32', '2001:db8:abcd::/48']);
    expect(status(h, '203.0.113.200')).toBe(200);
    expect(status(h, '203.0.114.1')).toBe(403);
    expect(status(h, '198.51.100.7')).toBe(200);
    expect(status(h, '198.51.100.8')).toBe(403);
    expect(status(h, '2001:db8:abcd:12::1')).toBe(200);
    expect(status(h, '2001:db8:abce::1')).toBe(403);
    expect(status(h, '::1')).toBe(403);
    expect(h({ viewer: { ip: '203.0.113.9' }, request })).toBe(request);
  });

  it('is closed without a CIDR, and open to all with 0.0.0.0/0 (as the ALB)', () => {
    expect(status(load([]), '203.0.113.9')).toBe(403);
    const open = load(['0.0.0.0/0', '::/0']);
    expect(status(open, '203.0.113.9')).toBe(200);
    expect(status(open, '2001:db8::5')).toBe(200);
  });
});

describe('the edge in the cost', () => {
  const scaling = loadScaling();
  it('has no idle charge and lists CloudFront per use from the pricing table', () => {
    const base = {
      arch: 'monolith' as const,
      scaling,
      natGateways: 0 as const,
      cpuArchitecture: 'arm64' as const,
      spot: false,
    };
    const without = computeHourlyCost(base, resolvePricing());
    const withEdge = computeHourlyCost({ ...base, edge: true }, resolvePricing());
    // The distribution itself has no idle charge; its additional metrics (8 CloudWatch metrics) do.
    const metrics = withEdge.lines.find((l) => l.item === 'CloudFront additional metrics')!;
    expect(metrics.usdPerHour).toBeCloseTo((8 * 0.3) / 730, 9);
    expect(metrics.priceKeys).toEqual(['cloudwatch.metricMonth']);
    // The secret origin header: one Secrets Manager secret.
    const secret = withEdge.lines.find((l) => l.item === 'Secrets Manager secret')!;
    expect(secret.usdPerHour).toBeCloseTo(0.4 / 730, 9);
    expect(withEdge.usdPerHour).toBeCloseTo(without.usdPerHour + metrics.usdPerHour + secret.usdPerHour, 9);
    expect(withEdge.lines.map((l) => l.item)).toContain('CloudFront distribution');
    expect(formatHourlyCost(withEdge)).toMatch(
      /CloudFront: \$0\.01 per 10,000 HTTPS requests \*, \$0\.085 per GB out, \$0\.005 per invalidation path beyond 1,000 a month \(the price-change purge: 2 paths per changed SKU/,
    );
    expect(formatHourlyCost(without)).not.toMatch(/CloudFront/);
  });
});
