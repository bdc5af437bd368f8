/**
 * The edge cache in the simulator: how many of a page step's requests reach the origin, from the
 * request rate, how many distinct pages the step spreads over, the route's TTL and the purges a price
 * change causes. Pure. The local edge (reference-stack/edge/) uses the same routes and TTL rule
 * (`computeTtl`, the storefront's `Cache-Control`), so a simulated page is cached as long as a live one.
 *
 * The model is the renewal argument for a TTL cache (the TTL starts at a miss and is not extended by
 * hits): with requests for one page arriving as a Poisson process of rate λ and the cached copy living
 * m seconds, every miss is followed by λ·m hits on average, so the hit ratio is h = λm / (1 + λm) and
 * the origin sees λ / (1 + λm). Without purges m = T (the TTL); when a price change purges the page
 * as a Poisson process of rate ν, the copy lives until the TTL or the purge, m = (1 − e^(−νT)) / ν.
 * A step's requests spread evenly over `keys` pages (a uniform pick from its data pool, as the engine
 * draws it); concurrent misses collapsed into one fetch are not modelled (the origin count is an
 * upper bound). Each edge location keeps its own copy: `edgeLocations` multiplies the keys.
 */

import { RESPONSE_BYTES } from '../reference-stack/capacity/response-bytes.ts';
import {
  computeTtl,
  DEFAULT_ROUTE_TTLS,
  type EdgeRoute,
  parseCacheControl,
} from '../reference-stack/edge/cache-policy.ts';
import { PAGE_CACHE_CONTROL } from '../reference-stack/storefront/pages.ts';
import { isPageOperation, type OperationId, type PageOperationId } from '../reference-stack/topology.ts';

/** The edge route of each page (reference-stack/edge/cache-policy.ts `routeOf`). */
export const PAGE_ROUTES: Record<PageOperationId, EdgeRoute> = {
  getHomePage: 'home',
  getCategoryPage: 'category',
  getProductPage: 'product',
  getCartPage: 'cart',
};

/**
 * Bytes of one answer's body as the stack serves it (measured: reference-stack/capacity/response-bytes.ts):
 * a page's HTML, an API operation's JSON, or GraphQL's answer when the request is a GraphQL query
 * (measured on the product view: a listing query's answer is larger, so this understates it). What the
 * edge sends out per request (CloudFront's BytesDownloaded, headers not counted). Pure.
 */
export function responseBytesOf(operation: OperationId, graphql = false): number {
  if (isPageOperation(operation)) return RESPONSE_BYTES.pages[operation];
  return graphql ? RESPONSE_BYTES.api.graphql : RESPONSE_BYTES.api[operation];
}

/** The TTL (s) the edge keeps a page for: the storefront's Cache-Control within the route's bounds. */
export function pageTtlSeconds(page: PageOperationId): number {
  return computeTtl(DEFAULT_ROUTE_TTLS[PAGE_ROUTES[page]], parseCacheControl(PAGE_CACHE_CONTROL[page]), 200);
}

/**
 * Price changes of the reference stack's lightning deals (reference-stack/domain/pricing.ts): one deal
 * opens every 30 event minutes and closes an hour later, each a PriceChanged of one hot SKU, so two
 * price changes (two purges of that SKU's pages) per 30 minutes across the hot products.
 */
export const DEAL_PRICE_CHANGES_PER_SECOND = 2 / 1800;

/** The cache's parameters for one set of pages (one route, one data pool). */
export interface EdgeKeyspace {
  /** Distinct pages the requests spread over (uniformly). */
  keys: number;
  /** Seconds a fetched page stays cached (0: never cached). */
  ttlSeconds: number;
  /** Purges per page per second (price changes of what the page shows). */
  purgesPerKeySecond?: number;
  /** Edge locations each keeping its own copy (default 1: one regional cache; an assumption). */
  edgeLocations?: number;
}

/** The expected life (s) of a cached copy: the TTL, cut short by a purge (Poisson, rate ν per page). */
export function cachedLifeSeconds(ttlSeconds: number, purgesPerKeySecond = 0): number {
  if (ttlSeconds <= 0) return 0;
  if (purgesPerKeySecond <= 0) return ttlSeconds;
  return -Math.expm1(-purgesPerKeySecond * ttlSeconds) / purgesPerKeySecond;
}

/** Hit ratio of requests at `rate` per second spread over a keyspace. Pure. */
export function computeHitRatio(rate: number, space: EdgeKeyspace): number {
  return hitRatioOf(rate, copiesOf(space), cachedLifeSeconds(space.ttlSeconds, space.purgesPerKeySecond));
}

