/**
 * A local HTTP server that speaks the AWS wire protocols the telemetry sources use, so the real SDK
 * clients can be tested without AWS (point them at it with AWS_ENDPOINT_URL or `endpoint`):
 *
 *   CloudWatch               AWS JSON 1.0  x-amz-target: GraniteServiceVersion20100801.{GetMetricData,
 *                                          ListMetrics}
 *   Application Auto Scaling AWS JSON 1.1  x-amz-target: AnyScaleFrontendService.DescribeScalingActivities
 *   ECS                      AWS JSON 1.1  x-amz-target: AmazonEC2ContainerServiceV20141113.{ListServices,
 *                                          DescribeServices, DescribeTaskDefinition}
 *
 * Timestamps travel as epoch seconds; errors as `{"__type": name, "message": ...}` with a 4xx status.
 * The server models one account: a cluster with services, a metric function, scaling activities, and
 * scripted faults (return this error for the next N calls of an operation). It records every request.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One fake ECS service. */
export interface FakeService {
  name: string;
  targetGroupArn?: string;
  taskDefinition: string;
  tags?: Record<string, string>;
  cpu?: string;
  memory?: string;
  /** runtimePlatform.cpuArchitecture of the task definition (absent: none given, AWS's X86_64). */
  cpuArchitecture?: 'X86_64' | 'ARM64';
  /** launchType (default FARGATE), or a capacity provider strategy instead. */
  launchType?: string;
  capacityProviderStrategy?: { capacityProvider: string; weight: number; base?: number }[];
  /** Service Connect discovery names (in deployments[0].serviceConnectConfiguration.services). */
  serviceConnect?: string[];
  /** The container's environment (names DynamoDB tables and event buses). */
  environment?: Record<string, string>;
}

/** One activity as AAS returns it (times in epoch seconds). */
export interface FakeActivity {
  ActivityId: string;
  ResourceId: string;
  Description: string;
  Cause: string;
  StartTime: number;
  EndTime?: number;
  StatusCode: string;
  NotScaledReasons?: { Code: string; MaxCapacity?: number; CurrentCapacity?: number }[];
}

/** A metric query as the server understood it. */
export interface MetricKey {
  namespace: string;
  name: string;
  service?: string;
  targetGroup?: string;
  stat: string;
  /** Every dimension of the query (MetricStat queries). */
  dimensions?: Record<string, string>;
}

/** What the fake account holds. */
export interface FakeAccount {
  cluster: string;
  services: FakeService[];
  /** A value for a metric at an epoch second, or undefined for no datapoint. */
  metric(key: MetricKey, epochSeconds: number): number | undefined;
  activities: FakeActivity[];
  /** GetMetricData: datapoints per page before NextToken (real CloudWatch pages at its own limits). */
  datapointsPerPage?: number;
  /** Metrics (`namespace/name`) returned with StatusCode PartialData and no further page. */
  partialMetrics?: string[];
  /** AAS: activities per page. */
  activitiesPerPage?: number;
  /** ListMetrics: the load balancer (`app/<name>/<id>`) of each target group dimension that has metrics. */
  loadBalancers?: Record<string, string>;
}

/** A scripted fault: the next `times` calls of `operation` fail with this error. */
export interface Fault {
  operation: string;
  times: number;
  status: number;
  type: string;
  message: string;
}

/** A recorded request. */
export interface RecordedRequest {
  operation: string;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** The running server. */
export interface FakeAwsServer {
  url: string;
  requests: RecordedRequest[];
  faults: Fault[];
  close(): Promise<void>;
}

type Handler = (body: Record<string, unknown>, account: FakeAccount) => [number, unknown];

class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

function parseSearch(expr: string): { name?: string; targetGroup?: string; stat?: string } {
  return {
    name: /MetricName="([^"]+)"/.exec(expr)?.[1],
    targetGroup: /TargetGroup="([^"]+)"/.exec(expr)?.[1],
    stat: /',\s*'([A-Za-z0-9.]+)'/.exec(expr)?.[1],
  };
}

function metricKeyOf(q: Record<string, unknown>): { key: MetricKey; period: number } {
  const ms = q.MetricStat as
    | {
        Metric: { Namespace: string; MetricName: string; Dimensions?: { Name: string; Value: string }[] };
        Period: number;
        Stat: string;
      }
    | undefined;
  if (ms) {
    const dims = Object.fromEntries((ms.Metric.Dimensions ?? []).map((d) => [d.Name, d.Value]));
    return {
      key: {
        namespace: ms.Metric.Namespace,
        name: ms.Metric.MetricName,
        service: dims.ServiceName,
        ...(dims.TargetGroup ? { targetGroup: dims.TargetGroup } : {}),
        stat: ms.Stat,
        dimensions: dims,
      },
      period: ms.Period,
    };
  }
  const expr = String(q.Expression ?? '');
  const s = parseSearch(expr);
  if (!s.name) throw new AwsFault(400, 'ValidationError', `cannot parse expression ${expr}`);
  return {
    key: { namespace: 'AWS/ApplicationELB', name: s.name, targetGroup: s.targetGroup, stat: s.stat ?? 'Sum' },
    period: Number(q.Period ?? 60),
  };
}

