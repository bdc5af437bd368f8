/**
 * The demand-table measurement: measures, in this process, the CPU time each internal method, each gateway
 * operation and each side of a service-to-service hop really takes (process.cpuUsage around batches
 * of calls on a monolith store seeded with the full default catalog), and prints the table that
 * `demand-table.ts` holds. Self time only: a method's nested calls and a gateway operation's module
 * calls are measured separately and subtracted. It also measures the mean body bytes of every page
 * and API operation (`pageBytes`, `apiBytes`: what `response-bytes.ts` holds), and prints
 * `tableBasisRatio` and `pageCpuMsOnTableBasis`: a part re-measured alone (the pages, 2026-12-03) is
 * put on the committed table's basis by the median ratio of the committed entries to this pass's
 * (`computeTableBasisRatio`), with the host's load average beside it.
 *
 *   node --import tsx reference-stack/capacity/measure-demand-table.ts            # print the measured table (JSON)
 *
 * The one scale factor is not measured; it is chosen in demand-table.ts (see its doc comment).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createCatalog } from '../../scenarios/catalog.ts';
import { createDomainContext, type DomainEvent } from '../domain/context.ts';
import { createApi } from '../gateway/api.ts';
import { ROUTES } from '../gateway/rest.ts';
import { consumeEvent, createHostedModules } from '../services/modules.ts';
import { openDatabase } from '../store/sqlite.ts';
import { CATEGORY_PAGE_SIZE, createStorefront, type PageMatch } from '../storefront/pages.ts';
import {
  API_OPERATION_IDS,
  type ApiOperationId,
  METHODS,
  type MethodName,
  PAGE_OPERATION_IDS,
  type PageOperationId,
} from '../topology.ts';
import { DEMAND_TABLE, type DemandTable } from './demand-table.ts';

/** CPU ms of `fn` averaged over `n` runs after `warm` warm-up runs. */
async function cpuMs(n: number, fn: (i: number) => unknown, warm = 20): Promise<number> {
  for (let i = 0; i < warm; i++) await fn(-1 - i);
  const t = process.cpuUsage();
  for (let i = 0; i < n; i++) await fn(i);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000 / n;
}

