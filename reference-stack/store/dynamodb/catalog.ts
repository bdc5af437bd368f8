/**
 * The catalog table on AWS: the products of the catalog generator, one item per product keyed by
 * `productId` (the `byCategory` index serves category listings), with the price list's base price.
 * The tasks hosting the catalog module fill it when they start (`seedCatalog`, set on AWS by
 * aws-env.ts), so a fresh deploy's table holds the catalog with no extra step: once per table set
 * and catalog (a marker item claimed by a conditional put, so of several tasks starting at once one
 * writes and the others wait), by BatchWriteItem 25 items at a time with the unprocessed items
 * retried (`DynamoStore.putMany`). The items are derived from the seed, so writing them again (a
 * task that died seeding, a takeover) writes the same items: idempotent.
 *
 * Reads stay on each task's read-only local copy (the same generator, the same items): product
 * pages and listings do not pay a DynamoDB read.
 */
import type { DomainContext } from '../../domain/context.ts';
import type { DynamoStore, Item } from '../dynamodb.ts';
import { seedOnceDynamo } from './common.ts';

/** The marker item of one catalog (seed and size) in the catalog table. */
export function catalogSeedMarker(seed: number, products: number): Item {
  return { productId: `#seeded#${seed}/${products}` };
}

/** Fills the catalog table from the catalog generator (once per catalog; idempotent). Returns the items written (0 when already seeded). */
export async function seedCatalogDynamo(ctx: DomainContext, s: DynamoStore): Promise<number> {
  let written = 0;
  await seedOnceDynamo(
    s,
    { table: 'catalog', key: catalogSeedMarker(ctx.params.catalogSeed, ctx.params.catalogProducts) },
    async () => {
      const items = ctx.catalog().products.map((p) => ({
        productId: p.id,
        sku: p.sku,
        name: p.name,
        brand: p.brand,
        category: p.category,
        type: p.type,
        description: p.description,
        price: p.price,
        currency: p.currency,
        popularityRank: p.popularityRank,
        attributes: p.attributes,
      }));
      await s.putMany('catalog', items);
      written = items.length;
    },
  );
  return written;
}
