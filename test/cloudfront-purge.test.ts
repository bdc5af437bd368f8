/**
 * Purging the edge on AWS (reference-stack/cloudfront-purge.ts): the real CloudFront client against the
 * project's local AWS endpoint, which speaks CreateInvalidation's REST-XML protocol
 * (telemetry/test-aws-server.ts); then a deal opening in a running stack configured as the CDK stack
 * configures its tasks (PEAKDAY_DISTRIBUTION_ID on the deployable that publishes PriceChanged).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  callerReference,
  computeInvalidationPaths,
  createCloudFrontPurger,
  MAX_CATEGORY_WILDCARDS,
} from '../reference-stack/cloudfront-purge.ts';
import type { DomainEvent } from '../reference-stack/domain/context.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { createCatalog } from '../scenarios/catalog.ts';
import { type FakeAwsServer, startFakeAws } from '../telemetry/test-aws-server.ts';
import { startTestStack, type TestStack } from './stack-helper.ts';

const DIST = 'E2QWRUHAPOMQZL';
const catalog = createCatalog({ seed: 1, products: 500 });
const productOfSku = (sku: string) => catalog.bySku.get(sku);
const priceChanged = (sku: string, n = 1): DomainEvent =>
  ({
    id: `PriceChanged:deal-${n}:open`,
    type: 'PriceChanged',
    at: 0,
    payload: { sku, amount: 1 },
  }) as DomainEvent;

describe('the paths a price change invalidates', () => {
  it("is the SKU's product page and its category's pages; repeats and other events add nothing", () => {
    const [a, b] = catalog.products;
    const plan = computeInvalidationPaths(
      [
        priceChanged(a!.sku, 1),
        priceChanged(a!.sku, 2),
        priceChanged(b!.sku, 3),
        { id: 'OrderPlaced:o1', type: 'OrderPlaced', at: 0, payload: {} } as DomainEvent,
        priceChanged('SKU-NOPE', 4),
      ],
      productOfSku,
    );
    const expected = [...new Set([`/p/${a!.id}`, `/p/${b!.id}`, `/c/${a!.category}*`, `/c/${b!.category}*`])];
    expect([...plan.paths].sort()).toEqual(expected.sort());
    expect(plan.eventIds).toHaveLength(4);
    expect(plan.unknownSkus).toEqual(['SKU-NOPE']);
    expect(computeInvalidationPaths([], productOfSku).paths).toEqual([]);
  });

  it('takes one wildcard for the categories past the limit (CloudFront allows 15 wildcards in progress)', () => {
    const byCategory = new Map(catalog.products.map((p) => [p.category, p]));
    expect(byCategory.size).toBeGreaterThan(MAX_CATEGORY_WILDCARDS);
    const plan = computeInvalidationPaths(
      [...byCategory.values()].map((p, i) => priceChanged(p.sku, i)),
      productOfSku,
    );
    expect(plan.paths.filter((p) => p.startsWith('/c/'))).toEqual(['/c/*']);
    expect(plan.paths.filter((p) => p.startsWith('/p/'))).toHaveLength(byCategory.size);
  });

  it('names a batch by its events: the same events, the same CallerReference', () => {
    expect(callerReference(['a', 'b'])).toBe(callerReference(['a', 'b']));
    expect(callerReference(['a', 'b'])).not.toBe(callerReference(['a', 'c']));
  });
});

describe('CreateInvalidation over the wire', () => {
  let aws: FakeAwsServer;
  beforeAll(async () => {
    process.env.AWS_ACCESS_KEY_ID ??= 'AKIDTEST';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'x';
    aws = await startFakeAws({
      cluster: 'c',
      services: [],
      metric: () => undefined,
      activities: [],
      distributions: [DIST],
    });
  });
  afterAll(async () => {
    await aws.close();
  });

  it('sends one batched invalidation signed for us-east-1; a retried batch is the same invalidation', async () => {
    const purger = await createCloudFrontPurger({ distributionId: DIST, endpoint: aws.url, productOfSku });
    try {
      const [a, b] = catalog.products;
      const batch = [priceChanged(a!.sku, 1), priceChanged(b!.sku, 2)];
      await purger.purge(batch);
      await purger.purge(batch);
      await purger.purge([{ id: 'OrderPlaced:x', type: 'OrderPlaced', at: 0, payload: {} } as DomainEvent]);
      const calls = aws.requests.filter((r) => r.operation === 'CloudFront.CreateInvalidation');
      expect(calls).toHaveLength(2);
      expect(calls.map((c) => c.region)).toEqual(['us-east-1', 'us-east-1']);
      expect(calls[0]!.body.Quantity).toBe(calls[0]!.body.Paths && (calls[0]!.body.Paths as string[]).length);
      expect(aws.invalidations).toHaveLength(1);
      expect(aws.invalidations[0]!.paths).toEqual(computeInvalidationPaths(batch, productOfSku).paths);
      expect(purger.stats()).toEqual({ invalidations: 2, paths: 2 * aws.invalidations[0]!.paths.length });
    } finally {
      purger.close();
    }
  });

  it("rejects when CloudFront refuses (an unknown distribution, throttling past the SDK's retries), so the relay retries", async () => {
    const wrong = await createCloudFrontPurger({
      distributionId: 'E0NOSUCH',
      endpoint: aws.url,
      productOfSku,
    });
    try {
      await expect(wrong.purge([priceChanged(catalog.products[0]!.sku)])).rejects.toMatchObject({
        name: 'NoSuchDistribution',
      });
    } finally {
      wrong.close();
    }
    const purger = await createCloudFrontPurger({ distributionId: DIST, endpoint: aws.url, productOfSku });
    try {
      aws.faults.push({
        operation: 'CloudFront.CreateInvalidation',
        times: 1,
        status: 400,
        type: 'TooManyInvalidationsInProgress',
        message:
          'Processing your request will cause you to exceed the maximum number of in-progress wildcard invalidations.',
      });
      await expect(purger.purge([priceChanged(catalog.products[3]!.sku, 9)])).rejects.toMatchObject({
        name: 'TooManyInvalidationsInProgress',
      });
      // The relay's retry goes through.
      await purger.purge([priceChanged(catalog.products[3]!.sku, 9)]);
      expect(aws.invalidations.at(-1)!.paths).toContain(`/p/${catalog.products[3]!.id}`);
    } finally {
      purger.close();
    }
  });
});

describe.each<Arch>(['headless', 'monolith'])(
  'a deal opening in the %s stack with a distribution in front',
  (arch) => {
    let aws: FakeAwsServer | undefined;
    let stack: TestStack | undefined;
    afterAll(async () => {
      await stack?.stop();
      await aws?.close();
    });

    it("invalidates the deal product's page and its category's pages at CloudFront", async () => {
      aws = await startFakeAws({
        cluster: 'c',
        services: [],
        metric: () => undefined,
        activities: [],
        distributions: [DIST],
      });
      // Event time starts just before the second deal opens (deal-002 at 1800 s: reference-stack/domain/pricing.ts).
      stack = await startTestStack(arch, {
        eventStart: 1798,
        timeScale: 1,
        cloudFront: { distributionId: DIST, endpoint: aws.url },
      });
      const deals = (await (await fetch(`${stack.url}/api/deals`)).json()) as {
        items: { id: string; productId: string }[];
      };
      const deal = deals.items.find((d) => d.id === 'deal-002')!;
      expect(deal).toBeDefined();
      const product = catalog.products.find((p) => p.id === deal.productId);
      const until = Date.now() + 15_000;
      while (Date.now() < until && !aws.invalidations.some((i) => i.paths.includes(`/p/${deal.productId}`))) {
        await new Promise((r) => setTimeout(r, 200));
        await stack.settle(1000);
      }
      const inv = aws.invalidations.find((i) => i.paths.includes(`/p/${deal.productId}`));
      expect(inv).toBeDefined();
      expect(inv!.distributionId).toBe(DIST);
      // The same catalog as the test's (seed 1, 500 products: the test stack's), so its category.
      expect(product).toBeDefined();
      expect(inv!.paths).toContain(`/c/${encodeURIComponent(product!.category)}*`);
      expect(inv!.paths.every((p) => p.startsWith('/p/') || p.startsWith('/c/'))).toBe(true);
    }, 60_000);
  },
);
