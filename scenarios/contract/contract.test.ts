import { describe, expect, it } from 'vitest';
import { createCatalog } from '../catalog.ts';
import {
  findOperation,
  graphqlQueryHasJsonPath,
  listOperations,
  readGraphqlSchema,
  readOpenApiDocument,
  schemaHasJsonPath,
  validateGraphqlQuery,
  validateGraphqlResponse,
  validateOpenApiDocument,
  validateRequest,
  validateResponse,
} from './contract.ts';

const EXPECTED_OPERATIONS = [
  'getHealth',
  'listCategories',
  'listProducts',
  'getProduct',
  'search',
  'listDeals',
  'createCart',
  'getCart',
  'addCartItem',
  'removeCartItem',
  'checkout',
  'getOrder',
  'listCustomerOrders',
  'reorder',
  'listStores',
  'getStoreInventory',
  'graphql',
  'getHomePage',
  'getCategoryPage',
  'getProductPage',
  'getCartPage',
];

const catalog = createCatalog({ products: 50 });
const p = catalog.products[0];
if (!p) throw new Error('empty catalog');
const summary = {
  id: p.id,
  sku: p.sku,
  name: p.name,
  brand: p.brand,
  category: p.category,
  type: p.type,
  price: { amount: p.price, currency: 'USD', listPrice: p.price, dealId: null },
};
const product = {
  ...summary,
  description: p.description,
  attributes: p.attributes,
  inventory: { available: p.stock },
};
const cart = {
  id: 'cart-1',
  items: [{ sku: p.sku, productId: p.id, quantity: 2, unitPrice: p.price }],
  total: p.price * 2,
  currency: 'USD',
};
const error = { error: { code: 'not-found', message: 'no such cart' } };

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document by the official meta-schema', () => {
    expect(validateOpenApiDocument()).toEqual([]);
  });

  it('rejects a broken document (the meta-schema check can fail)', () => {
    const doc = structuredClone(readOpenApiDocument()) as Record<string, unknown>;
    delete doc.info;
    expect(validateOpenApiDocument(doc).length).toBeGreaterThan(0);
  });

  it('declares exactly the operations of the contract, each once', () => {
    expect(
      listOperations()
        .map((o) => o.operationId)
        .sort(),
    ).toEqual([...EXPECTED_OPERATIONS].sort());
  });

  it('declares at least one 4xx response on every operation that takes input', () => {
    for (const op of listOperations()) {
      // The cart page reads an optional cookie: a missing or unknown cart is an empty cart, not a 4xx.
      if (['getHealth', 'listCategories', 'listDeals', 'getHomePage', 'getCartPage'].includes(op.operationId))
        continue;
      expect(
        op.statuses.some((s) => s.startsWith('4')),
        op.operationId,
      ).toBe(true);
    }
  });

  it('compiles every response and request schema', () => {
    for (const op of listOperations()) {
      for (const s of op.statuses) {
        const status = Number(s.replace('XX', '00'));
        // Compiling happens on first use; an invalid schema would throw here.
        expect(() => validateResponse(op.operationId, status, {})).not.toThrow();
      }
      expect(() => validateRequest(op.operationId, {})).not.toThrow();
    }
  });
});

