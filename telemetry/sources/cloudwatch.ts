/**
 * The `cloudwatch` telemetry source: a stack on ECS, read back through the AWS APIs.
 *
 * - Services: given (`--services`) or discovered: ECS ListServices + DescribeServices (with tags; a
 *   `--tag key[=value]` selects), plus DescribeTaskDefinition for task sizes and the target group of
 *   each service's load balancer.
 * - Metrics: CloudWatch GetMetricData. The period is the finest CloudWatch still keeps for the data's
 *   age (60 s up to 15 days, 300 s up to 63 days, 3600 s up to 455 days); calls carry at most 500
 *   queries and 100,800 datapoints and follow NextToken; ALB metrics are found by target group with
 *   one `SUM(SEARCH(...))` metric-math query each, which saves a DescribeTargetGroups call per service
 *   and needs no load-balancer name.
 * - Scaling activities: Application Auto Scaling DescribeScalingActivities per service, paged, with
 *   IncludeNotScaledActivities.
 *
 * Throttling is retried by the SDK (standard retry mode); PartialData pages are followed and a result
 * still incomplete is marked `partial`. Failures become PeakdayErrors that name what is missing.
 * The SDKs are imported lazily: only this source needs them.
 */
import type { CustomMetric, CustomMetricRole } from '../../core/config.ts';
import { PeakdayError } from '../../core/errors.ts';
import type { EdgeTimelineRecord, ScalingActivity } from '../../core/run-format.ts';
import { type MetricMapping, SERVICE_METRICS } from '../metric-map.ts';
import {
  buildTimeline,
  capacityChange,
  describeMissing,
  eventTimeAt,
  findMissing,
  type MetricSample,
  type RunWindow,
  type StoreSample,
  type TimelineExpectation,
  type TimelineField,
} from '../timeline.ts';
import {
  additionalMetricsNote,
  CLOUDFRONT_METRICS_REGION,
  type EdgePoint,
  edgeTimelineFromCloudWatch,
  planEdgeQueries,
} from './cloudwatch-edge.ts';
import {
  type CollectContext,
  type CollectOptions,
  type CollectResult,
  collectInterrupted,
  type DiscoveredService,
  type TelemetrySource,
} from './source.ts';

/** GetMetricData limits (docs/sources.md). */
export const GET_METRIC_DATA_LIMITS = { queries: 500, datapoints: 100_800 } as const;

/** CloudWatch retention: the finest period kept for data of a given age (docs/sources.md). */
export const RETENTION = [
  { maxAgeSeconds: 15 * 86_400, period: 60 },
  { maxAgeSeconds: 63 * 86_400, period: 300 },
  { maxAgeSeconds: 455 * 86_400, period: 3600 },
] as const;

/** The period to ask for data that began `ageSeconds` ago. Throws past 455 days (CloudWatch has none). */
export function periodForAge(ageSeconds: number): number {
  for (const r of RETENTION) if (ageSeconds <= r.maxAgeSeconds) return r.period;
  throw new PeakdayError(
    'cloudwatch-data-expired',
    `the run is ${Math.floor(ageSeconds / 86_400)} days old; CloudWatch keeps metrics for 455 days`,
    {
      hint: 'collect telemetry within 15 days of a run to keep 1-minute resolution',
    },
  );
}

/** One ECS service as collect needs it. */
export interface EcsServiceInfo {
  name: string;
  /** `targetgroup/<name>/<id>`, the ALB metrics' TargetGroup dimension. */
  targetGroup?: string;
  /** `app/<name>/<id>`, the ALB metrics' LoadBalancer dimension (found with ListMetrics). */
  loadBalancer?: string;
  taskCpu?: number;
  taskMemory?: number;
  launchType?: string;
  /** The capacity provider that runs it (FARGATE, FARGATE_SPOT), when it uses a strategy. */
  capacityProvider?: string;
  /** The task definition's runtimePlatform.cpuArchitecture (X86_64 when the task definition says none, AWS's default). */
  cpuArchitecture?: 'X86_64' | 'ARM64';
  /** Service Connect discovery names the service serves (AWS/ECS DiscoveryName dimension). */
  discoveryNames?: string[];
  /** DynamoDB tables and EventBridge buses named in its task definition's environment (or by flags). */
  tables?: string[];
  eventBuses?: string[];
}

/** One planned query and what its values mean. */
export interface PlannedQuery {
  id: string;
  service: string;
  mapping: MetricMapping;
  query: Record<string, unknown>;
  /** DynamoDB queries: the table and the store field the values fill (instead of `mapping.field`). */
  store?: StoreTarget;
}

/** Where a DynamoDB query's values go: a table's store field (and the operation, for ThrottledRequests). */
export interface StoreTarget {
  table: string;
  field: Exclude<keyof StoreSample, 'table' | 'operation'>;
  operation?: string;
}

/** A metric of the account beyond SERVICE_METRICS, by namespace and name. */
function mapping(
  namespace: string,
  name: string,
  field: MetricMapping['field'],
  stat: string,
  factor = 1,
  hintWhenMissing = 'no data in the window',
  additive = false,
): MetricMapping {
  return { namespace, name, field, stat: stat as MetricMapping['stat'], factor, additive, hintWhenMissing };
}

