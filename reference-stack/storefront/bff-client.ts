/**
 * The headless storefront's data source: the gateway/BFF's public REST API over HTTP (keep-alive
 * undici pool to the gateway's load balancer), the same requests a browser or the mobile app makes.
 * A BFF error comes back as the same DomainError (status, code, Retry-After), an unreachable BFF as a
 * 503 `upstream-unavailable`, so the page answers with the status the BFF gave.
 */
import { request } from 'undici';
import { DomainError } from '../domain/errors.ts';
import { peerDispatcher } from '../services/rpc.ts';
import type { StorefrontData } from './pages.ts';

async function getJson(base: string | undefined, path: string): Promise<unknown> {
  if (!base) throw new DomainError(503, 'upstream-unavailable', 'no address for the gateway', undefined, 1);
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${base}${path}`, { method: 'GET', dispatcher: peerDispatcher() });
  } catch (e) {
    throw new DomainError(
      503,
      'upstream-unavailable',
      `gateway ${path}: ${(e as Error).message}`,
      undefined,
      1,
    );
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    throw new DomainError(
      502,
      'bad-upstream-response',
      `gateway ${path} answered ${res.statusCode} with invalid JSON`,
    );
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return body;
  const err = (body as { error?: { code?: string; message?: string } } | undefined)?.error;
  const retry = Number(res.headers['retry-after']);
  throw new DomainError(
    res.statusCode,
    err?.code ?? 'upstream-error',
    err?.message ?? `gateway ${path} answered ${res.statusCode}`,
    undefined,
    Number.isFinite(retry) ? retry : undefined,
  );
}

/** The BFF over HTTP; `gateway()` is read per call (peers are filled after the replica starts). */
export function createBffClient(gateway: () => string | undefined): StorefrontData {
  const q = encodeURIComponent;
  type D = StorefrontData;
  return {
    listCategories: async () =>
      (await getJson(gateway(), '/api/categories')) as Awaited<ReturnType<D['listCategories']>>,
    listDeals: async () => (await getJson(gateway(), '/api/deals')) as Awaited<ReturnType<D['listDeals']>>,
    listProducts: async (a) =>
      (await getJson(
        gateway(),
        `/api/products?${a.category ? `category=${q(a.category)}&` : ''}page=${a.page}&limit=${a.limit}&channel=${q(a.channel)}`,
      )) as Awaited<ReturnType<D['listProducts']>>,
    getProduct: async (a) =>
      (await getJson(gateway(), `/api/products/${q(a.id)}?channel=${q(a.channel)}`)) as Awaited<
        ReturnType<D['getProduct']>
      >,
    getCart: async (a) =>
      (await getJson(gateway(), `/api/carts/${q(a.cartId)}`)) as Awaited<ReturnType<D['getCart']>>,
  };
}
