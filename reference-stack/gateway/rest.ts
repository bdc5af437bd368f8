/**
 * The REST routes of the public API (scenarios/contract/openapi.yaml) with input validation at the
 * edge: malformed JSON, wrong types, unknown fields, out-of-range parameters and malformed ids are
 * a 400 with the contract's error body naming every bad field; unknown ids are a 404 from the
 * domain. A client's mistake is never a 500.
 */
import { badRequest, DomainError } from '../domain/errors.ts';
import type { OperationId } from '../topology.ts';
import { type Api, DEFAULT_CHANNEL } from './api.ts';

/** A parsed request as the routes see it. */
export interface PublicRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (undefined when absent). */
  body: unknown;
}

/** A route's answer: a JSON body, or (pages) a text body with its own headers. */
export interface PublicResponse {
  status: number;
  body: unknown;
  /** Extra response headers (a page's content type, Cache-Control, Cache-Tag). */
  headers?: Record<string, string>;
  /** A text body sent as is instead of `body` as JSON (a rendered page). */
  text?: string;
}

interface Route {
  method: string;
  pattern: RegExp;
  operation: OperationId;
  handle: (api: Api, req: PublicRequest, params: Record<string, string>) => Promise<PublicResponse>;
}

/** One invalid field. */
interface FieldProblem {
  field: string;
  expected: string;
}

const CHANNEL = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const SKU = /^SKU-[0-9]{6,}$/;
const PRODUCT_ID = /^p-[0-9]{6,}$/;
const STORE_ID = /^store-[0-9]{3,}$/;
const ZIP = /^[0-9]{5}$/;

/** Collects field problems and throws one 400 listing them all. */
class Checker {
  readonly problems: FieldProblem[] = [];
  fail(field: string, expected: string): void {
    this.problems.push({ field, expected });
  }
  done(): void {
    if (this.problems.length > 0) {
      throw badRequest(
        `invalid request: ${this.problems.map((p) => `${p.field} must be ${p.expected}`).join('; ')}`,
        {
          problems: this.problems,
        },
      );
    }
  }
  int(q: URLSearchParams, name: string, min: number, max: number, dflt: number): number {
    const raw = q.get(name);
    if (raw === null || raw === '') return dflt;
    const n = Number(raw);
    if (!/^-?\d+$/.test(raw) || n < min || n > max) {
      this.fail(name, `an integer from ${min} to ${max}`);
      return dflt;
    }
    return n;
  }
  pattern(
    value: string | null | undefined,
    name: string,
    re: RegExp,
    expected: string,
    required = true,
  ): string | undefined {
    if (value === null || value === undefined || value === '') {
      if (required) this.fail(name, expected);
      return undefined;
    }
    if (!re.test(value)) {
      this.fail(name, expected);
      return undefined;
    }
    return value;
  }
  text(
    value: string | null | undefined,
    name: string,
    min: number,
    max: number,
    required: boolean,
  ): string | undefined {
    if (value === null || value === undefined) {
      if (required) this.fail(name, `a string of ${min} to ${max} characters`);
      return undefined;
    }
    if (value.length < min || value.length > max) {
      this.fail(name, `a string of ${min} to ${max} characters`);
      return undefined;
    }
    return value;
  }
  channel(q: URLSearchParams): string {
    return (
      this.pattern(
        q.get('channel'),
        'channel',
        CHANNEL,
        'a lower-case channel name like web or mobile-app',
        false,
      ) ?? DEFAULT_CHANNEL
    );
  }
  /** The body must be an object with only the allowed keys. */
  object(body: unknown, allowed: readonly string[], required: boolean): Record<string, unknown> {
    if (body === undefined || body === null) {
      if (required) this.fail('body', 'a JSON object');
      return {};
    }
    if (typeof body !== 'object' || Array.isArray(body)) {
      this.fail('body', 'a JSON object');
      return {};
    }
    for (const k of Object.keys(body))
      if (!allowed.includes(k)) this.fail(k, `absent (allowed: ${allowed.join(', ')})`);
    return body as Record<string, unknown>;
  }
  bodyString(
    o: Record<string, unknown>,
    key: string,
    re: RegExp | null,
    expected: string,
    required: boolean,
  ): string | undefined {
    const v = o[key];
    if (v === undefined) {
      if (required) this.fail(key, expected);
      return undefined;
    }
    if (typeof v !== 'string' || v.length === 0 || v.length > 200 || (re && !re.test(v))) {
      this.fail(key, expected);
      return undefined;
    }
    return v;
  }
}

