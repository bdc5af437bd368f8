/**
 * Carts on DynamoDB: one item per cart in the `carts` table, its lines in the item (a cart is read
 * and written whole, as the front end does). Changes are optimistic: read, check, then a write on
 * the condition that the item's `version` has not moved and the cart is still open; a lost race
 * reads again. The abandonment sweep and the PriceChanged consumer scan for open carts (filters on
 * status, idle time and the SKUs a cart holds): a full-table read per sweep, fine for a rehearsal's
 * carts; a large store would add a sparse index on open carts.
 */
import { randomUUID } from 'node:crypto';
import { type Cart, type CartModule, MAX_LINE_QUANTITY } from '../../domain/cart.ts';
import { charge, type DomainContext } from '../../domain/context.ts';
import { DomainError, notFound } from '../../domain/errors.ts';
import type { DynamoStore, Item } from '../dynamodb.ts';
import { consumeOnceDynamo, recordEventDynamo } from './common.ts';

type Line = Cart['items'][number];

function toCart(i: Item): Cart {
  const items = JSON.parse(String(i.lines)) as Line[];
  const total = Math.round(items.reduce((s, l) => s + l.quantity * l.unitPrice, 0) * 100) / 100;
  return {
    id: String(i.cartId),
    items,
    total,
    currency: 'USD',
    status: i.status as Cart['status'],
    channel: String(i.channel),
    customerId: (i.customerId as string | undefined) ?? null,
  };
}

/** The attributes a cart's lines are stored in. */
function lineAttrs(lines: Line[]): Item {
  const sorted = [...lines].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
  return {
    ':lines': JSON.stringify(sorted),
    ':skus': `|${sorted.map((l) => l.sku).join('|')}|`,
    ':n': sorted.length,
  };
}

