import { afterEach, describe, expect, it } from 'vitest';
import { readEdgeTimeline } from '../../core/run-directory.ts';
import { collectTelemetry } from '../collect.ts';
import { type FakeAwsServer, type MetricKey, startFakeAws } from '../test-aws-server.ts';
import { writeTestRun } from '../test-run-fixture.ts';
import { CLOUDFRONT_METRICS, edgeTimelineFromCloudWatch, planEdgeQueries } from './cloudwatch-edge.ts';

const START = Date.UTC(2026, 10, 25, 10, 0, 0);
const START_S = START / 1000;
const DIST = 'E2QWRUHAPOMQZL';
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

/** A distribution that served 600 requests a minute, then 1200 from minute 5, at a hit rate of 80% then 90%. */
function cloudFront(additional: boolean) {
  return (key: MetricKey, ts: number): number | undefined => {
    if (key.namespace === 'AWS/ECS') return key.name === 'CPUUtilization' ? 40 : undefined;
    if (key.namespace !== 'AWS/CloudFront') return undefined;
    // Only the distribution's own dimensions, exactly: CloudWatch matches every dimension.
    const d = key.dimensions ?? {};
    if (d.DistributionId !== DIST || d.Region !== 'Global' || Object.keys(d).length !== 2) return undefined;
    const late = (ts - START_S) / 60 >= 5;
    const values: Record<string, number | undefined> = {
      Requests: key.stat === 'Sum' ? (late ? 1200 : 600) : undefined,
      BytesDownloaded: key.stat === 'Sum' ? (late ? 2.4e6 : 1.2e6) : undefined,
      '4xxErrorRate': key.stat === 'Average' ? 0.5 : undefined,
      '5xxErrorRate': key.stat === 'Average' ? (late ? 1 : 0) : undefined,
      TotalErrorRate: key.stat === 'Average' ? (late ? 1.5 : 0.5) : undefined,
      CacheHitRate: additional && key.stat === 'Average' ? (late ? 90 : 80) : undefined,
      OriginLatency: additional && key.stat === 'Average' ? (late ? 40 : 20) : undefined,
    };
    return values[key.name];
  };
}

let server: FakeAwsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function collect(additional: boolean, distributionId = DIST) {
  server = await startFakeAws({
    cluster: 'shop',
    services: [{ name: 'gateway', taskDefinition: 'gateway:1' }],
    metric: cloudFront(additional),
    activities: [],
  });
  const dir = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
  const out = await collectTelemetry(dir, 'cloudwatch', {
    cluster: 'shop',
    // The stack's region: CloudFront's metrics are not there.
    region: 'eu-west-1',
    endpoint: server.url,
    credentials: CREDS,
    nowMs: START + 3_600_000,
    distributionId,
  });
  return { dir, ...out, server };
}

const isCloudFrontCall = (body: Record<string, unknown>) =>
  ((body.MetricDataQueries ?? []) as { MetricStat?: { Metric: { Namespace: string } } }[]).some(
    (q) => q.MetricStat?.Metric.Namespace === 'AWS/CloudFront',
  );

