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
 *   EventBridge              AWS JSON 1.1  x-amz-target: AWSEvents.PutEvents (routed by the account's rules)
 *   SQS                      AWS JSON 1.0  x-amz-target: AmazonSQS.{SendMessage, ReceiveMessage,
 *                                          DeleteMessage, ChangeMessageVisibility}
 *   CloudFront               REST-XML      POST /2020-05-31/distribution/{Id}/invalidation (CreateInvalidation:
 *                                          201 with the Invalidation, idempotent by CallerReference;
 *                                          errors as CloudFront's ErrorResponse XML)
 *
 * Timestamps travel as epoch seconds; errors as `{"__type": name, "message": ...}` with a 4xx status
 * (SQS's as its JSON protocol writes them: a `com.amazonaws.sqs#` shape name and the query error
 * code in `x-amzn-query-error`). The server models one account: a cluster with services, a metric
 * function, scaling activities, SQS queues (visibility timeouts, long polling, receive counts,
 * redrive to a dead-letter queue, MD5 of bodies as the SDK checks them), EventBridge rules that put
 * matching events in queues in EventBridge's envelope (as the reference stack's rules do), and
 * scripted faults (return this error for the next N calls of an operation). It records every request.
 */
import { createHash, randomUUID } from 'node:crypto';
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

/** One SQS queue of the fake account. */
export interface FakeQueueSpec {
  name: string;
  /** The queue's visibility timeout, seconds (SQS's default: 30). */
  visibilityTimeoutSeconds?: number;
  /** After `maxReceiveCount` receives a message moves to the queue named `deadLetterQueue`. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
}

/** An EventBridge rule: events on `eventBusName` from `source` of one of `detailTypes` go to `queue`. */
export interface FakeEventRule {
  eventBusName: string;
  source: string;
  detailTypes: readonly string[];
  /** The target queue's name (one of the account's queues). */
  queue: string;
}

/** One message in a fake queue. */
export interface FakeMessage {
  messageId: string;
  body: string;
  sentAtMs: number;
  receiveCount: number;
  firstReceiveAtMs?: number;
  /** Epoch ms from which it can be received again (in flight until then). */
  visibleAtMs: number;
  /** The receipt handle of its latest receive. */
  receipt?: string;
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
  /** SQS queues (URLs: `<server url>/123456789012/<name>`). */
  queues?: FakeQueueSpec[];
  /** EventBridge rules routing PutEvents to the queues. */
  eventRules?: FakeEventRule[];
  /** A slow endpoint: every answer is sent this many ms after its request (cancellation tests). */
  delayMs?: number;
  /** CloudFront distribution ids of the account (CreateInvalidation on another: NoSuchDistribution). */
  distributions?: string[];
}

/** An invalidation the fake CloudFront accepted. */
export interface FakeInvalidation {
  id: string;
  distributionId: string;
  callerReference: string;
  paths: string[];
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
  /** When it arrived (epoch ms). */
  atMs: number;
  /** The region the request was signed for (SigV4's credential scope), as a real endpoint reads it. */
  region?: string;
  /** The client closed the connection before the (delayed) answer was sent: it gave up on it. */
  aborted?: boolean;
}

/** The running server. */
export interface FakeAwsServer {
  url: string;
  requests: RecordedRequest[];
  faults: Fault[];
  /** The URL of a queue of the account. */
  queueUrl(name: string): string;
  /** The messages of a queue (in flight ones included), live. */
  messages(name: string): FakeMessage[];
  /** CloudFront invalidations created, in order (a repeated CallerReference is not a new one). */
  invalidations: FakeInvalidation[];
  close(): Promise<void>;
}

type Handler = (
  body: Record<string, unknown>,
  account: FakeAccount,
  /** True once the caller has gone (an aborted long poll must not take messages). */
  gone: () => boolean,
) => [number, unknown] | Promise<[number, unknown]>;

class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
    /** The query protocol's error code and fault (`x-amzn-query-error`), for SQS. */
    readonly queryError?: string,
  ) {
    super(message);
  }
}