const getMetricData: Handler = (body, account) => {
  const queries = (body.MetricDataQueries ?? []) as Record<string, unknown>[];
  if (queries.length > 500)
    throw new AwsFault(
      400,
      'ValidationError',
      'The collection MetricDataQueries must not have a size greater than 500.',
    );
  const start = Number(body.StartTime);
  const end = Number(body.EndTime);
  const points: { id: string; ts: number; value: number }[] = [];
  const partial = new Set<string>();
  for (const q of queries) {
    const id = String(q.Id);
    const { key, period } = metricKeyOf(q);
    if (account.partialMetrics?.includes(`${key.namespace}/${key.name}`)) partial.add(id);
    for (let ts = start; ts < end; ts += period) {
      const v = account.metric(key, ts);
      if (v !== undefined) points.push({ id, ts, value: v });
    }
  }
  const pageSize = account.datapointsPerPage ?? 100_800;
  const offset = body.NextToken ? Number(body.NextToken) : 0;
  const page = points.slice(offset, offset + pageSize);
  const more = offset + pageSize < points.length;
  const results = new Map<
    string,
    { Id: string; Label: string; Timestamps: number[]; Values: number[]; StatusCode: string }
  >();
  for (const q of queries) {
    const id = String(q.Id);
    results.set(id, {
      Id: id,
      Label: String(q.Label ?? id),
      Timestamps: [],
      Values: [],
      StatusCode: 'Complete',
    });
  }
  for (const p of page) {
    const r = results.get(p.id);
    if (!r) continue;
    r.Timestamps.push(p.ts);
    r.Values.push(p.value);
  }
  if (more) {
    const rest = new Set(points.slice(offset + pageSize).map((p) => p.id));
    for (const id of rest) {
      const r = results.get(id);
      if (r) r.StatusCode = 'PartialData';
    }
  }
  for (const id of partial) {
    const r = results.get(id);
    if (r) r.StatusCode = 'PartialData';
  }
  return [
    200,
    {
      MetricDataResults: [...results.values()],
      Messages: [],
      ...(more ? { NextToken: String(offset + pageSize) } : {}),
    },
  ];
};

function requireCluster(body: Record<string, unknown>, account: FakeAccount): void {
  const c = String(body.cluster ?? 'default');
  const name = c.split('/').pop();
  if (name !== account.cluster) throw new AwsFault(400, 'ClusterNotFoundException', 'Cluster not found.');
}

const serviceArn = (account: FakeAccount, name: string) =>
  `arn:aws:ecs:us-east-1:123456789012:service/${account.cluster}/${name}`;

