/**
 * Orders and checkout's idempotency on DynamoDB (the `orders` table).
 *
 * - An order is put on the condition that its id does not exist: the id derives from the
 *   checkout's idempotency key, so a retried checkout finds the order instead of adding one.
 *   OrderPlaced is written after the order, also when the order already existed (a checkout cut
 *   short between the two writes its event on retry; the same id, so consumers apply it once).
 * - Checkout keys are items `idem#<key>` claimed with a conditional put; a cart is held by the key
 *   checking it out with an item `cartlock#<cartId>` (put on the condition that it is free or
 *   already this key's; freed when the checkout ends in a 4xx or a transient failure).
 * - Payment authorizations are items `pay#<key>`, the first stored one wins.
 */
import { createRng } from '../../../core/rng.ts';
import { pickByPopularity } from '../../../scenarios/catalog.ts';
import {
  type CheckoutStore,
  cartCheckedOut,
  checkoutInProgress,
  decideExisting,
} from '../../domain/checkout.ts';
import { charge, type DomainContext } from '../../domain/context.ts';
import {
  HISTORY_ORDER_PREFIX,
  HISTORY_ORDERS_PER_CUSTOMER,
  type Order,
  type OrderItem,
  type OrdersModule,
} from '../../domain/orders.ts';
import type { DynamoStore, Item } from '../dynamodb.ts';
import { recordEventDynamo, seedOnceDynamo } from './common.ts';

function orderItem(o: Order): Item {
  return {
    orderId: o.id,
    status: o.status,
    items: JSON.stringify(o.items),
    total: o.total,
    currency: o.currency,
    channel: o.channel,
    createdAt: o.createdAt,
    ...(o.customerId ? { customerId: o.customerId } : {}),
    ...(o.storeId ? { storeId: o.storeId } : {}),
    ...(o.cartId ? { cartId: o.cartId } : {}),
  };
}

function toOrder(i: Item): Order {
  return {
    id: String(i.orderId),
    status: i.status as Order['status'],
    items: JSON.parse(String(i.items)) as OrderItem[],
    total: Number(i.total),
    currency: String(i.currency),
    channel: String(i.channel),
    createdAt: Number(i.createdAt),
    customerId: (i.customerId as string | undefined) ?? null,
    storeId: (i.storeId as string | undefined) ?? null,
    cartId: (i.cartId as string | undefined) ?? null,
  };
}

/** Seeds the order history (the same orders the SQLite store seeds), once per table. */
export async function migrateOrdersDynamo(ctx: DomainContext, s: DynamoStore): Promise<void> {
  await seedOnceDynamo(s, { table: 'orders', key: { orderId: '#seeded' } }, async () => {
    const catalog = ctx.catalog();
    const rng = createRng(1).fork('order-history');
    const items: Item[] = [];
    for (const c of catalog.customers) {
      for (let k = 0; k < HISTORY_ORDERS_PER_CUSTOMER; k++) {
        const p = pickByPopularity(catalog, rng.next());
        const quantity = 1 + rng.int(2);
        items.push(
          orderItem({
            id: `${HISTORY_ORDER_PREFIX}${c.id}-${k}`,
            status: 'confirmed',
            items: [{ sku: p.sku, productId: p.id, quantity, unitPrice: p.price }],
            total: Math.round(p.price * quantity * 100) / 100,
            currency: 'USD',
            channel: 'web',
            createdAt: -86400 * (7 + rng.int(60)),
            customerId: c.id,
            storeId: null,
            cartId: null,
          }),
        );
      }
    }
    await s.putMany('orders', items);
  });
}

