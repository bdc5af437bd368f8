import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { RESPONSE_BYTES } from '../reference-stack/capacity/response-bytes.ts';
import { createCatalog } from '../scenarios/catalog.ts';
import { compilePlan } from '../scenarios/compile.ts';
import { loadProfile } from '../scenarios/profile.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { computeScenarioDemands } from './demand.ts';
import {
  cachedLifeSeconds,
  computeEdgeCost,
  computeHitRatio,
  computeOriginRate,
  computeOriginShares,
  DEAL_PRICE_CHANGES_PER_SECOND,
  pageTtlSeconds,
  responseBytesOf,
} from './edge-cache.ts';
import { simulate } from './simulate.ts';

/** A TTL cache (timer set at a miss) under Poisson requests and Poisson purges, one page, seeded. */
function simulateTtlCache(rate: number, ttl: number, purgeRate: number, n: number, seed: number): number {
  const rng = createRng(seed);
  let t = 0;
  let expires = Number.NEGATIVE_INFINITY;
  let nextPurge = purgeRate > 0 ? rng.exponential(1 / purgeRate) : Number.POSITIVE_INFINITY;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    t += rng.exponential(1 / rate);
    while (nextPurge <= t) {
      if (nextPurge < expires) expires = nextPurge;
      nextPurge += rng.exponential(1 / purgeRate);
    }
    if (t < expires) hits++;
    else expires = t + ttl;
  }
  return hits / n;
}

describe('the edge cache model', () => {
  it('sends the origin exactly rate / (1 + rate × TTL / keys): 100 req/s over 10 pages cached 10 s → 100/101', () => {
    expect(computeOriginRate(100, { keys: 10, ttlSeconds: 10 })).toBeCloseTo(100 / 101, 12);
    expect(computeHitRatio(100, { keys: 10, ttlSeconds: 10 })).toBeCloseTo(100 / 101, 12);
    // Each edge location keeps its own copy: 4 locations act as 4× the pages.
    expect(computeOriginRate(100, { keys: 10, ttlSeconds: 10, edgeLocations: 4 })).toBeCloseTo(
      100 / (1 + 100 / 4),
      12,
    );
    expect(computeOriginRate(100, { keys: 10, ttlSeconds: 0 })).toBe(100);
  });

  it.each([
    [2, 1, 0],
    [0.5, 10, 0],
    [5, 10, 0.2],
  ])(
    'agrees with a seeded event simulation of a TTL cache (rate %s/s, TTL %s s, purges %s/s)',
    (rate, ttl, purge) => {
      const model = computeHitRatio(rate, { keys: 1, ttlSeconds: ttl, purgesPerKeySecond: purge });
      expect(simulateTtlCache(rate, ttl, purge, 200_000, 7)).toBeCloseTo(model, 2);
    },
  );

  it('shortens a cached copy’s life when a price change purges it', () => {
    expect(cachedLifeSeconds(10)).toBe(10);
    expect(cachedLifeSeconds(10, 0.1)).toBeCloseTo(10 * (1 - Math.exp(-1)), 12);
    const purged = computeOriginRate(10, { keys: 1, ttlSeconds: 10, purgesPerKeySecond: 0.1 });
    expect(purged).toBeGreaterThan(computeOriginRate(10, { keys: 1, ttlSeconds: 10 }));
  });

  it('lets steps of one keyspace share the cache: their rates add before the hit ratio', () => {
    const space = { keys: 10, ttlSeconds: 10 };
    const out = computeOriginShares(
      [{ keyspace: 'p', space }, { keyspace: 'p', space }, null],
      [30, 70, 50],
      new Float64Array(3),
    );
    expect(out[0]).toBeCloseTo(1 / 101, 12);
    expect(out[1]).toBeCloseTo(1 / 101, 12);
    expect(out[2]).toBe(1);
  });

  it('prices CloudFront per request, per GB out and per invalidation path beyond 1,000', () => {
    const c = computeEdgeCost(
      { requests: 1_000_000, bytesOut: 10 * 2 ** 30, invalidationPaths: 1200 },
      { https10k: 0.01, transferGb: 0.085, invalidationPath: 0.005 },
    );
    expect(c.requestsUsd).toBeCloseTo(1, 12);
    expect(c.transferUsd).toBeCloseTo(0.85, 12);
    expect(c.invalidationUsd).toBeCloseTo(1, 12);
  });
});

