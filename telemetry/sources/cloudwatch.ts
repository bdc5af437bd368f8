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
import { PeakdayError } from '../../core/errors.ts';
import type { ScalingActivity } from '../../core/run-format.ts';
import { type MetricMapping, SERVICE_METRICS } from '../metric-map.ts';
import {
  buildTimeline,
  capacityChange,
  eventTimeAt,
  type MetricSample,
  type RunWindow,
} from '../timeline.ts';
import type { CollectContext, CollectOptions, CollectResult, TelemetrySource } from './source.ts';

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
  taskCpu?: number;
  taskMemory?: number;
  launchType?: string;
}

/** One planned query and what its values mean. */
export interface PlannedQuery {
  id: string;
  service: string;
  mapping: MetricMapping;
  query: Record<string, unknown>;
}

/** Builds the GetMetricData queries for every service. Pure. */
export function planQueries(
  cluster: string,
  services: readonly EcsServiceInfo[],
  period: number,
): PlannedQuery[] {
  const out: PlannedQuery[] = [];
  for (const s of services) {
    for (const m of Object.values(SERVICE_METRICS) as MetricMapping[]) {
      const id = `q${out.length}`;
      if (m.namespace === 'AWS/ApplicationELB') {
        // ELB 5xx is per load balancer, not per target group: not attributable to a service.
        if (!s.targetGroup || m.name === 'HTTPCode_ELB_5XX_Count') continue;
        const fn = m.stat === 'Average' ? 'AVG' : 'SUM';
        const search = `SEARCH('{AWS/ApplicationELB,LoadBalancer,TargetGroup} MetricName="${m.name}" TargetGroup="${s.targetGroup}"', '${m.stat}', ${period})`;
        out.push({
          id,
          service: s.name,
          mapping: m,
          query: {
            Id: id,
            Expression: `${fn}(${search})`,
            Label: `${s.name} ${m.name}`,
            ReturnData: true,
            Period: period,
          },
        });
      } else {
        out.push({
          id,
          service: s.name,
          mapping: m,
          query: {
            Id: id,
            MetricStat: {
              Metric: {
                Namespace: m.namespace,
                MetricName: m.name,
                Dimensions: [
                  { Name: 'ClusterName', Value: cluster },
                  { Name: 'ServiceName', Value: s.name },
                ],
              },
              Period: period,
              Stat: m.stat,
            },
            ReturnData: true,
          },
        });
      }
    }
  }
  return out;
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

async function discoverServices(
  options: CollectOptions,
  cluster: string,
  notes: string[],
): Promise<EcsServiceInfo[]> {
  const ecs = await import('@aws-sdk/client-ecs');
  const client = new ecs.ECSClient(clientConfig(options));
  try {
    let names = options.services;
    if (!names || names.length === 0) {
      const arns: string[] = [];
      let nextToken: string | undefined;
      do {
        const r = await client.send(new ecs.ListServicesCommand({ cluster, nextToken, maxResults: 100 }));
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
    const sizes = new Map<string, { cpu?: number; memory?: number }>();
    for (const td of new Set(selected.map((s) => s.taskDefinition).filter((x): x is string => !!x))) {
      const r = await client.send(new ecs.DescribeTaskDefinitionCommand({ taskDefinition: td }));
      const d = r.taskDefinition;
      sizes.set(td, {
        cpu: d?.cpu ? Number(d.cpu) : undefined,
        memory: d?.memory ? Number(d.memory) : undefined,
      });
    }
    return selected.map((s) => {
      const info: EcsServiceInfo = { name: s.serviceName ?? arnName(s.serviceArn ?? '?') };
      const tg = s.loadBalancers?.find((lb) => lb.targetGroupArn)?.targetGroupArn;
      const dim = tg ? targetGroupDimension(tg) : undefined;
      if (dim) info.targetGroup = dim;
      else notes.push(`${info.name}: no load balancer target group; request metrics are not collected`);
      const size = s.taskDefinition ? sizes.get(s.taskDefinition) : undefined;
      if (size?.cpu !== undefined) info.taskCpu = size.cpu;
      if (size?.memory !== undefined) info.taskMemory = size.memory;
      if (s.launchType) info.launchType = s.launchType;
      return info;
    });
  } catch (e) {
    throw awsError(e, `ECS in cluster ${cluster}`);
  } finally {
    client.destroy();
  }
}

async function fetchMetrics(
  options: CollectOptions,
  planned: PlannedQuery[],
  w: RunWindow,
  period: number,
  notes: string[],
): Promise<{ samples: MetricSample[]; partial: boolean; calls: number }> {
  const cw = await import('@aws-sdk/client-cloudwatch');
  const client = new cw.CloudWatchClient(clientConfig(options));
  const startMs = Math.floor(w.startedAtMs / (period * 1000)) * period * 1000;
  const endMs = Math.ceil(w.endedAtMs / (period * 1000)) * period * 1000 + period * 1000;
  const perQuery = Math.ceil((endMs - startMs) / (period * 1000));
  const byId = new Map(planned.map((p) => [p.id, p]));
  const samples: MetricSample[] = [];
  const seen = new Set<string>();
  const incomplete = new Set<string>();
  let calls = 0;
  try {
    for (const batch of batchQueries(planned, perQuery)) {
      let nextToken: string | undefined;
      do {
        calls++;
        const r = await client.send(
          new cw.GetMetricDataCommand({
            MetricDataQueries: batch.map((b) => b.query) as never,
            StartTime: new Date(startMs),
            EndTime: new Date(endMs),
            ScanBy: 'TimestampAscending',
            NextToken: nextToken,
          }),
        );
        for (const res of r.MetricDataResults ?? []) {
          const p = res.Id ? byId.get(res.Id) : undefined;
          if (!p) continue;
          const ts = res.Timestamps ?? [];
          const vs = res.Values ?? [];
          if (ts.length > 0) seen.add(p.id);
          if (res.StatusCode === 'PartialData') incomplete.add(p.id);
          else incomplete.delete(p.id);
          for (let i = 0; i < ts.length; i++) {
            const v = vs[i];
            const at = ts[i];
            if (v === undefined || at === undefined) continue;
            samples.push({
              service: p.service,
              t: eventTimeAt(w, at.getTime()),
              period: period * w.timeScale,
              field: p.mapping.field,
              value: v * p.mapping.factor,
              additive: p.mapping.additive,
            });
          }
        }
        for (const m of r.Messages ?? []) notes.push(`CloudWatch: ${m.Code ?? ''} ${m.Value ?? ''}`.trim());
        nextToken = r.NextToken;
      } while (nextToken);
    }
  } catch (e) {
    throw awsError(e, 'CloudWatch GetMetricData');
  } finally {
    client.destroy();
  }
  for (const p of planned) {
    if (!seen.has(p.id) && p.mapping.field !== 'http5xx')
      notes.push(
        `${p.service}: no data for ${p.mapping.namespace} ${p.mapping.name} (${p.mapping.hintWhenMissing})`,
      );
  }
  if (incomplete.size > 0) {
    const partial = new Set([...incomplete].map((id) => byId.get(id)?.service));
    for (const s of samples) if (partial.has(s.service)) s.partial = true;
    notes.push(`CloudWatch returned PartialData for ${[...partial].join(', ')}`);
  }
  return { samples, partial: incomplete.size > 0, calls };
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
        );
        let older = false;
        for (const a of r.ScalingActivities ?? []) {
          const start = a.StartTime?.getTime();
          if (start === undefined) continue;
          if (start < w.startedAtMs - slack) {
            older = true; // newest first: the rest are older still
            continue;
          }
          if (start > w.endedAtMs + slack) continue;
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
    const period = options.period ?? periodForAge((now - ctx.window.startedAtMs) / 1000);
    if (period > 60) notes.push(`the run is old enough that CloudWatch keeps only ${period}-s periods`);
    const services = await discoverServices(options, cluster, notes);
    const planned = planQueries(cluster, services, period);
    const { samples, partial } = await fetchMetrics(options, planned, ctx.window, period, notes);
    const activities = await fetchActivities(options, cluster, services, ctx.window);
    const timeline = buildTimeline(samples, [], 'cloudwatch');
    for (const s of services) {
      if (s.taskCpu !== undefined)
        notes.push(
          `${s.name}: task size ${s.taskCpu / 1024} vCPU, ${(s.taskMemory ?? 0) / 1024} GB${s.launchType ? ` (${s.launchType})` : ''}`,
        );
    }
    if (timeline.length === 0) notes.push('CloudWatch returned no datapoints for the run’s time range');
    return { timeline, activities, partial: partial || timeline.length === 0, notes };
  },
};