/** ALB per target group, with explicit LoadBalancer and TargetGroup dimensions. */
const ALB_TARGET_GROUP = [
  mapping(
    'AWS/ApplicationELB',
    'RequestCount',
    'requests',
    'Sum',
    1,
    'is the service behind this target group?',
  ),
  mapping('AWS/ApplicationELB', 'TargetResponseTime', 'responseTimeMs', 'Average', 1000),
  mapping('AWS/ApplicationELB', 'TargetResponseTime', 'responseTimeP50Ms', 'p50', 1000),
  mapping('AWS/ApplicationELB', 'TargetResponseTime', 'responseTimeP95Ms', 'p95', 1000),
  mapping('AWS/ApplicationELB', 'TargetResponseTime', 'responseTimeP99Ms', 'p99', 1000),
  mapping(
    'AWS/ApplicationELB',
    'HTTPCode_Target_5XX_Count',
    'http5xx',
    'Sum',
    1,
    'no 5xx is reported as no data',
    true,
  ),
  mapping('AWS/ApplicationELB', 'HealthyHostCount', 'healthy', 'Average'),
];
/** ALB per target group alone (RequestCountPerTarget is reported by TargetGroup). */
const ALB_PER_TARGET = mapping('AWS/ApplicationELB', 'RequestCountPerTarget', 'requestsPerTarget', 'Sum');
/** ALB per load balancer: shared by every target group behind it. */
const ALB_LOAD_BALANCER = [
  mapping(
    'AWS/ApplicationELB',
    'HTTPCode_ELB_5XX_Count',
    'elb5xx',
    'Sum',
    1,
    'no 5xx is reported as no data',
    true,
  ),
  mapping(
    'AWS/ApplicationELB',
    'RejectedConnectionCount',
    'rejectedConnections',
    'Sum',
    1,
    'none rejected is reported as no data',
    true,
  ),
];
/** ECS Service Connect (AWS/ECS by ClusterName, ServiceName, DiscoveryName); TargetResponseTime is in ms. */
const SERVICE_CONNECT = [
  mapping(
    'AWS/ECS',
    'RequestCount',
    'requests',
    'Sum',
    1,
    'is Service Connect enabled for the service?',
    true,
  ),
  mapping('AWS/ECS', 'TargetResponseTime', 'responseTimeMs', 'Average'),
  mapping('AWS/ECS', 'TargetResponseTime', 'responseTimeP95Ms', 'p95'),
  mapping('AWS/ECS', 'TargetResponseTime', 'responseTimeP99Ms', 'p99'),
  mapping('AWS/ECS', 'HTTPCode_Target_5XX_Count', 'http5xx', 'Sum', 1, 'no 5xx is reported as no data', true),
];
/** DynamoDB per table (TableName) into the service's store usage. */
const DYNAMODB: { m: MetricMapping; store: StoreTarget['field'] }[] = [
  { m: mapping('AWS/DynamoDB', 'ConsumedReadCapacityUnits', 'requests', 'Sum'), store: 'readUnits' },
  { m: mapping('AWS/DynamoDB', 'ConsumedWriteCapacityUnits', 'requests', 'Sum'), store: 'writeUnits' },
  {
    m: mapping(
      'AWS/DynamoDB',
      'ReadThrottleEvents',
      'requests',
      'Sum',
      1,
      'no throttling is reported as no data',
    ),
    store: 'throttles',
  },
  {
    m: mapping(
      'AWS/DynamoDB',
      'WriteThrottleEvents',
      'requests',
      'Sum',
      1,
      'no throttling is reported as no data',
    ),
    store: 'throttles',
  },
  {
    m: mapping(
      'AWS/DynamoDB',
      'ProvisionedReadCapacityUnits',
      'requests',
      'Average',
      1,
      'on-demand tables report none',
    ),
    store: 'provisionedReadUnits',
  },
  {
    m: mapping(
      'AWS/DynamoDB',
      'ProvisionedWriteCapacityUnits',
      'requests',
      'Average',
      1,
      'on-demand tables report none',
    ),
    store: 'provisionedWriteUnits',
  },
];
/**
 * DynamoDB ThrottledRequests, reported by TableName and Operation (one metric per operation; docs/sources.md,
 * "Reading an account's metrics"): a throttled table is the hot-partition signal. Read per data-plane operation by
 * explicit dimensions, so data older than the 2 weeks ListMetrics sees is read too.
 */
const DYNAMODB_THROTTLED = mapping(
  'AWS/DynamoDB',
  'ThrottledRequests',
  'requests',
  'Sum',
  1,
  'no throttling is reported as no data',
);
/** The data-plane operations ThrottledRequests is reported for. */
export const DYNAMODB_OPERATIONS = [
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
  'ExecuteStatement',
  'BatchExecuteStatement',
  'ExecuteTransaction',
] as const;

/** EventBridge per bus (EventBusName). */
const EVENTBRIDGE = [
  mapping(
    'AWS/Events',
    'Invocations',
    'eventInvocations',
    'Sum',
    1,
    'no rule invoked is reported as no data',
    true,
  ),
  mapping(
    'AWS/Events',
    'FailedInvocations',
    'eventFailedInvocations',
    'Sum',
    1,
    'no failure is reported as no data',
    true,
  ),
  mapping(
    'AWS/Events',
    'ThrottledRules',
    'eventThrottledRules',
    'Sum',
    1,
    'no throttling is reported as no data',
    true,
  ),
];

/** Metrics whose absence is normal (nothing happened), not a gap worth a note. */
const ZERO_WHEN_ABSENT = new Set([
  'HTTPCode_Target_5XX_Count',
  'HTTPCode_ELB_5XX_Count',
  'RejectedConnectionCount',
  'ReadThrottleEvents',
  'WriteThrottleEvents',
  'ThrottledRequests',
  'ProvisionedReadCapacityUnits',
  'ProvisionedWriteCapacityUnits',
  'FailedInvocations',
  'ThrottledRules',
  'Invocations',
]);