/** The fake account's id (in queue URLs and EventBridge envelopes). */
export const FAKE_ACCOUNT_ID = '123456789012';
const FAKE_REGION = 'us-east-1';

const CLOUDFRONT_XMLNS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';
const xmlText = (t: string) => t.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
const unxml = (t: string) =>
  t
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&quot;', '"')
    .replaceAll('&apos;', "'")
    .replaceAll('&amp;', '&');

const md5 = (text: string) => createHash('md5').update(text, 'utf8').digest('hex');

/** SQS errors as its AWS JSON protocol sends them. */
const sqsFault = {
  noQueue: () =>
    new AwsFault(
      400,
      'com.amazonaws.sqs#QueueDoesNotExist',
      'The specified queue does not exist.',
      'AWS.SimpleQueueService.NonExistentQueue;Sender',
    ),
  badReceipt: (handle: string) =>
    new AwsFault(
      404,
      'com.amazonaws.sqs#ReceiptHandleIsInvalid',
      `The input receipt handle "${handle}" is not a valid receipt handle.`,
      'ReceiptHandleIsInvalid;Sender',
    ),
  notInFlight: (handle: string) =>
    new AwsFault(
      400,
      'com.amazonaws.sqs#MessageNotInflight',
      `Value ${handle} for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.`,
      'AWS.SimpleQueueService.MessageNotInflight;Sender',
    ),
  invalid: (message: string) =>
    new AwsFault(400, 'com.amazonaws.sqs#InvalidParameterValue', message, 'InvalidParameterValue;Sender'),
};

