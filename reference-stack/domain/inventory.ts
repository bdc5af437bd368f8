/**
 * Inventory: stock per SKU and reservations with an expiry in event time. Never oversells: every
 * check-and-reserve runs in one IMMEDIATE SQLite transaction (the write lock is taken before the
 * check), so concurrent checkouts from any number of replica processes serialize on the stock row.
 * available = on_hand − reserved − sold. A reservation is `held` until committed (sold), released
 * (payment failed) or expired by the sweep; InventoryReserved / InventoryReleased are published.
 * Stores and their stock (for the POS channel) are read-only here.
 */

import { hash32 } from '../../core/rng.ts';
import { zipDistanceKm } from '../../scenarios/catalog.ts';
import {
  charge,
  type DomainContext,
  getMeta,
  migrateShared,
  recordEvent,
  seedOnce,
  setMeta,
} from './context.ts';
import { DomainError, notFound } from './errors.ts';

/** A reservation line. */
export interface ReservationItem {
  sku: string;
  quantity: number;
}

/** A reservation's state. */
export interface Reservation {
  id: string;
  status: 'held' | 'committed' | 'released' | 'expired';
  expiresAt: number;
  items: ReservationItem[];
}

/** A store near a zip code. */
export interface StoreNear {
  id: string;
  name: string;
  zip: string;
  distanceKm: number;
}

/** The inventory module's methods. */
export interface InventoryModule {
  availability(args: { skus: string[] }): Promise<Record<string, number>>;
  reserve(args: { reservationId: string; items: ReservationItem[] }): Promise<Reservation>;
  commit(args: { reservationId: string }): Promise<Reservation>;
  release(args: { reservationId: string; reason: string }): Promise<Reservation>;
  findStores(args: { zip: string; limit?: number }): Promise<{ items: StoreNear[] }>;
  storeInventory(args: {
    storeId: string;
    sku: string;
  }): Promise<{ storeId: string; sku: string; available: number }>;
  /** Expires held reservations past their expiry (event time). Returns how many. */
  tick(): Promise<number>;
}

/** Creates the tables and seeds stock and stores (once per database). */
export function migrateInventory(ctx: DomainContext): void {
  migrateShared(ctx.db);
  ctx.db.exec(`
    CREATE TABLE IF NOT EXISTS stock (sku TEXT PRIMARY KEY, on_hand INTEGER NOT NULL, reserved INTEGER NOT NULL DEFAULT 0,
      sold INTEGER NOT NULL DEFAULT 0, CHECK (reserved >= 0 AND sold >= 0 AND reserved + sold <= on_hand));
    CREATE TABLE IF NOT EXISTS reservations (id TEXT PRIMARY KEY, status TEXT NOT NULL, created_at REAL NOT NULL,
      expires_at REAL NOT NULL, closed_at REAL, items TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS reservations_held ON reservations(status, expires_at);
    CREATE TABLE IF NOT EXISTS stores (id TEXT PRIMARY KEY, name TEXT NOT NULL, zip TEXT NOT NULL);
  `);
  seedOnce(ctx.db, 'inventory', () => {
    const c = ctx.catalog();
    const ins = ctx.db.prepare('INSERT INTO stock (sku, on_hand) VALUES (?, ?)');
    for (const p of c.products) ins.run(p.sku, p.stock);
    const st = ctx.db.prepare('INSERT INTO stores (id, name, zip) VALUES (?,?,?)');
    for (const s of c.stores) st.run(s.id, s.name, s.zip);
  });
}

/** A store's on-shelf units of a SKU: deterministic from ids (0–24), read-only (assumption). */
export function storeUnits(storeId: string, sku: string): number {
  return hash32(`${storeId}/${sku}`) % 25;
}