/** Whether a missing metric deserves a note. */
export function noteWhenMissing(m: MetricMapping): boolean {
  return !ZERO_WHEN_ABSENT.has(m.name);
}

const metricStat = (
  id: string,
  m: MetricMapping,
  dims: Record<string, string>,
  period: number,
): Record<string, unknown> => ({
  Id: id,
  MetricStat: {
    Metric: {
      Namespace: m.namespace,
      MetricName: m.name,
      Dimensions: Object.entries(dims).map(([Name, Value]) => ({ Name, Value })),
    },
    Period: period,
    Stat: m.stat,
  },
  ReturnData: true,
});

/**
 * Builds the GetMetricData queries for every service, by explicit dimensions from discovery (which
 * work for any data CloudWatch still keeps). Pure. ALB metrics of a target group whose load balancer
 * is unknown fall back to `SUM(SEARCH(...))`, which finds only metrics reported in the last 2 weeks.
 * Service Connect metrics are read for services with no target group (their only request metric).
 */
export function planQueries(
  cluster: string,
  services: readonly EcsServiceInfo[],
  period: number,
  custom: NonNullable<CollectOptions['customMetrics']> = {},
): PlannedQuery[] {
  const out: PlannedQuery[] = [];
  // A field the user mapped their own metric to is read from it alone (not also from discovery).
  const customs = new Map(
    Object.entries(custom).map(([service, roles]) => [
      service,
      (Object.entries(roles) as [CustomMetricRole, CustomMetric][]).map(([role, cm]) => ({
        m: customMapping(role, cm),
        dimensions: cm.dimensions,
      })),
    ]),
  );
  const customOf = (service: string) => (customs.get(service) ?? []).map((x) => x.m);
  const push = (
    service: string,
    m: MetricMapping,
    build: (id: string) => Record<string, unknown>,
    store?: StoreTarget,
  ) => {
    const mine = customOf(service);
    if (!store && !mine.includes(m) && mine.some((c) => c.field === m.field)) return;
    const id = `q${out.length}`;
    out.push({ id, service, mapping: m, query: build(id), ...(store ? { store } : {}) });
  };
  const seenLb = new Set<string>();
  for (const s of services) {
    const ecsDims = { ClusterName: cluster, ServiceName: s.name };
    for (const m of Object.values(SERVICE_METRICS) as MetricMapping[]) {
      if (m.namespace === 'AWS/ApplicationELB') continue;
      push(s.name, m, (id) => metricStat(id, m, ecsDims, period));
    }
    if (s.targetGroup && s.loadBalancer) {
      const tgDims = { LoadBalancer: s.loadBalancer, TargetGroup: s.targetGroup };
      for (const m of ALB_TARGET_GROUP) push(s.name, m, (id) => metricStat(id, m, tgDims, period));
      push(s.name, ALB_PER_TARGET, (id) =>
        metricStat(id, ALB_PER_TARGET, { TargetGroup: s.targetGroup as string }, period),
      );
      if (!seenLb.has(s.loadBalancer)) {
        // A load balancer's own counts go to the first service behind it (they are not per service).
        seenLb.add(s.loadBalancer);
        for (const m of ALB_LOAD_BALANCER)
          push(s.name, m, (id) => metricStat(id, m, { LoadBalancer: s.loadBalancer as string }, period));
      }
    } else if (s.targetGroup) {
      for (const m of Object.values(SERVICE_METRICS) as MetricMapping[]) {
        // ELB 5xx is per load balancer, not per target group: not attributable to a service.
        if (m.namespace !== 'AWS/ApplicationELB' || m.name === 'HTTPCode_ELB_5XX_Count') continue;
        const fn = m.stat === 'Average' ? 'AVG' : 'SUM';
        const search = `SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="${m.name}" TargetGroup="${s.targetGroup}"', '${m.stat}', ${period})`;
        push(s.name, m, (id) => ({
          Id: id,
          Expression: `${fn}(${search})`,
          Label: `${s.name} ${m.name}`,
          ReturnData: true,
          Period: period,
        }));
      }
    } else {
      for (const dn of s.discoveryNames ?? [])
        for (const m of SERVICE_CONNECT)
          push(s.name, m, (id) => metricStat(id, m, { ...ecsDims, DiscoveryName: dn }, period));
    }
    for (const table of s.tables ?? []) {
      for (const d of DYNAMODB)
        push(s.name, d.m, (id) => metricStat(id, d.m, { TableName: table }, period), {
          table,
          field: d.store,
        });
      for (const operation of DYNAMODB_OPERATIONS)
        push(
          s.name,
          DYNAMODB_THROTTLED,
          (id) => metricStat(id, DYNAMODB_THROTTLED, { TableName: table, Operation: operation }, period),
          { table, field: 'throttledRequests', operation },
        );
    }
    for (const bus of s.eventBuses ?? [])
      for (const m of EVENTBRIDGE) push(s.name, m, (id) => metricStat(id, m, { EventBusName: bus }, period));
    // The user's own metrics last: a field they fill replaces the discovered metric's value.
    for (const { m, dimensions } of customs.get(s.name) ?? [])
      push(s.name, m, (id) => metricStat(id, m, dimensions, period));
  }
  return out;
}