describe("the edge (CloudFront) from CloudWatch, over GetMetricData's wire protocol", () => {
  it('reads the distribution in us-east-1 while the stack is elsewhere, into edge records under the local names', async () => {
    const { dir, info, result, server } = await collect(true);
    const calls = server.requests.filter(
      (r) => r.operation === 'GraniteServiceVersion20100801.GetMetricData',
    );
    const cf = calls.filter((r) => isCloudFrontCall(r.body));
    expect(cf).toHaveLength(1);
    expect(cf.map((r) => r.region)).toEqual(['us-east-1']);
    // The services' metrics stay in the stack's region, and never mix with CloudFront's in one call.
    const others = calls.filter((r) => !isCloudFrontCall(r.body));
    expect(others.length).toBeGreaterThan(0);
    expect(new Set(others.map((r) => r.region))).toEqual(new Set(['eu-west-1']));
    // The queries: AWS/CloudFront, DistributionId + Region=Global, each metric's statistic.
    const queries = (cf[0]!.body.MetricDataQueries as { MetricStat: Record<string, unknown> }[]).map(
      (q) => q.MetricStat,
    );
    expect(queries).toContainEqual({
      Metric: {
        Namespace: 'AWS/CloudFront',
        MetricName: 'CacheHitRate',
        Dimensions: [
          { Name: 'DistributionId', Value: DIST },
          { Name: 'Region', Value: 'Global' },
        ],
      },
      Period: 60,
      Stat: 'Average',
    });
    expect(queries.find((q) => (q.Metric as { MetricName: string }).MetricName === 'Requests')?.Stat).toBe(
      'Sum',
    );

    expect(info.edgePeriods).toBe(result.edge?.length);
    const edge = readEdgeTimeline(dir);
    expect(edge.length).toBeGreaterThanOrEqual(10);
    expect(edge.find((r) => r.t === 0)).toMatchObject({
      service: 'edge',
      kind: 'edge',
      period: 60,
      Requests: 600,
      BytesDownloaded: 1.2e6,
      CacheHitRate: 80,
      OriginLatency: 20,
      '4xxErrorRate': 0.5,
      '5xxErrorRate': 0,
      TotalErrorRate: 0.5,
      OriginRequests: null,
      originOffload: null,
      routes: {},
      source: 'cloudwatch',
      provenance: 'measured',
    });
    expect(edge.find((r) => r.t === 300)).toMatchObject({
      Requests: 1200,
      CacheHitRate: 90,
      OriginLatency: 40,
    });
    expect(info.notes.join('\n')).not.toMatch(/additional metrics/);
  });

  it('says the additional metrics are off when CacheHitRate and OriginLatency have no data', async () => {
    const { dir, info } = await collect(false);
    const edge = readEdgeTimeline(dir);
    expect(edge.find((r) => r.t === 0)).toMatchObject({
      Requests: 600,
      CacheHitRate: null,
      OriginLatency: null,
    });
    const note = info.notes.find((n) => n.includes('additional metrics'));
    expect(note).toContain('CacheHitRate and OriginLatency');
    expect(note).toContain(DIST);
  });

  it('names a distribution CloudWatch has nothing for, and writes no edge records', async () => {
    const { dir, info } = await collect(true, 'E0000000000000');
    expect(readEdgeTimeline(dir)).toEqual([]);
    expect(info.edgePeriods).toBeUndefined();
    expect(info.notes.join('\n')).toMatch(/no AWS\/CloudFront data for distribution E0000000000000/);
    // The services' timeline is collected all the same.
    expect(info.services).toEqual(['gateway']);
  });
});

describe('a long window', () => {
  it("splits the distribution's queries over calls within GetMetricData's 100,800 datapoints", async () => {
    server = await startFakeAws({
      cluster: 'shop',
      services: [{ name: 'gateway', taskDefinition: 'gateway:1' }],
      metric: (key) =>
        key.namespace === 'AWS/CloudFront' && key.dimensions?.DistributionId === DIST ? 1 : undefined,
      activities: [],
    });
    const dir = writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 600 });
    const days = 14;
    const { result } = await collectTelemetry(
      dir,
      'cloudwatch',
      {
        cluster: 'shop',
        region: 'eu-west-1',
        endpoint: server.url,
        credentials: CREDS,
        nowMs: START + days * 86_400_000 + 3_600_000,
        distributionId: DIST,
        period: 60,
      },
      { fromMs: START, toMs: START + days * 86_400_000 },
    );
    const calls = server.requests.filter(
      (r) => r.operation === 'GraniteServiceVersion20100801.GetMetricData' && isCloudFrontCall(r.body),
    );
    // 14 days at 60 s: 20,162 datapoints a query, so 4 of the 7 queries a call: two calls.
    expect(calls).toHaveLength(2);
    for (const c of calls) expect((c.body.MetricDataQueries as unknown[]).length).toBeLessThanOrEqual(4);
    expect(calls.flatMap((c) => c.body.MetricDataQueries as unknown[])).toHaveLength(
      CLOUDFRONT_METRICS.length,
    );
    expect(result.edge?.length).toBeGreaterThan(20_000);
  }, 60_000);
});

describe('planning and folding the edge', () => {
  it('asks for every metric once, by the distribution and Region=Global', () => {
    const q = planEdgeQueries(DIST, 300);
    expect(q.map((x) => x.metric.name)).toEqual(CLOUDFRONT_METRICS.map((m) => m.name));
    expect(new Set(q.map((x) => x.id)).size).toBe(q.length);
    for (const x of q) expect((x.query.MetricStat as { Period: number }).Period).toBe(300);
  });

  it('puts a datapoint at its period’s start on the run’s event clock (60x: a wall minute is an event hour)', () => {
    const w = {
      startedAtMs: START,
      endedAtMs: START + 600_000,
      timeScale: 60,
      eventStart: 0,
      eventEnd: 36_000,
    };
    const records = edgeTimelineFromCloudWatch(
      [
        { name: 'Requests', atMs: START + 120_000, value: 10 },
        { name: 'CacheHitRate', atMs: START + 120_000, value: 50 },
        { name: 'CacheHitRate', atMs: START + 180_000, value: 60 },
      ],
      w,
      60,
    );
    expect(records.map((r) => [r.t, r.period, r.Requests, r.CacheHitRate])).toEqual([
      [7200, 3600, 10, 50],
      [10_800, 3600, 0, 60],
    ]);
  });
});
