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

  it('has no section without edge records', () => {
    expect(computeEdgeSummary([])).toBeNull();
    expect(computeEdgeSummary(undefined)).toBeNull();
  });
});