/** The timeline field and unit factor of a user's custom metric (docs/bring-your-own.md). */
export function customMapping(role: CustomMetricRole, cm: CustomMetric): MetricMapping {
  const hint = 'check the namespace, name and dimensions in peakday.config.yaml metrics:';
  if (role === 'requests') return mapping(cm.namespace, cm.name, 'requests', cm.stat, 1, hint);
  if (role === 'queueDepth') return mapping(cm.namespace, cm.name, 'queueDepth', cm.stat, 1, hint);
  const field: TimelineField =
    cm.stat === 'p50'
      ? 'responseTimeP50Ms'
      : cm.stat === 'p95'
        ? 'responseTimeP95Ms'
        : cm.stat === 'p99'
          ? 'responseTimeP99Ms'
          : 'responseTimeMs';
  return mapping(cm.namespace, cm.name, field, cm.stat, cm.unit === 's' ? 1000 : 1, hint);
}

/** Splits queries into calls within both GetMetricData limits. Pure. */
export function batchQueries<T>(queries: readonly T[], datapointsPerQuery: number): T[][] {
  const perCall = Math.max(
    1,
    Math.min(
      GET_METRIC_DATA_LIMITS.queries,
      Math.floor(GET_METRIC_DATA_LIMITS.datapoints / Math.max(1, datapointsPerQuery)),
    ),
  );
  const out: T[][] = [];
  for (let i = 0; i < queries.length; i += perCall) out.push(queries.slice(i, i + perCall));
  return out;
}

/** Turns an AWS SDK failure into a PeakdayError that says what is missing and what to do. */
export function awsError(e: unknown, what: string): PeakdayError {
  if (e instanceof PeakdayError) return e;
  // The collect's AbortSignal fired (Ctrl-C): the SDK aborted the request in flight.
  if ((e as { name?: string }).name === 'AbortError') return collectInterrupted(what);
  const err = e as { name?: string; message?: string; Code?: string };
  const name = err.name ?? err.Code ?? 'Error';
  const message = err.message ?? String(e);
  if (name === 'CredentialsProviderError' || /credential/i.test(message)) {
    return new PeakdayError('aws-credentials-missing', `no AWS credentials for ${what}: ${message}`, {
      hint: 'set AWS_PROFILE (and run `aws sso login`), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY',
      cause: e,
    });
  }
  if (/region is missing/i.test(message)) {
    return new PeakdayError('aws-region-missing', `no AWS region for ${what}`, {
      hint: 'pass --region or set AWS_REGION',
      cause: e,
    });
  }
  if (/AccessDenied|UnauthorizedOperation|NotAuthorized/i.test(name)) {
    return new PeakdayError('aws-access-denied', `access denied to ${what}: ${message}`, {
      hint:
        'collect needs cloudwatch:GetMetricData, application-autoscaling:DescribeScalingActivities, ' +
        'ecs:ListServices, ecs:DescribeServices and ecs:DescribeTaskDefinition',
      cause: e,
    });
  }
  if (/ClusterNotFound/i.test(name)) {
    return new PeakdayError('aws-cluster-not-found', `ECS cluster not found for ${what}: ${message}`, {
      hint: 'check --cluster and --region',
      cause: e,
    });
  }
  if (/Throttl/i.test(name)) {
    return new PeakdayError('aws-throttled', `AWS kept throttling ${what} after retries: ${message}`, {
      hint: 'wait a minute and run collect again, or collect fewer --services at a time',
      cause: e,
    });
  }
  return new PeakdayError('aws-request-failed', `${what} failed: ${name}: ${message}`, {
    hint: 'check the region, cluster and network; rerun with PEAKDAY_DEBUG=1 for details',
    cause: e,
  });
}

/**
 * The SDK warns on Node < 22 about its releases after January 2027; peakday supports Node ≥ 20.18 and
 * pins the SDK, so that warning would only be noise in `collect`'s output. The user's own setting wins.
 */
