/**
 * Search and pricing with the DynamoDB store. Their read paths stay on the task's read-only copy
 * seeded from the catalog generator (the full-text index, the price list and the deal schedule are
 * identical in every task); what they change is shared through DynamoDB:
 *
 * - search's consumer keeps units sold and held per SKU as one marker per event applied (the
 *   `events` table, the deltas on the marker), so a count exists exactly once with its marker;
 * - pricing's recovery offers are items `offer#<cartId>` of the `catalog` table, put once;
 * - the deal windows' states are attributes of one item `#deal-states` of the `catalog` table, each
 *   moved by a conditional update, so of several tasks sweeping at once one publishes the change.
 *   The PriceChanged event is written before the state moves: a task cut short in between leaves
 *   the state for the next sweep, which writes the same event id again.
 */
import { charge, type DomainContext } from '../../domain/context.ts';
import { createPricingModule, type PricingModule } from '../../domain/pricing.ts';
import { createSearchModule, type SearchModule } from '../../domain/search.ts';
import type { DynamoStore } from '../dynamodb.ts';
import { consumeOnceDynamo, recordEventDynamo } from './common.ts';

/** Search: queries on the local index, its consumer on DynamoDB. */
export function createDynamoSearchModule(ctx: DomainContext, s: DynamoStore): SearchModule {
  const local = createSearchModule(ctx);
  return {
    search: (args) => local.search(args),
    async consume(event) {
      const items = (event.payload.items ?? []) as { sku: string; quantity: number }[];
      const sign = event.type === 'InventoryReleased' ? -1 : 1;
      const counter = event.type === 'OrderPlaced' ? 'sold' : 'held';
      const deltas = Object.fromEntries(items.map((it) => [it.sku, sign * it.quantity]));
      return consumeOnceDynamo(ctx, s, 'search', event, async () => {}, {
        counter,
        deltas: JSON.stringify(deltas),
      });
    },
  };
}

interface DealRow {
  id: string;
  sku: string;
  startsAt: number;
  endsAt: number;
}

/** Pricing: quotes and deals from the local copy, deal states and recovery offers on DynamoDB. */
export function createDynamoPricingModule(ctx: DomainContext, s: DynamoStore): PricingModule {
  const local = createPricingModule(ctx);
  const deals = ctx.db
    .prepare('SELECT id, sku, starts_at AS startsAt, ends_at AS endsAt FROM deals ORDER BY starts_at, id')
    .all() as DealRow[];
  const statesKey = { productId: '#deal-states' };
  const attr = (id: string) => `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;
  /** Moves a deal's state from `from` (missing = pending) to `to`; false when another task did. */
  const move = async (id: string, from: string, to: string) =>
    (await s.update('catalog', statesKey, 'SET #a = :to', {
      condition: from === 'pending' ? 'attribute_not_exists(#a) OR #a = :from' : '#a = :from',
      names: { '#a': attr(id) },
      values: { ':to': to, ':from': from },
    })) !== undefined;
  return {
    quote: (args) => local.quote(args),
    listDeals: (args) => local.listDeals(args),
    async tick() {
      const now = ctx.clock.eventNow();
      const states = (await s.get('catalog', statesKey)) ?? {};
      const stateOf = (d: DealRow) => String(states[attr(d.id)] ?? 'pending');
      let changed = 0;
      const publish = async (d: DealRow, from: string, to: 'open' | 'closed') => {
        const q = (await local.quote({ skus: [d.sku], channel: 'web' }))[d.sku];
        await recordEventDynamo(s, {
          id: `PriceChanged:${d.id}:${to}`,
          type: 'PriceChanged',
          at: now,
          payload: {
            sku: d.sku,
            dealId: to === 'open' ? d.id : null,
            amount: q?.amount ?? null,
            reason: `deal-${to}`,
          },
        });
        if (await move(d.id, from, to)) changed++;
      };
      for (const d of deals) {
        const st = stateOf(d);
        if (st === 'pending' && d.startsAt <= now && d.endsAt > now) await publish(d, 'pending', 'open');
      }
      for (const d of deals) {
        const st = stateOf(d);
        if (st === 'closed' || d.endsAt > now) continue;
        if (st === 'open') await publish(d, 'open', 'closed');
        else await move(d.id, 'pending', 'closed');
      }
      if (changed > 0) ctx.onEventsWritten();
      return changed;
    },
    async consume(event) {
      return consumeOnceDynamo(ctx, s, 'pricing', event, async () => {
        if (event.type !== 'CartAbandoned') return;
        const cartId = String(event.payload.cartId);
        charge(ctx, 'recovery_offers', cartId, 'write');
        const customerId = (event.payload.customerId as string | null) ?? null;
        await s.put(
          'catalog',
          {
            productId: `offer#${cartId}`,
            ...(customerId ? { customerId } : {}),
            discountPct: 10,
            createdAt: ctx.clock.eventNow(),
          },
          { condition: 'attribute_not_exists(productId)' },
        );
      });
    },
  };
}