/** The inventory module over a context. */
export function createInventoryModule(ctx: DomainContext): InventoryModule {
  const db = ctx.db;
  const stockRow = db.prepare('SELECT on_hand AS onHand, reserved, sold FROM stock WHERE sku = ?');
  const resRow = db.prepare(
    'SELECT id, status, expires_at AS expiresAt, items FROM reservations WHERE id = ?',
  );
  const addReserved = db.prepare('UPDATE stock SET reserved = reserved + ? WHERE sku = ?');
  const toSold = db.prepare('UPDATE stock SET reserved = reserved - ?, sold = sold + ? WHERE sku = ?');
  const close = db.prepare('UPDATE reservations SET status = ?, closed_at = ? WHERE id = ? AND status = ?');

  const readRes = (id: string): Reservation | null => {
    const r = resRow.get(id) as (Omit<Reservation, 'items'> & { items: string }) | undefined;
    return r ? { ...r, items: JSON.parse(r.items) as ReservationItem[] } : null;
  };
  const releaseHeld = (r: Reservation, status: 'released' | 'expired', reason: string, now: number) => {
    if (close.run(status, now, r.id, 'held').changes === 0) return;
    for (const it of r.items) addReserved.run(-it.quantity, it.sku);
    recordEvent(ctx, {
      id: `InventoryReleased:${r.id}`,
      type: 'InventoryReleased',
      at: now,
      payload: { reservationId: r.id, items: r.items, reason },
    });
  };

  return {
    async availability({ skus }) {
      const out: Record<string, number> = {};
      for (const sku of skus) {
        charge(ctx, 'stock', sku, 'read');
        const s = stockRow.get(sku) as { onHand: number; reserved: number; sold: number } | undefined;
        if (s) out[sku] = s.onHand - s.reserved - s.sold;
      }
      return out;
    },
    async reserve({ reservationId, items }) {
      for (const it of items) charge(ctx, 'stock', it.sku, 'write', 2);
      const r = db
        .transaction(() => {
          const existing = readRes(reservationId);
          if (existing) return existing;
          const now = ctx.clock.eventNow();
          for (const it of items) {
            const s = stockRow.get(it.sku) as { onHand: number; reserved: number; sold: number } | undefined;
            if (!s) throw notFound('sku', it.sku);
            const available = s.onHand - s.reserved - s.sold;
            if (available < it.quantity) {
              throw new DomainError(
                409,
                'insufficient-stock',
                `only ${available} of ${it.sku} available, ${it.quantity} requested`,
                {
                  sku: it.sku,
                  available,
                  requested: it.quantity,
                },
              );
            }
            addReserved.run(it.quantity, it.sku);
          }
          const expiresAt = now + ctx.params.reservationTtlSeconds;
          db.prepare(
            'INSERT INTO reservations (id, status, created_at, expires_at, items) VALUES (?,?,?,?,?)',
          ).run(reservationId, 'held', now, expiresAt, JSON.stringify(items));
          recordEvent(ctx, {
            id: `InventoryReserved:${reservationId}`,
            type: 'InventoryReserved',
            at: now,
            payload: { reservationId, items, expiresAt },
          });
          return { id: reservationId, status: 'held' as const, expiresAt, items };
        })
        .immediate();
      ctx.onEventsWritten();
      return r;
    },
    async commit({ reservationId }) {
      const r = db
        .transaction((): Reservation | { lapsed: string } => {
          const res = readRes(reservationId);
          if (!res) throw notFound('reservation', reservationId);
          if (res.status === 'committed') return res;
          const now = ctx.clock.eventNow();
          if (res.status === 'held' && res.expiresAt < now) releaseHeld(res, 'expired', 'expired', now);
          if (res.status !== 'held' || res.expiresAt < now)
            return { lapsed: readRes(reservationId)?.status ?? 'unknown' };
          for (const it of res.items) {
            charge(ctx, 'stock', it.sku, 'write');
            toSold.run(it.quantity, it.quantity, it.sku);
          }
          close.run('committed', now, reservationId, 'held');
          return { ...res, status: 'committed' as const };
        })
        .immediate();
      ctx.onEventsWritten();
      if ('lapsed' in r) {
        throw new DomainError(409, 'reservation-expired', `reservation ${reservationId} is no longer held`, {
          status: r.lapsed,
        });
      }
      return r;
    },
    async release({ reservationId, reason }) {
      const r = db
        .transaction(() => {
          const res = readRes(reservationId);
          if (!res) throw notFound('reservation', reservationId);
          if (res.status === 'held') releaseHeld(res, 'released', reason, ctx.clock.eventNow());
          return readRes(reservationId)!;
        })
        .immediate();
      ctx.onEventsWritten();
      return r;
    },
    async findStores({ zip, limit = 5 }) {
      charge(ctx, 'stores', zip, 'read');
      const stores = db.prepare('SELECT id, name, zip FROM stores').all() as {
        id: string;
        name: string;
        zip: string;
      }[];
      const items = stores
        .map((s) => ({ ...s, distanceKm: Math.round(zipDistanceKm(zip, s.zip) * 10) / 10 }))
        .sort((a, b) => a.distanceKm - b.distanceKm || a.id.localeCompare(b.id))
        .slice(0, limit);
      return { items };
    },
    async storeInventory({ storeId, sku }) {
      charge(ctx, 'stores', storeId, 'read');
      if (!db.prepare('SELECT 1 FROM stores WHERE id = ?').get(storeId)) throw notFound('store', storeId);
      if (!stockRow.get(sku)) throw notFound('sku', sku);
      return { storeId, sku, available: storeUnits(storeId, sku) };
    },
    async tick() {
      const now = ctx.clock.eventNow();
      let n = 0;
      db.transaction(() => {
        const due = db
          .prepare("SELECT id FROM reservations WHERE status = 'held' AND expires_at < ? LIMIT 500")
          .all(now) as { id: string }[];
        for (const d of due) {
          const r = readRes(d.id);
          if (r) {
            releaseHeld(r, 'expired', 'expired', now);
            n++;
          }
        }
        const last = Number(getMeta(db, 'inventory:lastSweepAt') ?? '-Infinity');
        if (now > last) setMeta(db, 'inventory:lastSweepAt', String(now));
      }).immediate();
      if (n > 0) ctx.onEventsWritten();
      return n;
    },
  };
}
