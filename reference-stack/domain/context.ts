/**
 * What every domain module runs with: its database, the event clock, the store capacity model and
 * the event outbox. Modules are plain functions over this context, so the same code runs inside a
 * headless service, inside the monolith and inside unit tests.
 */
import type { Catalog } from '../../scenarios/catalog.ts';
import { createStoreCapacity, type StoreCapacity } from '../store/capacity.ts';
import type { DynamoStore } from '../store/dynamodb.ts';
import type { Db } from '../store/sqlite.ts';
import type { DomainParams, StoreCapacityParams } from '../worker-protocol.ts';
import { DomainError } from './errors.ts';

/** Resolved domain parameters (all assumptions; docs/reference-stack.md "Domain parameters"). */
export type ResolvedDomainParams = Required<DomainParams>;

/** Defaults: every one is an assumption, overridable in the worker configuration. */
export const DOMAIN_DEFAULTS: ResolvedDomainParams = {
  catalogSeed: 1,
  catalogProducts: 10_000,
  /** A checkout holds stock for 10 event minutes (typical commerce platforms use 10–15 min). */
  reservationTtlSeconds: 600,
  /** A cart idle for 30 event minutes with items in it is abandoned (common recovery-email trigger). */
  cartAbandonSeconds: 1800,
  /** Card authorization latency: median ~250 ms, long tail (log-normal sigma 0.5). Assumption. */
  paymentMedianMs: 250,
  paymentSigma: 0.5,
  /** 2% of authorizations declined (assumption; card decline rates are commonly quoted at 2–15%). */
  paymentFailureRate: 0.02,
  paymentSeed: 1,
  /** 1% of deliveries are repeated on purpose, so idempotent consumers are exercised in every run. */
  busDuplicateRate: 0.01,
};

/** Event time and wall time, read at the edge. */
export interface DomainClock {
  /** Event seconds now. */
  eventNow(): number;
  /** Wall epoch ms now. */
  wallMs(): number;
}

/** A domain event as stored in outboxes and delivered by the bus. */
export interface DomainEvent {
  /** Deterministic id (e.g. `OrderPlaced:o-…`), so a re-publish is recognisably the same event. */
  id: string;
  type: EventType;
  /** Event time (s) at which it happened. */
  at: number;
  payload: Record<string, unknown>;
}

/** The events of the domain. */
export type EventType =
  | 'OrderPlaced'
  | 'InventoryReserved'
  | 'InventoryReleased'
  | 'PriceChanged'
  | 'CartAbandoned';

/** Which modules consume which events (the bus's subscriptions). */
export const SUBSCRIPTIONS: Record<EventType, readonly ('cart' | 'search' | 'pricing')[]> = {
  OrderPlaced: ['cart', 'search'],
  InventoryReserved: ['search'],
  InventoryReleased: ['search'],
  PriceChanged: ['cart'],
  CartAbandoned: ['pricing'],
};

/** Everything a module needs. */
export interface DomainContext {
  /**
   * The local SQLite database: every module's store with the SQLite adapter; with the DynamoDB
   * adapter, only the read-only copies seeded from the catalog generator (catalog, search index,
   * price list and deal schedule), identical in every task.
   */
  db: Db;
  /** The DynamoDB store when the stack runs on the DynamoDB adapter (shared state of every task). */
  dynamo?: DynamoStore;
  clock: DomainClock;
  capacity: StoreCapacity;
  params: ResolvedDomainParams;
  /** The seeded catalog (lazily created, shared by the modules of one process). */
  catalog: () => Catalog;
  /** Called after a transaction that wrote events to the outbox commits. */
  onEventsWritten: () => void;
}

/** Builds a context. */
export function createDomainContext(options: {
  db: Db;
  dynamo?: DynamoStore;
  clock: DomainClock;
  catalog: () => Catalog;
  params?: DomainParams;
  store?: StoreCapacityParams;
  replicas?: number;
  onEventsWritten?: () => void;
}): DomainContext {
  return {
    db: options.db,
    ...(options.dynamo ? { dynamo: options.dynamo } : {}),
    clock: options.clock,
    capacity: createStoreCapacity(options.store, options.replicas ?? 1),
    params: { ...DOMAIN_DEFAULTS, ...(options.params ?? {}) },
    catalog: options.catalog,
    onEventsWritten: options.onEventsWritten ?? (() => {}),
  };
}

