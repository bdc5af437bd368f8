/**
 * Orders: the record of every checkout outcome, confirmed or payment-failed. Creating an order is
 * idempotent on its id (derived from the checkout's idempotency key), so a retried checkout never
 * creates a second order. A confirmed order publishes OrderPlaced.
 */
import { charge, type DomainContext, migrateShared, recordEvent } from './context.ts';

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
  create(args: Omit<Order, 'createdAt'>): Order;
  get(args: { orderId: string }): Order | null;
  listByCustomer(args: { customerId: string; limit: number }): {
    items: { id: string; status: string; total: number; createdAt: number }[];
  };
}

/** Creates the orders tables. */
export function migrateOrders(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, status TEXT NOT NULL, items TEXT NOT NULL, total REAL NOT NULL,
      currency TEXT NOT NULL, channel TEXT NOT NULL, created_at REAL NOT NULL, customer_id TEXT, store_id TEXT, cart_id TEXT);
    CREATE INDEX IF NOT EXISTS orders_customer ON orders(customer_id, created_at);
  `);
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
    create(o) {
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
    get({ orderId }) {
      charge(ctx, 'orders', orderId, 'read');
      return read(orderId);
    },
    listByCustomer({ customerId, limit }) {
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