/** The GraphQL request measured: one product with its price and stock (the mobile app's product view). */
const GRAPHQL_PRODUCT_QUERY =
  'query($id: ID!){ product(id: $id){ id name price { amount } inventory { available } } }';

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** Runs the pass and returns the measured (unscaled) table. */
export async function measureDemandTable(n = 300): Promise<{
  methodCpuMs: Record<MethodName, number>;
  gatewayCpuMs: Record<ApiOperationId, number>;
  pageCpuMs: Record<PageOperationId, number>;
  hopClientCpuMs: number;
  hopServerCpuMs: number;
  eventConsumeCpuMs: number;
  storeCallCpuMs: number;
  /** Mean bytes of each page's HTML body. */
  pageBytes: Record<PageOperationId, number>;
  /** Mean bytes of each API operation's JSON body (getHealth's included). */
  apiBytes: Partial<Record<ApiOperationId, number>>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-calibrate-'));
  const catalog = createCatalog({});
  const db = openDatabase(join(dir, 'monolith.db'));
  let now = 0;
  const ctx = createDomainContext({
    db,
    clock: { eventNow: () => now, wallMs: () => Date.now() },
    catalog: () => catalog,
    store: { disabled: true },
  });
  const { modules: m, ports } = createHostedModules(
    ctx,
    ['catalog', 'search', 'pricing', 'cart', 'inventory', 'orders', 'checkout'],
    {},
    {
      sleep: async () => {},
    },
  );
  // Ports that measure the CPU each module call takes: the part before the call's first await, which
  // is all of it for the SQLite modules (their store calls are synchronous inside).
  let childCpu = 0;
  const measured = Object.fromEntries(
    Object.entries(ports).map(([name, port]) => [
      name,
      new Proxy(port as object, {
        get: (target, prop) => {
          const fn = (target as Record<string | symbol, unknown>)[prop];
          if (typeof fn !== 'function') return fn;
          return (args: unknown) => {
            const t = process.cpuUsage();
            const out = (fn as (a: unknown) => unknown)(args);
            const d = process.cpuUsage(t);
            childCpu += (d.user + d.system) / 1000;
            return out;
          };
        },
      }),
    ]),
  ) as unknown as typeof ports;
  const api = createApi(measured);
  const products = catalog.products.filter((p) => p.stock >= 200).slice(0, 2000);
  const pick = (i: number) => products[Math.abs(i) % products.length]!;
  const cart = await m.cart!.create({ channel: 'web', customerId: 'c-00001' });
  await m.cart!.addItem({
    cartId: cart.id,
    sku: pick(0).sku,
    productId: pick(0).id,
    quantity: 1,
    unitPrice: 10,
  });
  const order = await m.orders!.create({
    id: 'o-calibration',
    status: 'payment_failed',
    items: [{ sku: pick(0).sku, productId: pick(0).id, quantity: 1, unitPrice: 10 }],
    total: 10,
    currency: 'USD',
    channel: 'web',
    customerId: 'c-00001',
    storeId: null,
    cartId: null,
  });
  let seq = 0;
  const method: Record<MethodName, number> = {} as Record<MethodName, number>;
  const items = (i: number) => [{ sku: pick(i).sku, quantity: 1 }];
  method['catalog.listCategories'] = await cpuMs(n, () => m.catalog!.listCategories({}));
  method['catalog.listProducts'] = await cpuMs(n, (i) =>
    m.catalog!.listProducts({ category: pick(i).category, page: 1 + (Math.abs(i) % 3), limit: 20 }),
  );
  method['catalog.getProduct'] = await cpuMs(n, (i) => m.catalog!.getProduct({ id: pick(i).id }));
  method['catalog.resolveSkus'] = await cpuMs(n, (i) => m.catalog!.resolveSkus({ skus: [pick(i).sku] }));
  method['search.search'] = await cpuMs(n, (i) =>
    m.search!.search({ q: catalog.searchTerms[Math.abs(i) % catalog.searchTerms.length]!, limit: 20 }),
  );
  method['pricing.quote'] = await cpuMs(n, (i) =>
    m.pricing!.quote({ skus: Array.from({ length: 10 }, (_, k) => pick(i * 10 + k).sku), channel: 'web' }),
  );
  method['pricing.listDeals'] = await cpuMs(n, () => m.pricing!.listDeals({}));
  method['cart.create'] = await cpuMs(n, () => m.cart!.create({ channel: 'web', customerId: null }));
  method['cart.get'] = await cpuMs(n, () => m.cart!.get({ cartId: cart.id }));
  const carts: string[] = [];
  for (let i = 0; i < n + 40; i++) carts.push((await m.cart!.create({ channel: 'web' })).id);
  method['cart.addItem'] = await cpuMs(n, (i) =>
    m.cart!.addItem({
      cartId: carts[i + 20]!,
      sku: pick(i).sku,
      productId: pick(i).id,
      quantity: 1,
      unitPrice: 10,
    }),
  );
  method['cart.removeItem'] = await cpuMs(n, (i) =>
    m.cart!.removeItem({ cartId: carts[i + 20]!, sku: pick(i).sku }),
  );
  method['inventory.availability'] = await cpuMs(n, (i) =>
    m.inventory!.availability({ skus: [pick(i).sku] }),
  );
  method['inventory.reserve'] = await cpuMs(n, (i) =>
    m.inventory!.reserve({ reservationId: `cal-r-${i}`, items: items(i) }),
  );
  method['inventory.commit'] = await cpuMs(n, (i) => m.inventory!.commit({ reservationId: `cal-r-${i}` }), 0);
  for (let i = -20; i < n; i++) await m.inventory!.reserve({ reservationId: `cal-x-${i}`, items: items(i) });
  method['inventory.release'] = await cpuMs(n, (i) =>
    m.inventory!.release({ reservationId: `cal-x-${i}`, reason: 'calibration' }),
  );
  method['inventory.findStores'] = await cpuMs(n, (i) =>
    m.inventory!.findStores({ zip: catalog.stores[Math.abs(i) % 50]!.zip }),
  );
  method['inventory.storeInventory'] = await cpuMs(n, (i) =>
    m.inventory!.storeInventory({ storeId: 'store-001', sku: pick(i).sku }),
  );
  method['orders.create'] = await cpuMs(n, (i) =>
    m.orders!.create({ ...order, id: `o-cal-${i}`, status: 'confirmed', cartId: `cart-cal-${i}` }),
  );
  method['orders.get'] = await cpuMs(n, () => m.orders!.get({ orderId: order.id }));
  method['orders.listByCustomer'] = await cpuMs(n, () =>
    m.orders!.listByCustomer({ customerId: 'c-00001', limit: 10 }),
  );
  // Checkout: total minus its calls.
  const coCarts: string[] = [];
  for (let i = 0; i < n + 20; i++) {
    const c = await m.cart!.create({ channel: 'web' });
    await m.cart!.addItem({
      cartId: c.id,
      sku: pick(i).sku,
      productId: pick(i).id,
      quantity: 1,
      unitPrice: 10,
    });
    coCarts.push(c.id);
  }
  const coTotal = await cpuMs(n, (i) =>
    m.checkout!.checkout({
      cartId: coCarts[i + 20]!,
      paymentToken: 'tok_ok',
      idempotencyKey: `cal-${seq++}`,
    }),
  );
  const calls = METHODS['checkout.checkout'].calls as readonly MethodName[];
  method['checkout.checkout'] = Math.max(0.005, coTotal - calls.reduce((s, c) => s + method[c], 0));

  // Gateway: each REST operation's handler + JSON serialization, minus the CPU of its module calls
  // (measured call by call through the instrumented ports).
  const gcart = (await m.cart!.create({ channel: 'web', customerId: 'c-00001' })).id;
  const sample: Partial<
    Record<ApiOperationId, (i: number) => { params: Record<string, string>; body?: unknown; query?: string }>
  > = {
    listCategories: () => ({ params: {} }),
    listProducts: (i) => ({ params: {}, query: `category=${pick(i).category}&limit=20` }),
    getProduct: (i) => ({ params: { productId: pick(i).id } }),
    search: (i) => ({
      params: {},
      query: `q=${encodeURIComponent(catalog.searchTerms[Math.abs(i) % catalog.searchTerms.length]!)}&limit=20`,
    }),
    listDeals: () => ({ params: {} }),
    createCart: () => ({ params: {}, body: { channel: 'web' } }),
    getCart: () => ({ params: { cartId: cart.id } }),
    addCartItem: (i) => ({ params: { cartId: gcart }, body: { sku: pick(i + 100).sku, quantity: 1 } }),
    removeCartItem: (i) => ({ params: { cartId: gcart, sku: pick(i + 100).sku } }),
    getOrder: () => ({ params: { orderId: order.id } }),
    listCustomerOrders: () => ({ params: { customerId: 'c-00001' }, query: 'limit=10' }),
    reorder: () => ({ params: { orderId: order.id } }),
    listStores: (i) => ({ params: {}, query: `zip=${catalog.stores[Math.abs(i) % 50]!.zip}` }),
    getStoreInventory: (i) => ({ params: { storeId: 'store-001', sku: pick(i).sku } }),
  };
  const gateway = {} as Record<ApiOperationId, number>;
  const apiBytes = {} as Partial<Record<ApiOperationId, number>>;
  for (const op of API_OPERATION_IDS) {
    const route = ROUTES.find((r) => r.operation === op);
    const make = sample[op];
    if (!route || !make) continue;
    // The route as the gateway's router calls it, on a sample's parameters, query and body.
    const handle = (s: ReturnType<typeof make>) =>
      route.handle(
        api,
        {
          method: route.method,
          path: '',
          query: new URLSearchParams(s.query ?? ''),
          headers: {},
          body: s.body,
        },
        s.params,
      );
    const run = async (i: number) => {
      const r = await handle(make(i));
      JSON.stringify(r.body);
    };
    childCpu = 0;
    const total = await cpuMs(n, run, 0);
    gateway[op] = Math.max(0.005, total - childCpu / n);
    // Bytes outside the timed loop; a cart operation on a fresh cart of one or two lines (as the
    // journeys' carts are), not on the calibration's long-lived cart.
    apiBytes[op] = await meanBytes(Math.min(n, 50), async (i) => {
      let s = make(i + n);
      if (s.params.cartId) {
        const c = await api.createCart({ channel: 'web' });
        await api.addCartItem({ cartId: c.id, sku: pick(i + 7).sku, quantity: 1 });
        if (s.params.sku) await api.addCartItem({ cartId: c.id, sku: s.params.sku, quantity: 1 });
        s = { ...s, params: { ...s.params, cartId: c.id } };
      }
      const r = await handle(s);
      return r.body === undefined ? '' : JSON.stringify(r.body);
    });
  }
  gateway.getHealth = await cpuMs(n, () =>
    JSON.stringify({ status: 'ok', service: 'gateway', arch: 'monolith' }),
  );
  apiBytes.getHealth = Buffer.byteLength(
    JSON.stringify({ status: 'ok', service: 'gateway', arch: 'monolith' }),
  );
  // The checkout handler only validates and forwards (its module work is async and measured above).
  gateway.checkout = gateway.createCart;
  const checkoutRoute = ROUTES.find((r) => r.operation === 'checkout')!;
  apiBytes.checkout = await meanBytes(20, async (i) => {
    const c = await api.createCart({ channel: 'web' });
    await api.addCartItem({ cartId: c.id, sku: pick(i + 11).sku, quantity: 1 });
    const r = await checkoutRoute.handle(
      api,
      {
        method: 'POST',
        path: '/api/checkout',
        query: new URLSearchParams(),
        headers: { 'idempotency-key': `cal-bytes-${i}` },
        body: { cartId: c.id, paymentToken: 'tok_ok' },
      },
      {},
    );
    return JSON.stringify(r.body);
  });
  const { executeGraphql, prepareGraphql } = await import('../gateway/graphql.ts');
  childCpu = 0;
  const gqlTotal = await cpuMs(
    n,
    async (i) => {
      const p = prepareGraphql({
        query: GRAPHQL_PRODUCT_QUERY,
        variables: { id: pick(i).id },
      });
      if (!('status' in p)) JSON.stringify((await executeGraphql(api, p)).body);
    },
    0,
  );
  gateway.graphql = Math.max(0.005, gqlTotal - childCpu / n - gateway.getProduct);
  apiBytes.graphql = await meanBytes(Math.min(n, 50), async (i) => {
    const p = prepareGraphql({ query: GRAPHQL_PRODUCT_QUERY, variables: { id: pick(i).id } });
    return 'status' in p ? '' : JSON.stringify((await executeGraphql(api, p)).body);
  });

  // Pages: the storefront's render (session cookie, template, escaping) minus the use cases it calls:
  // each page is measured whole, then its data fetches alone with the same inputs.
  const pages = await measurePageCpu(api, n, (i) => pick(i), cart.id);

  // Hop: one JSON round trip (a ~1 KB product) through node:http and undici, both sides in this process.
  const payload = JSON.stringify({ result: await m.catalog!.getProduct({ id: pick(5).id }) });
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString() || '{}');
      res.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/rpc/catalog.getProduct`;
  const hop = await cpuMs(n, async () => {
    const res = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'p-000001' }),
    });
    JSON.parse(await res.body.text());
  });
  server.close();

  // Event consumption: one new OrderPlaced applied by the cart and search consumers.
  const consume = await cpuMs(n, (i) => {
    const e: DomainEvent = {
      id: `cal-e-${i}`,
      type: 'OrderPlaced',
      at: now,
      payload: { orderId: `x${i}`, cartId: null, items: items(i) },
    };
    return consumeEvent(m, ['search'], e);
  });
  now += 1;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  const round = <T extends Record<string, number>>(o: T) =>
    Object.fromEntries(Object.entries(o).map(([k, v]) => [k, r4(v)])) as T;
  return {
    methodCpuMs: round(method),
    gatewayCpuMs: round(gateway),
    pageCpuMs: round(pages.cpu),
    pageBytes: pages.bytes,
    apiBytes,
    // Split of the round trip between the two sides: assumption, 55% client (undici + JSON.parse) / 45% server.
    hopClientCpuMs: r4(hop * 0.55),
    hopServerCpuMs: r4(hop * 0.45),
    eventConsumeCpuMs: r4(consume),
    // A store round trip on AWS is the AWS SDK's HTTPS call: its client side costs what ours does.
    storeCallCpuMs: r4(hop * 0.55),
  };
}

/**
 * Self CPU of each page: render with its data minus the data fetches alone (same inputs); and the
 * mean bytes of each page's HTML.
 */
async function measurePageCpu(
  api: ReturnType<typeof createApi>,
  n: number,
  pick: (i: number) => { id: string; category: string },
  cartId: string,
): Promise<{ cpu: Record<PageOperationId, number>; bytes: Record<PageOperationId, number> }> {
  const none = new URLSearchParams();
  // One storefront for every page, as a task has: its navigation cache is warm after the warm-up runs.
  const storefront = createStorefront(api);
  const render = (match: PageMatch, headers: Record<string, string> = {}) =>
    storefront.render(match, { query: none, headers });
  const cases: Record<
    PageOperationId,
    { page: (i: number) => Promise<unknown>; data: (i: number) => Promise<unknown> }
  > = {
    getHomePage: {
      page: () => render({ page: 'getHomePage', params: {} }),
      data: () => Promise.all([api.listCategories(), api.listDeals()]),
    },
    getCategoryPage: {
      page: (i) => render({ page: 'getCategoryPage', params: { category: pick(i).category } }),
      data: (i) =>
        api.listProducts({ category: pick(i).category, page: 1, limit: CATEGORY_PAGE_SIZE, channel: 'web' }),
    },
    getProductPage: {
      page: (i) => render({ page: 'getProductPage', params: { productId: pick(i).id } }),
      data: (i) => api.getProduct({ id: pick(i).id, channel: 'web' }),
    },
    getCartPage: {
      page: () => render({ page: 'getCartPage', params: {} }, { cookie: `peakday_cart=${cartId}` }),
      data: () => api.getCart({ cartId }),
    },
  };
  const cpu = {} as Record<PageOperationId, number>;
  const bytes = {} as Record<PageOperationId, number>;
  for (const p of PAGE_OPERATION_IDS) {
    const c = cases[p];
    const whole = await cpuMs(n, c.page);
    const data = await cpuMs(n, c.data);
    cpu[p] = Math.max(0.005, whole - data);
    // Bytes of the body, outside the timed loops: the mean over the same inputs.
    bytes[p] = await meanBytes(n, async (i) => ((await c.page(i)) as { text: string }).text);
  }
  return { cpu, bytes };
}

/** Mean UTF-8 bytes of `n` bodies (a page's HTML, an operation's JSON). */
async function meanBytes(n: number, body: (i: number) => Promise<string> | string): Promise<number> {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Buffer.byteLength(await body(i));
  return Math.round(sum / n);
}

/**
 * The ratio that puts a new measurement on the committed table's basis: the median, over every entry
 * both hold (methods, gateway operations, the hop, the event consumption), of committed ÷ measured.
 * The committed table was measured on a host in another state (load, CPU frequency); a part
 * re-measured alone (the pages) is multiplied by this so that it and the rest share one basis.
 */
export function computeTableBasisRatio(
  committed: Pick<DemandTable, 'methodCpuMs' | 'gatewayCpuMs' | 'hopClientCpuMs' | 'eventConsumeCpuMs'>,
  measured: Pick<DemandTable, 'methodCpuMs' | 'gatewayCpuMs' | 'hopClientCpuMs' | 'eventConsumeCpuMs'>,
): number {
  const ratios: number[] = [];
  const add = (a: number | undefined, b: number | undefined) => {
    if (a !== undefined && b !== undefined && a > 0.005 && b > 0.005) ratios.push(a / b);
  };
  for (const [k, v] of Object.entries(committed.methodCpuMs)) add(v, measured.methodCpuMs[k as MethodName]);
  for (const [k, v] of Object.entries(committed.gatewayCpuMs))
    if (k !== 'checkout' && k !== 'getHealth') add(v, measured.gatewayCpuMs[k as ApiOperationId]);
  add(committed.hopClientCpuMs, measured.hopClientCpuMs);
  add(committed.eventConsumeCpuMs, measured.eventConsumeCpuMs);
  ratios.sort((a, b) => a - b);
  if (ratios.length === 0) return 1;
  const mid = ratios.length >> 1;
  return ratios.length % 2 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await measureDemandTable(Number(process.env.DEMAND_TABLE_N ?? 300));
  const ratio = computeTableBasisRatio(DEMAND_TABLE, out);
  const onTableBasis = Object.fromEntries(Object.entries(out.pageCpuMs).map(([k, v]) => [k, r4(v * ratio)]));
  process.stdout.write(
    `${JSON.stringify(
      {
        measuredAt: new Date().toISOString(),
        node: process.version,
        loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
        ...out,
        tableBasisRatio: r4(ratio),
        pageCpuMsOnTableBasis: onTableBasis,
      },
      null,
      2,
    )}\n`,
  );
}
