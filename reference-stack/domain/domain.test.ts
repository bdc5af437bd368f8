/**
 * Domain unit tests on each store, SQLite and DynamoDB (dynalite in this process), the monolith layout with a small catalog and a
 * hand-moved event clock: deal windows, reservations and their expiry, idempotent consumers and the
 * checkout's idempotency rules.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { createCatalog } from '../../scenarios/catalog.ts';
import { startDynalite, type TestDynamo } from '../../test/dynalite-helper.ts';
import {
  createHostedModules,
  type HostedModules,
  migrateHostedDynamo,
  runSweeps,
} from '../services/modules.ts';
import { type DynamoStore, ensureTables, localTableNames, openDynamoStore } from '../store/dynamodb.ts';
import { dynamoSnapshot, type StoreSnapshot, sqliteSnapshot } from '../store/snapshot.ts';
import { openDatabase } from '../store/sqlite.ts';
import { createDomainContext, type DomainEvent } from './context.ts';
import { isDomainError } from './errors.ts';
import { HISTORY_ORDERS_PER_CUSTOMER } from './orders.ts';
import { ftsQuery } from './search.ts';

const catalog = createCatalog({ products: 200, customers: 40 });
const ALL = ['catalog', 'search', 'pricing', 'cart', 'inventory', 'orders', 'checkout'] as const;

type StoreKind = 'sqlite' | 'dynamodb';
let dynalite: TestDynamo | undefined;
let tableSet = 0;

/** The monolith's modules on one store: a fresh SQLite file, or fresh DynamoDB tables on dynalite. */
async function setup(kind: StoreKind) {
  const clock = { t: 0 };
  const dir = mkdtempSync(join(tmpdir(), 'peakday-domain-'));
  let dynamo: DynamoStore | undefined;
  if (kind === 'dynamodb') {
    const config = {
      ...dynalite!.config,
      tables: localTableNames(`domain-${process.pid}-${++tableSet}`),
    };
    await ensureTables(config);
    dynamo = await openDynamoStore(config);
  }
  const db = openDatabase(join(dir, 'monolith.db'));
  const ctx = createDomainContext({
    db,
    ...(dynamo ? { dynamo } : {}),
    clock: { eventNow: () => clock.t, wallMs: () => Date.now() },
    catalog: () => catalog,
    store: { disabled: true },
    params: { reservationTtlSeconds: 600, cartAbandonSeconds: 1800 },
  });
  await migrateHostedDynamo(ctx, ALL);
  const { modules } = createHostedModules(ctx, ALL, {}, { sleep: async () => {} });
  /** The store's state as the invariants read it. */
  const snapshot = (): Promise<StoreSnapshot> =>
    dynamo ? dynamoSnapshot(dynamo) : Promise.resolve(sqliteSnapshot(dir)!);
  const close = () => {
    db.close();
    dynamo?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { m: modules as Required<HostedModules>, clock, snapshot, close };
}

beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(async () => {
  await dynalite?.stop();
});

async function rejects(p: Promise<unknown> | (() => unknown)): Promise<{ status: number; code: string }> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isDomainError(e)) return { status: e.status, code: e.code };
    throw e;
  }
  throw new Error('expected a DomainError');
}

