/**
 * Orders: the record of every checkout outcome, confirmed or payment-failed. Creating an order is
 * idempotent on its id (derived from the checkout's idempotency key), so a retried checkout never
 * creates a second order. A confirmed order publishes OrderPlaced.
 */
import { createRng } from '../../core/rng.ts';
import { pickByPopularity } from '../../scenarios/catalog.ts';
import { charge, type DomainContext, migrateShared, recordEvent, seedOnce } from './context.ts';

/** Id prefix of the seeded order history (orders placed before the event). */
export const HISTORY_ORDER_PREFIX = 'hist-';

/**
 * Past orders per customer seeded before the event (assumption: a returning customer has one or two
 * earlier orders), so the voice channel's order-status and reorder journeys find an order history.
 */
export const HISTORY_ORDERS_PER_CUSTOMER = 2;

/** An order line. */
export interface OrderItem {
  sku: string;
  productId: string;
  quantity: number;
  unitPrice: number;
}

/** An order as the contract shows it. */
export interface Order {
  id: string;
  status: 'confirmed' | 'payment_failed';
  items: OrderItem[];
  total: number;
  currency: string;
  channel: string;
  createdAt: number;
  customerId: string | null;
  storeId: string | null;
  cartId: string | null;
}

/** The orders module's methods. */
export interface OrdersModule {
  create(args: Omit<Order, 'createdAt'>): Promise<Order>;
  get(args: { orderId: string }): Promise<Order | null>;
  listByCustomer(args: { customerId: string; limit: number }): Promise<{
    items: { id: string; status: string; total: number; createdAt: number }[];
  }>;
}

/** Creates the orders tables. */
export function migrateOrders(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, items TEXT NOT NULL, total REAL NOT NULL,
      currency TEXT NOT NULL, channel TEXT NOT NULL, created_at REAL NOT NULL, customer_id TEXT, store_id TEXT, cart_id TEXT);
    CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, created_at);
  `);
  // The order history: placed days before the event (negative event time), confirmed, no events
  // (their effects predate the stack), picked by popularity with a seeded generator.
  seedOnce(ctx.db, 'orders', () => {
    const catalog = ctx.catalog();
    const rng = createRng(1).fork('order-history');
    const ins = ctx.db.prepare(
      'INSERT INTO orders (id, status, items, total, currency, channel, created_at, customer_id, store_id, cart_id) VALUES (?,?,?,?,?,?,?,?,?,?)',
    );
    for (const c of catalog.customers) {
      for (let k = 0; k < HISTORY_ORDERS_PER_CUSTOMER; k++) {
        const p = pickByPopularity(catalog, rng.next());
        const quantity = 1 + rng.int(2);
        const items: OrderItem[] = [{ sku: p.sku, productId: p.id, quantity, unitPrice: p.price }];
        const total = Math.round(p.price * quantity * 100) / 100;
        ins.run(
          `${HISTORY_ORDER_PREFIX}${c.id}-${k}`,
          'confirmed',
          JSON.stringify(items),
          total,
          'USD',
          'web',
          -86400 * (7 + rng.int(60)),
          c.id,
          null,
          null,
        );
      }
    }
  });
}

interface OrderRow extends Omit<Order, 'items'> {
  items: string;
}

/** The orders module over a context. */
export function createOrdersModule(ctx: DomainContext): OrdersModule {
  const db = ctx.db;
  const byId = db.prepare(
    `SELECT id, status, items, total, currency, channel, created_at AS createdAt, customer_id AS customerId,
     store_id AS storeId, cart_id AS cartId FROM orders WHERE id = ?`,
  );
  const read = (id: string): Order | null => {
    const r = byId.get(id) as OrderRow | undefined;
    return r ? { ...r, items: JSON.parse(r.items) as OrderItem[] } : null;
  };
  return {
    async create(o) {
      charge(ctx, 'orders', o.id, 'write', 2);
      const out = db
        .transaction(() => {
          const existing = read(o.id);
          if (existing) return existing;
          const now = ctx.clock.eventNow();
          db.prepare(
            'INSERT INTO orders (id, status, items, total, currency, channel, created_at, customer_id, store_id, cart_id) VALUES (?,?,?,?,?,?,?,?,?,?)',
          ).run(
            o.id,
            o.status,
            JSON.stringify(o.items),
            o.total,
            o.currency,
            o.channel,
            now,
            o.customerId,
            o.storeId,
            o.cartId,
          );
          if (o.status === 'confirmed') {
            recordEvent(ctx, {
              id: `OrderPlaced:${o.id}`,
              type: 'OrderPlaced',
              at: now,
              payload: {
                orderId: o.id,
                cartId: o.cartId,
                customerId: o.customerId,
                items: o.items,
                total: o.total,
              },
            });
          }
          return read(o.id)!;
        })
        .immediate();
      ctx.onEventsWritten();
      return out;
    },
    async get({ orderId }) {
      charge(ctx, 'orders', orderId, 'read');
      return read(orderId);
    },
    async listByCustomer({ customerId, limit }) {
      charge(ctx, 'orders', customerId, 'read', Math.max(1, Math.ceil(limit / 10)));
      const items = db
        .prepare(
          'SELECT id, status, total, created_at AS createdAt FROM orders WHERE customer_id = ? ORDER BY created_at DESC, id LIMIT ?',
        )
        .all(customerId, limit) as { id: string; status: string; total: number; createdAt: number }[];
      return { items };
    },
  };
}
