/**
 * The report's edge section (CloudFront's hit rate and origin offload, per route) as Markdown lines;
 * the HTML renderer shows the same lines as a paragraph and a table. Pure.
 */
import type { EdgeSummary } from '../findings/edge.ts';
import { formatNumber, PROVENANCE_LABEL } from './format.ts';

/** The edge's section: CloudFront's hit rate and origin offload, per route. */
export function edgeMarkdown(e: EdgeSummary): string[] {
  const pct = (x: number | null) => (x === null ? '—' : `${formatNumber(x, 1)}%`);
  const share = (x: number | null) => (x === null ? '—' : `${formatNumber(100 * x, 1)}%`);
  return [
    '## Edge (CloudFront)',
    '',
    `${formatNumber(e.requests, 0)} requests over ${e.periods} periods (${PROVENANCE_LABEL[e.provenance]}): CacheHitRate ${pct(e.cacheHitRate)}${e.cacheHitRateRange ? ` (per period ${pct(e.cacheHitRateRange.min)}–${pct(e.cacheHitRateRange.max)})` : ''}, ${e.originRequests !== null ? `origin offload ${share(e.offload)} (${formatNumber(e.originRequests, 0)} requests reached the origin)` : 'origin offload — (CloudFront publishes no origin request count: compare the ALB’s requests in Services)'}${e.originLatencyMs !== null ? `, OriginLatency ${formatNumber(e.originLatencyMs, 1)} ms` : ''}${e.invalidations !== null ? `, ${formatNumber(e.invalidations, 0)} invalidations` : ''}.`,
    '',
    ...(e.routes.length === 0
      ? ['No per-route counts: CloudFront publishes none (its metrics are per distribution).', '']
      : []),
    '| route | requests | hits | misses | passed | to origin | CacheHitRate | offload |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...e.routes.map(
      (x) =>
        `| ${x.route} | ${formatNumber(x.requests, 0)} | ${formatNumber(x.hits, 0)} | ${formatNumber(x.misses, 0)} | ${formatNumber(x.passes, 0)} | ${formatNumber(x.originRequests, 0)} | ${pct(x.cacheHitRate)} | ${share(x.offload)} |`,
    ),
    '',
  ];
}