/** SQS and EventBridge over a fake account's queues: their state lives with the server. */
function createMessaging(account: FakeAccount, baseUrl: () => string, closing: () => boolean) {
  const specs = new Map((account.queues ?? []).map((q) => [q.name, q]));
  const queues = new Map<string, FakeMessage[]>([...specs.keys()].map((n) => [n, []]));
  const queueOf = (url: unknown): { name: string; messages: FakeMessage[] } => {
    const parts = String(url ?? '').split('/');
    const name = parts.pop() ?? '';
    const accountId = parts.pop();
    const messages = queues.get(name);
    if (accountId !== FAKE_ACCOUNT_ID || !messages) throw sqsFault.noQueue();
    return { name, messages };
  };
  const enqueue = (name: string, body: string, delaySeconds = 0): FakeMessage => {
    const m: FakeMessage = {
      messageId: randomUUID(),
      body,
      sentAtMs: Date.now(),
      receiveCount: 0,
      visibleAtMs: Date.now() + delaySeconds * 1000,
    };
    queues.get(name)!.push(m);
    return m;
  };
  /** A receipt handle names its queue, message and receive; anything else is not one. */
  const receiptOf = (handle: unknown): { queue: string; id: string; n: number } => {
    const text = String(handle ?? '');
    try {
      const r = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as {
        q: string;
        id: string;
        n: number;
      };
      if (typeof r.q === 'string' && typeof r.id === 'string' && typeof r.n === 'number')
        return { queue: r.q, id: r.id, n: r.n };
    } catch {}
    throw sqsFault.badReceipt(text);
  };
  const intParam = (v: unknown, name: string, dflt: number, min: number, max: number) => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw sqsFault.invalid(
        `Value ${String(v)} for parameter ${name} is invalid. Reason: Must be between ${min} and ${max}, if provided.`,
      );
    return n;
  };

  /** Takes up to `max` visible messages, moving those past their redrive limit to the dead-letter queue. */
  const take = (name: string, messages: FakeMessage[], max: number, visibility: number, attrs: string[]) => {
    const now = Date.now();
    const spec = specs.get(name)!;
    const out: unknown[] = [];
    for (const m of [...messages]) {
      if (out.length >= max) break;
      if (m.visibleAtMs > now) continue;
      if (spec.redrive && m.receiveCount >= spec.redrive.maxReceiveCount) {
        messages.splice(messages.indexOf(m), 1);
        const dlq = queues.get(spec.redrive.deadLetterQueue);
        if (dlq) dlq.push({ ...m, visibleAtMs: now, receipt: undefined });
        continue;
      }
      m.receiveCount++;
      m.firstReceiveAtMs ??= now;
      m.visibleAtMs = now + visibility * 1000;
      m.receipt = Buffer.from(JSON.stringify({ q: name, id: m.messageId, n: m.receiveCount })).toString(
        'base64',
      );
      const all: Record<string, string> = {
        ApproximateReceiveCount: String(m.receiveCount),
        SentTimestamp: String(m.sentAtMs),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAtMs),
        SenderId: 'AIDAFAKESENDER',
      };
      const wanted = attrs.includes('All') ? Object.keys(all) : attrs.filter((a) => a in all);
      out.push({
        MessageId: m.messageId,
        ReceiptHandle: m.receipt,
        MD5OfBody: md5(m.body),
        Body: m.body,
        ...(wanted.length > 0 ? { Attributes: Object.fromEntries(wanted.map((a) => [a, all[a]!])) } : {}),
      });
    }
    return out;
  };

  const handlers: Record<string, Handler> = {
    'AmazonSQS.SendMessage': (body) => {
      const { name } = queueOf(body.QueueUrl);
      if (typeof body.MessageBody !== 'string' || body.MessageBody === '')
        throw sqsFault.invalid('The request must contain the parameter MessageBody.');
      const m = enqueue(name, body.MessageBody, intParam(body.DelaySeconds, 'DelaySeconds', 0, 0, 900));
      return [200, { MessageId: m.messageId, MD5OfMessageBody: md5(m.body) }];
    },
    'AmazonSQS.ReceiveMessage': async (body, _account, gone) => {
      const { name, messages } = queueOf(body.QueueUrl);
      const max = intParam(body.MaxNumberOfMessages, 'MaxNumberOfMessages', 1, 1, 10);
      const wait = intParam(body.WaitTimeSeconds, 'WaitTimeSeconds', 0, 0, 20);
      const visibility = intParam(
        body.VisibilityTimeout,
        'VisibilityTimeout',
        specs.get(name)!.visibilityTimeoutSeconds ?? 30,
        0,
        43_200,
      );
      const attrs = [
        ...((body.MessageSystemAttributeNames ?? []) as string[]),
        ...((body.AttributeNames ?? []) as string[]),
      ];
      const deadline = Date.now() + wait * 1000;
      for (;;) {
        if (gone()) return [200, {}];
        const out = take(name, messages, max, visibility, attrs);
        if (out.length > 0) return [200, { Messages: out }];
        if (Date.now() >= deadline || closing()) return [200, {}];
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    'AmazonSQS.DeleteMessage': (body) => {
      const { name, messages } = queueOf(body.QueueUrl);
      const r = receiptOf(body.ReceiptHandle);
      if (r.queue !== name) throw sqsFault.badReceipt(String(body.ReceiptHandle));
      // As SQS: a handle of a message already deleted (or received again since) deletes nothing, and succeeds.
      const i = messages.findIndex((m) => m.messageId === r.id && m.receipt === body.ReceiptHandle);
      if (i >= 0) messages.splice(i, 1);
      return [200, {}];
    },
    'AmazonSQS.ChangeMessageVisibility': (body) => {
      const { name, messages } = queueOf(body.QueueUrl);
      const handle = String(body.ReceiptHandle ?? '');
      const r = receiptOf(handle);
      if (r.queue !== name) throw sqsFault.badReceipt(handle);
      const timeout = intParam(body.VisibilityTimeout, 'VisibilityTimeout', Number.NaN, 0, 43_200);
      if (Number.isNaN(timeout))
        throw sqsFault.invalid('The request must contain the parameter VisibilityTimeout.');
      const m = messages.find((x) => x.messageId === r.id && x.receipt === handle);
      if (!m || m.visibleAtMs <= Date.now()) throw sqsFault.notInFlight(handle);
      m.visibleAtMs = Date.now() + timeout * 1000;
      return [200, {}];
    },
    'AWSEvents.PutEvents': (body) => {
      const entries = (body.Entries ?? []) as Record<string, unknown>[];
      if (entries.length < 1 || entries.length > 10)
        throw new AwsFault(
          400,
          'ValidationException',
          `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10 and greater than or equal to 1`,
        );
      let failed = 0;
      const results = entries.map((e) => {
        let detail: unknown;
        try {
          detail = JSON.parse(String(e.Detail ?? ''));
        } catch {
          detail = undefined;
        }
        if (!e.Source || !e.DetailType || typeof detail !== 'object' || detail === null) {
          failed++;
          return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
        }
        const id = randomUUID();
        const bus = String(e.EventBusName ?? 'default')
          .split('/')
          .pop();
        for (const rule of account.eventRules ?? []) {
          if (rule.eventBusName !== bus || rule.source !== e.Source) continue;
          if (!rule.detailTypes.includes(String(e.DetailType))) continue;
          if (!queues.has(rule.queue)) continue;
          enqueue(
            rule.queue,
            JSON.stringify({
              version: '0',
              id,
              'detail-type': e.DetailType,
              source: e.Source,
              account: FAKE_ACCOUNT_ID,
              time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
              region: FAKE_REGION,
              resources: e.Resources ?? [],
              detail,
            }),
          );
        }
        return { EventId: id };
      });
      return [200, { FailedEntryCount: failed, Entries: results }];
    },
  };
  return {
    handlers,
    queueUrl: (name: string) => `${baseUrl()}/${FAKE_ACCOUNT_ID}/${name}`,
    messages: (name: string) => queues.get(name) ?? [],
  };
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

function send(
  res: ServerResponse,
  status: number,
  value: unknown,
  target: string,
  queryError?: string,
): void {
  const body = JSON.stringify(value);
  const json10 = target.startsWith('GraniteServiceVersion20100801') || target.startsWith('AmazonSQS.');
  res.writeHead(status, {
    'content-type': json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': 'fake-request-id',
    ...(queryError ? { 'x-amzn-query-error': queryError } : {}),
  });
  res.end(body);
}

/** Starts the server on 127.0.0.1 with a random port. */
export async function startFakeAws(account: FakeAccount): Promise<FakeAwsServer> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  let url = '';
  let closing = false;
  const messaging = createMessaging(
    account,
    () => url,
    () => closing,
  );
  const pending = new Set<NodeJS.Timeout>();
  const invalidations: FakeInvalidation[] = [];
  /** CloudFront's CreateInvalidation over REST-XML, as the SDK's restXml protocol sends and reads it. */
  const cloudFrontInvalidation = (
    distributionId: string,
    xml: string,
    req: IncomingMessage,
    res: ServerResponse,
  ) => {
    const operation = 'CloudFront.CreateInvalidation';
    const callerReference = unxml(/<CallerReference>([^<]*)<\/CallerReference>/.exec(xml)?.[1] ?? '');
    const quantity = Number(/<Quantity>(\d+)<\/Quantity>/.exec(xml)?.[1] ?? Number.NaN);
    const paths = [...xml.matchAll(/<Path>([^<]*)<\/Path>/g)].map((m) => unxml(m[1]!));
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
    requests.push({
      operation,
      headers: req.headers,
      body: {
        DistributionId: distributionId,
        CallerReference: callerReference,
        Paths: paths,
        Quantity: quantity,
      },
      atMs: Date.now(),
      ...(scope?.[1] ? { region: scope[1] } : {}),
    });
    const fail = (status: number, code: string, message: string) => {
      const body = `<?xml version="1.0"?>\n<ErrorResponse xmlns="${CLOUDFRONT_XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlText(message)}</Message></Error><RequestId>fake-request-id</RequestId></ErrorResponse>`;
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': 'fake-request-id' });
      res.end(body);
    };
    const fault = faults.find((f) => f.operation === operation && f.times > 0);
    if (fault) {
      fault.times--;
      return fail(fault.status, fault.type, fault.message);
    }
    if (!(account.distributions ?? []).includes(distributionId))
      return fail(404, 'NoSuchDistribution', 'The specified distribution does not exist.');
    if (!callerReference || paths.length === 0 || quantity !== paths.length)
      return fail(
        400,
        'InvalidArgument',
        'Your request contains one or more invalid invalidation paths or a wrong Quantity.',
      );
    if (paths.some((p) => !p.startsWith('/')))
      return fail(400, 'InvalidArgument', 'Each path must begin with a slash (/).');
    const existing = invalidations.find(
      (i) => i.distributionId === distributionId && i.callerReference === callerReference,
    );
    if (existing && JSON.stringify(existing.paths) !== JSON.stringify(paths))
      return fail(
        409,
        'InvalidationBatchAlreadyExists',
        'The CallerReference you attempted to use is in use by another invalidation batch.',
      );
    const inv = existing ?? {
      id: `I${randomUUID().replaceAll('-', '').slice(0, 13).toUpperCase()}`,
      distributionId,
      callerReference,
      paths,
    };
    if (!existing) invalidations.push(inv);
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Invalidation xmlns="${CLOUDFRONT_XMLNS}"><Id>${inv.id}</Id><Status>InProgress</Status><CreateTime>${new Date().toISOString()}</CreateTime><InvalidationBatch><Paths><Quantity>${inv.paths.length}</Quantity><Items>${inv.paths.map((p) => `<Path>${xmlText(p)}</Path>`).join('')}</Items></Paths><CallerReference>${xmlText(inv.callerReference)}</CallerReference></InvalidationBatch></Invalidation>`;
    res.writeHead(201, {
      'content-type': 'text/xml',
      location: `https://cloudfront.amazonaws.com/2020-05-31/distribution/${distributionId}/invalidation/${inv.id}`,
      'x-amzn-requestid': 'fake-request-id',
    });
    res.end(body);
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rest = /^\/2020-05-31\/distribution\/([^/?]+)\/invalidation$/.exec(req.url ?? '');
      if (rest && req.method === 'POST') {
        cloudFrontInvalidation(
          decodeURIComponent(rest[1]!),
          Buffer.concat(chunks).toString('utf8'),
          req,
          res,
        );
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      let body: Record<string, unknown> = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      } catch {
        send(res, 400, { __type: 'SerializationException', message: 'bad JSON' }, target);
        return;
      }
      const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(req.headers.authorization ?? ''));
      const recorded: RecordedRequest = {
        operation: target,
        headers: req.headers,
        body,
        atMs: Date.now(),
        ...(scope?.[1] ? { region: scope[1] } : {}),
      };
      requests.push(recorded);
      res.on('close', () => {
        if (!res.writableEnded) recorded.aborted = true;
      });
      // A slow endpoint (delayMs) answers late; an answer to a client that gave up is dropped.
      const reply = (...args: Parameters<typeof send>) => {
        if (!account.delayMs) return send(...args);
        const timer = setTimeout(() => {
          pending.delete(timer);
          if (!gone) send(...args);
        }, account.delayMs);
        pending.add(timer);
      };
      const fault = faults.find((f) => f.operation === target && f.times > 0);
      if (fault) {
        fault.times--;
        reply(res, fault.status, { __type: fault.type, message: fault.message }, target);
        return;
      }
      const handler = handlers[target] ?? messaging.handlers[target];
      if (!handler) {
        reply(res, 400, { __type: 'UnknownOperationException', message: `unknown target ${target}` }, target);
        return;
      }
      Promise.resolve()
        .then(() => handler(body, account, () => gone))
        .then(
          ([status, value]) => reply(res, status, value, target),
          (e: unknown) => {
            if (e instanceof AwsFault)
              reply(res, e.status, { __type: e.type, message: e.message }, target, e.queryError);
            else reply(res, 500, { __type: 'InternalFailure', message: String(e) }, target);
          },
        );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return {
    url,
    requests,
    faults,
    queueUrl: messaging.queueUrl,
    messages: messaging.messages,
    invalidations,
    close: () =>
      new Promise<void>((resolve) => {
        // Long polls in progress answer empty at once.
        closing = true;
        for (const t of pending) clearTimeout(t);
        server.close(() => resolve());
        setTimeout(() => server.closeAllConnections(), 50).unref();
      }),
  };
}