describe('response validation', () => {
  it.each([
    ['getHealth', 200, { status: 'ok', service: 'gateway', arch: 'monolith' }],
    [
      'listCategories',
      200,
      { items: catalog.categories.map(({ id, name, productCount }) => ({ id, name, productCount })) },
    ],
    ['listProducts', 200, { items: [summary], page: 1, limit: 20, total: 50 }],
    ['getProduct', 200, product],
    ['getProduct', 404, error],
    ['getProduct', 503, { error: { code: 'overloaded', message: 'try later' } }],
    [
      'search',
      200,
      {
        items: [summary],
        total: 1,
        facets: { category: [{ value: p.category, count: 1 }], brand: [], type: [] },
      },
    ],
    [
      'listDeals',
      200,
      { items: [{ id: 'deal-1', sku: p.sku, productId: p.id, discountPct: 30, startsAt: 0, endsAt: 1800 }] },
    ],
    ['createCart', 201, { ...cart, items: [], total: 0 }],
    ['addCartItem', 200, cart],
    [
      'addCartItem',
      409,
      { error: { code: 'insufficient-stock', message: 'only 1 left', details: { available: 1 } } },
    ],
    ['removeCartItem', 200, cart],
    ['checkout', 201, { orderId: 'o-1', status: 'payment_failed', total: 10, currency: 'USD' }],
    [
      'getOrder',
      200,
      {
        id: 'o-1',
        status: 'confirmed',
        items: cart.items,
        total: cart.total,
        currency: 'USD',
        channel: 'web',
        createdAt: 12.5,
      },
    ],
    ['listCustomerOrders', 200, { items: [{ id: 'o-1', status: 'confirmed', total: 3, createdAt: 5 }] }],
    ['reorder', 201, cart],
    ['listStores', 200, { items: [{ id: 'store-001', name: 'Seattle #1', zip: '98101', distanceKm: 2.5 }] }],
    ['getStoreInventory', 200, { storeId: 'store-001', sku: p.sku, available: 4 }],
    ['graphql', 200, { data: { product: { id: p.id } } }],
    ['graphql', 200, { data: null, errors: [{ message: 'boom', path: ['product'] }] }],
  ])('accepts a good %s %i body', (op, status, body) => {
    expect(validateResponse(op, status, body).errors).toEqual([]);
  });

  it.each([
    ['a product without a price', 'getProduct', 200, { ...product, price: undefined }, 'price'],
    [
      'a summary with an extra field',
      'listProducts',
      200,
      { items: [{ ...summary, stock: 3 }], page: 1, limit: 20, total: 1 },
      'stock',
    ],
    [
      'a malformed SKU',
      'addCartItem',
      200,
      { ...cart, items: [{ ...cart.items[0], sku: 'abc' }] },
      '/items/0/sku',
    ],
    [
      'a negative quantity',
      'getCart',
      200,
      { ...cart, items: [{ ...cart.items[0], quantity: -1 }] },
      '/items/0/quantity',
    ],
    [
      'an unknown checkout status',
      'checkout',
      201,
      { orderId: 'o', status: 'ok', total: 1, currency: 'USD' },
      '/status',
    ],
    ['an error without a code', 'getCart', 404, { error: { message: 'x' } }, 'code'],
    [
      'an error in a non-kebab code',
      'getCart',
      404,
      { error: { code: 'Not Found', message: 'x' } },
      '/error/code',
    ],
    ['a status the operation does not declare', 'getCart', 201, cart, 'not declared'],
    [
      'a health status other than ok',
      'getHealth',
      200,
      { status: 'down', service: 'x', arch: 'monolith' },
      '/status',
    ],
    ['a graphql response with neither data nor errors', 'graphql', 200, {}, 'must match'],
    [
      'a product page with a string total',
      'listProducts',
      200,
      { items: [], page: 1, limit: 20, total: '3' },
      '/total',
    ],
  ])('rejects %s', (_name, op, status, body, mention) => {
    const r = validateResponse(op, status, body);
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toContain(mention);
  });

  it('says which operations exist when given an unknown one', () => {
    expect(() => validateResponse('nope', 200, {})).toThrow(/no operation "nope"/);
  });
});