/** The cart module over DynamoDB. */
export function createDynamoCartModule(ctx: DomainContext, s: DynamoStore): CartModule {
  const read = async (cartId: string) => s.get('carts', { cartId });
  /** Applies `change` to an open cart's lines with optimistic concurrency. */
  const change = async (cartId: string, f: (c: Cart) => Line[], touch = true): Promise<Cart> => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const item = await read(cartId);
      if (!item) throw notFound('cart', cartId);
      const c = toCart(item);
      if (c.status !== 'open')
        throw new DomainError(409, 'cart-closed', `cart ${cartId} is ${c.status} and can no longer change`);
      const lines = f(c);
      const u = await s.update(
        'carts',
        { cartId },
        `SET lines = :lines, skus = :skus, lineCount = :n, ${touch ? 'updatedAt = :now, ' : ''}version = version + :one`,
        {
          condition: 'version = :v AND #s = :open',
          names: { '#s': 'status' },
          values: {
            ...lineAttrs(lines),
            ...(touch ? { ':now': ctx.clock.eventNow() } : {}),
            ':one': 1,
            ':v': item.version,
            ':open': 'open',
          },
        },
      );
      if (u) return toCart(u);
    }
    throw new DomainError(503, 'store-conflict', `cart ${cartId} is changing too often; retry`, undefined, 1);
  };

  return {
    async create({ channel, customerId }) {
      const id = `cart-${randomUUID()}`;
      charge(ctx, 'carts', id, 'write');
      const now = ctx.clock.eventNow();
      const item: Item = {
        cartId: id,
        channel,
        ...(customerId ? { customerId } : {}),
        status: 'open',
        createdAt: now,
        updatedAt: now,
        lines: '[]',
        skus: '|',
        lineCount: 0,
        version: 0,
      };
      await s.put('carts', item, { condition: 'attribute_not_exists(cartId)' });
      return toCart(item);
    },
    async get({ cartId }) {
      charge(ctx, 'carts', cartId, 'read');
      const item = await read(cartId);
      return item ? toCart(item) : null;
    },
    async addItem({ cartId, sku, productId, quantity, unitPrice }) {
      charge(ctx, 'carts', cartId, 'write');
      return change(cartId, (c) => {
        const existing = c.items.find((i) => i.sku === sku)?.quantity ?? 0;
        if (existing + quantity > MAX_LINE_QUANTITY) {
          throw new DomainError(409, 'quantity-limit', `at most ${MAX_LINE_QUANTITY} of one SKU per cart`, {
            sku,
            existing,
          });
        }
        return [
          ...c.items.filter((i) => i.sku !== sku),
          { sku, productId, quantity: existing + quantity, unitPrice },
        ];
      });
    },
    async removeItem({ cartId, sku }) {
      charge(ctx, 'carts', cartId, 'write');
      return change(cartId, (c) => {
        if (!c.items.some((i) => i.sku === sku)) throw notFound('sku', sku);
        return c.items.filter((i) => i.sku !== sku);
      });
    },
    async tick() {
      const now = ctx.clock.eventNow();
      const cutoff = now - ctx.params.cartAbandonSeconds;
      const idle = await s.scan('carts', {
        filter:
          '(#s = :open AND updatedAt < :cutoff AND lineCount > :zero) OR (#s = :abandoned AND attribute_exists(abandonPending))',
        names: { '#s': 'status' },
        values: { ':open': 'open', ':abandoned': 'abandoned', ':cutoff': cutoff, ':zero': 0 },
      });
      let n = 0;
      for (const item of idle.slice(0, 500)) {
        const cartId = String(item.cartId);
        let at = Number(item.abandonedAt ?? now);
        if (item.status === 'open') {
          // Marked first, its event written after: a sweep cut short between the two finds the
          // mark and writes the event (the event id is the cart's, so never twice).
          const u = await s.update(
            'carts',
            { cartId },
            'SET #s = :abandoned, abandonPending = :t, abandonedAt = :now',
            {
              condition: '#s = :open AND updatedAt < :cutoff',
              names: { '#s': 'status' },
              values: {
                ':abandoned': 'abandoned',
                ':t': true,
                ':now': now,
                ':open': 'open',
                ':cutoff': cutoff,
              },
            },
          );
          if (!u) continue;
          at = now;
          n++;
        }
        const c = toCart(item);
        await recordEventDynamo(s, {
          id: `CartAbandoned:${cartId}`,
          type: 'CartAbandoned',
          at,
          payload: { cartId, customerId: c.customerId, items: c.items },
        });
        await s.update('carts', { cartId }, 'REMOVE abandonPending');
      }
      if (n > 0) ctx.onEventsWritten();
      return n;
    },
    async consume(event) {
      return consumeOnceDynamo(ctx, s, 'cart', event, async () => {
        if (event.type === 'OrderPlaced') {
          const cartId = event.payload.cartId as string | undefined;
          if (cartId) {
            charge(ctx, 'carts', cartId, 'write');
            await s.update('carts', { cartId }, 'SET #s = :ordered, orderId = :o', {
              condition: 'attribute_exists(cartId)',
              names: { '#s': 'status' },
              values: { ':ordered': 'ordered', ':o': event.payload.orderId as string },
            });
          }
        } else if (event.type === 'PriceChanged' && typeof event.payload.amount === 'number') {
          const sku = event.payload.sku as string;
          const amount = event.payload.amount;
          const holding = await s.scan('carts', {
            filter: '#s = :open AND contains(skus, :k)',
            names: { '#s': 'status' },
            values: { ':open': 'open', ':k': `|${sku}|` },
          });
          for (const h of holding) {
            // A reprice is not customer activity: the cart's idle time is kept.
            await change(
              String(h.cartId),
              (c) => c.items.map((l) => (l.sku === sku ? { ...l, unitPrice: amount } : l)),
              false,
            ).catch((e: unknown) => {
              // A cart closed meanwhile keeps its prices, as in the SQLite store.
              if (!(e instanceof DomainError && e.status === 409)) throw e;
            });
          }
        }
      });
    },
  };
}