function quietSdk(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

function clientConfig(options: CollectOptions): Record<string, unknown> {
  quietSdk();
  const c: Record<string, unknown> = { maxAttempts: 4 };
  if (options.region) c.region = options.region;
  if (options.endpoint) c.endpoint = options.endpoint;
  if (options.credentials) c.credentials = options.credentials;
  return c;
}

const arnName = (arn: string) => arn.split('/').pop() ?? arn;

/** `targetgroup/<name>/<id>` from a target group ARN. */
export function targetGroupDimension(arn: string): string | undefined {
  const i = arn.indexOf('targetgroup/');
  return i < 0 ? undefined : arn.slice(i);
}

async function discoverServices(options: CollectOptions, cluster: string): Promise<EcsServiceInfo[]> {
  const ecs = await import('@aws-sdk/client-ecs');
  const client = new ecs.ECSClient(clientConfig(options));
  try {
    let names = options.services;
    if (!names || names.length === 0) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const r = await client.send(new ecs.ListServicesCommand({ cluster, nextToken, maxResults: 100 }), {
          abortSignal: options.signal,
        });
        arns.push(...(r.serviceArns ?? []));
        nextToken = r.nextToken;
      } while (nextToken);
      names = arns.map(arnName);
      if (names.length === 0) {
        throw new PeakdayError('aws-no-services', `ECS cluster ${cluster} has no services`, {
          hint: 'check --cluster, or deploy the stack (infra/) first',
        });
      }
    }
    const described: import('@aws-sdk/client-ecs').Service[] = [];
    const missing: string[] = [];
    for (let i = 0; i < names.length; i += 10) {
      const r = await client.send(
        new ecs.DescribeServicesCommand({ cluster, services: names.slice(i, i + 10), include: ['TAGS'] }),
        { abortSignal: options.signal },
      );
      described.push(...(r.services ?? []));
      for (const f of r.failures ?? []) missing.push(`${arnName(f.arn ?? '?')} (${f.reason ?? 'failed'})`);
    }
    if (missing.length > 0) {
      throw new PeakdayError(
        'aws-unknown-service',
        `ECS cluster ${cluster} has no service ${missing.join(', ')}`,
        {
          hint: 'check --services against `aws ecs list-services --cluster ' + cluster + '`',
        },
      );
    }
    let selected = described;
    if (options.tag && !options.services?.length) {
      const [key, value] = options.tag.split('=');
      selected = described.filter((s) =>
        (s.tags ?? []).some((t) => t.key === key && (value === undefined || t.value === value)),
      );
      if (selected.length === 0) {
        throw new PeakdayError('aws-no-services', `no service in ${cluster} is tagged ${options.tag}`, {
          hint: 'pass --services, or tag the stack’s services (infra/ tags them peakday:stack)',
        });
      }
    }
    const sizes = new Map<
      string,
      { cpu?: number; memory?: number; arch?: 'X86_64' | 'ARM64'; tables: string[]; buses: string[] }
    >();
    for (const td of new Set(selected.map((s) => s.taskDefinition).filter((x): x is string => !!x))) {
      const r = await client.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition: td }), {
        abortSignal: options.signal,
      });
      const d = r.taskDefinition;
      const env = (d?.containerDefinitions ?? []).flatMap((c) => c.environment ?? []);
      sizes.set(td, {
        cpu: d?.cpu ? Number(d.cpu) : undefined,
        memory: d?.memory ? Number(d.memory) : undefined,
        arch: d?.runtimePlatform?.cpuArchitecture === 'ARM64' ? 'ARM64' : 'X86_64',
        ...resourcesFromEnvironment(env),
      });
    }
    return selected.map((s) => {
      const info: EcsServiceInfo = { name: s.serviceName ?? arnName(s.serviceArn ?? '?') };
      const tg = s.loadBalancers?.find((lb) => lb.targetGroupArn)?.targetGroupArn;
      const dim = tg ? targetGroupDimension(tg) : undefined;
      if (dim) info.targetGroup = dim;
      const size = s.taskDefinition ? sizes.get(s.taskDefinition) : undefined;
      if (size?.cpu !== undefined) info.taskCpu = size.cpu;
      if (size?.memory !== undefined) info.taskMemory = size.memory;
      if (size?.arch) info.cpuArchitecture = size.arch;
      if (s.launchType) info.launchType = s.launchType;
      const strategy = s.capacityProviderStrategy ?? [];
      const provider = [...strategy].sort((a, b) => (b.weight ?? 0) - (a.weight ?? 0))[0]?.capacityProvider;
      if (provider) info.capacityProvider = provider;
      const sc = (s.deployments ?? []).find(
        (d) => d.serviceConnectConfiguration?.enabled,
      )?.serviceConnectConfiguration;
      const names = (sc?.services ?? [])
        .map((x) => x.discoveryName ?? x.portName)
        .filter((x): x is string => !!x);
      if (names.length > 0) info.discoveryNames = names;
      const tables = [...new Set([...(size?.tables ?? []), ...(options.tables ?? [])])];
      const buses = [...new Set([...(size?.buses ?? []), ...(options.eventBuses ?? [])])];
      if (tables.length > 0) info.tables = tables;
      if (buses.length > 0) info.eventBuses = buses;
      return info;
    });
  } catch (e) {
    throw awsError(e, `ECS in cluster ${cluster}`);
  } finally {
    client.destroy();
  }
}

/**
 * DynamoDB tables and EventBridge buses named in a task definition's environment: variables whose
 * name says TABLE (`ORDERS_TABLE`, `TABLE_NAME`) or BUS (`EVENT_BUS_NAME`); an ARN is reduced to its name.
 */
export function resourcesFromEnvironment(env: readonly { name?: string; value?: string }[]): {
  tables: string[];
  buses: string[];
} {
  const tables: string[] = [];
  const buses: string[] = [];
  for (const e of env) {
    if (!e.name || !e.value) continue;
    const value = e.value.includes(':') ? (e.value.split('/').pop() ?? e.value) : e.value;
    if (/TABLE/i.test(e.name)) tables.push(value);
    else if (/BUS/i.test(e.name)) buses.push(value);
  }
  return { tables: [...new Set(tables)], buses: [...new Set(buses)] };
}

/**
 * The LoadBalancer dimension (`app/<name>/<id>`) of each target group, found with ListMetrics
 * (TargetGroup filter); ListMetrics, like SEARCH, only lists metrics reported in the last 2 weeks, so
 * a target group it does not find is read with SEARCH and noted.
 */
async function findLoadBalancers(
  options: CollectOptions,
  services: EcsServiceInfo[],
  notes: string[],
): Promise<void> {
  const withTg = services.filter((s) => s.targetGroup);
  if (withTg.length === 0) return;
  const cw = await import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient(clientConfig(options));
  try {
    for (const s of withTg) {
      let nextToken: string | undefined;
      do {
        const r = await client.send(
          new cw.ListMetricsCommand({
            Namespace: 'AWS/ApplicationELB',
            MetricName: 'RequestCount',
            Dimensions: [{ Name: 'TargetGroup', Value: s.targetGroup }],
            NextToken: nextToken,
          }),
          { abortSignal: options.signal },
        );
        for (const m of r.Metrics ?? []) {
          const lb = m.Dimensions?.find((d) => d.Name === 'LoadBalancer')?.Value;
          if (lb && (m.Dimensions?.length ?? 0) === 2) s.loadBalancer = lb;
        }
        nextToken = s.loadBalancer ? undefined : r.NextToken;
      } while (nextToken);
      if (!s.loadBalancer)
        notes.push(
          `${s.name}: ListMetrics found no load balancer for ${s.targetGroup} (CloudWatch lists metrics reported in the last 2 weeks); its ALB metrics are read with SEARCH, which has the same limit`,
        );
    }
  } catch (e) {
    throw awsError(e, 'CloudWatch ListMetrics');
  } finally {
    client.destroy();
  }
}

