/**
 * Checkout: turns a cart into an order exactly once per Idempotency-Key.
 *
 * 1. Claim the key (own table, IMMEDIATE transaction): a finished key replays its stored answer; the
 *    same key with a different request is 422; a key in progress is 409; a second checkout of the
 *    same cart under another key is 409.
 * 2. Read the cart, re-quote its prices, reserve the stock (inventory never oversells), authorize
 *    the payment (simulated provider, idempotent per key), commit or release the reservation, and
 *    record the order (confirmed or payment_failed).
 * 3. Store the answer. Client mistakes (4xx) are stored and replayed; transient failures (5xx) free
 *    the key so the client may retry, and every step is idempotent so a retry completes the work.
 */
import { createHash } from 'node:crypto';
import { type DomainContext, migrateShared } from './context.ts';
import { DomainError, isDomainError, notFound } from './errors.ts';
import type { PaymentProvider } from './payment.ts';
import type { CheckoutArgs, CheckoutResult, Ports } from './ports.ts';

/** The checkout module's methods. */
export interface CheckoutModule {
  checkout(args: CheckoutArgs): Promise<CheckoutResult>;
}

/** A pending key older than this (wall ms) is considered abandoned by a crashed replica. */
export const STALE_PENDING_MS = 60_000;

/** Creates the checkout tables. */
export function migrateCheckout(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS checkouts (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL, cart_id TEXT NOT NULL,
      status TEXT NOT NULL, order_id TEXT NOT NULL, http_status INTEGER, response TEXT, updated_wall_ms REAL NOT NULL);
    CREATE INDEX IF NOT EXISTS checkouts_cart ON checkouts(cart_id);
    CREATE TABLE IF NOT EXISTS payments (key TEXT PRIMARY KEY, approved INTEGER NOT NULL, amount REAL NOT NULL,
      latency_ms REAL NOT NULL, at REAL NOT NULL);
  `);
}

/** Order and reservation ids derived from the idempotency key (a retry maps to the same ids). */
export function idsForKey(key: string): { orderId: string; reservationId: string } {
  const h = createHash('sha256').update(key).digest('hex').slice(0, 20);
  return { orderId: `o-${h}`, reservationId: `res-${h}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The checkout module over a context, the ports it calls and the payment provider. */
export function createCheckoutModule(
  ctx: DomainContext,
  ports: Pick<Ports, 'cart' | 'pricing' | 'inventory' | 'orders'>,
  payments: PaymentProvider,
  options: { sleep?: (ms: number) => Promise<void> } = {},
): CheckoutModule {
  const db = ctx.db;
  const wait = options.sleep ?? sleep;
  const row = db.prepare('SELECT * FROM checkouts WHERE key = ?');

  const claim = (
    args: CheckoutArgs,
    hash: string,
    orderId: string,
  ): { replay: { status: number; body: unknown } } | null =>
    db
      .transaction(() => {
        const r = row.get(args.idempotencyKey) as
          | {
              request_hash: string;
              status: string;
              http_status: number;
              response: string;
              updated_wall_ms: number;
            }
          | undefined;
        const now = ctx.clock.wallMs();
        if (r) {
          if (r.request_hash !== hash) {
            throw new DomainError(
              409,
              'idempotency-conflict',
              'this Idempotency-Key was used with a different request',
            );
          }
          if (r.status === 'done')
            return { replay: { status: r.http_status, body: JSON.parse(r.response) as unknown } };
          if (now - r.updated_wall_ms < STALE_PENDING_MS) {
            throw new DomainError(
              409,
              'checkout-in-progress',
              'a checkout with this Idempotency-Key is in progress',
              undefined,
              1,
            );
          }
        }
        const other = db
          .prepare(
            "SELECT key FROM checkouts WHERE cart_id = ? AND key != ? AND (status = 'pending' OR (status = 'done' AND http_status = 201)) LIMIT 1",
          )
          .get(args.cartId, args.idempotencyKey);
        if (other)
          throw new DomainError(
            409,
            'cart-already-checked-out',
            `cart ${args.cartId} was already checked out`,
          );
        db.prepare(
          `INSERT INTO checkouts (key, request_hash, cart_id, status, order_id, updated_wall_ms) VALUES (?,?,?,'pending',?,?)
           ON CONFLICT(key) DO UPDATE SET status = 'pending', updated_wall_ms = excluded.updated_wall_ms`,
        ).run(args.idempotencyKey, hash, args.cartId, orderId, now);
        return null;
      })
      .immediate();

  const finish = (key: string, status: number, body: unknown) => {
    db.prepare(
      "UPDATE checkouts SET status = 'done', http_status = ?, response = ?, updated_wall_ms = ? WHERE key = ?",
    ).run(status, JSON.stringify(body), ctx.clock.wallMs(), key);
  };

  const authorize = async (key: string, amount: number, token: string): Promise<boolean> => {
    const prior = db.prepare('SELECT approved FROM payments WHERE key = ?').get(key) as
      | { approved: number }
      | undefined;
    if (prior) return prior.approved === 1;
    const auth = payments.decide(amount, token);
    await wait(auth.latencyMs);
    db.prepare(
      'INSERT OR IGNORE INTO payments (key, approved, amount, latency_ms, at) VALUES (?,?,?,?,?)',
    ).run(key, auth.approved ? 1 : 0, amount, auth.latencyMs, ctx.clock.eventNow());
    return (
      (db.prepare('SELECT approved FROM payments WHERE key = ?').get(key) as { approved: number })
        .approved === 1
    );
  };

  return {
    async checkout(args) {
      const hash = createHash('sha256')
        .update(
          JSON.stringify([args.cartId, args.paymentToken, args.customerId ?? null, args.storeId ?? null]),
        )
        .digest('hex');
      const { orderId, reservationId } = idsForKey(args.idempotencyKey);
      const claimed = claim(args, hash, orderId);
      if (claimed) {
        const { status, body } = claimed.replay;
        if (status === 201) return body as CheckoutResult;
        const e = (body as { error: { code: string; message: string; details?: unknown } }).error;
        throw new DomainError(status, e.code, e.message, e.details);
      }
      try {
        const cart = await ports.cart.get({ cartId: args.cartId });
        if (!cart) throw notFound('cart', args.cartId);
        if (cart.status !== 'open')
          throw new DomainError(409, 'cart-closed', `cart ${args.cartId} is ${cart.status}`);
        if (cart.items.length === 0)
          throw new DomainError(409, 'cart-empty', `cart ${args.cartId} has no items`);
        const prices = await ports.pricing.quote({
          skus: cart.items.map((i) => i.sku),
          channel: cart.channel,
        });
        const items = cart.items.map((i) => ({ ...i, unitPrice: prices[i.sku]?.amount ?? i.unitPrice }));
        const total = Math.round(items.reduce((s, i) => s + i.quantity * i.unitPrice, 0) * 100) / 100;
        await ports.inventory.reserve({
          reservationId,
          items: items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
        });
        const approved = await authorize(args.idempotencyKey, total, args.paymentToken);
        if (approved) await ports.inventory.commit({ reservationId });
        else await ports.inventory.release({ reservationId, reason: 'payment-declined' });
        const status = approved ? ('confirmed' as const) : ('payment_failed' as const);
        await ports.orders.create({
          id: orderId,
          status,
          items,
          total,
          currency: 'USD',
          channel: cart.channel,
          customerId: args.customerId ?? cart.customerId ?? null,
          storeId: args.storeId ?? null,
          cartId: args.cartId,
        });
        const result: CheckoutResult = { orderId, status, total, currency: 'USD' };
        finish(args.idempotencyKey, 201, result);
        return result;
      } catch (e) {
        if (isDomainError(e) && e.status < 500) {
          finish(args.idempotencyKey, e.status, e.toBody());
        } else {
          db.prepare("DELETE FROM checkouts WHERE key = ? AND status = 'pending'").run(args.idempotencyKey);
        }
        throw e;
      }
    },
  };
}
