/**
 * `peakday run <profile> --driver k6 --fleet ecs --generators N`: the plan played by N k6 tasks on
 * ECS Fargate (the fleet stack, infra/fleet/), merged exactly into one run. Stages:
 *
 * 1. export the plan's script for N segments; upload it (and plan.json) under `runs/<id>/`;
 * 2. RunTask, at most 10 tasks per call and at most `launchRatePerSecond` tasks a second (Fargate's
 *    sustained launch rate, docs/sources.md), every task with the same overrides;
 * 3. wait until every task is RUNNING and has fetched the script (`ready/<task id>`); a task that is not
 *    by the deadline, or stops first, aborts the start: every task is stopped, nothing is played;
 * 4. release them at one start instant: `assign/<task id>` = "INDEX COUNT START_AT_MS" (the generator
 *    entrypoint sleeps until then, so the segments' event clocks align);
 * 5. follow them (DescribeTasks) until all stopped or the plan's time plus the grace has passed;
 * 6. download each segment's k6 output, summary, console and CPU samples; merge exactly
 *    (engine/k6/generator-runs.ts): a task without output is a missing segment, named; a task that
 *    failed makes the run partial; a saturated generator (its CPU) invalidates it, named.
 *
 * The cancellation signal (Ctrl-C) stops every task (StopTask), waits for them to upload what they
 * measured, and merges it (interrupted). The fleet's own cost (Fargate task time, S3 requests) is
 * written apart from the system under test's, in `fleet.json` and the run's notes.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ERROR_CATALOG, ExitCode, PeakdayError } from '../core/errors.ts';
import type { RunMeta, RunSummary } from '../core/run-format.ts';
import { k6Ending } from '../engine/k6/exit-codes.ts';
import { type GeneratorOutput, mergeGeneratorOutputs } from '../engine/k6/generator-runs.ts';
import type { RunOutcome, RunRequest } from '../engine/run.ts';
import type { Plan } from '../scenarios/plan.ts';
import { planIdentity } from '../scenarios/plan-identity.ts';

/** Tasks one RunTask call may start (ECS API limit). */
export const RUN_TASK_MAX_COUNT = 10;

/** Fargate's sustained task launch rate per account and Region (docs/sources.md, Fargate timings). */
export const FARGATE_LAUNCH_RATE_PER_SECOND = 20;

/** Fargate prices used for the fleet's cost (docs/sources.md, Fargate prices; us-east-1). */
export const FARGATE_PRICES = {
  arm64: { vcpuHour: 0.03238, gbHour: 0.00356 },
  x86_64: { vcpuHour: 0.04048, gbHour: 0.004445 },
  /** Fargate bills per second with a one-minute minimum. */
  minimumSeconds: 60,
} as const;

/** S3 request prices (docs/sources.md, S3): per 1,000 PUT/LIST and per 1,000 GET requests. */
export const S3_PRICES = { perThousandPut: 0.005, perThousandGet: 0.0004 } as const;

/** What the fleet stack exported (its outputs) and where it is. */
export interface EcsFleetConfig {
  region: string;
  cluster: string;
  taskDefinition: string;
  bucket: string;
  subnets: string[];
  securityGroups: string[];
  assignPublicIp: boolean;
  vcpu: number;
  memoryGb: number;
  cpuArchitecture: 'arm64' | 'x86_64';
  /** The container to override (infra/fleet/stack.ts GENERATOR_CONTAINER). */
  container: string;
  /** An AWS endpoint to use instead of AWS's (tests: a local one). */
  endpoint?: string;
}

/** Timings of the orchestration (defaults for AWS; tests shorten them). */
export interface EcsFleetTimings {
  /** How often tasks are described while waiting and following (default 3 s). */
  pollMs: number;
  /** How long every task has to be RUNNING and ready (default 300 s: Fargate starts take 30-45 s or more). */
  readyTimeoutMs: number;
  /** How far ahead of the assignment the start instant is (default 10 s: tasks poll every 0.5 s). */
  startMarginMs: number;
  /** How long after the plan's end tasks may take to finish and upload (default 180 s). */
  graceMs: number;
  /** Tasks started per second at most (default Fargate's 20). */
  launchRatePerSecond: number;
}

