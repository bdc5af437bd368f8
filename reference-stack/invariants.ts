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
 * Works on a monolith data directory (one shared database), a headless one (a database per service), or
 * a stack on the DynamoDB store (`verifyDynamoInvariants`): both are read into one snapshot
 * (`store/snapshot.ts`) and checked the same way.
 */
import type { DynamoStore } from './store/dynamodb.ts';
import { dynamoSnapshot, type StoreSnapshot, sqliteSnapshot } from './store/snapshot.ts';

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

/** Verifies the invariants of one or more data directories (one per stack, SQLite store). Read-only. */
export function verifyInvariants(dataDirs: string[], options: VerifyOptions = {}): InvariantReport {
  const checks: InvariantCheck[] = [];
  for (const dir of dataDirs) {
    const snap = sqliteSnapshot(dir);
    if (!snap) {
      checks.push({
        name: 'stores-present',
        ok: false,
        count: 0,
        details: { message: `no stack databases (inventory, orders, checkout) in ${dir}` },
      });
      continue;
    }
    checks.push(...checkSnapshot(snap, options));
  }
  return { ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}

/**
 * Verifies the invariants of a stack on the DynamoDB store; `busDir` is its data directory when the
 * headless bus (SQLite) should be counted for undelivered events. Read-only.
 */
export async function verifyDynamoInvariants(
  store: DynamoStore,
  busDir?: string,
  options: VerifyOptions = {},
): Promise<InvariantReport> {
  const checks = checkSnapshot(await dynamoSnapshot(store, busDir), options);
  return { ok: checks.every((c) => c.ok), checks };
}

/** The four checks over a snapshot of either store. */
export function checkSnapshot(snap: StoreSnapshot, options: VerifyOptions = {}): InvariantCheck[] {
  const out: InvariantCheck[] = [];

  // 1. No oversell.
  {
    const confirmed = new Map<string, number>();
    for (const o of snap.orders) {
      if (o.status !== 'confirmed') continue;
      for (const it of o.items) confirmed.set(it.sku, (confirmed.get(it.sku) ?? 0) + it.quantity);
    }
    const violations: unknown[] = [];
    for (const s of snap.stock) {
      const ordered = confirmed.get(s.sku) ?? 0;
      if (s.reserved < 0 || s.sold < 0 || s.reserved + s.sold > s.onHand || ordered > s.onHand) {
        violations.push({ sku: s.sku, onHand: s.onHand, reserved: s.reserved, sold: s.sold, ordered });
      }
    }
    out.push({
      name: 'no-oversell',
      ok: violations.length === 0,
      count: snap.stock.length,
      details: {
        violations: violations.slice(0, 20),
        violationCount: violations.length,
        unitsSold: snap.stock.reduce((a, s) => a + s.sold, 0),
      },
    });
  }

  // 2. Every acknowledged order exists exactly once with the acknowledged status.
  {
    const byId = new Map<string, { status: string; n: number }>();
    for (const o of snap.orders) {
      const e = byId.get(o.id);
      byId.set(o.id, { status: o.status, n: (e?.n ?? 0) + 1 });
    }
    const violations: unknown[] = [];
    const seen = new Set<string>();
    for (const a of snap.acked) {
      const row = byId.get(a.orderId) ?? { status: null, n: 0 };
      if (row.n !== 1 || row.status !== a.status || seen.has(a.orderId)) {
        violations.push({
          key: a.key,
          orderId: a.orderId,
          found: row.n,
          status: row.status,
          acknowledged: a.status,
        });
      }
      seen.add(a.orderId);
    }
    out.push({
      name: 'orders-exactly-once',
      ok: violations.length === 0,
      count: snap.acked.length,
      details: { violations: violations.slice(0, 20), violationCount: violations.length },
    });
  }

  // 3. No reservation outlives its expiry.
  {
    const late = snap.reservations
      .filter((r) => r.status === 'committed' && r.closedAt !== null && r.closedAt > r.expiresAt)
      .map(({ id, expiresAt, closedAt }) => ({ id, expiresAt, closedAt }));
    const stale = snap.reservations
      .filter((r) => r.status === 'held' && r.expiresAt < snap.lastSweepAt)
      .map(({ id, expiresAt }) => ({ id, expiresAt }));
    out.push({
      name: 'reservations-within-expiry',
      ok: late.length === 0 && stale.length === 0,
      count: snap.reservations.length,
      details: {
        committedAfterExpiry: late.slice(0, 20),
        heldPastExpiry: stale.slice(0, 20),
        lastSweepEventTime: Number.isFinite(snap.lastSweepAt) ? snap.lastSweepAt : null,
      },
    });
  }

  // 4. Every event's effect applied exactly once.
  {
    const problems: unknown[] = [];
    const payloadOf = (id: string) => snap.events.get(id)?.payload;
    let count = 0;
    // search: units sold per SKU = Σ OrderPlaced items; units held per SKU = Σ reserved − Σ released.
    if (snap.searchSold && snap.searchHeld) {
      const sold = new Map<string, number>();
      const held = new Map<string, number>();
      for (const p of snap.processed.search ?? []) {
        count++;
        const payload = payloadOf(p.id);
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
      const cmp = (table: string, actual: Map<string, number>, expected: Map<string, number>) => {
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
      cmp('search_sold', snap.searchSold, sold);
      cmp('search_held', snap.searchHeld, held);
    }
    // cart: carts marked ordered = OrderPlaced events processed by the cart consumer.
    if (snap.cartsOrdered !== undefined) {
      const ids = (snap.processed.cart ?? []).filter((p) => p.type === 'OrderPlaced');
      count += ids.length;
      const expected = ids.filter((p) => payloadOf(p.id)?.cartId).length;
      if (snap.cartsOrdered !== expected)
        problems.push({ consumer: 'cart', ordered: snap.cartsOrdered, expected });
    }
    // pricing: one recovery offer per CartAbandoned processed.
    if (snap.recoveryOffers !== undefined) {
      const ids = (snap.processed.pricing ?? []).filter((p) => p.type === 'CartAbandoned');
      count += ids.length;
      if (snap.recoveryOffers !== ids.length)
        problems.push({ consumer: 'pricing', offers: snap.recoveryOffers, expected: ids.length });
    }
    const requireDelivered = options.requireDelivered ?? true;
    out.push({
      name: 'events-exactly-once',
      ok: problems.length === 0 && (!requireDelivered || snap.undelivered === 0),
      count,
      details: {
        problems: problems.slice(0, 20),
        problemCount: problems.length,
        undelivered: snap.undelivered,
        duplicatesSent: snap.duplicatesSent,
      },
    });
  }
  return out;
}
