/**
 * A local ECS and S3 endpoint for the fleet's tests, speaking the wire protocols the AWS SDK speaks:
 * ECS's JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.RunTask|DescribeTasks|StopTask`)
 * and S3's REST API, path-style (PUT and GET object, ListObjectsV2). Tasks are emulated: RunTask
 * creates them PROVISIONING, they turn RUNNING after `runningAfterMs`, and then run a `container`
 * function the test supplies (what the generator image's entrypoint does: infra/fleet/image/), with
 * the bucket, its environment and a stop signal; when it returns, the task is STOPPED with its exit
 * code. StopTask aborts the container's signal (ECS sends SIGTERM) and records the reason.
 *
 * Nothing can run a Fargate task here: this is the stand-in for ECS's scheduler, not for its API,
 * whose requests and answers are the real ones (the SDK parses them).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a container function gets. */
export interface EmulatedContainer {
  taskArn: string;
  taskId: string;
  env: Record<string, string>;
  /** The bucket the task may read and write (in memory). */
  bucket: Map<string, Buffer>;
  /** Aborted by StopTask (ECS's SIGTERM). */
  signal: AbortSignal;
}

/** Options of the endpoint. */
export interface FleetAwsOptions {
  /** What each task runs once RUNNING; returns the container's exit code. */
  container: (c: EmulatedContainer) => Promise<number>;
  /** Milliseconds from RunTask to RUNNING (default 50); per task index when a function. */
  runningAfterMs?: number | ((index: number) => number);
  /** Tasks with these indexes (0-based, in RunTask order) stop before RUNNING (an image pull failure). */
  failBeforeRunning?: number[];
  /** The bucket name. */
  bucket: string;
}

interface EmulatedTask {
  taskArn: string;
  lastStatus: 'PROVISIONING' | 'PENDING' | 'RUNNING' | 'STOPPED';
  createdAt: number;
  pullStartedAt?: number;
  startedAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  exitCode?: number;
  abort: AbortController;
  group: string;
}

