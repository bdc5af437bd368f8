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
/** A stored checkout answer, replayed for a finished key. */
export interface CheckoutReplay {
  replay: { status: number; body: unknown };
}

/**
 * Where checkout keeps its idempotency keys and payment authorizations: the SQLite tables below or
 * the DynamoDB orders table (`reference-stack/store/dynamodb/checkout.ts`).
 */
export interface CheckoutStore {
  /**
   * Claims the key for this request: the stored answer of a finished key, or null once claimed.
   * Throws 409 `idempotency-conflict` (same key, another request), `checkout-in-progress` (a fresh
   * pending claim) or `cart-already-checked-out` (the cart pending or confirmed under another key).
   */
  claim(args: CheckoutArgs, hash: string, orderId: string): Promise<CheckoutReplay | null>;
  /** Stores the answer of a finished checkout (201 or 4xx). */
  finish(key: string, status: number, body: unknown): Promise<void>;
  /** Frees a pending key after a transient failure, so the client may retry. */
  abandon(key: string, cartId: string): Promise<void>;
  /** The stored authorization of a key, if any. */
  payment(key: string): Promise<boolean | undefined>;
  /** Stores an authorization unless one exists; answers the stored one (the first wins). */
  recordPayment(key: string, p: { approved: boolean; amount: number; latencyMs: number }): Promise<boolean>;
}

/** The SQLite checkout store (one IMMEDIATE transaction per claim). */
export function createSqliteCheckoutStore(ctx: DomainContext): CheckoutStore {
  const db = ctx.db;
  const row = db.prepare('SELECT * FROM checkouts WHERE key = ?');
  const claim = (args: CheckoutArgs, hash: string, orderId: string): CheckoutReplay | null =>
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
          const decided = decideExisting(
            {
              requestHash: r.request_hash,
              status: r.status,
              httpStatus: r.http_status,
              response: r.response,
              updatedWallMs: r.updated_wall_ms,
            },
            hash,
            now,
          );
          if (decided) return decided;
        }
        const other = db
          .prepare(
            "SELECT key FROM checkouts WHERE cart_id = ? AND key != ? AND (status = 'pending' OR (status = 'done' AND http_status = 201)) LIMIT 1",
          )
          .get(args.cartId, args.idempotencyKey);
        if (other) throw cartCheckedOut(args.cartId);
        db.prepare(
          `INSERT INTO checkouts (key, request_hash, cart_id, status, order_id, updated_wall_ms) VALUES (?,?,?,'pending',?,?)
           ON CONFLICT(key) DO UPDATE SET status = 'pending', updated_wall_ms = excluded.updated_wall_ms`,
        ).run(args.idempotencyKey, hash, args.cartId, orderId, now);
        return null;
      })
      .immediate();
  const paid = (key: string) =>
    (db.prepare('SELECT approved FROM payments WHERE key = ?').get(key) as { approved: number } | undefined)
      ?.approved;
  return {
    async claim(args, hash, orderId) {
      return claim(args, hash, orderId);
    },
    async finish(key, status, body) {
      db.prepare(
        "UPDATE checkouts SET status = 'done', http_status = ?, response = ?, updated_wall_ms = ? WHERE key = ?",
      ).run(status, JSON.stringify(body), ctx.clock.wallMs(), key);
    },
    async abandon(key) {
      db.prepare("DELETE FROM checkouts WHERE key = ? AND status = 'pending'").run(key);
    },
    async payment(key) {
      const a = paid(key);
      return a === undefined ? undefined : a === 1;
    },
    async recordPayment(key, p) {
      db.prepare(
        'INSERT OR IGNORE INTO payments (key, approved, amount, latency_ms, at) VALUES (?,?,?,?,?)',
      ).run(key, p.approved ? 1 : 0, p.amount, p.latencyMs, ctx.clock.eventNow());
      return paid(key) === 1;
    },
  };
}

/** A stored key seen again: its replay, or the 409 it gets; null when a stale pending key may be taken over. */
export function decideExisting(
  r: { requestHash: string; status: string; httpStatus?: number; response?: string; updatedWallMs: number },
  hash: string,
  nowWallMs: number,
): CheckoutReplay | null {
  if (r.requestHash !== hash) {
    throw new DomainError(
      409,
      'idempotency-conflict',
      'this Idempotency-Key was used with a different request',
    );
  }
  if (r.status === 'done')
    return { replay: { status: r.httpStatus ?? 500, body: JSON.parse(r.response ?? 'null') as unknown } };
  if (nowWallMs - r.updatedWallMs < STALE_PENDING_MS) throw checkoutInProgress();
  return null;
}

/** 409: a checkout with this key is running. */
export function checkoutInProgress(): DomainError {
  return new DomainError(
    409,
    'checkout-in-progress',
    'a checkout with this Idempotency-Key is in progress',
    undefined,
    1,
  );
}

/** 409: the cart is pending or confirmed under another key. */
export function cartCheckedOut(cartId: string): DomainError {
  return new DomainError(409, 'cart-already-checked-out', `cart ${cartId} was already checked out`);
}

/** The checkout module over a context, the ports it calls and the payment provider. */
export function createCheckoutModule(
  ctx: DomainContext,
  ports: Pick<Ports, 'cart' | 'pricing' | 'inventory' | 'orders'>,
  payments: PaymentProvider,
  options: { sleep?: (ms: number) => Promise<void>; store?: CheckoutStore } = {},
): CheckoutModule {
  const wait = options.sleep ?? sleep;
  const store = options.store ?? createSqliteCheckoutStore(ctx);

  const authorize = async (key: string, amount: number, token: string): Promise<boolean> => {
    const prior = await store.payment(key);
    if (prior !== undefined) return prior;
    const auth = payments.decide(amount, token);
    await wait(auth.latencyMs);
    return store.recordPayment(key, { approved: auth.approved, amount, latencyMs: auth.latencyMs });
  };

  return {
    async checkout(args) {
      const hash = createHash('sha256')
        .update(
          JSON.stringify([args.cartId, args.paymentToken, args.customerId ?? null, args.storeId ?? null]),
        )
        .digest('hex');
      const { orderId, reservationId } = idsForKey(args.idempotencyKey);
      const claimed = await store.claim(args, hash, orderId);
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
        await store.finish(args.idempotencyKey, 201, result);
        return result;
      } catch (e) {
        if (isDomainError(e) && e.status < 500) {
          await store.finish(args.idempotencyKey, e.status, e.toBody());
        } else {
          await store.abandon(args.idempotencyKey, args.cartId);
        }
        throw e;
      }
    },
  };
}