describe('request validation', () => {
  it.each([
    ['addCartItem', { body: { sku: p.sku, quantity: 1 } }],
    ['addCartItem', { body: { sku: p.sku, quantity: 1 }, pathParams: { cartId: 'c-1' } }],
    ['createCart', {}],
    ['createCart', { body: { channel: 'mobile-app' } }],
    ['checkout', { body: { cartId: 'c', paymentToken: 't' }, headers: { 'idempotency-key': 'k' } }],
    ['listProducts', { query: { category: 'x', page: '2', limit: '10', channel: 'web' } }],
    ['search', { query: { q: 'coffee' } }],
    ['listStores', { query: { zip: '98101' } }],
    ['graphql', { body: { query: '{ deals { id } }', variables: {} } }],
  ])('accepts a good %s request %#', (op, req) => {
    expect(validateRequest(op, req).errors).toEqual([]);
  });

  it.each([
    ['a missing body', 'addCartItem', {}, 'required'],
    ['an unsubstituted body template', 'addCartItem', { body: { sku: '{{sku}}', quantity: 1 } }, 'sku'],
    ['a missing path parameter', 'getCart', { pathParams: {} }, 'cartId: required'],
    ['a zero quantity', 'addCartItem', { body: { sku: p.sku, quantity: 0 } }, 'quantity'],
    ['an unknown body field', 'addCartItem', { body: { sku: p.sku, quantity: 1, qty: 1 } }, 'qty'],
    [
      'a checkout without Idempotency-Key',
      'checkout',
      { body: { cartId: 'c', paymentToken: 't' } },
      'Idempotency-Key',
    ],
    ['a search without q', 'search', { query: {} }, 'q: required'],
    ['a non-numeric page', 'listProducts', { query: { page: 'two' } }, 'page'],
    ['a limit above 100', 'listProducts', { query: { limit: '500' } }, 'limit'],
    ['an unknown query parameter', 'listProducts', { query: { sort: 'price' } }, 'sort'],
    ['a body on a GET', 'getCart', { body: {} }, 'no request body'],
    ['a bad zip', 'listStores', { query: { zip: 'abc' } }, 'zip'],
  ])('rejects %s', (_name, op, req, mention) => {
    const r = validateRequest(op, req);
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toContain(mention);
  });
});

describe('path matching', () => {
  it.each([
    ['GET', '/health', 'getHealth', {}],
    ['GET', '/api/products?category=x&limit=5', 'listProducts', {}],
    ['GET', '/api/products/p-000123', 'getProduct', { productId: 'p-000123' }],
    ['GET', '/api/products/{{productId}}?channel=web', 'getProduct', { productId: '{{productId}}' }],
    ['POST', '/api/carts', 'createCart', {}],
    ['GET', '/api/carts/abc', 'getCart', { cartId: 'abc' }],
    ['POST', '/api/carts/abc/items', 'addCartItem', { cartId: 'abc' }],
    ['DELETE', '/api/carts/abc/items/SKU-000001', 'removeCartItem', { cartId: 'abc', sku: 'SKU-000001' }],
    ['POST', '/api/checkout', 'checkout', {}],
    ['GET', '/api/customers/c-00001/orders?limit=3', 'listCustomerOrders', { customerId: 'c-00001' }],
    ['POST', '/api/orders/o-1/reorder', 'reorder', { orderId: 'o-1' }],
    [
      'GET',
      '/api/stores/store-001/inventory/SKU-000002',
      'getStoreInventory',
      { storeId: 'store-001', sku: 'SKU-000002' },
    ],
    ['post', 'http://127.0.0.1:8080/graphql', 'graphql', {}],
  ])('matches %s %s to %s', (method, path, id, params) => {
    const m = findOperation(method, path);
    expect(m?.operation.operationId).toBe(id);
    expect(m?.pathParams).toEqual(params);
  });

  it('parses the query string of a matched path', () => {
    expect(findOperation('GET', '/api/search?q=tea&limit=5')?.query).toEqual({ q: 'tea', limit: '5' });
  });

  it.each([
    ['POST', '/api/products'],
    ['GET', '/api/product/1'],
    ['GET', '/api/carts/a/b/c/d'],
    ['PUT', '/api/carts/abc'],
  ])('finds no operation for %s %s', (method, path) => {
    expect(findOperation(method, path)).toBeUndefined();
  });
});