type CloudWatchSdk = typeof import('@aws-sdk/client-cloudwatch');

/**
 * Every planned query's results over the run's window at `period` seconds: the queries split into
 * calls within GetMetricData's limits (batchQueries: a long window at 60 s), each call followed through
 * its pages. `onAnswer` sees each answer (calls, messages). Shared by the services' metrics and the
 * distribution's, which only read results differently.
 */
async function* metricDataResults<P extends { id: string; query: unknown }>(
  cw: CloudWatchSdk,
  client: InstanceType<CloudWatchSdk['CloudWatchClient']>,
  planned: readonly P[],
  w: RunWindow,
  period: number,
  signal: AbortSignal | undefined,
  onAnswer?: (answer: { Messages?: { Code?: string; Value?: string }[] }) => void,
): AsyncGenerator<{
  planned: P;
  result: NonNullable<
    import('@aws-sdk/client-cloudwatch').GetMetricDataCommandOutput['MetricDataResults']
  >[number];
}> {
  // The run's window widened to whole periods, and one period more at the end.
  const startMs = Math.floor((w.fromMs ?? w.startedAtMs) / (period * 1000)) * period * 1000;
  const endMs = Math.ceil((w.toMs ?? w.endedAtMs) / (period * 1000)) * period * 1000 + period * 1000;
  const byId = new Map(planned.map((p) => [p.id, p]));
  for (const batch of batchQueries(planned, Math.ceil((endMs - startMs) / (period * 1000)))) {
    let nextToken: string | undefined;
    do {
      const r = await client.send(
        new cw.GetMetricDataCommand({
          MetricDataQueries: batch.map((b) => b.query) as never,
          StartTime: new Date(startMs),
          EndTime: new Date(endMs),
          ScanBy: 'TimestampAscending',
          NextToken: nextToken,
        }),
        { abortSignal: signal },
      );
      onAnswer?.(r);
      for (const result of r.MetricDataResults ?? []) {
        const p = result.Id ? byId.get(result.Id) : undefined;
        if (p) yield { planned: p, result };
      }
      nextToken = r.NextToken;
    } while (nextToken);
  }
}

async function fetchMetrics(
  options: CollectOptions,
  planned: PlannedQuery[],
  w: RunWindow,
  period: number,
  notes: string[],
): Promise<{
  samples: MetricSample[];
  stores: (StoreSample & { service: string; t: number; period: number })[];
  partial: boolean;
  calls: number;
}> {
  const cw = await import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient(clientConfig(options));
  const byId = new Map(planned.map((p) => [p.id, p]));
  const samples: MetricSample[] = [];
  const stores: (StoreSample & { service: string; t: number; period: number })[] = [];
  const sampleOf = new Map<string, MetricSample[]>();
  const seen = new Set<string>();
  const incomplete = new Set<string>();
  let calls = 0;
  try {
    for await (const { planned: p, result: res } of metricDataResults(
      cw,
      client,
      planned,
      w,
      period,
      options.signal,
      (r) => {
        calls++;
        for (const m of r.Messages ?? []) notes.push(`CloudWatch: ${m.Code ?? ''} ${m.Value ?? ''}`.trim());
      },
    )) {
      const ts = res.Timestamps ?? [];
      const vs = res.Values ?? [];
      if (ts.length > 0) seen.add(p.id);
      if (res.StatusCode === 'PartialData') incomplete.add(p.id);
      else incomplete.delete(p.id);
      for (let i = 0; i < ts.length; i++) {
        const v = vs[i];
        const at = ts[i];
        if (v === undefined || at === undefined) continue;
        const t = eventTimeAt(w, at.getTime());
        if (p.store) {
          stores.push({
            service: p.service,
            t,
            period: period * w.timeScale,
            table: p.store.table,
            [p.store.field]: v,
            ...(p.store.operation ? { operation: p.store.operation } : {}),
          });
          continue;
        }
        const sample: MetricSample = {
          service: p.service,
          t,
          period: period * w.timeScale,
          field: p.mapping.field,
          value: v * p.mapping.factor,
          additive: p.mapping.additive,
        };
        samples.push(sample);
        const list = sampleOf.get(p.id) ?? [];
        list.push(sample);
        sampleOf.set(p.id, list);
      }
    }
  } catch (e) {
    throw awsError(e, 'CloudWatch GetMetricData');
  } finally {
    client.destroy();
  }
  for (const p of planned) {
    if (!seen.has(p.id) && noteWhenMissing(p.mapping))
      notes.push(
        `${p.service}: no data for ${p.mapping.namespace} ${p.mapping.name}${p.mapping.stat !== 'Sum' && p.mapping.stat !== 'Average' ? ` ${p.mapping.stat}` : ''}${p.store ? ` of table ${p.store.table}` : ''} (${p.mapping.hintWhenMissing})`,
      );
  }
  // PartialData is marked on the metric that had it, not on every record of its service.
  const partialNames: string[] = [];
  for (const id of incomplete) {
    const p = byId.get(id);
    if (!p) continue;
    for (const sample of sampleOf.get(id) ?? []) sample.partial = true;
    partialNames.push(
      `${p.service} ${p.mapping.namespace} ${p.mapping.name}${p.store ? ` (${p.store.table})` : ''}`,
    );
  }
  if (partialNames.length > 0)
    notes.push(`CloudWatch returned PartialData (incomplete) for: ${[...new Set(partialNames)].join(', ')}`);
  return { samples, stores, partial: incomplete.size > 0, calls };
}

