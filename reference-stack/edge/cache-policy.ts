/**
 * The edge's cache behaviours and TTL rule, as pure data and functions: which paths go to which origin,
 * each route's TTL bounds, and how a response's `Cache-Control` becomes a TTL. The rule is CloudFront's
 * documented one ("Manage how long content stays in the cache (expiration)", docs/sources.md "Edge"):
 * - `s-maxage` (else `max-age`) sets the TTL, clamped to the route's [minimum, maximum] TTL;
 * - `no-store`, `no-cache` or `private` keep the response out of the cache when the minimum TTL is 0
 *   (with a minimum above 0 CloudFront caches it for the minimum);
 * - no `Cache-Control` at all: the route's default TTL.
 * The routes' TTL bounds are assumptions a user overrides (`EdgeOptions.routes`): the pages are cached
 * only as long as the storefront says (default 0), at most 60 s (30 s for a product page, which shows
 * price and stock); the cart and the API are never cached (CloudFront's CachingDisabled policy).
 */

/** The edge's routes: the storefront's pages, and everything else (the API, GraphQL, the control API). */
export const EDGE_ROUTES = ['home', 'category', 'product', 'cart', 'api'] as const;

/** One route of the edge. */
export type EdgeRoute = (typeof EDGE_ROUTES)[number];

/** TTL bounds of a route, event seconds. */
export interface RouteTtl {
  minTtl: number;
  defaultTtl: number;
  maxTtl: number;
}

/** Which origin a route forwards to: the storefront's pages, or the public API's entry. */
export type EdgeOrigin = 'pages' | 'api';

/** The default behaviours (assumptions; see the module comment). */
export const DEFAULT_ROUTE_TTLS: Record<EdgeRoute, RouteTtl> = {
  home: { minTtl: 0, defaultTtl: 0, maxTtl: 60 },
  category: { minTtl: 0, defaultTtl: 0, maxTtl: 60 },
  product: { minTtl: 0, defaultTtl: 0, maxTtl: 30 },
  cart: { minTtl: 0, defaultTtl: 0, maxTtl: 0 },
  api: { minTtl: 0, defaultTtl: 0, maxTtl: 0 },
};

/** The route of a request path (the same patterns as the ALB's page rule in infra/reference-stack). */
export function routeOf(path: string): EdgeRoute {
  if (path === '/') return 'home';
  if (path === '/cart') return 'cart';
  if (path.startsWith('/c/')) return 'category';
  if (path.startsWith('/p/')) return 'product';
  return 'api';
}

/** The origin a route forwards to. */
export function originOf(route: EdgeRoute): EdgeOrigin {
  return route === 'api' ? 'api' : 'pages';
}

/** The directives of a Cache-Control header that decide caching. */
export interface CacheControl {
  noStore: boolean;
  noCache: boolean;
  private: boolean;
  maxAge?: number;
  sMaxAge?: number;
}

/** Parses a Cache-Control header (RFC 9111 §5.2: comma-separated directives, `name[=value]`). */
export function parseCacheControl(header: string | string[] | undefined): CacheControl | undefined {
  if (header === undefined) return undefined;
  const text = Array.isArray(header) ? header.join(',') : header;
  const out: CacheControl = { noStore: false, noCache: false, private: false };
  for (const part of text.split(',')) {
    const [rawName, rawValue] = part.split('=', 2);
    const name = (rawName ?? '').trim().toLowerCase();
    const value = rawValue?.trim().replace(/^"|"$/g, '');
    const seconds = value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
    if (name === 'no-store') out.noStore = true;
    else if (name === 'no-cache') out.noCache = true;
    else if (name === 'private') out.private = true;
    else if (name === 'max-age' && seconds !== undefined) out.maxAge = seconds;
    else if (name === 's-maxage' && seconds !== undefined) out.sMaxAge = seconds;
  }
  return out;
}

/** The TTL (event seconds) the edge keeps a response for; 0 means not cached. Pure. */
export function computeTtl(ttl: RouteTtl, cacheControl: CacheControl | undefined, status: number): number {
  // Only successful answers are cached here (CloudFront caches some errors for 10 s; the storefront
  // marks its error pages no-store, so leaving errors out changes nothing for it).
  if (status !== 200) return 0;
  if (ttl.maxTtl <= 0) return 0;
  if (cacheControl === undefined) return Math.min(ttl.maxTtl, Math.max(ttl.minTtl, ttl.defaultTtl));
  if (cacheControl.noStore || cacheControl.noCache || cacheControl.private) return ttl.minTtl;
  const given = cacheControl.sMaxAge ?? cacheControl.maxAge;
  if (given === undefined) return Math.min(ttl.maxTtl, Math.max(ttl.minTtl, ttl.defaultTtl));
  return Math.min(ttl.maxTtl, Math.max(ttl.minTtl, given));
}
