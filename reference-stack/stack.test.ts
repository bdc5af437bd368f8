/**
 * The reference stack from its clients' side: every topology started in-process (one replica per
 * deployable, real HTTP on 127.0.0.1), every API operation called and its response validated against
 * the contract (scenarios/contract), bad input answered with a 4xx in the error format, and a
 * concurrent flash sale on one hot SKU that must keep every invariant.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCatalog } from '../scenarios/catalog.ts';
import { validateResponse } from '../scenarios/contract/contract.ts';
import { startDynalite, type TestDynamo } from '../test/dynalite-helper.ts';
import { startTestStack, type TestStack } from '../test/stack-helper.ts';
import { type InvariantReport, verifyDynamoInvariants, verifyInvariants } from './invariants.ts';
import { openDynamoStore } from './store/dynamodb.ts';

interface Reply {
  status: number;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Reply> {
  const res = await request(`${base}${path}`, {
    method: method as 'GET',
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.body.text();
  return { status: res.statusCode, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

function expectContract(operationId: string, r: Reply): void {
  const v = validateResponse(operationId, r.status, r.body);
  expect({ operationId, status: r.status, errors: v.errors }).toEqual({
    operationId,
    status: r.status,
    errors: [],
  });
}

const catalog = createCatalog({ products: 500 });
const byStock = [...catalog.products].sort((a, b) => a.stock - b.stock);
const lowStock = byStock[0]!;
const scarce = byStock[1]!;

describe.each([
  ['monolith', 'sqlite'],
  ['headless', 'sqlite'],
  ['monolith', 'dynamodb'],
  ['headless', 'dynamodb'],
] as const)('the %s topology on %s', (arch, storeKind) => {
  let stack: TestStack;
  let dynalite: TestDynamo | undefined;
  // DynamoDB through dynalite is slower than SQLite (every store call a local HTTP request, seeding
  // by batches): on a loaded shared host the default timeouts are too short for it.
  const timeout = storeKind === 'dynamodb' ? 240_000 : undefined;
  beforeAll(async () => {
    if (storeKind === 'dynamodb') dynalite = await startDynalite();
    stack = await startTestStack(arch, dynalite ? { dynamodb: dynalite.config } : {});
  }, timeout);
  afterAll(async () => {
    await stack?.stop();
    await dynalite?.stop();
  }, timeout);
  /** The invariants, read from the store the stack runs on. */
  const verify = async (): Promise<InvariantReport> => {
    if (!dynalite) return verifyInvariants([stack.dataDir]);
    const store = await openDynamoStore(dynalite.config);
    try {
      return await verifyDynamoInvariants(store, stack.dataDir);
    } finally {
      store.close();
    }
  };

  it(
    'answers every REST operation with a response that validates against the contract',
    async () => {
      const u = stack.url;
      const p = catalog.products[3]!;
      expectContract('getHealth', await call(u, 'GET', '/health'));
      expectContract('listCategories', await call(u, 'GET', '/api/categories'));
      const list = await call(
        u,
        'GET',
        `/api/products?category=${p.category}&page=1&limit=5&channel=mobile-app`,
      );
      expectContract('listProducts', list);
      expect((list.body as { items: unknown[] }).items.length).toBeGreaterThan(0);
      expectContract('getProduct', await call(u, 'GET', `/api/products/${p.id}?channel=pos`));
      const s = await call(u, 'GET', `/api/search?q=${encodeURIComponent(catalog.searchTerms[0]!)}&limit=5`);
      expectContract('search', s);
      expectContract('listDeals', await call(u, 'GET', '/api/deals'));
      const cart = await call(u, 'POST', '/api/carts', { channel: 'web', customerId: 'c-00007' });
      expectContract('createCart', cart);
      const cartId = (cart.body as { id: string }).id;
      expectContract(
        'addCartItem',
        await call(u, 'POST', `/api/carts/${cartId}/items`, { sku: p.sku, quantity: 2 }),
      );
      expectContract(
        'addCartItem',
        await call(u, 'POST', `/api/carts/${cartId}/items`, { sku: catalog.products[4]!.sku, quantity: 1 }),
      );
      expectContract(
        'removeCartItem',
        await call(u, 'DELETE', `/api/carts/${cartId}/items/${catalog.products[4]!.sku}`),
      );
      const got = await call(u, 'GET', `/api/carts/${cartId}`);
      expectContract('getCart', got);
      expect((got.body as { items: unknown[] }).items).toHaveLength(1);
      const co = await call(
        u,
        'POST',
        '/api/checkout',
        { cartId, paymentToken: 'tok_ok', customerId: 'c-00007' },
        { 'idempotency-key': `k-${arch}-1` },
      );
      expectContract('checkout', co);
      expect(co.status).toBe(201);
      const orderId = (co.body as { orderId: string }).orderId;
      const again = await call(
        u,
        'POST',
        '/api/checkout',
        { cartId, paymentToken: 'tok_ok', customerId: 'c-00007' },
        { 'idempotency-key': `k-${arch}-1` },
      );
      expect(again.body).toEqual(co.body);
      expectContract('getOrder', await call(u, 'GET', `/api/orders/${orderId}`));
      const mine = await call(u, 'GET', '/api/customers/c-00007/orders?limit=5');
      expectContract('listCustomerOrders', mine);
      expect((mine.body as { items: { id: string }[] }).items.map((i) => i.id)).toContain(orderId);
      const re = await call(u, 'POST', `/api/orders/${orderId}/reorder`);
      expectContract('reorder', re);
      expect(re.status).toBe(201);
      expectContract('listStores', await call(u, 'GET', `/api/stores?zip=${catalog.stores[0]!.zip}`));
      expectContract(
        'getStoreInventory',
        await call(u, 'GET', `/api/stores/${catalog.stores[0]!.id}/inventory/${p.sku}`),
      );
    },
    timeout,
  );

  it(
    'answers the mobile app GraphQL operations with valid responses',
    async () => {
      const u = stack.url;
      const gql = (query: string, variables?: Record<string, unknown>) =>
        call(u, 'POST', '/graphql', { query, variables });
      const p = catalog.products[5]!;
      const product = await gql(
        'query($id: ID!){ product(id: $id, channel: "mobile-app"){ id name price { amount dealId } inventory { available } attributes } }',
        { id: p.id },
      );
      expectContract('graphql', product);
      expect((product.body as { data: { product: { id: string } } }).data.product.id).toBe(p.id);
      const page = await gql(
        '{ products(first: 3){ items { id description } total endCursor hasNextPage } deals { id startsAt } search(q: "a"){ total facets { brand { value count } } } }',
      );
      expectContract('graphql', page);
      const created = await gql('mutation { createCart(channel: "mobile-app"){ id } }');
      const cartId = (created.body as { data: { createCart: { id: string } } }).data.createCart.id;
      const added = await gql(
        'mutation($c: ID!, $s: String!){ addToCart(cartId: $c, sku: $s, quantity: 1){ id total items { sku quantity } } }',
        { c: cartId, s: p.sku },
      );
      expectContract('graphql', added);
      const tooMany = await gql(
        'mutation($c: ID!, $s: String!){ addToCart(cartId: $c, sku: $s, quantity: 90){ id } }',
        {
          c: cartId,
          s: scarce.sku,
        },
      );
      expectContract('graphql', tooMany);
      expect(
        (tooMany.body as { errors: { extensions: { code: string } }[] }).errors[0]?.extensions.code,
      ).toBe('insufficient-stock');
      const paid = await gql(
        'mutation($c: ID!){ checkout(cartId: $c, paymentToken: "tok_ok", idempotencyKey: "gql-1"){ orderId status total } }',
        { c: cartId },
      );
      expectContract('graphql', paid);
      expect((paid.body as { data: { checkout: { status: string } } }).data.checkout.status).toBe(
        'confirmed',
      );
      const missing = await gql('{ cart(id: "nope"){ id } order(id: "nope"){ id } }');
      expect(missing.body).toEqual({ data: { cart: null, order: null } });
    },
    timeout,
  );

  it.each([
    ['malformed JSON', 'POST', '/api/carts', '{"channel": ', 400, 'createCart'],
    ['a wrong type', 'POST', '/api/carts/x/items', { sku: 'SKU-000001', quantity: '2' }, 400, 'addCartItem'],
    ['an unknown field', 'POST', '/api/carts', { channel: 'web', admin: true }, 400, 'createCart'],
    [
      'a quantity out of range',
      'POST',
      '/api/carts/x/items',
      { sku: 'SKU-000001', quantity: 0 },
      400,
      'addCartItem',
    ],
    ['an oversized body', 'POST', '/api/carts', { channel: 'x'.repeat(70_000) }, 413, null],
    ['an unknown product', 'GET', '/api/products/p-999999', undefined, 404, 'getProduct'],
    ['a malformed product id', 'GET', '/api/products/banana', undefined, 400, 'getProduct'],
    ['an unknown cart', 'GET', '/api/carts/cart-none', undefined, 404, 'getCart'],
    ['an unknown order', 'GET', '/api/orders/o-none', undefined, 404, 'getOrder'],
    ['a limit that is not a number', 'GET', '/api/products?limit=lots', undefined, 400, 'listProducts'],
    ['a search without q', 'GET', '/api/search', undefined, 400, 'search'],
    ['a bad zip', 'GET', '/api/stores?zip=12', undefined, 400, 'listStores'],
    [
      'an unknown store',
      'GET',
      '/api/stores/store-999/inventory/SKU-000001',
      undefined,
      404,
      'getStoreInventory',
    ],
    [
      'a checkout without Idempotency-Key',
      'POST',
      '/api/checkout',
      { cartId: 'x', paymentToken: 't' },
      400,
      'checkout',
    ],
    [
      'a checkout of an unknown cart',
      'POST',
      '/api/checkout',
      { cartId: 'cart-none', paymentToken: 't' },
      404,
      'checkout',
    ],
    ['an unknown route', 'GET', '/api/nothing', undefined, 404, null],
    ['a wrong method', 'PUT', '/api/categories', undefined, 405, null],
    ['a GraphQL syntax error', 'POST', '/graphql', { query: '{ product(id: }' }, 400, 'graphql'],
    ['a GraphQL unknown field', 'POST', '/graphql', { query: '{ nothing }' }, 400, 'graphql'],
    [
      'a GraphQL variable of the wrong type',
      'POST',
      '/graphql',
      { query: 'query($id: ID!){ product(id: $id){ id } }', variables: { id: [1] } },
      400,
      'graphql',
    ],
    ['a GraphQL body that is not an object', 'POST', '/graphql', '[1,2]', 400, 'graphql'],
  ])(
    'answers %s with %s… the error format, never a 500',
    async (_name, method, path, body, status, op) => {
      const headers: Record<string, string> =
        path === '/api/checkout' && (body as { cartId?: string }).cartId === 'cart-none'
          ? { 'idempotency-key': `bad-${arch}` }
          : {};
      const r = await call(stack.url, method, path, body, headers);
      expect(r.status).toBe(status);
      if (op) expectContract(op, r);
      if (path !== '/graphql')
        expect((r.body as { error: { code: string } }).error.code).toMatch(/^[a-z0-9-]+$/);
    },
    timeout,
  );

  it(
    'keeps every invariant under a concurrent flash sale on one hot SKU',
    async () => {
      const u = stack.url;
      const buyers = lowStock.stock + 9;
      const carts = await Promise.all(
        Array.from({ length: buyers }, async () => {
          const c = await call(u, 'POST', '/api/carts', { channel: 'web' });
          const id = (c.body as { id: string }).id;
          const a = await call(u, 'POST', `/api/carts/${id}/items`, { sku: lowStock.sku, quantity: 1 });
          expect(a.status).toBe(200);
          return id;
        }),
      );
      const results = await Promise.all(
        carts.flatMap((cartId, i) => {
          const send = () =>
            call(
              u,
              'POST',
              '/api/checkout',
              { cartId, paymentToken: 'tok_ok' },
              { 'idempotency-key': `flash-${arch}-${storeKind}-${i}` },
            );
          // Every fifth buyer double-submits with the same key at the same time.
          return i % 5 === 0 ? [send(), send()] : [send()];
        }),
      );
      for (const r of results) expect([201, 409]).toContain(r.status);
      const confirmed = new Set(
        results.filter((r) => r.status === 201).map((r) => (r.body as { orderId: string }).orderId),
      );
      expect(confirmed.size).toBe(lowStock.stock);
      const after = await call(u, 'GET', `/api/products/${lowStock.id}`);
      expect((after.body as { inventory: { available: number } }).inventory.available).toBe(0);
      await stack.settle();
      const report = await verify();
      expect(report.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report.checks.map((c) => c.name)).toEqual([
        'no-oversell',
        'orders-exactly-once',
        'reservations-within-expiry',
        'events-exactly-once',
      ]);
      const sold = report.checks[0]!.details.unitsSold as number;
      expect(sold).toBeGreaterThanOrEqual(lowStock.stock);
    },
    timeout,
  );
});
