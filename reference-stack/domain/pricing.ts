/**
 * Pricing and promotions. A price is the list price, adjusted per channel (rules below), then
 * discounted by the best active promotion: a lightning deal on the SKU (time window in event time)
 * or a category promotion. When a deal window opens or closes the SKU's price changes and a
 * PriceChanged event is published (open carts reprice). Consumes CartAbandoned: the customer gets
 * one recovery offer per abandoned cart.
 *
 * Rules are assumptions of a typical retailer, documented in docs/reference-stack.md:
 * - channel adjustments: mobile-app −3% (app-only price), every other channel list price;
 * - lightning deals: the catalog's hot SKUs, 20–40% off, one opening every 30 event minutes from
 *   event time 0, each lasting 1 event hour (the first one is active at the event's start);
 * - a category promotion: 10% off `toys` for the whole event.
 */
import {
  charge,
  consumeOnce,
  type DomainContext,
  type DomainEvent,
  migrateShared,
  recordEvent,
  seedOnce,
  shardedKey,
} from './context.ts';

/** Channels of the contract. */
export const CHANNELS = ['web', 'mobile-app', 'pos', 'voice', 'social'] as const;

/** One channel. */
export type Channel = (typeof CHANNELS)[number];

/** Per-channel price adjustment (fraction off list); channels not listed pay list price. */
export const CHANNEL_ADJUSTMENTS: Record<string, number> = {
  web: 0,
  'mobile-app': 0.03,
  pos: 0,
  voice: 0,
  social: 0,
};

/** A price as the contract shows it. */
export interface Price {
  amount: number;
  currency: string;
  listPrice: number;
  dealId: string | null;
}

/** A lightning deal. */
export interface Deal {
  id: string;
  sku: string;
  productId: string;
  discountPct: number;
  startsAt: number;
  endsAt: number;
}

/** The pricing module's methods. */
export interface PricingModule {
  quote(args: { skus: string[]; channel: string }): Promise<Record<string, Price>>;
  listDeals(args: Record<string, never>): Promise<{ items: Deal[] }>;
  /** Opens and closes deal windows reached by event time `now`, publishing PriceChanged. Returns changes. */
  tick(): Promise<number>;
  /** Applies a delivered event (idempotent); false for a duplicate. */
  consume(event: DomainEvent): Promise<boolean>;
}

