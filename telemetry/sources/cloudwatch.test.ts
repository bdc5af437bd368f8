import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ScalingActivity, TimelineRecord } from '../../core/run-format.ts';
import { collectTelemetry } from '../collect.ts';
import { type FakeAccount, type FakeAwsServer, type MetricKey, startFakeAws } from '../test-aws-server.ts';
import { writeTestRun } from '../test-run-fixture.ts';
import { batchQueries, periodForAge, planQueries } from './cloudwatch.ts';
import type { CollectOptions } from './source.ts';

const START = Date.UTC(2026, 10, 25, 10, 0, 0);
const START_S = START / 1000;
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/catalog-tg/73e2d6bc24d8a067';

function metric(key: MetricKey, ts: number): number | undefined {
  const minute = (ts - START_S) / 60;
  const spike = minute >= 10;
  const values: Record<string, number | undefined> = {
    CPUUtilization: spike ? 90 : 30,
    MemoryUtilization: 25,
    DesiredTaskCount: spike && minute >= 14 ? 4 : 2,
    RunningTaskCount: spike && minute >= 15 ? 4 : 2,
    PendingTaskCount: minute === 14 ? 2 : 0,
    RequestCount: key.targetGroup ? 1200 : undefined,
    RequestCountPerTarget: key.targetGroup ? 600 : undefined,
    TargetResponseTime: key.targetGroup ? 0.05 : undefined,
    HTTPCode_Target_5XX_Count: key.targetGroup && spike ? 3 : undefined,
    HealthyHostCount: key.targetGroup ? (spike && minute >= 15 ? 4 : 2) : undefined,
  };
  return values[key.name];
}

function account(overrides: Partial<FakeAccount> = {}): FakeAccount {
  return {
    cluster: 'shop',
    services: [
      {
        name: 'catalog',
        taskDefinition: 'catalog:3',
        targetGroupArn: TG,
        tags: { 'peakday:stack': 'headless' },
        cpu: '512',
        memory: '1024',
      },
      { name: 'cart', taskDefinition: 'cart:1', tags: { 'peakday:stack': 'headless' } },
      { name: 'legacy', taskDefinition: 'legacy:9' },
    ],
    metric,
    activities: [
      {
        ActivityId: 'a-1',
        ResourceId: 'service/shop/catalog',
        Description: 'Setting desired count to 4.',
        Cause:
          'monitor alarm TargetTracking-service/shop/catalog-AlarmHigh-1 in state ALARM triggered policy cpu changing the desired capacity from 2 to 4.',
        StartTime: START_S + 14 * 60,
        EndTime: START_S + 14 * 60 + 30,
        StatusCode: 'Successful',
      },
      {
        ActivityId: 'a-0',
        ResourceId: 'service/shop/catalog',
        Description: 'Attempting to scale in',
        Cause: 'monitor alarm AlarmLow in state ALARM triggered policy cpu',
        StartTime: START_S + 2 * 60,
        StatusCode: 'Failed',
        NotScaledReasons: [{ Code: 'AlreadyAtMinCapacity', CurrentCapacity: 2 }],
      },
      {
        ActivityId: 'old',
        ResourceId: 'service/shop/catalog',
        Description: 'Setting desired count to 2.',
        Cause: 'from 1 to 2',
        StartTime: START_S - 86_400,
        StatusCode: 'Successful',
      },
    ],
    ...overrides,
  };
}

let server: FakeAwsServer;
const runDir = () => writeTestRun({ startedAtMs: START, timeScale: 1, eventStart: 0, eventEnd: 1800 });
const opts = (extra: CollectOptions = {}): CollectOptions => ({
  cluster: 'shop',
  region: 'us-east-1',
  endpoint: server.url,
  credentials: CREDS,
  nowMs: START + 3_600_000,
  ...extra,
});

async function withServer(a: FakeAccount): Promise<void> {
  await server?.close();
  server = await startFakeAws(a);
}

beforeAll(async () => {
  server = await startFakeAws(account());
});
afterAll(async () => {
  await server.close();
});

