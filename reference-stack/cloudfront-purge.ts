/**
 * Purging the edge on AWS: the CloudFront counterpart of the local edge's purge on PriceChanged
 * (reference-stack/edge/edge-server.ts purges the pages tagged `sku:<SKU>`). CloudFront invalidates by
 * path, not by tag, so a price change becomes the paths of the pages showing that SKU's price: its
 * product page (`/p/<id>`) and its category's pages (`/c/<category>*`, every `?page=`), the two the
 * storefront tags with the SKU (reference-stack/storefront/pages.ts).
 *
 * Where it runs: in the task that publishes PriceChanged (the pricing deployable in headless, the
 * monolith), after its outbox relay's delivery of the batch was confirmed, as the local monolith tells
 * its edge; a failed invalidation fails the delivery, and the relay retries it (at least once; the
 * consumers drop repeated events by id). One CreateInvalidation per delivered batch, the batch's paths
 * deduplicated; its CallerReference is derived from the batch's event ids, so a retried batch is the
 * same invalidation to CloudFront (no second one, no second charge). CloudFront allows 15 wildcard
 * paths and 3,000 file paths in progress per distribution: a batch over MAX_CATEGORY_WILDCARDS
 * categories invalidates `/c/*` instead, over MAX_PRODUCT_PATHS products `/p/*`.
 *
 * The AWS SDK (`@aws-sdk/client-cloudfront`) is imported only when a purger is created: a task without
 * a distribution never loads it.
 */
import { createHash } from 'node:crypto';
import type { CatalogProduct } from '../scenarios/catalog.ts';
import type { DomainEvent } from './domain/context.ts';

/** Category wildcards per invalidation before it takes `/c/*` (CloudFront: 15 wildcard paths in progress). */
export const MAX_CATEGORY_WILDCARDS = 10;
/** Product paths per invalidation before it takes `/p/*` (CloudFront: 3,000 file paths in progress). */
export const MAX_PRODUCT_PATHS = 1000;

/** The region CloudFront's API is signed for (a global service, served from us-east-1). */
export const CLOUDFRONT_API_REGION = 'us-east-1';

/** The paths one batch of events invalidates, and the event ids they come from. */
export interface InvalidationPlan {
  paths: string[];
  /** The PriceChanged events' ids, sorted (the CallerReference derives from them). */
  eventIds: string[];
  /** SKUs the catalog does not know (nothing of theirs is cached: no page shows them). */
  unknownSkus: string[];
}

/**
 * The invalidation paths for the price changes among `events`: each SKU's product page and its
 * category's pages, deduplicated and sorted; past the limits, one wildcard for the kind. Pure.
 */
export function computeInvalidationPaths(
  events: readonly DomainEvent[],
  productOfSku: (sku: string) => Pick<CatalogProduct, 'id' | 'category'> | undefined,
): InvalidationPlan {
  const products = new Set<string>();
  const categories = new Set<string>();
  const eventIds: string[] = [];
  const unknownSkus: string[] = [];
  for (const e of events) {
    if (e.type !== 'PriceChanged') continue;
    const sku = (e.payload as { sku?: unknown }).sku;
    if (typeof sku !== 'string') continue;
    eventIds.push(e.id);
    const p = productOfSku(sku);
    if (!p) {
      unknownSkus.push(sku);
      continue;
    }
    products.add(`/p/${encodeURIComponent(p.id)}`);
    categories.add(`/c/${encodeURIComponent(p.category)}*`);
  }
  const paths = [
    ...(products.size > MAX_PRODUCT_PATHS ? ['/p/*'] : [...products].sort()),
    ...(categories.size > MAX_CATEGORY_WILDCARDS ? ['/c/*'] : [...categories].sort()),
  ];
  return { paths, eventIds: eventIds.sort(), unknownSkus };
}

/** The CallerReference of a batch: the same events, the same reference (CloudFront's idempotency key). */
export function callerReference(eventIds: readonly string[]): string {
  return `peakday-${createHash('sha256').update(eventIds.join('\n')).digest('hex').slice(0, 40)}`;
}

/** Where to purge. */
export interface CloudFrontPurgerOptions {
  distributionId: string;
  /** Endpoint URL (the project's local AWS endpoint in tests); absent on AWS. */
  endpoint?: string;
  /** The catalog's products by SKU (the task's own copy). */
  productOfSku: (sku: string) => Pick<CatalogProduct, 'id' | 'category'> | undefined;
}

/** What the purger did, since it started. */
export interface CloudFrontPurgerStats {
  invalidations: number;
  paths: number;
}

/** A purger: `purge` invalidates the pages of a delivered batch's price changes (nothing without any). */
export interface CloudFrontPurger {
  purge(events: readonly DomainEvent[]): Promise<void>;
  stats(): CloudFrontPurgerStats;
  close(): void;
}

/** Creates a purger over one distribution; loads the CloudFront client. */
export async function createCloudFrontPurger(options: CloudFrontPurgerOptions): Promise<CloudFrontPurger> {
  // The SDK warns on Node < 22 about its future releases; the worker's logs need not carry it.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const cf = await import('@aws-sdk/client-cloudfront');
  const client = new cf.CloudFrontClient({
    region: CLOUDFRONT_API_REGION,
    maxAttempts: 5,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const stats: CloudFrontPurgerStats = { invalidations: 0, paths: 0 };
  return {
    async purge(events) {
      const plan = computeInvalidationPaths(events, options.productOfSku);
      if (plan.paths.length === 0) return;
      await client.send(
        new cf.CreateInvalidationCommand({
          DistributionId: options.distributionId,
          InvalidationBatch: {
            CallerReference: callerReference(plan.eventIds),
            Paths: { Quantity: plan.paths.length, Items: plan.paths },
          },
        }),
      );
      stats.invalidations++;
      stats.paths += plan.paths.length;
    },
    stats: () => ({ ...stats }),
    close: () => client.destroy(),
  };
}
