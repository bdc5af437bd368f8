/**
 * Inventory on DynamoDB. Never oversells without transactions: each SKU's item in the `stock` table
 * carries `available` (= onHand − reserved − sold) and the set of reservations holding it (`holds`),
 * and a reservation line is one conditional update, `available >= :q AND NOT contains(holds, :r)`,
 * so concurrent checkouts on any number of tasks serialize on the item and a retried line is
 * never applied twice. A reservation is its own item (`res#<id>`) moving through
 * pending → held → committing → committed or releasing → released | expired; every step is a
 * conditional write, so a step cut short (a crash, a timeout) is resumed, not repeated, by the next
 * call or the sweep. A held reservation is also listed under the `#held` partition, sorted by
 * expiry, so the sweep finds due ones with one query.
 */
import { zipDistanceKm } from '../../../scenarios/catalog.ts';
import { charge, type DomainContext } from '../../domain/context.ts';
import { DomainError, notFound } from '../../domain/errors.ts';
import {
  type InventoryModule,
  type Reservation,
  type ReservationItem,
  storeUnits,
} from '../../domain/inventory.ts';
import type { DynamoStore, Item } from '../dynamodb.ts';
import { recordEventDynamo, seedOnceDynamo } from './common.ts';

/** The location of the online stock (the stock table's sort key). */
export const ONLINE = 'online';

const resKey = (id: string) => ({ sku: `res#${id}`, location: '-' });
/** Sort key of a held reservation under `#held`: expiry (event s, offset and zero-padded) then id. */
export function heldLocation(expiresAt: number, id: string): string {
  return `${(expiresAt + 1e9).toFixed(3).padStart(16, '0')}#${id}`;
}

/** Seeds the stock items from the catalog generator (once per table). */
export async function migrateInventoryDynamo(ctx: DomainContext, s: DynamoStore): Promise<void> {
  await seedOnceDynamo(s, { table: 'stock', key: { sku: '#meta', location: 'seeded' } }, async () => {
    await s.putMany(
      'stock',
      ctx.catalog().products.map((p) => ({
        sku: p.sku,
        location: ONLINE,
        onHand: p.stock,
        available: p.stock,
        reserved: 0,
        sold: 0,
      })),
    );
  });
}

interface ResItem {
  status: string;
  expiresAt: number;
  items: ReservationItem[];
  closingAt?: number;
  closingStatus?: 'released' | 'expired';
  reason?: string;
}