describe('the cloudwatch source over the real wire protocols', () => {
  it('collects the timeline and activities of the services tagged for the stack', async () => {
    await withServer(account());
    const dir = runDir();
    const { info, result } = await collectTelemetry(dir, 'cloudwatch', opts({ tag: 'peakday:stack' }));
    expect(info.services).toEqual(['cart', 'catalog']);
    const timeline = readFileSync(join(dir, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TimelineRecord);
    const at = (service: string, t: number) => timeline.find((r) => r.service === service && r.t === t);
    expect(at('catalog', 0)).toMatchObject({
      period: 60,
      cpu: 30,
      memory: 25,
      desired: 2,
      running: 2,
      requests: 1200,
      requestsPerTarget: 600,
      responseTimeMs: 50,
      source: 'cloudwatch',
      provenance: 'measured',
    });
    expect(at('catalog', 840)).toMatchObject({
      cpu: 90,
      desired: 4,
      running: 2,
      pending: 2,
      healthy: 2,
      http5xx: 3,
    });
    expect(at('catalog', 900)).toMatchObject({ running: 4, healthy: 4 });
    expect(at('cart', 0)).toMatchObject({ cpu: 30, requests: null, requestsPerTarget: null });
    const activities = JSON.parse(
      readFileSync(join(dir, 'scaling-activities.json'), 'utf8'),
    ) as ScalingActivity[];
    expect(
      activities.map((a) => [a.ActivityId, a.eventTime, a.StatusCode, a.fromCapacity, a.toCapacity]),
    ).toEqual([
      ['a-0', 120, 'Failed', undefined, undefined],
      ['a-1', 840, 'Successful', 2, 4],
    ]);
    expect(activities[0]?.NotScaledReasons).toEqual([{ Code: 'AlreadyAtMinCapacity', CurrentCapacity: 2 }]);
    expect(result.notes).toContain(
      'cart: neither a load balancer target group nor Service Connect, so CloudWatch has no request metric for it',
    );
    expect(result.notes).toContain('catalog: task size 0.5 vCPU, 1 GB, X86_64, FARGATE');

    const gmd = server.requests.filter((r) => r.operation === 'GraniteServiceVersion20100801.GetMetricData');
    expect(gmd).toHaveLength(1);
    expect(gmd[0]?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(gmd[0]?.body.StartTime).toBe(START_S);
    const queries = gmd[0]?.body.MetricDataQueries as { Id: string; Expression?: string }[];
    expect(queries.find((q) => q.Expression?.includes('RequestCount"'))?.Expression).toBe(
      `SUM(SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="RequestCount" TargetGroup="targetgroup/catalog-tg/73e2d6bc24d8a067"', 'Sum', 60))`,
    );
    const aas = server.requests.filter(
      (r) => r.operation === 'AnyScaleFrontendService.DescribeScalingActivities',
    );
    expect(aas[0]?.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(aas.map((r) => [r.body.ResourceId, r.body.IncludeNotScaledActivities])).toEqual([
      ['service/shop/catalog', true],
      ['service/shop/cart', true],
    ]);
    expect(
      server.requests.some((r) => r.operation === 'AmazonEC2ContainerServiceV20141113.DescribeServices'),
    ).toBe(true);
  });

  it('splits more than 500 queries into several calls and pages ECS and activity listings', async () => {
    const services = Array.from({ length: 60 }, (_, i) => ({
      name: `svc-${i}`,
      taskDefinition: `svc:${i}`,
      targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/svc-${i}/${i}`,
    }));
    const activities = Array.from({ length: 7 }, (_, i) => ({
      ActivityId: `x-${i}`,
      ResourceId: 'service/shop/svc-0',
      Description: 'Setting desired count',
      Cause: `changing the desired capacity from ${i + 1} to ${i + 2}.`,
      StartTime: START_S + 60 * (i + 1),
      StatusCode: 'Successful',
    }));
    await withServer(account({ services, activities, activitiesPerPage: 3 }));
    const { result } = await collectTelemetry(runDir(), 'cloudwatch', opts());
    const calls = server.requests.filter(
      (r) => r.operation === 'GraniteServiceVersion20100801.GetMetricData',
    );
    const sizes = calls.map((c) => (c.body.MetricDataQueries as unknown[]).length);
    expect(sizes).toEqual([500, 100]); // 60 services × 10 queries (5 ECS + 5 ALB) = 600
    expect(server.requests.filter((r) => r.operation.endsWith('ListServices'))).toHaveLength(1);
    expect(server.requests.filter((r) => r.operation.endsWith('DescribeServices'))).toHaveLength(6);
    expect(result.activities.map((a) => a.ActivityId)).toEqual([
      'x-0',
      'x-1',
      'x-2',
      'x-3',
      'x-4',
      'x-5',
      'x-6',
    ]);
    expect(new Set(result.timeline.map((r) => r.service)).size).toBe(60);
  });

  it('follows NextToken pages of GetMetricData to the same timeline as one page', async () => {
    await withServer(account());
    const whole = (await collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog'] }))).result
      .timeline;
    await withServer(account({ datapointsPerPage: 37 }));
    const paged = (await collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog'] }))).result;
    expect(server.requests.filter((r) => r.operation.endsWith('GetMetricData')).length).toBeGreaterThan(5);
    expect(paged.timeline).toEqual(whole);
    expect(paged.partial).toBe(false);
  });

  it('retries ThrottlingException and succeeds', async () => {
    await withServer(account());
    server.faults.push({
      operation: 'GraniteServiceVersion20100801.GetMetricData',
      times: 2,
      status: 400,
      type: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    const { result } = await collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog'] }));
    expect(server.requests.filter((r) => r.operation.endsWith('GetMetricData'))).toHaveLength(3);
    expect(result.timeline.length).toBeGreaterThan(0);
  });

  it('gives up on endless throttling with a clear message', async () => {
    await withServer(account());
    server.faults.push({
      operation: 'GraniteServiceVersion20100801.GetMetricData',
      times: 100,
      status: 400,
      type: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    await expect(
      collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog'] })),
    ).rejects.toMatchObject({
      code: 'aws-throttled',
      hint: expect.stringContaining('fewer --services'),
    });
  });

  it('marks PartialData results partial and names metrics with no data', async () => {
    const noInsights = (key: MetricKey, ts: number) =>
      key.namespace === 'ECS/ContainerInsights' ? undefined : metric(key, ts);
    await withServer(account({ metric: noInsights, partialMetrics: ['AWS/ECS/CPUUtilization'] }));
    const dir = runDir();
    const { info, result } = await collectTelemetry(dir, 'cloudwatch', opts({ services: ['catalog'] }));
    expect(info.partial).toBe(true);
    expect(result.timeline.every((r) => r.partial === true)).toBe(true);
    expect(result.notes.join('\n')).toMatch(/CloudWatch returned PartialData \(incomplete\) for: catalog /);
    expect(result.notes).toContain(
      'catalog: no data for ECS/ContainerInsights RunningTaskCount (enable Container Insights on the cluster)',
    );
    expect(JSON.parse(readFileSync(join(dir, 'telemetry.json'), 'utf8'))).toMatchObject({
      source: 'cloudwatch',
      partial: true,
    });
  });

  const faults = [
    {
      name: 'access denied names the permissions needed',
      op: 'AmazonEC2ContainerServiceV20141113.DescribeServices',
      type: 'AccessDeniedException',
      code: 'aws-access-denied',
      hint: /ecs:DescribeServices/,
    },
    {
      name: 'access denied on GetMetricData',
      op: 'GraniteServiceVersion20100801.GetMetricData',
      type: 'AccessDenied',
      code: 'aws-access-denied',
      hint: /cloudwatch:GetMetricData/,
    },
  ];
  for (const f of faults) {
    it(f.name, async () => {
      await withServer(account());
      server.faults.push({
        operation: f.op,
        times: 10,
        status: 400,
        type: f.type,
        message: 'User: arn:aws:iam::123456789012:user/x is not authorized',
      });
      await expect(
        collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog'] })),
      ).rejects.toMatchObject({ code: f.code, exitCode: 2, hint: expect.stringMatching(f.hint) });
    });
  }

  it('says an unknown cluster is unknown', async () => {
    await withServer(account());
    await expect(collectTelemetry(runDir(), 'cloudwatch', opts({ cluster: 'nope' }))).rejects.toMatchObject({
      code: 'aws-cluster-not-found',
      hint: 'check --cluster and --region',
    });
  });

  it('names a service the cluster does not have', async () => {
    await withServer(account());
    await expect(
      collectTelemetry(runDir(), 'cloudwatch', opts({ services: ['catalog', 'ghost'] })),
    ).rejects.toMatchObject({
      code: 'aws-unknown-service',
      message: expect.stringContaining('ghost (MISSING)'),
    });
  });

  it('asks for --cluster when none is given', async () => {
    await expect(
      collectTelemetry(runDir(), 'cloudwatch', opts({ cluster: undefined })),
    ).rejects.toMatchObject({ code: 'cluster-required' });
  });
});

describe('credentials and endpoints from the environment', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('reaches the endpoint named by AWS_ENDPOINT_URL', async () => {
    await withServer(account());
    process.env.AWS_ENDPOINT_URL = server.url;
    const { result } = await collectTelemetry(runDir(), 'cloudwatch', {
      ...opts({ services: ['catalog'] }),
      endpoint: undefined,
    });
    expect(result.timeline.length).toBeGreaterThan(0);
  });

  it('explains missing credentials', async () => {
    await withServer(account());
    for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
    process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/credentials';
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    await expect(
      collectTelemetry(runDir(), 'cloudwatch', {
        ...opts({ services: ['catalog'] }),
        credentials: undefined,
      }),
    ).rejects.toMatchObject({
      code: 'aws-credentials-missing',
      hint: expect.stringContaining('AWS_PROFILE'),
    });
  });
});

describe('planning', () => {
  it('chooses the finest period CloudWatch keeps for the data’s age', () => {
    const table: [number, number][] = [
      [3600, 60],
      [14 * 86_400, 60],
      [20 * 86_400, 300],
      [100 * 86_400, 3600],
    ];
    for (const [age, period] of table) expect(periodForAge(age)).toBe(period);
    expect(() => periodForAge(500 * 86_400)).toThrow(/455 days/);
  });

  it('keeps each call under 100,800 datapoints as well as 500 queries', () => {
    const qs = Array.from({ length: 300 }, (_, i) => i);
    expect(batchQueries(qs, 1000).map((b) => b.length)).toEqual([100, 100, 100]);
    expect(batchQueries(qs, 60).map((b) => b.length)).toEqual([300]);
  });

  it('plans one SEARCH per ALB metric only for services behind a target group', () => {
    const q = planQueries('shop', [{ name: 'a', targetGroup: 'targetgroup/a/1' }, { name: 'b' }], 60);
    expect(q.filter((x) => x.service === 'a')).toHaveLength(10);
    expect(q.filter((x) => x.service === 'b')).toHaveLength(5);
    expect(new Set(q.map((x) => x.id)).size).toBe(q.length);
  });
});