/**
 * The CloudFront distribution's metrics over the window, as edge records (cloudwatch-edge.ts). CloudFront
 * publishes them in us-east-1 only, so this client asks us-east-1 whatever the stack's region.
 */
async function fetchEdge(
  options: CollectOptions,
  distributionId: string,
  w: RunWindow,
  period: number,
  notes: string[],
): Promise<{ edge: EdgeTimelineRecord[]; partial: boolean }> {
  const cw = await import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient({ ...clientConfig(options), region: CLOUDFRONT_METRICS_REGION });
  const planned = planEdgeQueries(distributionId, period);
  const points: EdgePoint[] = [];
  const seen = new Set<string>();
  let partial = false;
  try {
    for await (const { planned: p, result: res } of metricDataResults(
      cw,
      client,
      planned,
      w,
      period,
      options.signal,
    )) {
      const ts = res.Timestamps ?? [];
      const vs = res.Values ?? [];
      if (ts.length > 0) seen.add(p.metric.name);
      partial = partial || res.StatusCode === 'PartialData';
      for (let i = 0; i < ts.length; i++) {
        const v = vs[i];
        const at = ts[i];
        if (v !== undefined && at !== undefined)
          points.push({ name: p.metric.name, atMs: at.getTime(), value: v });
      }
    }
  } catch (e) {
    throw awsError(
      e,
      `CloudWatch GetMetricData (CloudFront distribution ${distributionId}, ${CLOUDFRONT_METRICS_REGION})`,
    );
  } finally {
    client.destroy();
  }
  if (seen.size === 0)
    notes.push(
      `edge: CloudWatch (${CLOUDFRONT_METRICS_REGION}) returned no AWS/CloudFront data for distribution ${distributionId} in the window (is the id right? did the run go through the edge URL?)`,
    );
  else {
    const missing = planned
      .filter((p) => p.metric.additional && !seen.has(p.metric.name))
      .map((p) => p.metric.name);
    if (missing.length > 0) notes.push(additionalMetricsNote(distributionId, missing));
  }
  if (partial)
    notes.push(`edge: CloudWatch returned PartialData (incomplete) for distribution ${distributionId}`);
  return { edge: edgeTimelineFromCloudWatch(points, w, period), partial };
}

async function fetchActivities(
  options: CollectOptions,
  cluster: string,
  services: readonly EcsServiceInfo[],
  w: RunWindow,
): Promise<ScalingActivity[]> {
  const aas = await import('@aws-sdk/client-application-auto-scaling');
  const client = new aas.ApplicationAutoScalingClient(clientConfig(options));
  const out: ScalingActivity[] = [];
  const slack = 60_000;
  try {
    for (const s of services) {
      const resourceId = `service/${cluster}/${s.name}`;
      let nextToken: string | undefined;
      do {
        const r = await client.send(
          new aas.DescribeScalingActivitiesCommand({
            ServiceNamespace: 'ecs',
            ResourceId: resourceId,
            ScalableDimension: 'ecs:service:DesiredCount',
            IncludeNotScaledActivities: true,
            MaxResults: 50,
            NextToken: nextToken,
          }),
          { abortSignal: options.signal },
        );
        let older = false;
        for (const a of r.ScalingActivities ?? []) {
          const start = a.StartTime?.getTime();
          if (start === undefined) continue;
          if (start < (w.fromMs ?? w.startedAtMs) - slack) {
            older = true; // newest first: the rest are older still
            continue;
          }
          if (start > (w.toMs ?? w.endedAtMs) + slack) continue;
          const activity: ScalingActivity = {
            ActivityId: a.ActivityId ?? '',
            ServiceNamespace: 'ecs',
            ResourceId: a.ResourceId ?? resourceId,
            ScalableDimension: 'ecs:service:DesiredCount',
            Description: a.Description ?? '',
            Cause: a.Cause ?? '',
            StartTime: new Date(start).toISOString(),
            StatusCode: (a.StatusCode ?? 'Successful') as ScalingActivity['StatusCode'],
            eventTime: eventTimeAt(w, start),
          };
          if (a.EndTime) activity.EndTime = a.EndTime.toISOString();
          if (a.StatusMessage) activity.StatusMessage = a.StatusMessage;
          if (a.NotScaledReasons?.length) {
            activity.NotScaledReasons = a.NotScaledReasons.map((n) => ({
              Code: n.Code ?? '',
              ...(n.MaxCapacity !== undefined ? { MaxCapacity: n.MaxCapacity } : {}),
              ...(n.MinCapacity !== undefined ? { MinCapacity: n.MinCapacity } : {}),
              ...(n.CurrentCapacity !== undefined ? { CurrentCapacity: n.CurrentCapacity } : {}),
            }));
          }
          const change = capacityChange(activity.Cause);
          if (change) {
            activity.fromCapacity = change.from;
            activity.toCapacity = change.to;
          }
          out.push(activity);
        }
        nextToken = older ? undefined : r.NextToken;
      } while (nextToken);
    }
  } catch (e) {
    throw awsError(e, 'Application Auto Scaling DescribeScalingActivities');
  } finally {
    client.destroy();
  }
  return out.sort((a, b) => a.eventTime - b.eventTime);
}

