/**
 * The stack's invariants, checked after every run from the stores themselves (read-only):
 * - `no-oversell`: no SKU's reserved + sold exceeds its stock, and no SKU's confirmed orders exceed it
 *   (the seeded order history before the event, ids `hist-…`, is not counted);
 * - `orders-exactly-once`: every order acknowledged to a client (checkout answered 201) exists, once,
 *   with the acknowledged status;
 * - `reservations-within-expiry`: no reservation was committed after its expiry, and none is still
 *   held after a sweep passed its expiry;
 * - `events-exactly-once`: every consumer's effect equals the sum over the events it processed (so
 *   nothing was applied twice), every processed id is a real event, and nothing is left undelivered.
 * Works on a monolith data directory (one shared database) or a headless one (a database per service).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** One check's outcome. */
export interface InvariantCheck {
  name: string;
  ok: boolean;
  /** How many things were checked (SKUs, orders, reservations, events). */
  count: number;
  /** Violations found (first 20) and context numbers. */
  details: Record<string, unknown>;
}

/** All checks; `ok` only when every check holds. */
export interface InvariantReport {
  ok: boolean;
  checks: InvariantCheck[];
}

/** Options of the verification. */
export interface VerifyOptions {
  /** Fail `events-exactly-once` while events are still undelivered (default true: verify after a run settles). */
  requireDelivered?: boolean;
}

type Db = Database.Database;

/** Finds the database holding a module's tables in a data directory. */
function openFor(dir: string, module: string, opened: Map<string, Db>): Db | undefined {
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
}

function hasTable(db: Db | undefined, table: string): boolean {
  return !!db?.prepare("SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?").get(table);
}

