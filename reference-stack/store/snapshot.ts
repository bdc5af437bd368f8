/**
 * What the stack's invariants are checked on, read from either store: a snapshot of stock,
 * orders, acknowledged checkouts, reservations, events written and what each consumer applied.
 * `reference-stack/invariants.ts` checks it; the SQLite reader opens a data directory's files
 * read-only, the DynamoDB reader scans the tables (consistent reads).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OUTBOX_SHARDS } from './dynamodb/common.ts';
import type { DynamoStore, Item } from './dynamodb.ts';

/** The consumers of events. */
export type Consumer = 'cart' | 'search' | 'pricing';

/** A store's state as the invariants see it. */
export interface StoreSnapshot {
  stock: { sku: string; onHand: number; reserved: number; sold: number }[];
  /** Orders placed during the run (the seeded history, ids `hist-…`, left out). */
  orders: { id: string; status: string; items: { sku: string; quantity: number }[] }[];
  /** Checkouts answered 201: their key and stored answer. */
  acked: { key: string; orderId: string; status: string }[];
  reservations: { id: string; status: string; expiresAt: number; closedAt: number | null }[];
  /** Event time of the latest expiry sweep (−Infinity before the first). */
  lastSweepAt: number;
  /** Event ids (and types) each consumer applied, for the consumers hosted. */
  processed: Partial<Record<Consumer, { id: string; type: string }[]>>;
  /** Every event written to an outbox (delivered or not), by id. */
  events: Map<string, { type: string; payload: Record<string, unknown> }>;
  /** Consumer effects: search's units sold and held per SKU, carts ordered, recovery offers. */
  searchSold?: Map<string, number>;
  searchHeld?: Map<string, number>;
  cartsOrdered?: number;
  recoveryOffers?: number;
  /** Events not yet delivered (outboxes and the bus). */
  undelivered: number;
  /** Deliveries the bus repeated on purpose (null without a bus). */
  duplicatesSent: number | null;
}

type Db = Database.Database;

function hasTable(db: Db | undefined, table: string): db is Db {
  return !!db?.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?").get(table);
}

/**
 * Reads a data directory's SQLite files (one shared file in the monolith, one per service in
 * headless). Undefined when the stores are not there. `busOnly` reads only the bus (the DynamoDB
 * store's stacks keep the headless bus in SQLite).
 */
export function sqliteSnapshot(dir: string): StoreSnapshot | undefined {
  const opened = new Map<string, Db>();
  const openFor = (module: string): Db | undefined => {
    for (const name of ['monolith', module]) {
      const file = join(dir, `${name}.db`);
      if (!existsSync(file)) continue;
      let db = opened.get(file);
      if (!db) {
        db = new Database(file, { readonly: true, fileMustExist: true });
        db.pragma('busy_timeout = 5000');
        opened.set(file, db);
      }
      return db;
    }
    return undefined;
  };
  try {
    const inventory = openFor('inventory');
    const orders = openFor('orders');
    const checkout = openFor('checkout');
    const search = openFor('search');
    const cart = openFor('cart');
    const pricing = openFor('pricing');
    if (!hasTable(inventory, 'stock') || !hasTable(orders, 'orders') || !hasTable(checkout, 'checkouts'))
      return undefined;
    const events = new Map<string, { type: string; payload: Record<string, unknown> }>();
    let undelivered = 0;
    for (const db of new Set([inventory, orders, cart, pricing])) {
      if (!hasTable(db, 'events_outbox')) continue;
      for (const r of db.prepare('SELECT id, type, payload, published FROM events_outbox').all() as {
        id: string;
        type: string;
        payload: string;
        published: number;
      }[]) {
        events.set(r.id, { type: r.type, payload: JSON.parse(r.payload) as Record<string, unknown> });
        if (r.published === 0) undelivered++;
      }
    }
    const processed: StoreSnapshot['processed'] = {};
    for (const [consumer, db] of [
      ['search', search],
      ['cart', cart],
      ['pricing', pricing],
    ] as const) {
      if (hasTable(db, 'processed_events')) {
        processed[consumer] = db
          .prepare('SELECT event_id AS id, type FROM processed_events WHERE consumer = ?')
          .all(consumer) as { id: string; type: string }[];
      }
    }
    const units = (db: Db, table: string) =>
      new Map(
        (db.prepare(`SELECT sku, units FROM ${table}`).all() as { sku: string; units: number }[]).map((r) => [
          r.sku,
          r.units,
        ]),
      );
    const bus = busSnapshot(dir);
    return {
      stock: inventory
        .prepare('SELECT sku, on_hand AS onHand, reserved, sold FROM stock')
        .all() as StoreSnapshot['stock'],
      orders: (
        orders.prepare("SELECT id, status, items FROM orders WHERE id NOT LIKE 'hist-%'").all() as {
          id: string;
          status: string;
          items: string;
        }[]
      ).map((o) => ({ ...o, items: JSON.parse(o.items) as { sku: string; quantity: number }[] })),
      acked: (
        checkout
          .prepare("SELECT key, response FROM checkouts WHERE status = 'done' AND http_status = 201")
          .all() as { key: string; response: string }[]
      ).map((a) => {
        const r = JSON.parse(a.response) as { orderId: string; status: string };
        return { key: a.key, orderId: r.orderId, status: r.status };
      }),
      reservations: inventory
        .prepare('SELECT id, status, expires_at AS expiresAt, closed_at AS closedAt FROM reservations')
        .all() as StoreSnapshot['reservations'],
      lastSweepAt: Number(
        (
          inventory.prepare("SELECT value FROM meta WHERE key = 'inventory:lastSweepAt'").get() as
            | { value: string }
            | undefined
        )?.value ?? '-Infinity',
      ),
      processed,
      events,
      ...(hasTable(search, 'search_sold')
        ? { searchSold: units(search, 'search_sold'), searchHeld: units(search, 'search_held') }
        : {}),
      ...(hasTable(cart, 'carts')
        ? {
            cartsOrdered: (
              cart.prepare("SELECT COUNT(*) AS n FROM carts WHERE status = 'ordered'").get() as { n: number }
            ).n,
          }
        : {}),
      ...(hasTable(pricing, 'recovery_offers')
        ? {
            recoveryOffers: (
              pricing.prepare('SELECT COUNT(*) AS n FROM recovery_offers').get() as { n: number }
            ).n,
          }
        : {}),
      undelivered: undelivered + bus.pending,
      duplicatesSent: bus.duplicatesSent,
    };
  } finally {
    for (const db of opened.values()) db.close();
  }
}