/** The running endpoint and what it saw. */
export interface FleetAws {
  url: string;
  bucket: Map<string, Buffer>;
  /** Every RunTask call's `count`, in order. */
  runTaskCounts: number[];
  /** StopTask calls: task ARN and reason. */
  stopCalls: { task: string; reason: string }[];
  tasks: Map<string, EmulatedTask>;
  close(): Promise<void>;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Starts the endpoint on 127.0.0.1 (a random port). */
export async function startFleetAws(o: FleetAwsOptions): Promise<FleetAws> {
  const bucket = new Map<string, Buffer>();
  const tasks = new Map<string, EmulatedTask>();
  const runTaskCounts: number[] = [];
  const stopCalls: FleetAws['stopCalls'] = [];
  let seq = 0;
  const timers = new Set<NodeJS.Timeout>();

  const json = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify(body));
  };
  const ecsError = (res: ServerResponse, type: string, message: string) =>
    json(res, 400, { __type: type, message });
  const describe = (t: EmulatedTask) => ({
    taskArn: t.taskArn,
    lastStatus: t.lastStatus,
    desiredStatus: t.lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING',
    group: t.group,
    createdAt: t.createdAt / 1000,
    ...(t.pullStartedAt ? { pullStartedAt: t.pullStartedAt / 1000 } : {}),
    ...(t.startedAt ? { startedAt: t.startedAt / 1000 } : {}),
    ...(t.stoppedAt ? { stoppedAt: t.stoppedAt / 1000 } : {}),
    ...(t.stoppedReason ? { stoppedReason: t.stoppedReason } : {}),
    containers: [
      {
        name: 'k6',
        lastStatus: t.lastStatus,
        ...(t.exitCode !== undefined ? { exitCode: t.exitCode } : {}),
      },
    ],
  });
  const stopTask = (t: EmulatedTask, reason: string, exitCode?: number) => {
    if (t.lastStatus === 'STOPPED') return;
    t.lastStatus = 'STOPPED';
    t.stoppedAt = Date.now();
    t.stoppedReason ??= reason;
    if (exitCode !== undefined) t.exitCode = exitCode;
  };

  const runTask = (body: Record<string, unknown>, res: ServerResponse) => {
    const count = Number(body.count ?? 1);
    if (!Number.isInteger(count) || count < 1 || count > 10)
      return ecsError(res, 'InvalidParameterException', 'count must be between 1 and 10');
    runTaskCounts.push(count);
    const overrides = (
      body.overrides as { containerOverrides?: { environment?: { name: string; value: string }[] }[] }
    )?.containerOverrides?.[0]?.environment;
    const env: Record<string, string> = { PEAKDAY_BUCKET: o.bucket };
    for (const e of overrides ?? []) env[e.name] = e.value;
    const out = [];
    for (let k = 0; k < count; k++) {
      const index = seq++;
      const id = `${index.toString(16).padStart(8, '0')}${'0'.repeat(24)}`;
      const t: EmulatedTask = {
        taskArn: `arn:aws:ecs:us-east-1:000000000000:task/${String(body.cluster)}/${id}`,
        lastStatus: 'PROVISIONING',
        createdAt: Date.now(),
        abort: new AbortController(),
        group: String(body.group ?? 'family:peakday-k6'),
      };
      tasks.set(t.taskArn, t);
      out.push(describe(t));
      const after =
        typeof o.runningAfterMs === 'function' ? o.runningAfterMs(index) : (o.runningAfterMs ?? 50);
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (t.lastStatus === 'STOPPED') return;
        t.pullStartedAt = t.createdAt;
        if (o.failBeforeRunning?.includes(index)) {
          stopTask(t, 'CannotPullContainerError: pull image manifest has been retried 5 time(s)', 255);
          return;
        }
        t.lastStatus = 'RUNNING';
        t.startedAt = Date.now();
        o.container({ taskArn: t.taskArn, taskId: id, env, bucket, signal: t.abort.signal })
          .then((code) => stopTask(t, 'Essential container in task exited', code))
          .catch((e) => stopTask(t, `Essential container in task exited: ${(e as Error).message}`, 1));
      }, after);
      timers.add(timer);
    }
    json(res, 200, { tasks: out, failures: [] });
  };

  const handleEcs = (target: string, body: Record<string, unknown>, res: ServerResponse) => {
    const op = target.split('.').pop();
    if (op === 'RunTask') return runTask(body, res);
    if (op === 'DescribeTasks') {
      const arns = (body.tasks as string[]) ?? [];
      if (arns.length > 100) return ecsError(res, 'InvalidParameterException', 'at most 100 tasks');
      const found = arns.map((a) => tasks.get(a)).filter((t): t is EmulatedTask => !!t);
      const failures = arns.filter((a) => !tasks.has(a)).map((arn) => ({ arn, reason: 'MISSING' }));
      return json(res, 200, { tasks: found.map(describe), failures });
    }
    if (op === 'StopTask') {
      const t = tasks.get(String(body.task));
      if (!t) return ecsError(res, 'InvalidParameterException', 'The referenced task was not found.');
      stopCalls.push({ task: t.taskArn, reason: String(body.reason ?? '') });
      if (t.lastStatus !== 'STOPPED') {
        t.stoppedReason = String(body.reason ?? 'Task stopped by user');
        if (t.lastStatus === 'RUNNING') t.abort.abort();
        else stopTask(t, t.stoppedReason);
      }
      return json(res, 200, { task: describe(t) });
    }
    return ecsError(res, 'UnknownOperationException', `${op} is not emulated`);
  };

  const handleS3 = (req: IncomingMessage, url: URL, body: Buffer, res: ServerResponse) => {
    const [, b, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (b !== o.bucket) {
      res.writeHead(404, { 'content-type': 'application/xml' });
      return res.end(
        '<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>',
      );
    }
    if (req.method === 'PUT' && key) {
      bucket.set(key, body);
      res.writeHead(200, { etag: '"0"' });
      return res.end();
    }
    if (req.method === 'GET' && key) {
      const v = bucket.get(key);
      if (!v) {
        res.writeHead(404, { 'content-type': 'application/xml' });
        return res.end(
          `<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message><Key>${xmlEscape(key)}</Key></Error>`,
        );
      }
      res.writeHead(200, { 'content-length': v.length, 'content-type': 'application/octet-stream' });
      return res.end(v);
    }
    if (req.method === 'GET' && url.searchParams.get('list-type') === '2') {
      const prefix = url.searchParams.get('prefix') ?? '';
      const max = Number(url.searchParams.get('max-keys') ?? 1000);
      const after = url.searchParams.get('continuation-token') ?? '';
      const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, max);
      const truncated = keys.length > page.length;
      res.writeHead(200, { 'content-type': 'application/xml' });
      return res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${o.bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${truncated ? `<NextContinuationToken>${xmlEscape(page[page.length - 1] as string)}</NextContinuationToken>` : ''}${page.map((k) => `<Contents><Key>${xmlEscape(k)}</Key><Size>${bucket.get(k)?.length ?? 0}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('')}</ListBucketResult>`,
      );
    }
    res.writeHead(400, { 'content-type': 'application/xml' });
    res.end('<Error><Code>NotImplemented</Code><Message>not emulated</Message></Error>');
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('AmazonEC2ContainerServiceV20141113.'))
        return handleEcs(target, body.length ? JSON.parse(body.toString()) : {}, res);
      handleS3(req, new URL(req.url ?? '/', 'http://x'), body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bucket,
    runTaskCounts,
    stopCalls,
    tasks,
    close: () =>
      new Promise<void>((r) => {
        for (const t of timers) clearTimeout(t);
        for (const t of tasks.values()) t.abort.abort();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
