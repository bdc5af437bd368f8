/**
 * The edge in a report: what the CloudFront distribution (or the local edge standing in for one, or
 * the simulator's edge cache) did over the run, from the edge's timeline records (core/run-format.ts
 * EdgeTimelineRecord): per route the requests, the hit rate over cacheable requests, the requests the
 * origin saw and the offload; overall CloudFront's CacheHitRate, OriginLatency and the range of the
 * per-period hit rate. Pure.
 */
import type { EdgeTimelineRecord, Provenance } from '../../core/run-format.ts';

/** One route over the run. */
export interface EdgeRouteSummary {
  route: string;
  requests: number;
  hits: number;
  misses: number;
  passes: number;
  originRequests: number;
  /** Hits over cacheable requests (hits + misses), percent; null when the route had none. */
  cacheHitRate: number | null;
  /** Share of the route's requests the edge answered itself (1 − origin ÷ requests). */
  offload: number | null;
}

/** The edge over the run. */
export interface EdgeSummary {
  periods: number;
  requests: number;
  /** Requests that reached the origin; null when the source cannot tell (CloudFront's own metrics). */
  originRequests: number | null;
  /**
   * CloudFront's CacheHitRate over the run (hits over cacheable requests), percent. From CloudWatch (no
   * per-route counts) it is the periods' CacheHitRate weighted by their Requests.
   */
  cacheHitRate: number | null;
  /** The lowest and highest per-period CacheHitRate. */
  cacheHitRateRange: { min: number; max: number } | null;
  offload: number | null;
  /** Mean origin fetch time (ms), weighted by origin requests; null when not measured (the simulator). */
  originLatencyMs: number | null;
  bytesDownloaded: number | null;
  invalidations: number | null;
  routes: EdgeRouteSummary[];
  provenance: Provenance;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** Sums the edge's records over the run; null when the run has none. */
export function computeEdgeSummary(records: readonly EdgeTimelineRecord[] | undefined): EdgeSummary | null {
  if (!records || records.length === 0) return null;
  const routes = new Map<string, EdgeRouteSummary>();
  let latencySum = 0;
  let latencyWeight = 0;
  let bytes: number | null = null;
  let invalidations: number | null = null;
  const rates: number[] = [];
  // The distribution's own totals, for records without per-route counts (an edge read from CloudWatch).
  let distributionRequests = 0;
  let rateSum = 0;
  let rateWeight = 0;
  let originUnknown = false;
  for (const r of records) {
    for (const [route, c] of Object.entries(r.routes)) {
      const e = routes.get(route) ?? {
        route,
        requests: 0,
        hits: 0,
        misses: 0,
        passes: 0,
        originRequests: 0,
        cacheHitRate: null,
        offload: null,
      };
      e.requests += c.Requests;
      e.hits += c.CacheHits;
      e.misses += c.CacheMisses;
      e.passes += c.CachePasses;
      e.originRequests += c.OriginRequests;
      routes.set(route, e);
    }
    distributionRequests += r.Requests;
    if (r.CacheHitRate !== null && r.Requests > 0) {
      rateSum += r.CacheHitRate * r.Requests;
      rateWeight += r.Requests;
    }
    if (r.OriginRequests === null) originUnknown = true;
    // Weighted by origin requests; without a count of them (CloudWatch), by the period's requests.
    const latencyWeightOf = r.OriginRequests ?? r.Requests;
    if (r.OriginLatency !== null && latencyWeightOf > 0) {
      latencySum += r.OriginLatency * latencyWeightOf;
      latencyWeight += latencyWeightOf;
    }
    if (r.BytesDownloaded !== null) bytes = (bytes ?? 0) + r.BytesDownloaded;
    if (r.Invalidations !== undefined) invalidations = (invalidations ?? 0) + r.Invalidations;
    if (r.CacheHitRate !== null) rates.push(r.CacheHitRate);
  }
  const list = [...routes.values()].sort((a, b) => b.requests - a.requests || a.route.localeCompare(b.route));
  for (const e of list) {
    e.cacheHitRate = e.hits + e.misses > 0 ? round((100 * e.hits) / (e.hits + e.misses)) : null;
    e.offload = e.requests > 0 ? round(1 - e.originRequests / e.requests, 4) : null;
    for (const k of ['requests', 'hits', 'misses', 'passes', 'originRequests'] as const) e[k] = round(e[k]);
  }
  const hits = list.reduce((n, e) => n + e.hits, 0);
  const misses = list.reduce((n, e) => n + e.misses, 0);
  // Without per-route counts (CloudWatch) the distribution's own Requests and CacheHitRate stand.
  const perRoute = list.length > 0;
  const requests = perRoute ? list.reduce((n, e) => n + e.requests, 0) : distributionRequests;
  const origin = perRoute && !originUnknown ? list.reduce((n, e) => n + e.originRequests, 0) : null;
  return {
    periods: records.length,
    requests: round(requests),
    originRequests: origin === null ? null : round(origin),
    cacheHitRate:
      hits + misses > 0
        ? round((100 * hits) / (hits + misses))
        : !perRoute && rateWeight > 0
          ? round(rateSum / rateWeight)
          : null,
    cacheHitRateRange: rates.length > 0 ? { min: Math.min(...rates), max: Math.max(...rates) } : null,
    offload: origin !== null && requests > 0 ? round(1 - origin / requests, 4) : null,
    originLatencyMs: latencyWeight > 0 ? round(latencySum / latencyWeight) : null,
    bytesDownloaded: bytes,
    invalidations,
    routes: list,
    provenance: records[0]?.provenance ?? 'measured',
  };
}
