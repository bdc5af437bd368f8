/**
 * collect --source cloudwatch against an account shaped like a real one (wire level, the project's
 * local AWS endpoint): a service behind an ALB target group on ARM64, one reached only through Service
 * Connect on x86 Fargate Spot, one with neither; DynamoDB tables and an event bus named in the task
 * definitions' environment; paging, a throttled call, PartialData on one metric, an empty window, and a
 * window collected without a run directory.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTimeline } from '../../core/run-directory.ts';
import { collectTelemetry } from '../collect.ts';
import { type FakeAccount, type FakeAwsServer, type MetricKey, startFakeAws } from '../test-aws-server.ts';
import { resourcesFromEnvironment } from './cloudwatch.ts';

const FROM = Date.UTC(2026, 10, 27, 14, 0, 0);
const TO = FROM + 30 * 60_000;
const CREDS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
const TG = 'targetgroup/catalog-tg/73e2d6bc24d8a067';
const LB = 'app/shop-alb/50dc6c495c0c9188';

/** The account's metrics, by explicit dimensions: each value says which query asked for it. */
function metric(key: MetricKey, ts: number): number | undefined {
  const minute = (ts * 1000 - FROM) / 60_000;
  if (minute < 0 || minute >= 30) return undefined;
  const d = key.dimensions ?? {};
  const step = minute >= 10 ? 10 : 1;
  switch (`${key.namespace}/${key.name}`) {
    case 'AWS/ECS/CPUUtilization':
      return d.ServiceName === 'cart' ? 67.5 : 40;
    case 'AWS/ECS/MemoryUtilization':
      return 30;
    case 'ECS/ContainerInsights/RunningTaskCount':
    case 'ECS/ContainerInsights/DesiredTaskCount':
      return 2;
    case 'ECS/ContainerInsights/PendingTaskCount':
      return 0;
    case 'AWS/ApplicationELB/RequestCount':
      return d.TargetGroup === TG && d.LoadBalancer === LB ? 6000 * step : undefined;
    case 'AWS/ApplicationELB/RequestCountPerTarget':
      return d.TargetGroup === TG ? 3000 * step : undefined;
    case 'AWS/ApplicationELB/TargetResponseTime':
      if (d.LoadBalancer !== LB) return undefined;
      return { Average: 0.05, p50: 0.04, p95: 0.12, p99: 0.3 }[key.stat];
    case 'AWS/ApplicationELB/HTTPCode_ELB_5XX_Count':
      return d.LoadBalancer === LB && !d.TargetGroup ? 7 : undefined;
    case 'AWS/ApplicationELB/RejectedConnectionCount':
      return d.LoadBalancer === LB && !d.TargetGroup ? 2 : undefined;
    case 'AWS/ECS/RequestCount':
      return d.DiscoveryName === 'cart' && d.ServiceName === 'cart' ? 1200 * step : undefined;
    case 'AWS/ECS/TargetResponseTime':
      return d.DiscoveryName === 'cart' ? { Average: 21, p95: 48, p99: 90 }[key.stat] : undefined;
    case 'AWS/DynamoDB/ConsumedReadCapacityUnits':
      return { 'catalog-items': 900, carts: 300 }[d.TableName ?? ''];
    case 'AWS/DynamoDB/ConsumedWriteCapacityUnits':
      return d.TableName === 'carts' ? 240 : undefined;
    case 'AWS/DynamoDB/WriteThrottleEvents':
      return d.TableName === 'carts' && minute >= 12 && minute < 14 ? 5 : undefined;
    case 'AWS/Events/Invocations':
      return d.EventBusName === 'shop-events' ? 300 : undefined;
    case 'AWS/Events/FailedInvocations':
      return d.EventBusName === 'shop-events' && minute === 20 ? 1 : undefined;
    default:
      return undefined;
  }
}