/** The default timings. */
export const DEFAULT_FLEET_TIMINGS: EcsFleetTimings = {
  pollMs: 3000,
  readyTimeoutMs: 300_000,
  startMarginMs: 10_000,
  graceMs: 180_000,
  launchRatePerSecond: FARGATE_LAUNCH_RATE_PER_SECOND,
};

/** One ECS fleet run. */
export interface EcsFleetRequest {
  plan: Plan;
  generators: number;
  /** The exported script, for `generators` segments (k6-export.ts `segmentCount`). */
  script: string;
  baseUrl: string;
  outDir: string;
  runId: string;
  config: EcsFleetConfig;
  options: Record<string, unknown>;
  timings?: Partial<EcsFleetTimings>;
  signal?: AbortSignal;
  progress: (line: string) => void;
}

/** The fleet's own cost, apart from the system under test's. */
export interface FleetCost {
  tasks: number;
  /** Billed task seconds (per task: pull start to stop, at least a minute). */
  billedTaskSeconds: number;
  fargateUsd: number;
  s3Requests: { put: number; get: number };
  s3Usd: number;
  totalUsd: number;
  prices: string;
}

/** What a fleet run returns. */
export interface EcsFleetOutcome {
  dir: string;
  meta: RunMeta;
  summary: RunSummary;
  exitCode: number;
  cost: FleetCost;
  taskArns: string[];
}

interface TaskState {
  taskArn: string;
  lastStatus?: string;
  stoppedReason?: string;
  exitCode?: number;
  pullStartedAt?: Date;
  startedAt?: Date;
  stoppedAt?: Date;
}