/** The headless bus's pending deliveries and repeated sends (zero and null without a bus file). */
export function busSnapshot(dir: string): { pending: number; duplicatesSent: number | null } {
  const file = join(dir, 'bus.db');
  if (!existsSync(file)) return { pending: 0, duplicatesSent: null };
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    if (!hasTable(db, 'bus_deliveries')) return { pending: 0, duplicatesSent: null };
    return {
      pending: (
        db.prepare("SELECT COUNT(*) AS n FROM bus_deliveries WHERE status = 'pending'").get() as { n: number }
      ).n,
      duplicatesSent: (
        db.prepare('SELECT COALESCE(SUM(sends - 1), 0) AS n FROM bus_deliveries WHERE sends > 1').get() as {
          n: number;
        }
      ).n,
    };
  } finally {
    db.close();
  }
}

/**
 * Reads the DynamoDB store (every table scanned with consistent reads: for verification after a
 * run, not for the hot path). `busDir`: the data directory whose SQLite bus (headless) to count.
 */
export async function dynamoSnapshot(s: DynamoStore, busDir?: string): Promise<StoreSnapshot> {
  const stockItems = await s.scan('stock');
  const orderItems = await s.scan('orders');
  const eventItems = await s.scan('events');
  const catalogOffers = await s.scan('catalog', {
    filter: 'begins_with(productId, :o)',
    values: { ':o': 'offer#' },
  });
  const carts = await s.scan('carts', {
    filter: '#s = :ordered',
    names: { '#s': 'status' },
    values: { ':ordered': 'ordered' },
  });
  const str = (i: Item, k: string) => String(i[k]);
  const events = new Map<string, { type: string; payload: Record<string, unknown> }>();
  let undelivered = 0;
  const processed: StoreSnapshot['processed'] = { cart: [], search: [], pricing: [] };
  const searchSold = new Map<string, number>();
  const searchHeld = new Map<string, number>();
  const outboxes = new Set(Array.from({ length: OUTBOX_SHARDS }, (_, k) => `outbox#${k}`));
  for (const i of eventItems) {
    const consumer = str(i, 'consumer');
    if (consumer === 'published' || outboxes.has(consumer)) {
      events.set(str(i, 'eventId'), {
        type: str(i, 'type'),
        payload: JSON.parse(str(i, 'payload')) as Record<string, unknown>,
      });
      if (consumer !== 'published') undelivered++;
    } else if (consumer === 'cart' || consumer === 'search' || consumer === 'pricing') {
      processed[consumer]!.push({ id: str(i, 'eventId'), type: str(i, 'type') });
      if (consumer === 'search' && typeof i.deltas === 'string') {
        const target = i.counter === 'sold' ? searchSold : searchHeld;
        for (const [sku, d] of Object.entries(JSON.parse(i.deltas) as Record<string, number>))
          target.set(sku, (target.get(sku) ?? 0) + d);
      }
    }
  }
  const bus = busDir ? busSnapshot(busDir) : { pending: 0, duplicatesSent: null };
  const sweep = stockItems.find((i) => i.sku === '#meta' && i.location === 'lastSweepAt');
  return {
    stock: stockItems
      .filter((i) => i.location === 'online')
      .map((i) => ({
        sku: str(i, 'sku'),
        onHand: Number(i.onHand),
        reserved: Number(i.reserved),
        sold: Number(i.sold),
      })),
    orders: orderItems
      .filter((i) => !str(i, 'orderId').includes('#') && !str(i, 'orderId').startsWith('hist-'))
      .map((i) => ({
        id: str(i, 'orderId'),
        status: str(i, 'status'),
        items: JSON.parse(str(i, 'items')) as { sku: string; quantity: number }[],
      })),
    acked: orderItems
      .filter(
        (i) => str(i, 'orderId').startsWith('idem#') && i.status === 'done' && Number(i.httpStatus) === 201,
      )
      .map((i) => {
        const r = JSON.parse(str(i, 'response')) as { orderId: string; status: string };
        return { key: str(i, 'orderId').slice(5), orderId: r.orderId, status: r.status };
      }),
    reservations: stockItems
      .filter((i) => str(i, 'sku').startsWith('res#'))
      .map((i) => ({
        id: str(i, 'sku').slice(4),
        // In-between states count as what they are becoming only once finished: a reservation
        // still `committing` or `releasing` is reported as held (not yet closed).
        status: ['pending', 'committing', 'releasing'].includes(str(i, 'status')) ? 'held' : str(i, 'status'),
        expiresAt: Number(i.expiresAt),
        closedAt: i.closedAt === undefined ? null : Number(i.closedAt),
      })),
    lastSweepAt: sweep ? Number(sweep.v) : Number.NEGATIVE_INFINITY,
    processed,
    events,
    searchSold,
    searchHeld,
    cartsOrdered: carts.length,
    recoveryOffers: catalogOffers.length,
    undelivered: undelivered + bus.pending,
    duplicatesSent: bus.duplicatesSent,
  };
}