const handlers: Record<string, Handler> = {
  'GraniteServiceVersion20100801.GetMetricData': getMetricData,
  'GraniteServiceVersion20100801.ListMetrics': (body, account) => {
    const filter = (body.Dimensions ?? []) as { Name: string; Value?: string }[];
    const all: { Namespace: string; MetricName: string; Dimensions: { Name: string; Value: string }[] }[] =
      [];
    for (const [tg, lb] of Object.entries(account.loadBalancers ?? {})) {
      for (const name of ['RequestCount', 'TargetResponseTime', 'HTTPCode_Target_5XX_Count']) {
        all.push({
          Namespace: 'AWS/ApplicationELB',
          MetricName: name,
          Dimensions: [{ Name: 'TargetGroup', Value: tg }],
        });
        all.push({
          Namespace: 'AWS/ApplicationELB',
          MetricName: name,
          Dimensions: [
            { Name: 'LoadBalancer', Value: lb },
            { Name: 'TargetGroup', Value: tg },
          ],
        });
      }
    }
    const match = all.filter(
      (m) =>
        (body.Namespace === undefined || m.Namespace === body.Namespace) &&
        (body.MetricName === undefined || m.MetricName === body.MetricName) &&
        filter.every((f) =>
          m.Dimensions.some((d) => d.Name === f.Name && (f.Value === undefined || d.Value === f.Value)),
        ),
    );
    // One metric per page, so callers must follow NextToken as with real CloudWatch's 500.
    const offset = body.NextToken ? Number(body.NextToken) : 0;
    const more = offset + 1 < match.length;
    return [
      200,
      { Metrics: match.slice(offset, offset + 1), ...(more ? { NextToken: String(offset + 1) } : {}) },
    ];
  },
  'AnyScaleFrontendService.DescribeScalingActivities': (body, account) => {
    const all = account.activities
      .filter((a) => body.ResourceId === undefined || a.ResourceId === body.ResourceId)
      .filter((a) => body.IncludeNotScaledActivities === true || !a.NotScaledReasons)
      .sort((a, b) => b.StartTime - a.StartTime);
    const size = Math.min(Number(body.MaxResults ?? 50), account.activitiesPerPage ?? 50);
    const offset = body.NextToken ? Number(body.NextToken) : 0;
    const page = all.slice(offset, offset + size);
    const more = offset + size < all.length;
    return [
      200,
      {
        ScalingActivities: page.map((a) => ({
          ServiceNamespace: 'ecs',
          ScalableDimension: 'ecs:service:DesiredCount',
          ...a,
        })),
        ...(more ? { NextToken: String(offset + size) } : {}),
      },
    ];
  },
  'AmazonEC2ContainerServiceV20141113.ListServices': (body, account) => {
    requireCluster(body, account);
    const size = Number(body.maxResults ?? 10);
    const offset = body.nextToken ? Number(body.nextToken) : 0;
    const names = account.services.map((s) => s.name);
    const more = offset + size < names.length;
    return [
      200,
      {
        serviceArns: names.slice(offset, offset + size).map((n) => serviceArn(account, n)),
        ...(more ? { nextToken: String(offset + size) } : {}),
      },
    ];
  },
  'AmazonEC2ContainerServiceV20141113.DescribeServices': (body, account) => {
    requireCluster(body, account);
    const wanted = (body.services ?? []) as string[];
    if (wanted.length > 10)
      throw new AwsFault(400, 'InvalidParameterException', 'services can have at most 10 items.');
    const services: unknown[] = [];
    const failures: unknown[] = [];
    for (const w of wanted) {
      const name = w.split('/').pop() ?? w;
      const s = account.services.find((x) => x.name === name);
      if (!s) {
        failures.push({ arn: serviceArn(account, name), reason: 'MISSING' });
        continue;
      }
      services.push({
        serviceArn: serviceArn(account, s.name),
        serviceName: s.name,
        clusterArn: `arn:aws:ecs:us-east-1:123456789012:cluster/${account.cluster}`,
        taskDefinition: s.taskDefinition,
        ...(s.capacityProviderStrategy
          ? { capacityProviderStrategy: s.capacityProviderStrategy }
          : { launchType: s.launchType ?? 'FARGATE' }),
        deployments: [
          {
            id: 'ecs-svc/1',
            status: 'PRIMARY',
            taskDefinition: s.taskDefinition,
            ...(s.serviceConnect
              ? {
                  serviceConnectConfiguration: {
                    enabled: true,
                    namespace: 'shop.local',
                    services: s.serviceConnect.map((d) => ({ portName: `${d}-http`, discoveryName: d })),
                  },
                }
              : {}),
          },
        ],
        desiredCount: 2,
        runningCount: 2,
        pendingCount: 0,
        loadBalancers: s.targetGroupArn
          ? [{ targetGroupArn: s.targetGroupArn, containerName: 'app', containerPort: 8080 }]
          : [],
        ...(Array.isArray(body.include) && body.include.includes('TAGS')
          ? { tags: Object.entries(s.tags ?? {}).map(([key, value]) => ({ key, value })) }
          : {}),
      });
    }
    return [200, { services, failures }];
  },
  'AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition': (body, account) => {
    const td = String(body.taskDefinition);
    const s = account.services.find((x) => x.taskDefinition === td);
    if (!s) throw new AwsFault(400, 'ClientException', 'Unable to describe task definition.');
    return [
      200,
      {
        taskDefinition: {
          taskDefinitionArn: td,
          family: s.name,
          cpu: s.cpu ?? '256',
          memory: s.memory ?? '512',
          requiresCompatibilities: ['FARGATE'],
          ...(s.cpuArchitecture
            ? { runtimePlatform: { cpuArchitecture: s.cpuArchitecture, operatingSystemFamily: 'LINUX' } }
            : {}),
          containerDefinitions: [
            {
              name: 'app',
              image: 'app:latest',
              environment: Object.entries(s.environment ?? {}).map(([name, value]) => ({ name, value })),
            },
          ],
        },
      },
    ];
  },
};

function send(res: ServerResponse, status: number, value: unknown, target: string): void {
  const body = JSON.stringify(value);
  const json10 = target.startsWith('GraniteServiceVersion20100801');
  res.writeHead(status, {
    'content-type': json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': 'fake-request-id',
  });
  res.end(body);
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startFakeAws(account: FakeAccount): Promise<FakeAwsServer> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        send(res, 400, { __type: 'SerializationException', message: 'bad JSON' }, target);
        return;
      }
      requests.push({ operation: target, headers: req.headers, body });
      const fault = faults.find((f) => f.operation === target && f.times > 0);
      if (fault) {
        fault.times--;
        send(res, fault.status, { __type: fault.type, message: fault.message }, target);
        return;
      }
      const handler = handlers[target];
      if (!handler) {
        send(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` }, target);
        return;
      }
      try {
        const [status, value] = handler(body, account);
        send(res, status, value, target);
      } catch (e) {
        if (e instanceof AwsFault) send(res, e.status, { __type: e.type, message: e.message }, target);
        else send(res, 500, { __type: 'InternalFailure', message: String(e) }, target);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    faults,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