describe('JSON paths in response schemas', () => {
  it.each([
    ['listProducts', 200, '$.items[0].id', true],
    ['listProducts', 200, '$.items[*].price.amount', true],
    ['search', 200, "$['facets'].brand[0].value", true],
    ['search', 200, '$.facets.type[0].count', true],
    ['getProduct', 200, '$.inventory.available', true],
    ['getProduct', 200, '$.attributes.size', true],
    ['getProduct', 200, '$.sku', true],
    ['createCart', 201, '$.id', true],
    ['checkout', 201, '$.orderId', true],
    ['listCustomerOrders', 200, '$.items[0].id', true],
    ['getProduct', 404, '$.error.code', true],
    ['listProducts', 200, '$.items[0].stock', false],
    ['listProducts', 200, '$.items.id', false],
    ['createCart', 201, '$.cartId', false],
    ['checkout', 201, '$.id', false],
    ['getCart', 201, '$.id', false],
    ['graphql', 200, '$.data.product.id', false],
  ])('%s %i has %s: %s', (op, status, path, expected) => {
    expect(schemaHasJsonPath(op, status, path)).toBe(expected);
  });
});

describe('the GraphQL schema', () => {
  const productQuery = `query Product($id: ID!, $channel: String) {
    product(id: $id, channel: $channel) { id sku price { amount dealId } inventory { available } attributes }
  }`;

  it.each([
    ['a product query', productQuery, { id: '{{productId}}', channel: 'mobile-app' }],
    [
      'a products page',
      '{ products(category: "apparel-tops", first: 10) { items { id name } total endCursor hasNextPage } }',
      undefined,
    ],
    [
      'a search with facets',
      '{ search(q: "tea") { total items { sku } facets { brand { value count } } } }',
      undefined,
    ],
    ['the deals', '{ deals { id sku discountPct startsAt endsAt } }', undefined],
    [
      'the cart mutations',
      'mutation Add($cartId: ID!, $sku: String!, $q: Int!) { addToCart(cartId: $cartId, sku: $sku, quantity: $q) { id total items { sku quantity } } }',
      { cartId: '{{cartId}}', sku: '{{sku}}', q: 1 },
    ],
    [
      'a checkout',
      'mutation { checkout(cartId: "c", paymentToken: "t", idempotencyKey: "k") { orderId status } }',
      undefined,
    ],
    ['an order', '{ order(id: "o-1") { id status createdAt items { sku } } }', undefined],
    ['a new cart', 'mutation { createCart(channel: "mobile-app") { id } }', undefined],
  ])('validates %s', (_name, query, variables) => {
    expect(validateGraphqlQuery(query, variables).errors).toEqual([]);
  });

  it.each([
    ['a syntax error', '{ product(id: "x") { id ', undefined, 'Syntax Error'],
    ['an unknown field', '{ product(id: "x") { stock } }', undefined, 'Cannot query field "stock"'],
    ['a missing required argument', '{ product { id } }', undefined, 'argument "id"'],
    ['a wrong variable type', productQuery, { id: 5, channel: true }, 'String cannot represent'],
    ['a missing variable', productQuery, {}, '$id'],
  ])('rejects %s', (_name, query, variables, mention) => {
    const r = validateGraphqlQuery(query, variables);
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toContain(mention);
  });

  it.each([
    ['$.data.product.id', true],
    ['$.data.product.price.amount', true],
    ['$.data.product.attributes.size', true],
    ['$.data.product.name', false],
    ['$.data.product.price.listPrice', false],
    ['$.data.products', false],
    ['$.errors[0].message', true],
    ['$.product.id', false],
  ])('knows whether the product query selects %s (%s)', (path, expected) => {
    expect(graphqlQueryHasJsonPath(productQuery, path)).toBe(expected);
  });

  it('follows aliases, lists and fragments', () => {
    const q = `{ first: products(first: 1) { items { ...P } } } fragment P on Product { id price { amount } }`;
    expect(graphqlQueryHasJsonPath(q, '$.data.first.items[0].id')).toBe(true);
    expect(graphqlQueryHasJsonPath(q, '$.data.first.items[0].price.amount')).toBe(true);
    expect(graphqlQueryHasJsonPath(q, '$.data.products.items[0].id')).toBe(false);
    expect(graphqlQueryHasJsonPath(q, '$.data.first[0]')).toBe(false);
  });

  describe('responses', () => {
    const q = `query P($id: ID!) { product(id: $id) { id sku price { amount dealId } inventory { available } attributes } deals { id discountPct } }`;
    const good = {
      data: {
        product: {
          id: p.id,
          sku: p.sku,
          price: { amount: 9.99, dealId: null },
          inventory: { available: 3 },
          attributes: { size: ['M'] },
        },
        deals: [{ id: 'd-1', discountPct: 20 }],
      },
    };

    it.each([
      ['a full answer', good],
      ['a null product (not found)', { data: { product: null, deals: [] } }],
      [
        'a null non-null field explained by errors',
        { data: { product: { ...good.data.product, sku: null }, deals: [] }, errors: [{ message: 'x' }] },
      ],
      ['errors only', { errors: [{ message: 'syntax' }] }],
    ])('accepts %s', (_name, body) => {
      expect(validateGraphqlResponse(q, body).errors).toEqual([]);
    });

    it.each([
      ['a missing selected field', { data: { ...good.data, deals: undefined } }, '/data/deals: missing'],
      [
        'a field the query did not select',
        { data: { ...good.data, cart: null } },
        '/data/cart: not selected',
      ],
      [
        'a string where an Int is',
        { data: { ...good.data, product: { ...good.data.product, inventory: { available: '3' } } } },
        '/data/product/inventory/available: must be Int',
      ],
      [
        'a null non-null field',
        { data: { ...good.data, product: { ...good.data.product, id: null } } },
        '/data/product/id: must not be null',
      ],
      ['an object where a list is', { data: { ...good.data, deals: {} } }, '/data/deals: must be a list'],
      ['neither data nor errors', {}, 'must match'],
    ])('rejects %s', (_name, body, mention) => {
      const r = validateGraphqlResponse(q, body);
      expect(r.valid).toBe(false);
      expect(r.errors.join('\n')).toContain(mention);
    });

    it('checks enums and aliases', () => {
      const m =
        'mutation { pay: checkout(cartId: "c", paymentToken: "t", idempotencyKey: "k") { orderId status } }';
      expect(
        validateGraphqlResponse(m, { data: { pay: { orderId: 'o-1', status: 'confirmed' } } }).errors,
      ).toEqual([]);
      expect(validateGraphqlResponse(m, { data: { pay: { orderId: 'o-1', status: 'ok' } } }).valid).toBe(
        false,
      );
    });
  });
});