const taskIdOf = (arn: string) => arn.split('/').pop() ?? arn;
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/** Plays the plan on an ECS fleet and merges the generators' outputs into `outDir`. */
export async function runEcsFleet(req: EcsFleetRequest): Promise<EcsFleetOutcome> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const t = { ...DEFAULT_FLEET_TIMINGS, ...req.timings };
  const [ecsSdk, s3Sdk] = await Promise.all([import('@aws-sdk/client-ecs'), import('@aws-sdk/client-s3')]);
  const c = req.config;
  const clientConfig = {
    region: c.region,
    maxAttempts: 4,
    ...(c.endpoint ? { endpoint: c.endpoint } : {}),
  };
  const ecs = new ecsSdk.ECSClient(clientConfig);
  const s3 = new s3Sdk.S3Client({ ...clientConfig, ...(c.endpoint ? { forcePathStyle: true } : {}) });
  const prefix = `runs/${req.runId}`;
  const n = req.generators;
  const s3Count = { put: 0, get: 0 };
  const put = async (key: string, body: string) => {
    s3Count.put++;
    await s3.send(new s3Sdk.PutObjectCommand({ Bucket: c.bucket, Key: `${prefix}/${key}`, Body: body }));
  };
  const list = async (sub: string): Promise<string[]> => {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      s3Count.put++; // LIST is billed as a PUT-class request
      const r = await s3.send(
        new s3Sdk.ListObjectsV2Command({
          Bucket: c.bucket,
          Prefix: `${prefix}/${sub}`,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key.slice(prefix.length + 1));
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
  };
  const get = async (key: string, file: string): Promise<boolean> => {
    s3Count.get++;
    try {
      const r = await s3.send(new s3Sdk.GetObjectCommand({ Bucket: c.bucket, Key: `${prefix}/${key}` }));
      writeFileSync(file, Buffer.from((await r.Body?.transformToByteArray()) ?? new Uint8Array()));
      return true;
    } catch (e) {
      if ((e as { name?: string }).name === 'NoSuchKey') return false;
      throw e;
    }
  };
  const tasks = new Map<string, TaskState>();
  const describe = async () => {
    const arns = [...tasks.keys()];
    for (let i = 0; i < arns.length; i += 100) {
      const r = await ecs.send(
        new ecsSdk.DescribeTasksCommand({ cluster: c.cluster, tasks: arns.slice(i, i + 100) }),
      );
      for (const x of r.tasks ?? []) {
        if (!x.taskArn) continue;
        const container = x.containers?.find((k) => k.name === c.container) ?? x.containers?.[0];
        tasks.set(x.taskArn, {
          taskArn: x.taskArn,
          ...(x.lastStatus ? { lastStatus: x.lastStatus } : {}),
          ...(x.stoppedReason ? { stoppedReason: x.stoppedReason } : {}),
          ...(container?.exitCode !== undefined ? { exitCode: container.exitCode } : {}),
          ...(x.pullStartedAt ? { pullStartedAt: x.pullStartedAt } : {}),
          ...(x.startedAt ? { startedAt: x.startedAt } : {}),
          ...(x.stoppedAt ? { stoppedAt: x.stoppedAt } : {}),
        });
      }
    }
  };
  const stopAll = async (reason: string) => {
    for (const s of tasks.values()) {
      if (s.lastStatus === 'STOPPED') continue;
      await ecs.send(new ecsSdk.StopTaskCommand({ cluster: c.cluster, task: s.taskArn, reason }));
    }
  };
  const waitStopped = async (ms: number) => {
    const until = Date.now() + ms;
    for (;;) {
      await describe();
      if ([...tasks.values()].every((s) => s.lastStatus === 'STOPPED') || Date.now() >= until) return;
      await sleep(t.pollMs);
    }
  };

  // 1. The script and the plan.
  await put('script.js', req.script);
  await put('plan.json', JSON.stringify(req.plan));

  // 2. RunTask, batched and paced.
  const failures: string[] = [];
  let started = 0;
  while (started < n && !req.signal?.aborted) {
    const count = Math.min(RUN_TASK_MAX_COUNT, n - started, Math.max(1, Math.floor(t.launchRatePerSecond)));
    const r = await ecs.send(
      new ecsSdk.RunTaskCommand({
        cluster: c.cluster,
        taskDefinition: c.taskDefinition,
        launchType: 'FARGATE',
        count,
        startedBy: `peakday-${req.runId}`.slice(0, 36),
        tags: [
          { key: 'peakday:run', value: req.runId },
          { key: 'peakday:plan', value: planIdentity(req.plan) },
        ],
        networkConfiguration: {
          awsvpcConfiguration: {
            subnets: c.subnets,
            securityGroups: c.securityGroups,
            assignPublicIp: c.assignPublicIp ? 'ENABLED' : 'DISABLED',
          },
        },
        overrides: {
          containerOverrides: [
            {
              name: c.container,
              environment: [
                { name: 'PEAKDAY_RUN', value: prefix },
                { name: 'PEAKDAY_BASE_URL', value: req.baseUrl },
              ],
            },
          ],
        },
      }),
    );
    for (const x of r.tasks ?? [])
      if (x.taskArn) tasks.set(x.taskArn, { taskArn: x.taskArn, lastStatus: x.lastStatus ?? 'PROVISIONING' });
    for (const f of r.failures ?? [])
      failures.push(`${f.arn ?? 'RunTask'}: ${f.reason ?? 'failed'}${f.detail ? ` (${f.detail})` : ''}`);
    started += count;
    req.progress(
      `fleet: RunTask started ${tasks.size} of ${n} tasks${failures.length ? ` (${failures.length} failed)` : ''}`,
    );
    if (failures.length > 0) break;
    if (started < n) await sleep(Math.ceil((count / t.launchRatePerSecond) * 1000), req.signal);
  }

  // 3. Everything RUNNING and ready, or abort.
  const deadline = Date.now() + t.readyTimeoutMs;
  let ready = new Set<string>();
  let abortReason: string | null = failures.length > 0 ? `RunTask failed: ${failures.join('; ')}` : null;
  if (tasks.size < n && !abortReason && !req.signal?.aborted)
    abortReason = `RunTask started ${tasks.size} of ${n} tasks`;
  while (!abortReason && !req.signal?.aborted) {
    await describe();
    const stopped = [...tasks.values()].filter((s) => s.lastStatus === 'STOPPED');
    if (stopped.length > 0) {
      abortReason = `task ${stopped.map((s) => `${taskIdOf(s.taskArn)} stopped before the start (${s.stoppedReason ?? 'no reason given'})`).join('; ')}`;
      break;
    }
    ready = new Set((await list('ready/')).map((k) => k.slice('ready/'.length)));
    const running = [...tasks.values()].filter(
      (s) => s.lastStatus === 'RUNNING' && ready.has(taskIdOf(s.taskArn)),
    );
    req.progress(`fleet: ${running.length} of ${n} tasks running and ready`);
    if (running.length === n) break;
    if (Date.now() >= deadline) {
      const late = [...tasks.values()].filter(
        (s) => !(s.lastStatus === 'RUNNING' && ready.has(taskIdOf(s.taskArn))),
      );
      abortReason = `${late.length} task(s) not running and ready after ${Math.round(t.readyTimeoutMs / 1000)} s: ${late.map((s) => `${taskIdOf(s.taskArn)} (${s.lastStatus ?? '?'})`).join(', ')}`;
      break;
    }
    await sleep(t.pollMs, req.signal);
  }
  if (abortReason || req.signal?.aborted) {
    const why = abortReason ?? 'interrupted before the start';
    await stopAll(`peakday: start aborted: ${why}`.slice(0, 255));
    throw new PeakdayError(
      req.signal?.aborted && !abortReason ? 'fleet-interrupted' : 'fleet-start-failed',
      `the fleet did not start: ${why}; every task was stopped, no load was sent`,
      {
        hint: 'see the tasks in the ECS console or `aws ecs describe-tasks`; check the Fargate quota and the image (docs/fleet.md)',
      },
    );
  }

  // 4. One start instant; task i plays segment i/N (ordered by task ARN: any fixed order will do).
  const order = [...tasks.keys()].sort();
  const startAtMs = Date.now() + t.startMarginMs;
  await Promise.all(order.map((arn, k) => put(`assign/${taskIdOf(arn)}`, `${k + 1} ${n} ${startAtMs}\n`)));
  req.progress(`fleet: ${n} tasks released to start at ${new Date(startAtMs).toISOString()}`);

  // 5. Follow until all stopped, the plan's end plus grace, or an interrupt.
  const endBy = startAtMs + req.plan.durationSeconds * 1000 + t.graceMs;
  let interrupted = false;
  for (;;) {
    await sleep(t.pollMs, req.signal);
    if (req.signal?.aborted) {
      interrupted = true;
      req.progress('fleet: interrupted: stopping every task (they upload what they measured)');
      await stopAll('peakday: interrupted');
      await waitStopped(t.graceMs);
      break;
    }
    await describe();
    const states = [...tasks.values()];
    const stopped = states.filter((s) => s.lastStatus === 'STOPPED').length;
    const elapsed = Math.max(0, (Date.now() - startAtMs) / 1000);
    req.progress(
      `fleet: ${states.length - stopped} of ${n} tasks running, ${elapsed.toFixed(0)} s of ${req.plan.durationSeconds.toFixed(0)} s`,
    );
    if (stopped === n) break;
    if (Date.now() >= endBy) {
      req.progress('fleet: tasks still running after the plan and its grace: stopping them');
      await stopAll('peakday: past the plan and its grace');
      await waitStopped(t.graceMs);
      break;
    }
  }

  // 6. Download and merge.
  const downloads = join(req.outDir, 'downloads');
  const generators: GeneratorOutput[] = [];
  /** Each failed task's exit code, by what its k6 exit code means (engine/k6/exit-codes.ts). */
  const failedExits: number[] = [];
  for (const [k, arn] of order.entries()) {
    const i = k + 1;
    const dir = join(downloads, `${i}of${n}`);
    mkdirSync(dir, { recursive: true });
    const has = new Set(await list(`out/${i}/`));
    const file = (name: string) => join(dir, name);
    const fetch = async (name: string) =>
      has.has(`out/${i}/${name}`) ? get(`out/${i}/${name}`, file(name)) : false;
    const hasOutput = await fetch('k6-out.ndjson');
    const hasSummary = await fetch('k6-summary.json');
    const hasConsole = await fetch('k6-console.txt');
    const hasCpu = await fetch('cpu.txt');
    const s = tasks.get(arn) as TaskState;
    const cpu = hasCpu
      ? (await import('node:fs'))
          .readFileSync(file('cpu.txt'), 'utf8')
          .split('\n')
          .filter(Boolean)
          .map(Number)
          .filter((x) => Number.isFinite(x))
      : undefined;
    const ok = s.exitCode === 0 || s.exitCode === 99;
    if (!ok && !interrupted) failedExits.push(taskExitCode(s.exitCode));
    generators.push({
      segment: { index: i, count: n },
      ...(hasOutput ? { output: file('k6-out.ndjson') } : {}),
      ...(hasSummary ? { summary: file('k6-summary.json') } : {}),
      ...(hasConsole ? { console: file('k6-console.txt') } : {}),
      ...(cpu ? { cpu } : {}),
      endReason: interrupted ? 'interrupted' : ok ? 'completed' : 'error',
      ...(!ok || interrupted
        ? {
            endDetail: `task ${taskIdOf(arn)}: ${s.stoppedReason ?? 'stopped'}${s.exitCode !== undefined ? `, k6 exit code ${s.exitCode}` : ''}`,
          }
        : {}),
      where: `task ${taskIdOf(arn)}`,
      startedAtMs: startAtMs,
    });
  }
  const cost = fleetCost([...tasks.values()], c, s3Count);
  const costNote = `fleet cost (the load generators, not the system under test): $${cost.totalUsd.toFixed(4)} — ${cost.tasks} Fargate tasks of ${c.vcpu} vCPU / ${c.memoryGb} GB, ${cost.billedTaskSeconds} billed task-seconds ($${cost.fargateUsd.toFixed(4)}), ${cost.s3Requests.put + cost.s3Requests.get} S3 requests ($${cost.s3Usd.toFixed(4)}); ${cost.prices}`;
  if (!generators.some((g) => g.output))
    throw new PeakdayError(
      'fleet-no-output',
      `no task of the fleet uploaded a k6 output under s3://${c.bucket}/${prefix}/out/`,
      {
        hint: `read the tasks' logs (the fleet stack's log group); ${costNote}`,
      },
    );
  const merged = await mergeGeneratorOutputs(req.plan, generators, req.outDir, {
    target: req.baseUrl,
    options: {
      ...req.options,
      fleet: 'ecs',
      generators: n,
      cluster: c.cluster,
      runPrefix: `s3://${c.bucket}/${prefix}/`,
    },
    notes: [
      `ECS fleet: ${n} Fargate tasks (${c.vcpu} vCPU / ${c.memoryGb} GB each) on cluster ${c.cluster}, released at one start instant, task i playing segment i/${n}; outputs in s3://${c.bucket}/${prefix}/out/`,
      costNote,
    ],
  });
  writeFileSync(
    join(req.outDir, 'fleet.json'),
    `${JSON.stringify({ platform: 'ecs', cluster: c.cluster, runPrefix: `s3://${c.bucket}/${prefix}/`, startAtMs, tasks: order.map((arn, k) => ({ segment: `${k + 1}/${n}`, ...tasks.get(arn) })), cost }, null, 2)}\n`,
  );
  return {
    dir: req.outDir,
    meta: merged.meta,
    summary: merged.summary,
    // As the single k6 driver: 130 when interrupted, else what the first failed task's k6 exit code means.
    exitCode: interrupted ? ExitCode.interrupted : (failedExits[0] ?? ExitCode.ok),
    cost,
    taskArns: order,
  };
}

/** The fleet's cost from its tasks' times (pull start to stop, one-minute minimum) and S3 requests. */
export function fleetCost(
  tasks: readonly { pullStartedAt?: Date; startedAt?: Date; stoppedAt?: Date }[],
  c: Pick<EcsFleetConfig, 'vcpu' | 'memoryGb' | 'cpuArchitecture'>,
  s3: { put: number; get: number },
): FleetCost {
  const p = FARGATE_PRICES[c.cpuArchitecture];
  let seconds = 0;
  for (const s of tasks) {
    const from = s.pullStartedAt ?? s.startedAt;
    if (!from) continue;
    const to = s.stoppedAt ?? new Date();
    seconds += Math.max(FARGATE_PRICES.minimumSeconds, Math.ceil((to.getTime() - from.getTime()) / 1000));
  }
  const fargateUsd = (seconds / 3600) * (c.vcpu * p.vcpuHour + c.memoryGb * p.gbHour);
  const s3Usd = (s3.put / 1000) * S3_PRICES.perThousandPut + (s3.get / 1000) * S3_PRICES.perThousandGet;
  return {
    tasks: tasks.length,
    billedTaskSeconds: seconds,
    fargateUsd,
    s3Requests: { ...s3 },
    s3Usd,
    totalUsd: fargateUsd + s3Usd,
    prices: `Fargate Linux/${c.cpuArchitecture === 'arm64' ? 'ARM' : 'x86'} $${p.vcpuHour}/vCPU-h, $${p.gbHour}/GB-h; S3 $${S3_PRICES.perThousandPut}/1,000 PUT or LIST, $${S3_PRICES.perThousandGet}/1,000 GET (us-east-1, docs/sources.md)`,
  };
}

/**
 * `run --driver k6 --fleet ecs --generators N` as a driver of `peakday run`: the fleet from the fleet
 * file (`peakday fleet deploy` wrote it; `--cluster` overrides its cluster), the script exported for
 * N segments with the plan's pools inline, the run's cancellation signal (Ctrl-C) the fleet's.
 */
export async function runEcsFleetDriver(
  req: RunRequest & { generators: number; fleetFile: string; cluster?: string },
): Promise<RunOutcome> {
  const [{ readFleetFile }, { exportK6Script }, { readUserPool }] = await Promise.all([
    import('./fleet-stack.ts'),
    import('../scenarios/k6-export.ts'),
    import('../scenarios/data-pools.ts'),
  ]);
  const config = readFleetFile(req.fleetFile);
  if (req.cluster) config.cluster = req.cluster;
  const pools: Record<string, readonly unknown[]> = {};
  for (const p of req.userPools ?? []) {
    const r = readUserPool(p);
    if (r.values) pools[p.name] = r.values as readonly unknown[];
  }
  const baseUrl = req.target.href.replace(/\/+$/, '');
  const exported = exportK6Script(req.plan, { baseUrl, segmentCount: req.generators, pools });
  const r = await runEcsFleet({
    plan: req.plan,
    generators: req.generators,
    script: exported.script,
    baseUrl,
    outDir: req.outDir,
    runId: req.outDir.split(/[\\/]/).filter(Boolean).pop() ?? `run-${Date.now()}`,
    config,
    options: req.options,
    ...(req.signal ? { signal: req.signal } : {}),
    progress: (line) => req.progress?.write(`${line}\n`),
  });
  return { dir: r.dir, meta: r.meta, summary: r.summary, exitCode: r.exitCode };
}

/**
 * A failed fleet task's exit code: what its k6's exit code means (a script error 2, k6 killed or
 * crashed 8), or 8 when the task stopped without one (ECS stopped it: capacity, a lost host).
 */
function taskExitCode(k6Exit: number | undefined): number {
  if (k6Exit === undefined) return ExitCode.environment;
  const ending = k6Ending(k6Exit);
  if (ending.kind === 'failed') return ERROR_CATALOG[ending.code].exit;
  return ending.kind === 'interrupted' ? ExitCode.interrupted : ExitCode.ok;
}