/** The inventory module over DynamoDB. */
export function createDynamoInventoryModule(ctx: DomainContext, s: DynamoStore): InventoryModule {
  const readRes = async (id: string): Promise<ResItem | undefined> => {
    const r = await s.get('stock', resKey(id));
    if (!r) return undefined;
    return { ...(r as unknown as ResItem), items: JSON.parse(String(r.items)) as ReservationItem[] };
  };
  const view = (id: string, r: ResItem): Reservation => ({
    id,
    status: (['pending', 'held'].includes(r.status)
      ? 'held'
      : r.status === 'committing'
        ? 'committed'
        : r.status === 'releasing'
          ? (r.closingStatus ?? 'released')
          : r.status) as Reservation['status'],
    expiresAt: r.expiresAt,
    items: r.items,
  });
  const rid = (id: string) => new Set([id]);

  /** Gives a line's units back (no-op when the line is not held by this reservation). */
  const unholdLine = (id: string, it: ReservationItem) =>
    s.update(
      'stock',
      { sku: it.sku, location: ONLINE },
      'SET available = available + :q, reserved = reserved - :q DELETE holds :r',
      { condition: 'contains(holds, :id)', values: { ':q': it.quantity, ':r': rid(id), ':id': id } },
    );

  /** Releases (or expires) a pending, held or releasing reservation; resumable. */
  const releaseRes = async (
    id: string,
    r: ResItem,
    status: 'released' | 'expired',
    reason: string,
    now: number,
  ): Promise<boolean> => {
    let closing = r;
    if (r.status !== 'releasing') {
      const u = await s.update(
        'stock',
        resKey(id),
        'SET #s = :releasing, closingStatus = :cs, reason = :reason, closingAt = :now',
        {
          condition: '#s IN (:pending, :held)',
          names: { '#s': 'status' },
          values: {
            ':releasing': 'releasing',
            ':cs': status,
            ':reason': reason,
            ':now': now,
            ':pending': 'pending',
            ':held': 'held',
          },
        },
      );
      if (!u) return false;
      closing = { ...r, status: 'releasing', closingStatus: status, reason, closingAt: now };
    }
    for (const it of closing.items) await unholdLine(id, it);
    const at = closing.closingAt ?? now;
    await recordEventDynamo(s, {
      id: `InventoryReleased:${id}`,
      type: 'InventoryReleased',
      at,
      payload: { reservationId: id, items: closing.items, reason: closing.reason ?? reason },
    });
    await s.update('stock', resKey(id), 'SET #s = :final, closedAt = :at', {
      condition: '#s = :releasing',
      names: { '#s': 'status' },
      values: { ':final': closing.closingStatus ?? status, ':at': at, ':releasing': 'releasing' },
    });
    await s.delete('stock', { sku: '#held', location: heldLocation(closing.expiresAt, id) });
    return true;
  };

  /** Moves every line of a committing reservation from reserved to sold; resumable. */
  const finishCommit = async (id: string, r: ResItem): Promise<void> => {
    for (const it of r.items) {
      await s.update(
        'stock',
        { sku: it.sku, location: ONLINE },
        'SET reserved = reserved - :q, sold = sold + :q DELETE holds :r',
        { condition: 'contains(holds, :id)', values: { ':q': it.quantity, ':r': rid(id), ':id': id } },
      );
    }
    await s.update('stock', resKey(id), 'SET #s = :committed, closedAt = closingAt', {
      condition: '#s = :committing',
      names: { '#s': 'status' },
      values: { ':committed': 'committed', ':committing': 'committing' },
    });
    await s.delete('stock', { sku: '#held', location: heldLocation(r.expiresAt, id) });
  };

  /** Applies the remaining lines of a pending reservation and marks it held. */
  const applyPending = async (id: string, r: ResItem): Promise<Reservation> => {
    const done: ReservationItem[] = [];
    for (const it of r.items) {
      const ok = await s.update(
        'stock',
        { sku: it.sku, location: ONLINE },
        'SET available = available - :q, reserved = reserved + :q ADD holds :r',
        {
          condition: 'attribute_exists(sku) AND available >= :q AND NOT contains(holds, :id)',
          values: { ':q': it.quantity, ':r': rid(id), ':id': id },
        },
      );
      if (!ok) {
        const item = await s.get('stock', { sku: it.sku, location: ONLINE });
        const held = item?.holds instanceof Set && item.holds.has(id);
        if (!held) {
          // Not enough: give back the lines taken and forget the reservation.
          for (const d of done) await unholdLine(id, d);
          for (const other of r.items) if (!done.includes(other)) await unholdLine(id, other);
          await s.delete('stock', resKey(id), {
            condition: '#s = :pending',
            names: { '#s': 'status' },
            values: { ':pending': 'pending' },
          });
          await s.delete('stock', { sku: '#held', location: heldLocation(r.expiresAt, id) });
          if (!item) throw notFound('sku', it.sku);
          const available = Number(item.available);
          throw new DomainError(
            409,
            'insufficient-stock',
            `only ${available} of ${it.sku} available, ${it.quantity} requested`,
            { sku: it.sku, available, requested: it.quantity },
          );
        }
      }
      done.push(it);
    }
    await recordEventDynamo(s, {
      id: `InventoryReserved:${id}`,
      type: 'InventoryReserved',
      at: r.expiresAt - ctx.params.reservationTtlSeconds,
      payload: { reservationId: id, items: r.items, expiresAt: r.expiresAt },
    });
    await s.update('stock', resKey(id), 'SET #s = :held', {
      condition: '#s = :pending',
      names: { '#s': 'status' },
      values: { ':held': 'held', ':pending': 'pending' },
    });
    return { id, status: 'held', expiresAt: r.expiresAt, items: r.items };
  };

  const lapsed = (id: string, status: string) =>
    new DomainError(409, 'reservation-expired', `reservation ${id} is no longer held`, { status });

  return {
    async availability({ skus }) {
      const out: Record<string, number> = {};
      for (const sku of skus) {
        charge(ctx, 'stock', sku, 'read');
        const it = await s.get('stock', { sku, location: ONLINE });
        if (it) out[sku] = Number(it.available);
      }
      return out;
    },
    async reserve({ reservationId, items }) {
      for (const it of items) charge(ctx, 'stock', it.sku, 'write', 2);
      const existing = await readRes(reservationId);
      let r: ResItem;
      if (existing && existing.status !== 'pending') return view(reservationId, existing);
      if (existing) r = existing;
      else {
        for (const it of items) {
          if (!(await s.get('stock', { sku: it.sku, location: ONLINE }))) throw notFound('sku', it.sku);
        }
        const now = ctx.clock.eventNow();
        r = { status: 'pending', expiresAt: now + ctx.params.reservationTtlSeconds, items };
        // Listed for the sweep first, so a reservation cut short is still found and released.
        await s.put('stock', {
          sku: '#held',
          location: heldLocation(r.expiresAt, reservationId),
          reservationId,
        });
        const created = await s.put(
          'stock',
          {
            ...resKey(reservationId),
            status: 'pending',
            createdAt: now,
            expiresAt: r.expiresAt,
            items: JSON.stringify(items),
          },
          { condition: 'attribute_not_exists(sku)' },
        );
        if (!created) {
          await s.delete('stock', { sku: '#held', location: heldLocation(r.expiresAt, reservationId) });
          const again = await readRes(reservationId);
          if (!again)
            throw new DomainError(503, 'store-conflict', 'reservation changed concurrently', undefined, 1);
          if (again.status !== 'pending') return view(reservationId, again);
          r = again;
        }
      }
      const out = await applyPending(reservationId, r);
      ctx.onEventsWritten();
      return out;
    },
    async commit({ reservationId }) {
      let r = await readRes(reservationId);
      if (!r) throw notFound('reservation', reservationId);
      if (r.status === 'committed') return view(reservationId, r);
      const now = ctx.clock.eventNow();
      if (r.status === 'held' && r.expiresAt < now) {
        await releaseRes(reservationId, r, 'expired', 'expired', now);
        ctx.onEventsWritten();
        throw lapsed(reservationId, (await readRes(reservationId))?.status ?? 'unknown');
      }
      if (r.status === 'held') {
        const u = await s.update('stock', resKey(reservationId), 'SET #s = :committing, closingAt = :now', {
          condition: '#s = :held AND expiresAt >= :now',
          names: { '#s': 'status' },
          values: { ':committing': 'committing', ':held': 'held', ':now': now },
        });
        r = u ? { ...r, status: 'committing' } : ((await readRes(reservationId)) ?? r);
      }
      if (r.status === 'committing') {
        for (const it of r.items) charge(ctx, 'stock', it.sku, 'write');
        await finishCommit(reservationId, r);
        return { id: reservationId, status: 'committed', expiresAt: r.expiresAt, items: r.items };
      }
      if (r.status === 'committed') return view(reservationId, r);
      throw lapsed(reservationId, view(reservationId, r).status);
    },
    async release({ reservationId, reason }) {
      const r = await readRes(reservationId);
      if (!r) throw notFound('reservation', reservationId);
      if (['held', 'pending', 'releasing'].includes(r.status)) {
        await releaseRes(reservationId, r, 'released', reason, ctx.clock.eventNow());
        ctx.onEventsWritten();
      }
      return view(reservationId, (await readRes(reservationId))!);
    },
    async findStores({ zip, limit = 5 }) {
      charge(ctx, 'stores', zip, 'read');
      const items = ctx
        .catalog()
        .stores.map((st) => ({
          id: st.id,
          name: st.name,
          zip: st.zip,
          distanceKm: Math.round(zipDistanceKm(zip, st.zip) * 10) / 10,
        }))
        .sort((a, b) => a.distanceKm - b.distanceKm || a.id.localeCompare(b.id))
        .slice(0, limit);
      return { items };
    },
    async storeInventory({ storeId, sku }) {
      charge(ctx, 'stores', storeId, 'read');
      if (!ctx.catalog().stores.some((st) => st.id === storeId)) throw notFound('store', storeId);
      if (!(await s.get('stock', { sku, location: ONLINE }, false))) throw notFound('sku', sku);
      return { storeId, sku, available: storeUnits(storeId, sku) };
    },
    async tick() {
      const now = ctx.clock.eventNow();
      const due = await s.query('stock', 'sku = :h AND #l < :cut', {
        names: { '#l': 'location' },
        values: { ':h': '#held', ':cut': heldLocation(now, '') },
        limit: 500,
      });
      let n = 0;
      for (const d of due as Item[]) {
        const id = String(d.reservationId);
        const r = await readRes(id);
        if (!r) {
          await s.delete('stock', { sku: '#held', location: String(d.location) });
          continue;
        }
        if (r.status === 'committing') await finishCommit(id, r);
        else if (['held', 'pending', 'releasing'].includes(r.status)) {
          if (await releaseRes(id, r, 'expired', 'expired', now)) n++;
          else if (r.status === 'releasing') n++;
        } else await s.delete('stock', { sku: '#held', location: String(d.location) });
      }
      await s.update('stock', { sku: '#meta', location: 'lastSweepAt' }, 'SET v = :now', {
        condition: 'attribute_not_exists(v) OR v < :now',
        values: { ':now': now },
      });
      if (n > 0) ctx.onEventsWritten();
      return n;
    },
  };
}