describe('GraphQL types mirror the REST shapes', () => {
  const schemas = (readOpenApiDocument().components as { schemas: Record<string, Record<string, unknown>> })
    .schemas;
  const restFields = (name: string): Set<string> => {
    const out = new Set<string>();
    const visit = (schema: Record<string, unknown> | undefined) => {
      if (!schema) return;
      for (const k of Object.keys((schema.properties ?? {}) as object)) out.add(k);
      if (typeof schema.$ref === 'string') visit(schemas[schema.$ref.split('/').pop() as string]);
    };
    visit(schemas[name]);
    return out;
  };

  it.each([
    ['Product', 'Product'],
    ['Price', 'Price'],
    ['Cart', 'Cart'],
    ['CartItem', 'CartItem'],
    ['Deal', 'Deal'],
    ['Order', 'Order'],
    ['CheckoutResult', 'CheckoutResult'],
    ['SearchResult', 'SearchResult'],
  ])('GraphQL %s has only fields of the REST schema %s, with the same names', (gqlName, restName) => {
    const type = readGraphqlSchema().getType(gqlName);
    const fields = type && 'getFields' in type ? Object.keys(type.getFields()) : [];
    expect(fields.length).toBeGreaterThan(0);
    const rest = restFields(restName);
    expect(fields.filter((f) => !rest.has(f))).toEqual([]);
  });
});