const ok = (body: unknown, status = 200): PublicResponse => ({ status, body });

/** The routes, in match order. */
export const ROUTES: Route[] = [
  {
    method: 'GET',
    pattern: /^\/api\/categories$/,
    operation: 'listCategories',
    handle: async (api) => ok(await api.listCategories()),
  },
  {
    method: 'GET',
    pattern: /^\/api\/products$/,
    operation: 'listProducts',
    handle: async (api, req) => {
      const c = new Checker();
      const category = c.text(req.query.get('category'), 'category', 1, 100, false);
      const page = c.int(req.query, 'page', 1, 100_000, 1);
      const limit = c.int(req.query, 'limit', 1, 100, 20);
      const channel = c.channel(req.query);
      c.done();
      return ok(await api.listProducts({ category, page, limit, channel }));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/products\/(?<productId>[^/]+)$/,
    operation: 'getProduct',
    handle: async (api, req, p) => {
      const c = new Checker();
      const id = c.pattern(p.productId, 'productId', PRODUCT_ID, 'a product id like p-000123');
      const channel = c.channel(req.query);
      c.done();
      return ok(await api.getProduct({ id: id!, channel }));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/search$/,
    operation: 'search',
    handle: async (api, req) => {
      const c = new Checker();
      const q = c.text(req.query.get('q'), 'q', 1, 200, true);
      const category = c.text(req.query.get('category'), 'category', 1, 100, false);
      const limit = c.int(req.query, 'limit', 1, 100, 20);
      const channel = c.channel(req.query);
      c.done();
      return ok(await api.search({ q: q!, category, limit, channel }));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/deals$/,
    operation: 'listDeals',
    handle: async (api) => ok(await api.listDeals()),
  },
  {
    method: 'POST',
    pattern: /^\/api\/carts$/,
    operation: 'createCart',
    handle: async (api, req) => {
      const c = new Checker();
      const o = c.object(req.body, ['channel', 'customerId'], false);
      const channel =
        c.bodyString(o, 'channel', CHANNEL, 'a lower-case channel name like web', false) ?? DEFAULT_CHANNEL;
      const customerId = c.bodyString(o, 'customerId', null, 'a non-empty string', false);
      c.done();
      return ok(await api.createCart({ channel, customerId }), 201);
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/carts\/(?<cartId>[^/]+)$/,
    operation: 'getCart',
    handle: async (api, _req, p) => ok(await api.getCart({ cartId: p.cartId! })),
  },
  {
    method: 'POST',
    pattern: /^\/api\/carts\/(?<cartId>[^/]+)\/items$/,
    operation: 'addCartItem',
    handle: async (api, req, p) => {
      const c = new Checker();
      const o = c.object(req.body, ['sku', 'quantity'], true);
      const sku = c.bodyString(o, 'sku', SKU, 'a SKU like SKU-000123', true);
      const q = o.quantity;
      if (!Number.isInteger(q) || (q as number) < 1 || (q as number) > 100)
        c.fail('quantity', 'an integer from 1 to 100');
      c.done();
      return ok(await api.addCartItem({ cartId: p.cartId!, sku: sku!, quantity: q as number }));
    },
  },
  {
    method: 'DELETE',
    pattern: /^\/api\/carts\/(?<cartId>[^/]+)\/items\/(?<sku>[^/]+)$/,
    operation: 'removeCartItem',
    handle: async (api, _req, p) => {
      const c = new Checker();
      const sku = c.pattern(p.sku, 'sku', SKU, 'a SKU like SKU-000123');
      c.done();
      return ok(await api.removeCartItem({ cartId: p.cartId!, sku: sku! }));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/checkout$/,
    operation: 'checkout',
    handle: async (api, req) => {
      const c = new Checker();
      const rawKey = req.headers['idempotency-key'];
      const key = Array.isArray(rawKey) ? rawKey[0] : rawKey;
      if (!key || key.length > 200) c.fail('Idempotency-Key', 'a header of 1 to 200 characters');
      const o = c.object(req.body, ['cartId', 'paymentToken', 'customerId', 'storeId'], true);
      const cartId = c.bodyString(o, 'cartId', null, 'a non-empty string', true);
      const paymentToken = c.bodyString(o, 'paymentToken', null, 'a non-empty string', true);
      const customerId = c.bodyString(o, 'customerId', null, 'a non-empty string', false);
      const storeId = c.bodyString(o, 'storeId', STORE_ID, 'a store id like store-001', false);
      c.done();
      return ok(
        await api.checkout({
          cartId: cartId!,
          paymentToken: paymentToken!,
          customerId,
          storeId,
          idempotencyKey: key!,
        }),
        201,
      );
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/orders\/(?<orderId>[^/]+)$/,
    operation: 'getOrder',
    handle: async (api, _req, p) => ok(await api.getOrder({ orderId: p.orderId! })),
  },
  {
    method: 'GET',
    pattern: /^\/api\/customers\/(?<customerId>[^/]+)\/orders$/,
    operation: 'listCustomerOrders',
    handle: async (api, req, p) => {
      const c = new Checker();
      const limit = c.int(req.query, 'limit', 1, 50, 10);
      c.done();
      return ok(await api.listCustomerOrders({ customerId: p.customerId!, limit }));
    },
  },
  {
    method: 'POST',
    pattern: /^\/api\/orders\/(?<orderId>[^/]+)\/reorder$/,
    operation: 'reorder',
    handle: async (api, _req, p) => ok(await api.reorder({ orderId: p.orderId! }), 201),
  },
  {
    method: 'GET',
    pattern: /^\/api\/stores$/,
    operation: 'listStores',
    handle: async (api, req) => {
      const c = new Checker();
      const zip = c.pattern(req.query.get('zip'), 'zip', ZIP, 'a 5-digit zip code');
      c.done();
      return ok(await api.listStores({ zip: zip! }));
    },
  },
  {
    method: 'GET',
    pattern: /^\/api\/stores\/(?<storeId>[^/]+)\/inventory\/(?<sku>[^/]+)$/,
    operation: 'getStoreInventory',
    handle: async (api, _req, p) => {
      const c = new Checker();
      const storeId = c.pattern(p.storeId, 'storeId', STORE_ID, 'a store id like store-001');
      const sku = c.pattern(p.sku, 'sku', SKU, 'a SKU like SKU-000123');
      c.done();
      return ok(await api.getStoreInventory({ storeId: storeId!, sku: sku! }));
    },
  },
];

/** Finds the route of a request: the route and its path parameters, 405 for a known path with another method, or null. */
export function matchRoute(
  method: string,
  path: string,
): { route: Route; params: Record<string, string> } | null {
  let pathKnown = false;
  for (const route of ROUTES) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    pathKnown = true;
    if (route.method !== method) continue;
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.groups ?? {})) {
      try {
        params[k] = decodeURIComponent(v);
      } catch {
        throw badRequest(`path parameter ${k} is not valid percent-encoding`);
      }
    }
    return { route, params };
  }
  if (pathKnown) throw new DomainError(405, 'method-not-allowed', `${method} is not allowed on ${path}`);
  return null;
}
