/**
 * Carts: lines with the unit price quoted when added. Consumes OrderPlaced (the cart becomes
 * `ordered`) and PriceChanged (open carts holding the SKU are repriced). A sweep abandons carts
 * idle longer than `cartAbandonSeconds` of event time and publishes CartAbandoned.
 */
import { randomUUID } from 'node:crypto';
import {
  charge,
  consumeOnce,
  type DomainContext,
  type DomainEvent,
  migrateShared,
  recordEvent,
} from './context.ts';
import { DomainError, notFound } from './errors.ts';

/** A cart as the contract shows it (plus status and channel for the domain). */
export interface Cart {
  id: string;
  items: { sku: string; productId: string; quantity: number; unitPrice: number }[];
  total: number;
  currency: string;
  status: 'open' | 'ordered' | 'abandoned';
  channel: string;
  customerId: string | null;
}

/** The cart module's methods. */
export interface CartModule {
  create(args: { channel: string; customerId?: string | null }): Promise<Cart>;
  get(args: { cartId: string }): Promise<Cart | null>;
  addItem(args: {
    cartId: string;
    sku: string;
    productId: string;
    quantity: number;
    unitPrice: number;
  }): Promise<Cart>;
  removeItem(args: { cartId: string; sku: string }): Promise<Cart>;
  /** Abandons idle carts (event time), publishing CartAbandoned. Returns how many. */
  tick(): Promise<number>;
  /** Applies a delivered event (idempotent); false for a duplicate. */
  consume(event: DomainEvent): Promise<boolean>;
}

/** Creates the cart tables. */
export function migrateCart(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS carts (id TEXT PRIMARY KEY, channel TEXT NOT NULL, customer_id TEXT, status TEXT NOT NULL,
      created_at REAL NOT NULL, updated_at REAL NOT NULL, order_id TEXT);
    CREATE INDEX IF NOT EXISTS carts_idle ON carts(status, updated_at);
    CREATE TABLE IF NOT EXISTS cart_items (cart_id TEXT NOT NULL, sku TEXT NOT NULL, product_id TEXT NOT NULL,
      quantity INTEGER NOT NULL, unit_price REAL NOT NULL, PRIMARY KEY (cart_id, sku));
    CREATE INDEX IF NOT EXISTS cart_items_sku ON cart_items(sku);
  `);
}

/** Largest quantity of one SKU in one cart (assumption: retailers cap per-order quantities). */
export const MAX_LINE_QUANTITY = 99;

/** The cart module over a context. */
export function createCartModule(ctx: DomainContext): CartModule {
  const db = ctx.db;
  const cartRow = db.prepare('SELECT id, channel, customer_id AS customerId, status FROM carts WHERE id = ?');
  const lines = db.prepare(
    'SELECT sku, product_id AS productId, quantity, unit_price AS unitPrice FROM cart_items WHERE cart_id = ? ORDER BY sku',
  );
  const touch = db.prepare('UPDATE carts SET updated_at = ? WHERE id = ?');

  const read = (cartId: string): Cart | null => {
    const row = cartRow.get(cartId) as Omit<Cart, 'items' | 'total' | 'currency'> | undefined;
    if (!row) return null;
    const items = lines.all(cartId) as Cart['items'];
    const total = Math.round(items.reduce((s, i) => s + i.quantity * i.unitPrice, 0) * 100) / 100;
    return {
      id: row.id,
      items,
      total,
      currency: 'USD',
      status: row.status,
      channel: row.channel,
      customerId: row.customerId,
    };
  };
  const openCart = (cartId: string): Cart => {
    const c = read(cartId);
    if (!c) throw notFound('cart', cartId);
    if (c.status !== 'open')
      throw new DomainError(409, 'cart-closed', `cart ${cartId} is ${c.status} and can no longer change`);
    return c;
  };

  return {
    async create({ channel, customerId }) {
      const id = `cart-${randomUUID()}`;
      charge(ctx, 'carts', id, 'write');
      const now = ctx.clock.eventNow();
      db.prepare(
        'INSERT INTO carts (id, channel, customer_id, status, created_at, updated_at) VALUES (?,?,?,?,?,?)',
      ).run(id, channel, customerId ?? null, 'open', now, now);
      return read(id)!;
    },
    async get({ cartId }) {
      charge(ctx, 'carts', cartId, 'read');
      return read(cartId);
    },
    async addItem({ cartId, sku, productId, quantity, unitPrice }) {
      charge(ctx, 'carts', cartId, 'write');
      return db
        .transaction(() => {
          const c = openCart(cartId);
          const existing = c.items.find((i) => i.sku === sku)?.quantity ?? 0;
          if (existing + quantity > MAX_LINE_QUANTITY) {
            throw new DomainError(409, 'quantity-limit', `at most ${MAX_LINE_QUANTITY} of one SKU per cart`, {
              sku,
              existing,
            });
          }
          db.prepare(
            `INSERT INTO cart_items (cart_id, sku, product_id, quantity, unit_price) VALUES (?,?,?,?,?)
             ON CONFLICT(cart_id, sku) DO UPDATE SET quantity = quantity + excluded.quantity, unit_price = excluded.unit_price`,
          ).run(cartId, sku, productId, quantity, unitPrice);
          touch.run(ctx.clock.eventNow(), cartId);
          return read(cartId)!;
        })
        .immediate();
    },
    async removeItem({ cartId, sku }) {
      charge(ctx, 'carts', cartId, 'write');
      return db
        .transaction(() => {
          const c = openCart(cartId);
          if (!c.items.some((i) => i.sku === sku)) throw notFound('sku', sku);
          db.prepare('DELETE FROM cart_items WHERE cart_id = ? AND sku = ?').run(cartId, sku);
          touch.run(ctx.clock.eventNow(), cartId);
          return read(cartId)!;
        })
        .immediate();
    },
    async tick() {
      const now = ctx.clock.eventNow();
      const cutoff = now - ctx.params.cartAbandonSeconds;
      let n = 0;
      db.transaction(() => {
        const idle = db
          .prepare(
            `SELECT c.id, c.customer_id AS customerId FROM carts c WHERE c.status = 'open' AND c.updated_at < ?
             AND EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = c.id) LIMIT 500`,
          )
          .all(cutoff) as { id: string; customerId: string | null }[];
        for (const c of idle) {
          db.prepare("UPDATE carts SET status = 'abandoned' WHERE id = ? AND status = 'open'").run(c.id);
          const items = lines.all(c.id);
          recordEvent(ctx, {
            id: `CartAbandoned:${c.id}`,
            type: 'CartAbandoned',
            at: now,
            payload: { cartId: c.id, customerId: c.customerId, items },
          });
          n++;
        }
      }).immediate();
      if (n > 0) ctx.onEventsWritten();
      return n;
    },
    async consume(event) {
      return consumeOnce(ctx, 'cart', event, () => {
        if (event.type === 'OrderPlaced') {
          const cartId = event.payload.cartId as string | undefined;
          if (cartId) {
            charge(ctx, 'carts', cartId, 'write');
            db.prepare("UPDATE carts SET status = 'ordered', order_id = ? WHERE id = ?").run(
              event.payload.orderId as string,
              cartId,
            );
          }
        } else if (event.type === 'PriceChanged' && typeof event.payload.amount === 'number') {
          db.prepare(
            "UPDATE cart_items SET unit_price = ? WHERE sku = ? AND cart_id IN (SELECT id FROM carts WHERE status = 'open')",
          ).run(event.payload.amount, event.payload.sku as string);
        }
      });
    },
  };
}