/**
 * The fields each service was read for (metrics whose absence is not "nothing happened") and the
 * periods of the window, so that a period without a datapoint is marked missing, not zero or dropped.
 */
export function expectation(
  planned: readonly PlannedQuery[],
  w: RunWindow,
  period: number,
): TimelineExpectation {
  const fields = new Map<string, TimelineField[]>();
  for (const p of planned) {
    if (p.store || !noteWhenMissing(p.mapping)) continue;
    const list = fields.get(p.service) ?? [];
    if (!list.includes(p.mapping.field)) list.push(p.mapping.field);
    fields.set(p.service, list);
  }
  const step = period * 1000;
  const fromMs = w.fromMs ?? w.startedAtMs;
  const toMs = w.toMs ?? w.endedAtMs;
  const times: number[] = [];
  for (let ms = Math.floor(fromMs / step) * step; ms < toMs; ms += step) times.push(eventTimeAt(w, ms));
  return { fields, times, period: period * w.timeScale };
}

/** The `cloudwatch` source. */
export const cloudwatchSource: TelemetrySource = {
  description: 'CloudWatch GetMetricData, Application Auto Scaling activities and ECS, for the stack on AWS',
  async collect(ctx: CollectContext, options: CollectOptions): Promise<CollectResult> {
    const cluster =
      options.cluster ??
      (typeof ctx.meta.options.cluster === 'string' ? ctx.meta.options.cluster : undefined);
    if (!cluster) {
      throw new PeakdayError('cluster-required', 'collect --source cloudwatch needs the ECS cluster', {
        hint: 'pass --cluster <name> (and --region)',
      });
    }
    const notes: string[] = [];
    const now = options.nowMs ?? Date.now();
    const period =
      options.period ?? periodForAge((now - (ctx.window.fromMs ?? ctx.window.startedAtMs)) / 1000);
    if (period > 60) notes.push(`the run is old enough that CloudWatch keeps only ${period}-s periods`);
    const services = await discoverServices(options, cluster);
    await findLoadBalancers(options, services, notes);
    const custom = options.customMetrics ?? {};
    for (const s of services)
      if (!s.targetGroup && !(s.discoveryNames?.length ?? 0) && !custom[s.name]?.requests)
        notes.push(
          `${s.name}: neither a load balancer target group nor Service Connect, so CloudWatch has no request metric for it`,
        );
    const planned = planQueries(cluster, services, period, custom);
    for (const name of Object.keys(custom))
      if (!services.some((s) => s.name === name))
        notes.push(
          `peakday.config.yaml metrics: ${name} is not a service collected from cluster ${cluster} (${services.map((s) => s.name).join(', ') || 'none'}); its metrics were not read`,
        );
    const { samples, stores, partial } = await fetchMetrics(options, planned, ctx.window, period, notes);
    const activities = await fetchActivities(options, cluster, services, ctx.window);
    const edgeRead = options.distributionId
      ? await fetchEdge(options, options.distributionId, ctx.window, period, notes)
      : undefined;
    const timeline = buildTimeline(samples, stores, 'cloudwatch', expectation(planned, ctx.window, period));
    const viaServiceConnect = new Set(
      services.filter((s) => !s.targetGroup && (s.discoveryNames?.length ?? 0) > 0).map((s) => s.name),
    );
    for (const r of timeline) {
      if (r.requests === null) continue;
      r.requestsFrom = custom[r.service]?.requests
        ? 'custom-metric'
        : viaServiceConnect.has(r.service)
          ? 'service-connect'
          : 'load-balancer';
    }
    for (const s of services) {
      if (s.taskCpu !== undefined)
        notes.push(
          `${s.name}: task size ${s.taskCpu / 1024} vCPU, ${(s.taskMemory ?? 0) / 1024} GB, ${s.cpuArchitecture ?? 'X86_64'}, ${s.capacityProvider ?? s.launchType ?? 'launch type unknown'}`,
        );
    }
    if (samples.length === 0 && stores.length === 0)
      notes.push('CloudWatch returned no datapoints for the time range');
    // A metric with no data at all in the window has its own note (above); here the gaps in one.
    else for (const m of findMissing(timeline)) if (m.periods < m.total) notes.push(describeMissing(m));
    const discovered: DiscoveredService[] = services.map((s) => ({
      name: s.name,
      ...(s.taskCpu !== undefined ? { vcpu: s.taskCpu / 1024 } : {}),
      ...(s.taskMemory !== undefined ? { memoryGb: s.taskMemory / 1024 } : {}),
      cpuArchitecture: s.cpuArchitecture ?? 'X86_64',
      ...(s.launchType ? { launchType: s.launchType } : {}),
      ...(s.capacityProvider ? { capacityProvider: s.capacityProvider } : {}),
      ...(s.targetGroup ? { targetGroup: s.targetGroup } : {}),
      ...(s.loadBalancer ? { loadBalancer: s.loadBalancer } : {}),
      discoveryNames: s.discoveryNames ?? [],
      tables: s.tables ?? [],
      eventBuses: s.eventBuses ?? [],
    }));
    const anyData = samples.length > 0 || stores.length > 0;
    return {
      timeline,
      activities,
      partial: partial || !anyData || (edgeRead?.partial ?? false),
      notes,
      discovered,
      ...(edgeRead && edgeRead.edge.length > 0 ? { edge: edgeRead.edge } : {}),
    };
  },
};