/**
 * Charges store units to a table's partition key; throws a 503 `store-throttled` DomainError
 * (DynamoDB's ProvisionedThroughputExceeded / ThrottlingException) when the model throttles.
 */
export function charge(
  ctx: DomainContext,
  table: string,
  key: string,
  kind: 'read' | 'write',
  units = 1,
): void {
  const r = ctx.capacity.charge(table, key, kind, units, ctx.clock.wallMs(), ctx.clock.eventNow());
  if (!r.ok) {
    throw new DomainError(
      503,
      'store-throttled',
      r.reason === 'partition'
        ? `store throttled: partition key ${JSON.stringify(key)} of table ${table} exceeded ${round(r.limit)} ${kind} units/s (hot partition)`
        : `store throttled: table ${table} exceeded double its previous peak (${round(r.limit)} ${kind} units/s)`,
      { table, key, kind, reason: r.reason },
      1,
    );
  }
}

/**
 * A partition key for a small, very hot read-only item (the category list, the deal list): spread over
 * 10 suffixes, the documented DynamoDB pattern for read-heavy hot items, so a listing does not
 * throttle at local rates while a single hot SKU still does.
 */
export function shardedKey(key: string): string {
  shardCounter = (shardCounter + 1) % 10;
  return `${key}#${shardCounter}`;
}

let shardCounter = 0;

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

/** Shared schema: the event outbox, processed-event ids and module metadata. */
export function migrateShared(db: Db): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS events_outbox (
      id TEXT PRIMARY KEY, type TEXT NOT NULL, at REAL NOT NULL, payload TEXT NOT NULL,
      published INTEGER NOT NULL DEFAULT 0);
    CREATE INDEX IF NOT EXISTS events_outbox_unpublished ON events_outbox(published) WHERE published = 0;
    CREATE TABLE IF NOT EXISTS processed_events (
      consumer TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, applied_at REAL NOT NULL,
      PRIMARY KEY (consumer, event_id));
  `);
}

/** Writes an event to the outbox (call inside the transaction that made the change). */
export function recordEvent(ctx: DomainContext, event: DomainEvent): void {
  ctx.db
    .prepare('INSERT OR IGNORE INTO events_outbox (id, type, at, payload) VALUES (?, ?, ?, ?)')
    .run(event.id, event.type, event.at, JSON.stringify(event.payload));
}

/**
 * Applies an event's effect exactly once per consumer: inside one transaction, records the event id
 * in `processed_events` and runs `apply` only if it was not there. Returns false for a duplicate.
 */
export function consumeOnce(
  ctx: DomainContext,
  consumer: string,
  event: DomainEvent,
  apply: () => void,
): boolean {
  return ctx.db
    .transaction(() => {
      const r = ctx.db
        .prepare(
          'INSERT OR IGNORE INTO processed_events (consumer, event_id, type, applied_at) VALUES (?, ?, ?, ?)',
        )
        .run(consumer, event.id, event.type, ctx.clock.eventNow());
      if (r.changes === 0) return false;
      apply();
      return true;
    })
    .immediate();
}

/** Reads a meta value. */
export function getMeta(db: Db, key: string): string | undefined {
  return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)
    ?.value;
}

/** Writes a meta value. */
export function setMeta(db: Db, key: string, value: string): void {
  db.prepare(
    'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
  ).run(key, value);
}

/** Runs a module's seeding once per database file (safe with several replicas starting at once). */
export function seedOnce(db: Db, module: string, seed: () => void): void {
  db.transaction(() => {
    if (getMeta(db, `seeded:${module}`)) return;
    seed();
    setMeta(db, `seeded:${module}`, new Date().toISOString());
  }).immediate();
}
