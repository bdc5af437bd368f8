import { describe, expect, it } from 'vitest';
import type { EdgeTimelineRecord } from '../../core/run-format.ts';
import { edgeMarkdown } from '../renderers/edge-section.ts';
import { computeEdgeSummary } from './edge.ts';

const rec = (
  t: number,
  hits: number,
  misses: number,
  api: number,
  latency: number | null,
): EdgeTimelineRecord => ({
  t,
  period: 60,
  service: 'edge',
  kind: 'edge',
  Requests: hits + misses + api,
  BytesDownloaded: 1000 * (hits + misses),
  CacheHitRate: hits + misses > 0 ? (100 * hits) / (hits + misses) : null,
  OriginLatency: latency,
  OriginRequests: misses + api,
  originOffload: 1 - (misses + api) / (hits + misses + api),
  routes: {
    product: {
      Requests: hits + misses,
      CacheHits: hits,
      CacheMisses: misses,
      CachePasses: 0,
      OriginRequests: misses,
      CacheHitRate: hits + misses > 0 ? (100 * hits) / (hits + misses) : null,
    },
    api: {
      Requests: api,
      CacheHits: 0,
      CacheMisses: 0,
      CachePasses: api,
      OriginRequests: api,
      CacheHitRate: null,
    },
  },
  Invalidations: 1,
  source: 'local',
  provenance: 'measured',
});

describe("the report's edge section", () => {
  it('sums the periods: hit rate over cacheable requests, offload over all, origin latency weighted by origin requests', () => {
    const s = computeEdgeSummary([rec(0, 90, 10, 100, 20), rec(60, 50, 50, 100, 40)])!;
    expect(s.requests).toBe(400);
    expect(s.cacheHitRate).toBe(70);
    expect(s.cacheHitRateRange).toEqual({ min: 50, max: 90 });
    expect(s.originRequests).toBe(260);
    expect(s.offload).toBe(0.35);
    expect(s.originLatencyMs).toBeCloseTo((20 * 110 + 40 * 150) / 260, 2);
    expect(s.invalidations).toBe(2);
    expect(s.routes.map((r) => [r.route, r.cacheHitRate, r.offload])).toEqual([
      ['api', null, 0],
      ['product', 70, 0.7],
    ]);
    const md = edgeMarkdown(s).join('\n');
    expect(md).toContain('## Edge (CloudFront)');
    expect(md).toContain('CacheHitRate 70%');
    expect(md).toMatch(/\| product \| 200 \| 140 \| 60 \| 0 \| 60 \| 70% \| 70% \|/);
  });

  it("from CloudWatch (no routes, no origin count): the distribution's requests, its hit rate weighted by requests, no offload", () => {
    const cw = (
      t: number,
      requests: number,
      rate: number | null,
      latency: number | null,
    ): EdgeTimelineRecord => ({
      t,
      period: 60,
      service: 'edge',
      kind: 'edge',
      Requests: requests,
      BytesDownloaded: 2000 * requests,
      CacheHitRate: rate,
      OriginLatency: latency,
      OriginRequests: null,
      originOffload: null,
      routes: {},
      source: 'cloudwatch',
      provenance: 'measured',
    });
    const s = computeEdgeSummary([cw(0, 3000, 80, 20), cw(60, 6000, 90, 40), cw(120, 0, null, null)])!;
    expect(s.requests).toBe(9000);
    expect(s.cacheHitRate).toBeCloseTo((80 * 3000 + 90 * 6000) / 9000, 2);
    expect(s.cacheHitRateRange).toEqual({ min: 80, max: 90 });
    expect(s.originRequests).toBeNull();
    expect(s.offload).toBeNull();
    expect(s.originLatencyMs).toBeCloseTo((20 * 3000 + 40 * 6000) / 9000, 2);
    expect(s.bytesDownloaded).toBe(18e6);
    expect(s.routes).toEqual([]);
    const md = edgeMarkdown(s).join('\n');
    expect(md).toContain('9,000 requests over 3 periods');
    expect(md).toContain('CacheHitRate 86.7%');
    expect(md).toContain('CloudFront publishes no origin request count');
    expect(md).toContain('No per-route counts');
    // Without any CacheHitRate (additional metrics off) there is no hit rate, not 0.
    expect(computeEdgeSummary([cw(0, 100, null, null)])!.cacheHitRate).toBeNull();
  });

  it('has no section without edge records', () => {
    expect(computeEdgeSummary([])).toBeNull();
    expect(computeEdgeSummary(undefined)).toBeNull();
  });
});