/** Cached copies a keyspace's requests spread over: its pages at every edge location. */
function copiesOf(space: EdgeKeyspace): number {
  return Math.max(1, space.keys) * Math.max(1, space.edgeLocations ?? 1);
}

/** {@link computeHitRatio} from the keyspace's copies and a copy's life (s). */
function hitRatioOf(rate: number, keys: number, life: number): number {
  if (rate <= 0 || life <= 0) return 0;
  const perKey = (rate / keys) * life;
  return perKey / (1 + perKey);
}

/** Requests per second that reach the origin when `rate` per second arrive at the edge. Pure. */
export function computeOriginRate(rate: number, space: EdgeKeyspace): number {
  return rate * (1 - computeHitRatio(rate, space));
}

/** A page step's place in the cache: the keyspace it shares with other steps, and its parameters. */
export interface EdgeStep {
  /** Steps with the same id share cached pages (one route, keys from the same pools). */
  keyspace: string;
  space: EdgeKeyspace;
}

/**
 * The share of each step's requests that reaches the origin, from each step's rate in requests per
 * EVENT second (TTLs are event seconds): the steps of one keyspace share its cache, so their rates add
 * up before the hit ratio is taken. A step without an edge step (the API, the cart) sends all. Pure;
 * writes into `out` (one slot per step) and returns it.
 */
export function computeOriginShares(
  steps: readonly (EdgeStep | null | undefined)[],
  ratesPerEventSecond: ArrayLike<number>,
  out: Float64Array,
  keyspaces: KeyspaceIndex = keyspaceIndexOf(steps),
): Float64Array {
  const { index, totals, copies, life } = keyspaces;
  totals.fill(0);
  for (let i = 0; i < steps.length; i++) {
    const k = index[i]!;
    if (k >= 0) totals[k]! += ratesPerEventSecond[i] ?? 0;
  }
  for (let i = 0; i < steps.length; i++) {
    const e = steps[i];
    out[i] = e ? 1 - hitRatioOf(totals[index[i]!]!, copies[i]!, life[i]!) : 1;
  }
  return out;
}

/**
 * Each step's keyspace as an index into `totals` (−1: no edge step), the keyspaces' rate totals,
 * and each step's cached copies and a copy's life (s), which never change during a run.
 */
export interface KeyspaceIndex {
  index: Int32Array;
  totals: Float64Array;
  copies: Float64Array;
  life: Float64Array;
}

/**
 * The keyspaces of a run's steps, numbered in order of first use: built once per run by the simulator,
 * so that each step's shares add rates into an array instead of a map built every step.
 */
export function keyspaceIndexOf(steps: readonly (EdgeStep | null | undefined)[]): KeyspaceIndex {
  const names: string[] = [];
  const index = Int32Array.from(steps, (e) => {
    if (!e) return -1;
    const k = names.indexOf(e.keyspace);
    return k >= 0 ? k : names.push(e.keyspace) - 1;
  });
  return {
    index,
    totals: new Float64Array(names.length),
    copies: Float64Array.from(steps, (e) => (e ? copiesOf(e.space) : 1)),
    life: Float64Array.from(steps, (e) =>
      e ? cachedLifeSeconds(e.space.ttlSeconds, e.space.purgesPerKeySecond) : 0,
    ),
  };
}

/** What the edge served over a run: requests, bytes out, invalidation paths. */
export interface EdgeUsage {
  requests: number;
  bytesOut: number;
  invalidationPaths: number;
}

/**
 * CloudFront's bill for an edge's usage (simulation/pricing/pricing-table.ts): HTTPS requests, data
 * out, invalidation paths beyond the free 1,000 a month (an event counts as one month here). Origin
 * fetches from an AWS origin are free. Pure.
 */
export function computeEdgeCost(
  usage: EdgeUsage,
  prices: { https10k: number; transferGb: number; invalidationPath: number },
): { requestsUsd: number; transferUsd: number; invalidationUsd: number; usd: number } {
  const requestsUsd = (usage.requests / 10_000) * prices.https10k;
  const transferUsd = (usage.bytesOut / 2 ** 30) * prices.transferGb;
  const invalidationUsd = Math.max(0, usage.invalidationPaths - 1000) * prices.invalidationPath;
  return { requestsUsd, transferUsd, invalidationUsd, usd: requestsUsd + transferUsd + invalidationUsd };
}
