/**
 * The edge on AWS read back from CloudWatch: a CloudFront distribution's metrics (namespace
 * AWS/CloudFront, dimensions DistributionId and Region=Global) folded into the same
 * EdgeTimelineRecord per period the local edge and the simulator write (core/run-format.ts), under
 * the same names, so the report's "Edge (CloudFront)" section shows an AWS run as it shows a local one.
 *
 * CloudFront publishes its metrics in us-east-1 only, whatever region the stack runs in: the reads go
 * there (CLOUDFRONT_METRICS_REGION). Requests, BytesDownloaded and the error rates are the default
 * metrics; CacheHitRate and OriginLatency are "additional metrics", published only when the
 * distribution has a monitoring subscription (infra/reference-stack/edge.ts turns it on; a distribution
 * of your own may not have one: the collect says so). CloudFront has no per-behaviour metrics and
 * no count of origin requests, so an AWS edge record has no routes and `OriginRequests: null`.
 *
 * Pure: queries in, records out. The I/O (GetMetricData) is in cloudwatch.ts.
 */
import type { EdgeTimelineRecord } from '../../core/run-format.ts';
import { eventTimeAt, type RunWindow } from '../timeline.ts';

/** The region CloudWatch holds every CloudFront metric in (docs/sources.md, "The edge"). */
export const CLOUDFRONT_METRICS_REGION = 'us-east-1';

/** A distribution metric the edge record keeps: its name (the record's field), statistic, and whether it is an additional metric. */
export interface CloudFrontMetric {
  name:
    | 'Requests'
    | 'BytesDownloaded'
    | 'CacheHitRate'
    | 'OriginLatency'
    | '4xxErrorRate'
    | '5xxErrorRate'
    | 'TotalErrorRate';
  stat: 'Sum' | 'Average';
  /** Published only with additional metrics turned on (a monitoring subscription). */
  additional: boolean;
}

/**
 * The metrics read, with the statistic CloudFront's documentation gives each (Developer Guide, "Get
 * metrics by using the Amazon CloudWatch API"); OriginLatency (ms) is read as its Average, the mean the
 * local edge writes.
 */
export const CLOUDFRONT_METRICS: readonly CloudFrontMetric[] = [
  { name: 'Requests', stat: 'Sum', additional: false },
  { name: 'BytesDownloaded', stat: 'Sum', additional: false },
  { name: '4xxErrorRate', stat: 'Average', additional: false },
  { name: '5xxErrorRate', stat: 'Average', additional: false },
  { name: 'TotalErrorRate', stat: 'Average', additional: false },
  { name: 'CacheHitRate', stat: 'Average', additional: true },
  { name: 'OriginLatency', stat: 'Average', additional: true },
];

/** One GetMetricData query of the distribution and the metric it reads. */
export interface EdgeQuery {
  id: string;
  metric: CloudFrontMetric;
  query: Record<string, unknown>;
}

/** The GetMetricData queries for a distribution's metrics, by explicit dimensions. Pure. */
export function planEdgeQueries(distributionId: string, period: number): EdgeQuery[] {
  return CLOUDFRONT_METRICS.map((metric, i) => {
    const id = `cf${i}`;
    return {
      id,
      metric,
      query: {
        Id: id,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/CloudFront',
            MetricName: metric.name,
            Dimensions: [
              { Name: 'DistributionId', Value: distributionId },
              { Name: 'Region', Value: 'Global' },
            ],
          },
          Period: period,
          Stat: metric.stat,
        },
        ReturnData: true,
      },
    };
  });
}

/** One datapoint of a distribution metric (wall time, epoch ms). */
export interface EdgePoint {
  name: CloudFrontMetric['name'];
  atMs: number;
  value: number;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * Folds the distribution's datapoints into one edge record per period that has any, on the run's event
 * clock (the period's start, as the services' records). A period without a Requests datapoint but with
 * others has 0 requests (CloudFront reported nothing served); a metric with no datapoint is null. Pure.
 */
export function edgeTimelineFromCloudWatch(
  points: readonly EdgePoint[],
  w: RunWindow,
  periodSeconds: number,
): EdgeTimelineRecord[] {
  const byT = new Map<number, EdgeTimelineRecord>();
  for (const p of points) {
    const t = eventTimeAt(w, p.atMs);
    let r = byT.get(t);
    if (!r) {
      r = {
        t,
        period: periodSeconds * w.timeScale,
        service: 'edge',
        kind: 'edge',
        Requests: 0,
        BytesDownloaded: null,
        CacheHitRate: null,
        OriginLatency: null,
        '4xxErrorRate': null,
        '5xxErrorRate': null,
        TotalErrorRate: null,
        // CloudFront publishes no origin request count and no per-behaviour metrics.
        OriginRequests: null,
        originOffload: null,
        routes: {},
        source: 'cloudwatch',
        provenance: 'measured',
      };
      byT.set(t, r);
    }
    r[p.name] = round(p.value);
  }
  return [...byT.values()].sort((a, b) => a.t - b.t);
}

/**
 * The note for the additional metrics when the distribution published none in the window: they need a
 * monitoring subscription (the stack's distribution has one; `--no-edge` has no distribution at all).
 */
export function additionalMetricsNote(distributionId: string, missing: readonly string[]): string {
  return `edge: no data for AWS/CloudFront ${missing.join(' and ')} of distribution ${distributionId}: they are CloudFront's additional metrics, published only when the distribution has them turned on (a monitoring subscription: the stack's distribution has one since this version; for your own, CloudFront console > Telemetry > Monitoring > Enable additional metrics, which CloudWatch bills per metric)`;
}