function account(overrides: Partial<FakeAccount> = {}): FakeAccount {
  return {
    cluster: 'shop',
    services: [
      {
        name: 'catalog',
        taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/catalog:7',
        targetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:123456789012:${TG}`,
        cpu: '1024',
        memory: '2048',
        cpuArchitecture: 'ARM64',
        environment: { CATALOG_TABLE: 'catalog-items', EVENT_BUS_NAME: 'shop-events', LOG_LEVEL: 'info' },
      },
      {
        name: 'cart',
        taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/cart:3',
        cpu: '512',
        memory: '1024',
        cpuArchitecture: 'X86_64',
        capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        serviceConnect: ['cart'],
        environment: { CART_TABLE: 'arn:aws:dynamodb:us-east-1:123456789012:table/carts' },
      },
      { name: 'legacy', taskDefinition: 'arn:aws:ecs:us-east-1:123456789012:task-definition/legacy:1' },
    ],
    metric,
    activities: [],
    loadBalancers: { [TG]: LB },
    datapointsPerPage: 200,
    ...overrides,
  };
}

let server: FakeAwsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function collectWindow(a: FakeAccount, from = FROM, to = TO) {
  server = await startFakeAws(a);
  const dir = join(mkdtempSync(join(tmpdir(), 'peakday-cw-')), 'window');
  const r = await collectTelemetry(
    dir,
    'cloudwatch',
    { cluster: 'shop', region: 'us-east-1', endpoint: server.url, credentials: CREDS, nowMs: TO + 3_600_000 },
    { fromMs: from, toMs: to },
  );
  return { dir, ...r };
}

describe('collect --source cloudwatch: discovery and metrics by explicit dimensions', () => {
  it('discovers task size, CPU architecture, launch type or capacity provider, target group, Service Connect, tables and buses', async () => {
    const { info } = await collectWindow(account());
    const by = Object.fromEntries((info.discovered ?? []).map((d) => [d.name, d]));
    expect(by.catalog).toMatchObject({
      vcpu: 1,
      memoryGb: 2,
      cpuArchitecture: 'ARM64',
      launchType: 'FARGATE',
      targetGroup: TG,
      loadBalancer: LB,
      tables: ['catalog-items'],
      eventBuses: ['shop-events'],
    });
    expect(by.cart).toMatchObject({
      vcpu: 0.5,
      memoryGb: 1,
      cpuArchitecture: 'X86_64',
      capacityProvider: 'FARGATE_SPOT',
      discoveryNames: ['cart'],
      tables: ['carts'],
    });
    expect(by.cart?.targetGroup).toBeUndefined();
    expect(info.notes.join('\n')).toMatch(/legacy: neither a load balancer target group nor Service Connect/);
  });

  it('reads ALB per target group, Service Connect, DynamoDB and EventBridge into each service’s timeline', async () => {
    const { dir } = await collectWindow(account());
    const tl = readTimeline(dir);
    const at = (service: string, minute: number) =>
      tl.find((r) => r.service === service && r.t === minute * 60);
    expect(at('catalog', 5)).toMatchObject({
      requests: 6000,
      requestsPerTarget: 3000,
      responseTimeMs: 50,
      responseTimeP50Ms: 40,
      responseTimeP95Ms: 120,
      responseTimeP99Ms: 300,
      elb5xx: 7,
      rejectedConnections: 2,
      eventInvocations: 300,
      requestsFrom: 'load-balancer',
    });
    expect(at('catalog', 15)?.requests).toBe(60_000);
    expect(at('catalog', 5)?.stores?.[0]).toMatchObject({ table: 'catalog-items', readUnits: 900 });
    expect(at('cart', 5)).toMatchObject({
      requests: 1200,
      responseTimeMs: 21,
      responseTimeP95Ms: 48,
      cpu: 67.5,
      requestsFrom: 'service-connect',
    });
    expect(at('cart', 13)?.stores?.[0]).toMatchObject({
      table: 'carts',
      readUnits: 300,
      writeUnits: 240,
      throttles: 5,
    });
    expect(at('legacy', 5)?.requests).toBeNull();
    // Every ALB query named both dimensions; no SEARCH was needed.
    const queries = (server as FakeAwsServer).requests
      .filter((r) => r.operation.endsWith('GetMetricData'))
      .flatMap((r) => r.body.MetricDataQueries as { Expression?: string }[]);
    expect(queries.some((q) => q.Expression)).toBe(false);
  });

  it('follows NextToken pages, retries a throttled call, and marks PartialData on the one metric that had it', async () => {
    server = await startFakeAws(
      account({ partialMetrics: ['AWS/ApplicationELB/RequestCountPerTarget'], datapointsPerPage: 100 }),
    );
    server.faults.push({
      operation: 'GraniteServiceVersion20100801.GetMetricData',
      times: 1,
      status: 400,
      type: 'ThrottlingException',
      message: 'Rate exceeded',
    });
    const dir = join(mkdtempSync(join(tmpdir(), 'peakday-cw-')), 'window');
    const { info } = await collectTelemetry(
      dir,
      'cloudwatch',
      {
        cluster: 'shop',
        region: 'us-east-1',
        endpoint: server.url,
        credentials: CREDS,
        nowMs: TO + 3_600_000,
      },
      { fromMs: FROM, toMs: TO },
    );
    const calls = server.requests.filter((r) => r.operation.endsWith('GetMetricData'));
    expect(calls.filter((c) => c.body.NextToken).length).toBeGreaterThan(3);
    const tl = readTimeline(dir);
    expect(
      tl.filter((r) => r.service === 'catalog').every((r) => r.partialFields?.includes('requestsPerTarget')),
    ).toBe(true);
    expect(tl.filter((r) => r.service === 'cart').some((r) => r.partial)).toBe(false);
    expect(info.partial).toBe(true);
    expect(info.notes.join('\n')).toMatch(
      /PartialData \(incomplete\) for: catalog AWS\/ApplicationELB RequestCountPerTarget/,
    );
    expect(tl.find((r) => r.service === 'catalog' && r.t === 300)?.requests).toBe(6000);
  });

  it('creates a run directory for a window, its meta carrying the window; an empty window says so', async () => {
    const empty = await collectWindow(account(), TO + 3_600_000, TO + 7_200_000);
    const meta = JSON.parse(readFileSync(join(empty.dir, 'meta.json'), 'utf8'));
    expect(meta).toMatchObject({
      driver: 'none',
      startedAt: new Date(TO + 3_600_000).toISOString(),
      timeScale: 1,
    });
    expect(empty.info.records).toBe(0);
    expect(empty.info.partial).toBe(true);
    expect(empty.info.notes.join('\n')).toMatch(/no datapoints for the time range/);
  });

  it('reads DynamoDB ThrottledRequests by table and operation, including a table that is not the service’s busiest', async () => {
    const base = account();
    const cart = base.services.find((x) => x.name === 'cart')!;
    const a = account({
      services: base.services.map((x) =>
        x === cart ? { ...x, environment: { ...cart.environment, SESSIONS_TABLE: 'sessions' } } : x,
      ),
      metric: (key, ts) => {
        const minute = (ts * 1000 - FROM) / 60_000;
        const d = key.dimensions ?? {};
        if (key.name === 'ThrottledRequests') {
          // Only with both dimensions, as CloudWatch reports it.
          if (!d.TableName || !d.Operation) return undefined;
          if (d.TableName === 'sessions' && minute >= 20 && minute < 23)
            return { Query: 40, PutItem: 3 }[d.Operation];
          return undefined;
        }
        if (key.name === 'ConsumedReadCapacityUnits' && d.TableName === 'sessions')
          return minute >= 0 && minute < 30 ? 12 : undefined;
        return metric(key, ts);
      },
    });
    const { dir } = await collectWindow(a);
    const tl = readTimeline(dir);
    const at21 = tl.find((r) => r.service === 'cart' && r.t === 21 * 60);
    // carts is the busiest table; sessions throttled.
    expect(at21?.store?.table).toBe('carts');
    expect(at21?.stores?.find((x) => x.table === 'sessions')).toMatchObject({
      readUnits: 12,
      throttledRequests: 43,
      throttledOperations: { Query: 40, PutItem: 3 },
    });
    expect(
      tl.find((r) => r.service === 'cart' && r.t === 19 * 60)?.stores?.find((x) => x.table === 'sessions'),
    ).not.toHaveProperty('throttledRequests');
    const asked = (server as FakeAwsServer).requests
      .filter((r) => r.operation.endsWith('GetMetricData'))
      .flatMap(
        (r) =>
          r.body.MetricDataQueries as {
            MetricStat?: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] } };
          }[],
      )
      .filter((q) => q.MetricStat?.Metric.MetricName === 'ThrottledRequests')
      .map((q) => q.MetricStat!.Metric.Dimensions.map((x) => `${x.Name}=${x.Value}`).join(','));
    expect(asked).toContain('TableName=sessions,Operation=Query');
    expect(asked).toContain('TableName=carts,Operation=PutItem');
  });

  it('marks a period without a datapoint missing (not 0), and keeps a period a service reported nothing in', async () => {
    const { dir, info } = await collectWindow(
      account({
        metric: (key, ts) => {
          const minute = (ts * 1000 - FROM) / 60_000;
          const d = key.dimensions ?? {};
          // cart's CPU is not reported at minutes 12-14; legacy reports nothing at all at minute 20.
          if (d.ServiceName === 'cart' && key.name === 'CPUUtilization' && minute >= 12 && minute < 15)
            return undefined;
          if (d.ServiceName === 'legacy' && minute === 20) return undefined;
          return metric(key, ts);
        },
      }),
    );
    const tl = readTimeline(dir);
    const cart = tl.filter((r) => r.service === 'cart');
    expect(cart.filter((r) => r.missing?.length).map((r) => [r.t, r.missing, r.cpu])).toEqual([
      [720, ['cpu'], null],
      [780, ['cpu'], null],
      [840, ['cpu'], null],
    ]);
    const legacy = tl.filter((r) => r.service === 'legacy');
    // Every minute of the window is there, the silent one kept and marked, not dropped.
    expect(legacy.map((r) => r.t)).toEqual(Array.from({ length: 30 }, (_, m) => m * 60));
    expect(legacy.find((r) => r.t === 1200)).toMatchObject({
      noData: true,
      cpu: null,
      missing: ['cpu', 'desired', 'memory', 'pending', 'running'],
    });
    expect(info.records).toBe(tl.length - 1);
    expect(info.periodsWithoutData).toBe(1);
    expect(info.notes).toContain('cart: cpu missing in 3 of 30 periods (event 720–900 s): unknown, not zero');
    expect(info.notes).toContain(
      'legacy: running missing in 1 of 30 periods (event 1200–1260 s): unknown, not zero',
    );
  });

  it.each([
    ['a plain table name', [{ name: 'ORDERS_TABLE', value: 'orders' }], ['orders'], []],
    ['a table ARN', [{ name: 'TABLE_NAME', value: 'arn:aws:dynamodb:eu-west-1:1:table/t1' }], ['t1'], []],
    ['an event bus', [{ name: 'EVENT_BUS_NAME', value: 'shop' }], [], ['shop']],
    ['neither', [{ name: 'PORT', value: '8080' }], [], []],
  ])('finds resources in a task environment: %s', (_n, env, tables, buses) => {
    expect(resourcesFromEnvironment(env)).toEqual({ tables, buses });
  });
});