describe('pages in the simulator', () => {
  it('gives each page step its keyspace: the pool its key comes from, the storefront’s TTL, the deal purges', () => {
    const plan = compilePlan(loadProfile('flash-sale'));
    const steps = computeScenarioDemands(plan, 'headless').flatMap((d) => d.steps);
    const catalog = createCatalog({});
    const addToCart = steps.find((s) => s.journey === 'add-to-cart' && s.step === 'product');
    expect(addToCart?.edge).toEqual({
      keyspace: 'product:hotProductIds',
      space: {
        keys: catalog.hotSkus.length,
        ttlSeconds: pageTtlSeconds('getProductPage'),
        purgesPerKeySecond: DEAL_PRICE_CHANGES_PER_SECOND / catalog.hotSkus.length,
      },
    });
    // A search result's page follows the search terms it came from.
    expect(steps.find((s) => s.journey === 'search' && s.step === 'product')?.edge?.keyspace).toBe(
      'product:searchTerms',
    );
    expect(steps.find((s) => s.step === 'home')?.edge?.space.keys).toBe(1);
    // The cart and the API are never cached.
    expect(
      steps
        .filter((s) => s.operation === 'getCartPage' || !s.operation.endsWith('Page'))
        .every((s) => s.edge === null),
    ).toBe(true);
  });

  it('sends the storefront only the misses: its requests are the page rate times the model’s miss share', () => {
    const rate = 40;
    const journey = { ...oneStepJourney('pdp', 'getProductPage', true) };
    const plan = constructedPlan([{ channel: 'web', journey, times: [0, 1800], rates: [rate, rate] }]);
    const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const hot = createCatalog({}).hotSkus.length;
    const share =
      1 -
      computeHitRatio(rate, {
        keys: hot,
        ttlSeconds: pageTtlSeconds('getProductPage'),
        purgesPerKeySecond: DEAL_PRICE_CHANGES_PER_SECOND / hot,
      });
    const storefront = r.findings.services.storefront?.requests ?? 0;
    expect(r.summary.requests.total).toBeCloseTo(plan.requests, -2);
    expect(storefront / plan.requests).toBeCloseTo(share, 2);
    expect(r.findings.services.gateway?.requests).toBe(storefront);
  });

  it('answers the hits at the edge in one hop: the share of requests that fast is the hit ratio', () => {
    const rate = 40;
    const journey = { ...oneStepJourney('pdp', 'getProductPage', true) };
    const plan = constructedPlan([{ channel: 'web', journey, times: [0, 1800], rates: [rate, rate] }]);
    const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const hot = createCatalog({}).hotSkus.length;
    const hit = computeHitRatio(rate, {
      keys: hot,
      ttlSeconds: pageTtlSeconds('getProductPage'),
      purgesPerKeySecond: DEAL_PRICE_CHANGES_PER_SECOND / hot,
    });
    // Every interval holds a component at the hop's latency weighing the hits.
    const comps = (r.latencyComponents ?? []).flatMap((iv) => iv.components);
    const total = comps.reduce((a, c) => a + c.weight, 0);
    const atEdge = comps.filter((c) => c.shift === 0.5 && c.tail === 0).reduce((a, c) => a + c.weight, 0);
    expect(hit).toBeGreaterThan(0.5);
    expect(atEdge / total).toBeCloseTo(hit, 2);
    // So the median request is a hit (0.5 ms), where an origin request costs the page's demand.
    expect(r.summary.latency.intended?.overall.p50).toBeLessThan(1);
  });

  it('writes the edge into the timeline under CloudFront’s names: requests, hit rate per route, origin offload', () => {
    const rate = 40;
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProductPage', true),
        times: [0, 1800],
        rates: [rate, rate],
      },
      {
        channel: 'mobile-app',
        journey: oneStepJourney('api', 'getProduct'),
        times: [0, 1800],
        rates: [10, 10],
      },
    ]);
    const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const edge = r.edge ?? [];
    expect(edge).toHaveLength(30);
    const hot = createCatalog({}).hotSkus.length;
    const h = computeHitRatio(rate, {
      keys: hot,
      ttlSeconds: pageTtlSeconds('getProductPage'),
      purgesPerKeySecond: DEAL_PRICE_CHANGES_PER_SECOND / hot,
    });
    for (const e of edge) {
      expect(e).toMatchObject({ service: 'edge', period: 60, source: 'simulator', provenance: 'simulated' });
      expect(e.Requests).toBeCloseTo((rate + 10) * 60, 0);
      expect(e.routes.product?.CacheHitRate).toBeCloseTo(100 * h, 1);
      // The API is passed to the origin: offload is the product page's hits over all requests.
      expect(e.routes.api).toMatchObject({ CachePasses: 600, OriginRequests: 600, CacheHitRate: null });
      expect(e.originOffload).toBeCloseTo((rate * 60 * h) / ((rate + 10) * 60), 3);
    }
    // The storefront served exactly what reached the origin through the product route.
    const origin = edge.reduce((n, e) => n + (e.routes.product?.OriginRequests ?? 0), 0);
    expect(origin / (r.findings.services.storefront?.requests ?? 1)).toBeCloseTo(1, 3);
  });

  it('sends BytesDownloaded as every request’s measured body bytes, and OriginLatency as the origin requests’ mean latency', () => {
    const rate = 40;
    const plan = constructedPlan([
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProductPage', true),
        times: [0, 1800],
        rates: [rate, rate],
      },
      {
        channel: 'mobile-app',
        journey: oneStepJourney('api', 'getProduct'),
        times: [0, 1800],
        rates: [10, 10],
      },
    ]);
    const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const edge = r.edge ?? [];
    expect(responseBytesOf('getProductPage')).toBe(RESPONSE_BYTES.pages.getProductPage);
    expect(responseBytesOf('getProduct', true)).toBe(RESPONSE_BYTES.api.graphql);
    const perMinute = 60 * (rate * RESPONSE_BYTES.pages.getProductPage + 10 * RESPONSE_BYTES.api.getProduct);
    const hot = createCatalog({}).hotSkus.length;
    const h = computeHitRatio(rate, {
      keys: hot,
      ttlSeconds: pageTtlSeconds('getProductPage'),
      purgesPerKeySecond: DEAL_PRICE_CHANGES_PER_SECOND / hot,
    });
    for (const e of edge) {
      expect(e.BytesDownloaded! / perMinute).toBeCloseTo(1, 4);
      // The origin requests: the page's misses and every API request, each at its step's latency
      // without the hits the edge answered in one hop (0.5 ms), weighted by their counts.
      const at = (journey: string) =>
        r.series.find((x) => x.journey === journey && x.step !== null && x.t === e.t)?.latencyEstimate
          ?.mean ?? Number.NaN;
      const pageOrigin = (at('pdp') - h * 0.5) / (1 - h);
      const expected = (rate * (1 - h) * pageOrigin + 10 * at('api')) / (rate * (1 - h) + 10);
      expect(e.OriginLatency! / expected).toBeCloseTo(1, 2);
      // An origin request is slower than the average request the edge served.
      expect(e.OriginLatency!).toBeGreaterThan((rate * at('pdp') + 10 * at('api')) / (rate + 10));
    }
  });
});