describe.each(['sqlite', 'dynamodb'] as const)('domain on %s', (kind) => {
  let m: Required<HostedModules>;
  let clock: { t: number };
  let snapshot: () => Promise<StoreSnapshot>;
  let close: () => void;
  beforeEach(async () => {
    ({ m, clock, snapshot, close } = await setup(kind));
  });
  afterEach(() => close());
  const eventIds = async (type: string) =>
    [...(await snapshot()).events].filter(([, e]) => e.type === type).map(([id]) => id);

  it('prices a hot SKU with its lightning deal only inside the deal window', async () => {
    const deal = (await m.pricing.listDeals({})).items[1]!;
    const during = async (t: number) => {
      clock.t = t;
      return (await m.pricing.quote({ skus: [deal.sku], channel: 'web' }))[deal.sku]!;
    };
    expect((await during(deal.startsAt - 1)).dealId).toBeNull();
    const inside = await during(deal.startsAt + 1);
    expect(inside.dealId).toBe(deal.id);
    expect(inside.amount).toBeCloseTo(inside.listPrice * (1 - deal.discountPct / 100), 1);
    expect((await during(deal.endsAt)).dealId).toBeNull();
  });

  it('publishes PriceChanged when a deal window opens and closes, once each', async () => {
    const deal = (await m.pricing.listDeals({})).items[1]!;
    clock.t = deal.startsAt + 1;
    await m.pricing.tick();
    await m.pricing.tick();
    clock.t = deal.endsAt + 1;
    await m.pricing.tick();
    const ids = await eventIds('PriceChanged');
    expect(ids.filter((id) => id.includes(`${deal.id}:`)).sort()).toEqual([
      `PriceChanged:${deal.id}:closed`,
      `PriceChanged:${deal.id}:open`,
    ]);
  });

  it('gives the mobile app its channel price', async () => {
    const sku = catalog.products[50]!.sku;
    clock.t = 1e9;
    const web = (await m.pricing.quote({ skus: [sku], channel: 'web' }))[sku]!;
    const app = (await m.pricing.quote({ skus: [sku], channel: 'mobile-app' }))[sku]!;
    expect(app.amount).toBeLessThan(web.amount);
  });

  it('never reserves more than is available and releases expired reservations in the sweep', async () => {
    const p = catalog.products[7]!;
    await m.inventory.reserve({ reservationId: 'r1', items: [{ sku: p.sku, quantity: p.stock - 1 }] });
    expect(
      await rejects(() => m.inventory.reserve({ reservationId: 'r2', items: [{ sku: p.sku, quantity: 2 }] })),
    ).toEqual({
      status: 409,
      code: 'insufficient-stock',
    });
    expect((await m.inventory.availability({ skus: [p.sku] }))[p.sku]).toBe(1);
    clock.t = 601;
    expect(await runSweeps(m)).toBeGreaterThanOrEqual(1);
    expect((await m.inventory.availability({ skus: [p.sku] }))[p.sku]).toBe(p.stock);
    expect(await rejects(() => m.inventory.commit({ reservationId: 'r1' }))).toEqual({
      status: 409,
      code: 'reservation-expired',
    });
  });

  it('applies the same event once however often it is delivered', async () => {
    const e: DomainEvent = {
      id: 'OrderPlaced:o-1',
      type: 'OrderPlaced',
      at: 0,
      payload: { orderId: 'o-1', items: [{ sku: 'SKU-000001', quantity: 3 }] },
    };
    expect(await m.search.consume(e)).toBe(true);
    expect(await m.search.consume(e)).toBe(false);
    expect((await snapshot()).searchSold?.get('SKU-000001')).toBe(3);
  });

  it('abandons an idle cart once and gives its customer one recovery offer', async () => {
    const c = await m.cart.create({ channel: 'web', customerId: 'c-00001' });
    await m.cart.addItem({
      cartId: c.id,
      sku: 'SKU-000001',
      productId: 'p-000001',
      quantity: 1,
      unitPrice: 5,
    });
    clock.t = 1801;
    expect(await m.cart.tick()).toBe(1);
    expect(await m.cart.tick()).toBe(0);
    const [id, ...more] = await eventIds('CartAbandoned');
    expect(more).toEqual([]);
    const e: DomainEvent = {
      id: id!,
      type: 'CartAbandoned',
      at: clock.t,
      payload: (await snapshot()).events.get(id!)!.payload,
    };
    expect(e.payload).toMatchObject({ cartId: c.id, customerId: 'c-00001' });
    await m.pricing.consume(e);
    await m.pricing.consume(e);
    expect((await snapshot()).recoveryOffers).toBe(1);
  });

  it('replays a checkout for the same key, rejects the key with another request, and a second checkout of the cart', async () => {
    const c = await m.cart.create({ channel: 'web' });
    const p = catalog.products[9]!;
    await m.cart.addItem({ cartId: c.id, sku: p.sku, productId: p.id, quantity: 1, unitPrice: 1 });
    const first = await m.checkout.checkout({ cartId: c.id, paymentToken: 'tok_ok', idempotencyKey: 'k' });
    expect(first.status).toBe('confirmed');
    expect(await m.checkout.checkout({ cartId: c.id, paymentToken: 'tok_ok', idempotencyKey: 'k' })).toEqual(
      first,
    );
    expect(
      await rejects(m.checkout.checkout({ cartId: c.id, paymentToken: 'other', idempotencyKey: 'k' })),
    ).toEqual({
      status: 409,
      code: 'idempotency-conflict',
    });
    expect(
      await rejects(m.checkout.checkout({ cartId: c.id, paymentToken: 'tok_ok', idempotencyKey: 'k2' })),
    ).toEqual({
      status: 409,
      code: 'cart-already-checked-out',
    });
    expect((await snapshot()).orders.length).toBe(1);
  });

  it('records a declined payment as a payment_failed order and gives the stock back', async () => {
    const c = await m.cart.create({ channel: 'web' });
    const p = catalog.products[11]!;
    await m.cart.addItem({ cartId: c.id, sku: p.sku, productId: p.id, quantity: 2, unitPrice: 1 });
    const r = await m.checkout.checkout({ cartId: c.id, paymentToken: 'tok_decline', idempotencyKey: 'd' });
    expect(r.status).toBe('payment_failed');
    expect((await m.inventory.availability({ skus: [p.sku] }))[p.sku]).toBe(p.stock);
    expect(await eventIds('OrderPlaced')).toEqual([]);
    expect((await snapshot()).orders.map((o) => o.status)).toEqual(['payment_failed']);
  });

  it.each([
    ['wireless headphones', '"wireless"* "headphones"*'],
    ['  "; DROP TABLE --', '"drop"* "table"*'],
    ['***', null],
  ])('turns the search text %j into the safe FTS query %j', (q, expected) => {
    expect(ftsQuery(q)).toBe(expected);
  });
});

describe.each(['sqlite', 'dynamodb'] as const)('the seeded order history on %s', (kind) => {
  it('gives every customer past orders for the voice channel to check and reorder', async () => {
    const { m, close } = await setup(kind);
    onTestFinished(close);
    for (const c of catalog.customers.slice(0, 5)) {
      const { items } = await m.orders.listByCustomer({ customerId: c.id, limit: 10 });
      expect(items.length).toBe(HISTORY_ORDERS_PER_CUSTOMER);
      for (const o of items) {
        expect(o.createdAt).toBeLessThan(0);
        expect((await m.orders.get({ orderId: o.id }))?.status).toBe('confirmed');
      }
    }
  });
});