/** The orders module over DynamoDB. */
export function createDynamoOrdersModule(ctx: DomainContext, s: DynamoStore): OrdersModule {
  return {
    async create(o) {
      charge(ctx, 'orders', o.id, 'write', 2);
      let order: Order = { ...o, createdAt: ctx.clock.eventNow() };
      const created = await s.put('orders', orderItem(order), { condition: 'attribute_not_exists(orderId)' });
      if (!created) order = toOrder((await s.get('orders', { orderId: o.id }))!);
      if (order.status === 'confirmed') {
        await recordEventDynamo(s, {
          id: `OrderPlaced:${order.id}`,
          type: 'OrderPlaced',
          at: order.createdAt,
          payload: {
            orderId: order.id,
            cartId: order.cartId,
            customerId: order.customerId,
            items: order.items,
            total: order.total,
          },
        });
      }
      ctx.onEventsWritten();
      return order;
    },
    async get({ orderId }) {
      charge(ctx, 'orders', orderId, 'read');
      if (!orderId || orderId.includes('#')) return null;
      const i = await s.get('orders', { orderId });
      return i ? toOrder(i) : null;
    },
    async listByCustomer({ customerId, limit }) {
      charge(ctx, 'orders', customerId, 'read', Math.max(1, Math.ceil(limit / 10)));
      const rows = await s.query('orders', 'customerId = :c', {
        index: 'byCustomer',
        values: { ':c': customerId },
        descending: true,
        limit,
      });
      return {
        items: rows.map((r) => ({
          id: String(r.orderId),
          status: String(r.status),
          total: Number(r.total),
          createdAt: Number(r.createdAt),
        })),
      };
    },
  };
}

/** Checkout's keys and payments in the orders table. */
export function createDynamoCheckoutStore(ctx: DomainContext, s: DynamoStore): CheckoutStore {
  const idem = (key: string) => ({ orderId: `idem#${key}` });
  const lock = (cartId: string) => ({ orderId: `cartlock#${cartId}` });
  const existing = (i: Item) => ({
    requestHash: String(i.requestHash),
    status: String(i.status),
    httpStatus: i.httpStatus === undefined ? undefined : Number(i.httpStatus),
    response: i.response === undefined ? undefined : String(i.response),
    updatedWallMs: Number(i.updatedWallMs),
  });
  const unlock = (cartId: string, key: string) =>
    s.delete('orders', lock(cartId), { condition: 'ownerKey = :k', values: { ':k': key } });
  return {
    async claim(args, hash, orderId) {
      const key = args.idempotencyKey;
      const now = ctx.clock.wallMs();
      const r = await s.get('orders', idem(key));
      if (r) {
        const decided = decideExisting(existing(r), hash, now);
        if (decided) return decided;
      }
      const locked = await s.put(
        'orders',
        { ...lock(args.cartId), ownerKey: key },
        { condition: 'attribute_not_exists(orderId) OR ownerKey = :k', values: { ':k': key } },
      );
      if (!locked) throw cartCheckedOut(args.cartId);
      const item = {
        ...idem(key),
        requestHash: hash,
        cartId: args.cartId,
        status: 'pending',
        orderRef: orderId,
        updatedWallMs: now,
      };
      const claimed = r
        ? await s.put('orders', item, {
            condition: '#s = :pending AND updatedWallMs = :old',
            names: { '#s': 'status' },
            values: { ':pending': 'pending', ':old': r.updatedWallMs },
          })
        : await s.put('orders', item, { condition: 'attribute_not_exists(orderId)' });
      if (claimed) return null;
      // Another request with this key won the claim: answer as if it had been there first.
      const winner = await s.get('orders', idem(key));
      if (winner) {
        const decided = decideExisting(existing(winner), hash, now);
        if (decided) return decided;
      }
      throw checkoutInProgress();
    },
    async finish(key, status, body) {
      const u = await s.update(
        'orders',
        idem(key),
        'SET #s = :done, httpStatus = :h, #r = :resp, updatedWallMs = :now',
        {
          names: { '#s': 'status', '#r': 'response' },
          values: {
            ':done': 'done',
            ':h': status,
            ':resp': JSON.stringify(body),
            ':now': ctx.clock.wallMs(),
          },
        },
      );
      if (status !== 201 && u?.cartId) await unlock(String(u.cartId), key);
    },
    async abandon(key, cartId) {
      await s.delete('orders', idem(key), {
        condition: '#s = :pending',
        names: { '#s': 'status' },
        values: { ':pending': 'pending' },
      });
      await unlock(cartId, key);
    },
    async payment(key) {
      const p = await s.get('orders', { orderId: `pay#${key}` });
      return p ? p.approved === true : undefined;
    },
    async recordPayment(key, p) {
      await s.put(
        'orders',
        {
          orderId: `pay#${key}`,
          approved: p.approved,
          amount: p.amount,
          latencyMs: p.latencyMs,
          at: ctx.clock.eventNow(),
        },
        { condition: 'attribute_not_exists(orderId)' },
      );
      return (await s.get('orders', { orderId: `pay#${key}` }))?.approved === true;
    },
  };
}