/** Creates the tables and seeds prices, deals and promotions (once per database). */
export function migratePricing(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS prices (sku TEXT PRIMARY KEY, product_id TEXT NOT NULL, category TEXT NOT NULL, list_price REAL NOT NULL, currency TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS deals (id TEXT PRIMARY KEY, sku TEXT NOT NULL, product_id TEXT NOT NULL, discount_pct REAL NOT NULL,
      starts_at REAL NOT NULL, ends_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending');
    CREATE INDEX IF NOT EXISTS deals_sku ON deals(sku);
    CREATE TABLE IF NOT EXISTS promotions (id TEXT PRIMARY KEY, category TEXT NOT NULL, discount_pct REAL NOT NULL, starts_at REAL NOT NULL, ends_at REAL NOT NULL);
    CREATE TABLE IF NOT EXISTS recovery_offers (cart_id TEXT PRIMARY KEY, customer_id TEXT, discount_pct REAL NOT NULL, created_at REAL NOT NULL);
  `);
  seedOnce(ctx.db, 'pricing', () => {
    const c = ctx.catalog();
    const ins = ctx.db.prepare(
      'INSERT INTO prices (sku, product_id, category, list_price, currency) VALUES (?,?,?,?,?)',
    );
    for (const p of c.products) ins.run(p.sku, p.id, p.category, p.price, p.currency);
    const deal = ctx.db.prepare(
      'INSERT INTO deals (id, sku, product_id, discount_pct, starts_at, ends_at) VALUES (?,?,?,?,?,?)',
    );
    c.hotSkus.forEach((sku, i) => {
      const p = c.bySku.get(sku);
      if (!p) return;
      deal.run(
        `deal-${String(i + 1).padStart(3, '0')}`,
        sku,
        p.id,
        20 + (i % 5) * 5,
        i * 1800,
        i * 1800 + 3600,
      );
    });
    ctx.db
      .prepare('INSERT INTO promotions (id, category, discount_pct, starts_at, ends_at) VALUES (?,?,?,?,?)')
      .run('promo-toys', 'toys', 10, 0, 1e12);
  });
}

/** Rounds to cents. */
function cents(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The pricing module over a context. */
export function createPricingModule(ctx: DomainContext): PricingModule {
  const db = ctx.db;
  const price = db.prepare(
    'SELECT sku, category, list_price AS listPrice, currency FROM prices WHERE sku = ?',
  );
  const activeDeal = db.prepare(
    'SELECT id, discount_pct AS pct FROM deals WHERE sku = ? AND starts_at <= ? AND ends_at > ? ORDER BY discount_pct DESC LIMIT 1',
  );
  const promo = db.prepare(
    'SELECT discount_pct AS pct FROM promotions WHERE category = ? AND starts_at <= ? AND ends_at > ? ORDER BY discount_pct DESC LIMIT 1',
  );
  const deals = db.prepare(
    'SELECT id, sku, product_id AS productId, discount_pct AS discountPct, starts_at AS startsAt, ends_at AS endsAt FROM deals ORDER BY starts_at, id',
  );
  const dueOpen = db.prepare(
    "SELECT id, sku FROM deals WHERE state = 'pending' AND starts_at <= ? AND ends_at > ?",
  );
  const dueClose = db.prepare("SELECT id, sku FROM deals WHERE state != 'closed' AND ends_at <= ?");
  const setState = db.prepare('UPDATE deals SET state = ? WHERE id = ? AND state = ?');

  const quoteOne = (sku: string, channel: string, now: number): Price | null => {
    const row = price.get(sku) as
      | { sku: string; category: string; listPrice: number; currency: string }
      | undefined;
    if (!row) return null;
    const base = row.listPrice * (1 - (CHANNEL_ADJUSTMENTS[channel] ?? 0));
    const deal = activeDeal.get(sku, now, now) as { id: string; pct: number } | undefined;
    const p = promo.get(row.category, now, now) as { pct: number } | undefined;
    const dealPct = deal?.pct ?? 0;
    const promoPct = p?.pct ?? 0;
    const useDeal = deal !== undefined && dealPct >= promoPct;
    const pct = useDeal ? dealPct : promoPct;
    return {
      amount: cents(base * (1 - pct / 100)),
      currency: row.currency,
      listPrice: row.listPrice,
      dealId: useDeal ? deal.id : null,
    };
  };

  return {
    async quote({ skus, channel }) {
      const now = ctx.clock.eventNow();
      const out: Record<string, Price> = {};
      for (const sku of skus) {
        charge(ctx, 'prices', sku, 'read');
        const q = quoteOne(sku, channel, now);
        if (q) out[sku] = q;
      }
      return out;
    },
    async listDeals() {
      charge(ctx, 'deals', shardedKey('all'), 'read');
      return { items: deals.all() as Deal[] };
    },
    async tick() {
      const now = ctx.clock.eventNow();
      let changed = 0;
      db.transaction(() => {
        const publish = (id: string, sku: string, from: string, to: string) => {
          if (setState.run(to, id, from).changes === 0) return;
          const q = quoteOne(sku, 'web', now);
          recordEvent(ctx, {
            id: `PriceChanged:${id}:${to}`,
            type: 'PriceChanged',
            at: now,
            payload: {
              sku,
              dealId: to === 'open' ? id : null,
              amount: q?.amount ?? null,
              reason: `deal-${to}`,
            },
          });
          changed++;
        };
        for (const d of dueOpen.all(now, now) as { id: string; sku: string }[])
          publish(d.id, d.sku, 'pending', 'open');
        for (const d of dueClose.all(now) as { id: string; sku: string }[]) {
          publish(d.id, d.sku, 'open', 'closed');
          setState.run('closed', d.id, 'pending');
        }
      }).immediate();
      if (changed > 0) ctx.onEventsWritten();
      return changed;
    },
    async consume(event) {
      return consumeOnce(ctx, 'pricing', event, () => {
        if (event.type !== 'CartAbandoned') return;
        charge(ctx, 'recovery_offers', String(event.payload.cartId), 'write');
        db.prepare(
          'INSERT OR IGNORE INTO recovery_offers (cart_id, customer_id, discount_pct, created_at) VALUES (?,?,?,?)',
        ).run(
          event.payload.cartId as string,
          (event.payload.customerId as string | null) ?? null,
          10,
          ctx.clock.eventNow(),
        );
      });
    },
  };
}