/** Verifies the invariants of one or more data directories (one per stack). Read-only. */
export function verifyInvariants(dataDirs: string[], options: VerifyOptions = {}): InvariantReport {
  const checks: InvariantCheck[] = [];
  for (const dir of dataDirs) {
    const opened = new Map<string, Db>();
    try {
      checks.push(...verifyDir(dir, opened, options));
    } finally {
      for (const db of opened.values()) db.close();
    }
  }
  return { ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}

function verifyDir(dir: string, opened: Map<string, Db>, options: VerifyOptions): InvariantCheck[] {
  const inventory = openFor(dir, 'inventory', opened);
  const orders = openFor(dir, 'orders', opened);
  const checkout = openFor(dir, 'checkout', opened);
  const search = openFor(dir, 'search', opened);
  const cart = openFor(dir, 'cart', opened);
  const pricing = openFor(dir, 'pricing', opened);
  const busDb = openFor(dir, 'bus', opened);
  const suffix = dataDirsLabel(dir);
  if (!hasTable(inventory, 'stock') || !hasTable(orders, 'orders') || !hasTable(checkout, 'checkouts')) {
    return [
      {
        name: `stores-present${suffix}`,
        ok: false,
        count: 0,
        details: { message: `no stack databases (inventory, orders, checkout) in ${dir}` },
      },
    ];
  }
  const out: InvariantCheck[] = [];

  // 1. No oversell.
  {
    const stock = inventory!.prepare('SELECT sku, on_hand AS onHand, reserved, sold FROM stock').all() as {
      sku: string;
      onHand: number;
      reserved: number;
      sold: number;
    }[];
    const confirmed = new Map<string, number>();
    for (const o of orders!
      .prepare("SELECT items FROM orders WHERE status = 'confirmed' AND id NOT LIKE 'hist-%'")
      .all() as {
      items: string;
    }[]) {
      for (const it of JSON.parse(o.items) as { sku: string; quantity: number }[]) {
        confirmed.set(it.sku, (confirmed.get(it.sku) ?? 0) + it.quantity);
      }
    }
    const violations: unknown[] = [];
    for (const s of stock) {
      const ordered = confirmed.get(s.sku) ?? 0;
      if (s.reserved < 0 || s.sold < 0 || s.reserved + s.sold > s.onHand || ordered > s.onHand) {
        violations.push({ sku: s.sku, onHand: s.onHand, reserved: s.reserved, sold: s.sold, ordered });
      }
    }
    const soldTotal = stock.reduce((a, s) => a + s.sold, 0);
    out.push({
      name: `no-oversell${suffix}`,
      ok: violations.length === 0,
      count: stock.length,
      details: {
        violations: violations.slice(0, 20),
        violationCount: violations.length,
        unitsSold: soldTotal,
      },
    });
  }

  // 2. Every acknowledged order exists exactly once with the acknowledged status.
  {
    const acked = checkout!
      .prepare(
        "SELECT key, order_id AS orderId, response FROM checkouts WHERE status = 'done' AND http_status = 201",
      )
      .all() as { key: string; orderId: string; response: string }[];
    const get = orders!.prepare('SELECT status, COUNT(*) AS n FROM orders WHERE id = ?');
    const violations: unknown[] = [];
    const seen = new Set<string>();
    for (const a of acked) {
      const resp = JSON.parse(a.response) as { orderId: string; status: string };
      const row = get.get(resp.orderId) as { status: string | null; n: number };
      if (row.n !== 1 || row.status !== resp.status || seen.has(resp.orderId)) {
        violations.push({
          key: a.key,
          orderId: resp.orderId,
          found: row.n,
          status: row.status,
          acknowledged: resp.status,
        });
      }
      seen.add(resp.orderId);
    }
    out.push({
      name: `orders-exactly-once${suffix}`,
      ok: violations.length === 0,
      count: acked.length,
      details: { violations: violations.slice(0, 20), violationCount: violations.length },
    });
  }

  // 3. No reservation outlives its expiry.
  {
    const lastSweep = Number(
      (
        inventory!.prepare("SELECT value FROM meta WHERE key = 'inventory:lastSweepAt'").get() as
          | { value: string }
          | undefined
      )?.value ?? '-Infinity',
    );
    const late = inventory!
      .prepare(
        "SELECT id, expires_at AS expiresAt, closed_at AS closedAt FROM reservations WHERE status = 'committed' AND closed_at > expires_at",
      )
      .all();
    const stale = inventory!
      .prepare(
        "SELECT id, expires_at AS expiresAt FROM reservations WHERE status = 'held' AND expires_at < ?",
      )
      .all(lastSweep);
    const count = (inventory!.prepare('SELECT COUNT(*) AS n FROM reservations').get() as { n: number }).n;
    out.push({
      name: `reservations-within-expiry${suffix}`,
      ok: late.length === 0 && stale.length === 0,
      count,
      details: {
        committedAfterExpiry: late.slice(0, 20),
        heldPastExpiry: stale.slice(0, 20),
        lastSweepEventTime: Number.isFinite(lastSweep) ? lastSweep : null,
      },
    });
  }

  // 4. Every event's effect applied exactly once.
  {
    const problems: unknown[] = [];
    const outboxPayload = (db: Db | undefined, id: string) => {
      const r = db?.prepare('SELECT payload FROM events_outbox WHERE id = ?').get(id) as
        | { payload: string }
        | undefined;
      return r ? (JSON.parse(r.payload) as Record<string, unknown>) : undefined;
    };
    const processed = (db: Db | undefined, consumer: string) =>
      hasTable(db, 'processed_events')
        ? (db!
            .prepare('SELECT event_id AS id, type FROM processed_events WHERE consumer = ?')
            .all(consumer) as { id: string; type: string }[])
        : [];
    let count = 0;
    // search: units sold per SKU = Σ OrderPlaced items; units held per SKU = Σ reserved − Σ released.
    if (search && hasTable(search, 'search_sold')) {
      const sold = new Map<string, number>();
      const held = new Map<string, number>();
      for (const p of processed(search, 'search')) {
        count++;
        const source = p.type === 'OrderPlaced' ? orders : inventory;
        const payload = outboxPayload(source, p.id);
        if (!payload) {
          problems.push({
            consumer: 'search',
            event: p.id,
            problem: 'processed an event that was never published',
          });
          continue;
        }
        for (const it of (payload.items ?? []) as { sku: string; quantity: number }[]) {
          if (p.type === 'OrderPlaced') sold.set(it.sku, (sold.get(it.sku) ?? 0) + it.quantity);
          else
            held.set(
              it.sku,
              (held.get(it.sku) ?? 0) + (p.type === 'InventoryReleased' ? -1 : 1) * it.quantity,
            );
        }
      }
      const cmp = (table: string, expected: Map<string, number>) => {
        const actual = new Map(
          (search.prepare(`SELECT sku, units FROM ${table}`).all() as { sku: string; units: number }[]).map(
            (r) => [r.sku, r.units],
          ),
        );
        for (const sku of new Set([...actual.keys(), ...expected.keys()])) {
          if ((actual.get(sku) ?? 0) !== (expected.get(sku) ?? 0)) {
            problems.push({
              consumer: 'search',
              table,
              sku,
              applied: actual.get(sku) ?? 0,
              expected: expected.get(sku) ?? 0,
            });
          }
        }
      };
      cmp('search_sold', sold);
      cmp('search_held', held);
    }
    // cart: carts marked ordered = OrderPlaced events processed by the cart consumer.
    if (cart && hasTable(cart, 'carts')) {
      const ids = processed(cart, 'cart').filter((p) => p.type === 'OrderPlaced');
      count += ids.length;
      const expected = ids.filter((p) => outboxPayload(orders, p.id)?.cartId).length;
      const actual = (
        cart.prepare("SELECT COUNT(*) AS n FROM carts WHERE status = 'ordered'").get() as { n: number }
      ).n;
      if (actual !== expected) problems.push({ consumer: 'cart', ordered: actual, expected });
    }
    // pricing: one recovery offer per CartAbandoned processed.
    if (pricing && hasTable(pricing, 'recovery_offers')) {
      const ids = processed(pricing, 'pricing').filter((p) => p.type === 'CartAbandoned');
      count += ids.length;
      const actual = (pricing.prepare('SELECT COUNT(*) AS n FROM recovery_offers').get() as { n: number }).n;
      if (actual !== ids.length) problems.push({ consumer: 'pricing', offers: actual, expected: ids.length });
    }
    // Delivery: nothing left in any outbox or in the bus.
    let undelivered = 0;
    for (const db of new Set([inventory, orders, cart, pricing])) {
      if (hasTable(db, 'events_outbox')) {
        undelivered += (
          db!.prepare('SELECT COUNT(*) AS n FROM events_outbox WHERE published = 0').get() as { n: number }
        ).n;
      }
    }
    if (hasTable(busDb, 'bus_deliveries')) {
      undelivered += (
        busDb!.prepare("SELECT COUNT(*) AS n FROM bus_deliveries WHERE status = 'pending'").get() as {
          n: number;
        }
      ).n;
    }
    const duplicatesSent = hasTable(busDb, 'bus_deliveries')
      ? (
          busDb!
            .prepare('SELECT COALESCE(SUM(sends - 1), 0) AS n FROM bus_deliveries WHERE sends > 1')
            .get() as { n: number }
        ).n
      : null;
    const requireDelivered = options.requireDelivered ?? true;
    out.push({
      name: `events-exactly-once${suffix}`,
      ok: problems.length === 0 && (!requireDelivered || undelivered === 0),
      count,
      details: {
        problems: problems.slice(0, 20),
        problemCount: problems.length,
        undelivered,
        duplicatesSent,
      },
    });
  }
  return out;
}

function dataDirsLabel(_dir: string): string {
  return '';
}
