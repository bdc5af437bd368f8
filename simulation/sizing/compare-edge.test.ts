import { describe, expect, it } from 'vitest';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import { RESPONSE_BYTES } from '../../reference-stack/capacity/response-bytes.ts';
import { constructedPlan, oneStepJourney } from '../../scenarios/test-plans.ts';
import { resolvePricing } from '../pricing/pricing-table.ts';
import { simulate } from '../simulate.ts';
import { type BudgetsJudge, compareTopologies } from './compare.ts';
import { computeEdgeBill, INVALIDATION_PATHS_PER_PRICE_CHANGE, PAGE_BYTES } from './compare-edge.ts';

/** 10 product pages/s and 4 category pages/s on the web for 30 minutes, and 20 app API calls/s that CloudFront forwards uncached. */
const plan = constructedPlan([
  {
    channel: 'web',
    journey: oneStepJourney('pdp', 'getProductPage', true),
    times: [0, 1800],
    rates: [10, 10],
  },
  { channel: 'web', journey: oneStepJourney('plp', 'getCategoryPage'), times: [0, 1800], rates: [4, 4] },
  { channel: 'mobile-app', journey: oneStepJourney('api', 'getProduct'), times: [0, 1800], rates: [20, 20] },
]);
const pricing = resolvePricing();
const price = (k: 'cloudfront.https10k' | 'cloudfront.transferGb') => pricing.prices[k].value;
/**
 * The bill by hand: 18,000 product and 7,200 category pages and 36,000 REST getProduct calls, each at its
 * measured size; two price changes in 30 minutes.
 */
const pages = { product: 10 * 1800, category: 4 * 1800 };
const api = 20 * 1800;
const requests = pages.product + pages.category + api;
const apiBytes = api * RESPONSE_BYTES.api.getProduct;
const bytes =
  pages.product * PAGE_BYTES.getProductPage + pages.category * PAGE_BYTES.getCategoryPage + apiBytes;
const expected =
  (requests / 10_000) * price('cloudfront.https10k') + (bytes / 2 ** 30) * price('cloudfront.transferGb');

describe("CloudFront in the comparison's bill", () => {
  it('charges every page request, hit or miss, and every API call it forwards, with their bytes', () => {
    const r = simulate(plan, { arch: 'headless', scaling: loadScaling(), seed: 1 });
    const bill = computeEdgeBill(plan, r, pricing);
    expect(bill.pages.getProductPage).toBeCloseTo(pages.product, 0);
    expect(bill.pages.getCategoryPage).toBeCloseTo(pages.category, 0);
    expect(bill.pages.getCartPage).toBeUndefined();
    expect(bill.apiRequests).toBeCloseTo(api, 0);
    expect(bill.apiBytesOut / apiBytes).toBeCloseTo(1, 5);
    expect(bill.requests).toBeCloseTo(requests, 0);
    expect(bill.bytesOut / bytes).toBeCloseTo(1, 5);
    // In dollars: 61,200 requests at $0.01 per 10,000 and ~1.0 GB at $0.085 (US prices of the table).
    expect(bill.requestsUsd).toBeCloseTo((requests / 10_000) * price('cloudfront.https10k'), 6);
    // One deal price change every 15 minutes: 2 in 30 minutes, each its product and category page.
    expect(bill.invalidationPaths).toBe(2 * INVALIDATION_PATHS_PER_PRICE_CHANGE);
    expect(bill.invalidationUsd).toBe(0);
    expect(bill.usd / expected).toBeCloseTo(1, 5);
    expect(bill.usd).toBeGreaterThan(0);
  });

  it('charges a GraphQL call at the GraphQL answer’s size', () => {
    const gql = constructedPlan([
      {
        channel: 'mobile-app',
        journey: {
          ...oneStepJourney('gql', 'graphql'),
          steps: [
            {
              name: 'q',
              operation: 'graphql',
              method: 'POST',
              path: '/graphql',
              graphql: {
                query: 'query($id: ID!){ product(id: $id){ id name } }',
                variables: { id: 'p-000001' },
              },
            },
          ],
        },
        times: [0, 600],
        rates: [5, 5],
      },
    ]);
    const r = simulate(gql, { arch: 'monolith', scaling: loadScaling(), seed: 1 });
    const bill = computeEdgeBill(gql, r, pricing);
    expect(bill.apiRequests).toBeCloseTo(3000, 0);
    expect(bill.bytesOut).toBeCloseTo(3000 * RESPONSE_BYTES.api.graphql, 0);
    expect(bill.pages).toEqual({});
    expect(bill.invalidationPaths).toBe(0);
  });

  it('is the same in both topologies and in every cell of the 2×2, and adds to compute in the total', () => {
    const none: BudgetsJudge = {
      evaluate: () => ({ verdict: 'inconclusive', counts: { fail: 0 }, results: [] }),
      breachMinutes: () => 0,
    };
    const c = compareTopologies(plan, {
      judge: none,
      scaling: loadScaling(),
      pricing,
      seeds: [1],
      searchSteps: 1,
    }).comparison;
    expect(c.configurations).toHaveLength(4);
    for (const x of c.configurations) {
      expect(x.edge.usd / expected).toBeCloseTo(1, 2);
      expect(x.totalCostUsd).toBeCloseTo(x.computeCostUsd + x.edge.usd, 1);
    }
  });
});
