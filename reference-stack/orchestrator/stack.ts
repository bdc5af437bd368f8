/**
 * The local stack: one load balancer and one fleet of worker processes per deployable of a topology,
 * an event clock shared with every replica, and per-period telemetry in CloudWatch's names (EMF).
 * `startStack` is what `peakday stack up` runs in the foreground or in its detached supervisor.
 *
 * Periods: every `periodSeconds` of EVENT time (60 s, CloudWatch's 1-minute metrics) the stack asks
 * every replica for its counters (`flush`), takes each balancer's counters, writes one EMF record per
 * group to `<dataDir>/telemetry/metrics.ndjson`, then calls the `onPeriod` hooks, where an autoscaler
 * plugs in (it calls `setDesiredCount` and `recordActivity`).
 */
import { closeSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PeakdayError } from '../../core/errors.ts';
import type { EventClockSpec } from '../../core/event-clock.ts';
import type { ScalingActivity } from '../../core/run-format.ts';
import { defaultHealthCheck, defaultStartLatency } from '../autoscaling/defaults.ts';
import type { TaskLaunch } from '../autoscaling/types.ts';
import { addFidelity, type EmulationFidelity } from '../capacity/emulator.ts';
import { EDGE_ROUTES, type EdgeRoute, type RouteTtl } from '../edge/cache-policy.ts';
import { type Edge, type EdgePeriodMetrics, hitRatio, startEdge } from '../edge/edge-server.ts';
import { type Arch, type ServiceName, servicesOf, type TaskSize, TOPOLOGIES } from '../topology.ts';
import type { StoreTableStats, WorkerConfig, WorkerStats } from '../worker-protocol.ts';
import { LoadBalancer } from './balancer.ts';
import { createControlIntercept } from './control.ts';
import { createEmfWriter, type EmfRecordInput, type EmfWriter } from './emf.ts';
import { EventScheduler, type TimerHandle } from './event-scheduler.ts';
import { replicaStartError } from './replica.ts';
import { buildReplicaBundle } from './replica-bundle.ts';
import { type FleetCounts, ServiceFleet } from './service-fleet.ts';
import type { ServiceEvent, TargetHealthCheck } from './target-health.ts';
import { appendScalingActivity, appendServiceEvent, telemetryPaths } from './telemetry-files.ts';

/** One deployable as the orchestrator runs it. */
export interface StackServiceSpec {
  name: string;
  taskSize: TaskSize;
  /** Tasks at start (the availability floor). */
  minTasks: number;
  /** False for stand-ins of managed services (the bus): no scaling, no warm pool. */
  scalable: boolean;
  /** Serves the public API on the stack's port. */
  public: boolean;
}

/** Everything `startStack` needs; all but arch/port/dataDir have documented defaults. */
export interface StackOptions {
  arch: Arch;
  /** Interface to bind (default 127.0.0.1: load stays on loopback). */
  host?: string;
  /** Public (gateway) port; 0 picks one. */
  port: number;
  dataDir: string;
  /** Event clock at start (default real time from event time 0). */
  clock?: EventClockSpec;
  /** Seed of task start latencies (default 1). */
  seed?: number;
  /** Warm processes per scalable service (default 1; the host has 2 cores). */
  warmPoolSize?: number;
  /** Task start latency and health check (default: Fargate 30–60 s, ALB 30 s interval, 1 check). */
  launch?: TaskLaunch;
  /** Health checks of tasks in service (default ALB: 5-s timeout, unhealthy after 2 failures; target-health.ts). */
  targetHealth?: TargetHealthCheck;
  /** Called with each service event (a task unhealthy, replaced, stopped or exited), after it is logged. */
  onServiceEvent?: (event: ServiceEvent) => void;
  /** ALB deregistration delay in event seconds (default 300, docs/sources.md, unverified). */
  deregistrationDelaySeconds?: number;
  /** Metric period in event seconds (default 60). */
  periodSeconds?: number;
  /** Worker module (default reference-stack/worker.ts); tests use orchestrator/test-worker.ts. */
  workerModule?: string;
  /** Deployables to run (default: the topology's). */
  services?: StackServiceSpec[];
  /** Local cap on tasks per service (default 8: 2 cores shared by every replica). */
  maxTasks?: number;
  /** ECS cluster name in metrics and resource ids (default `peakday`, as in the default scaling file). */
  clusterName?: string;
  /** Per-service task launch (from the scaling file); falls back to `launch`. */
  launchFor?: (service: string) => TaskLaunch;
  /** Extra worker configuration (capacity, store and domain parameters). */
  workerExtras?: Pick<WorkerConfig, 'capacity' | 'store' | 'domain' | 'dynamodb'>;
  /**
   * The edge cache on the public port, in front of the entry's and the storefront's load balancers
   * (reference-stack/edge/; default on). `false`: the entry's load balancer takes the public port.
   */
  edge?: false | { routes?: Partial<Record<EdgeRoute, RouteTtl>> };
}

/** The local edge's distribution id in its CloudFront metrics. */
export const LOCAL_DISTRIBUTION_ID = 'peakday-local';

/** Per-service metrics of one period: what the EMF records say, in one object for autoscalers. */
export interface ServicePeriodMetrics {
  service: string;
  desired: number;
  running: number;
  pending: number;
  healthy: number;
  /** Average emulated CPU utilisation of RUNNING tasks, %; null with no task reporting. */
  cpu: number | null;
  memory: number | null;
  requestCount: number;
  /** RequestCount / healthy targets (ALB's RequestCountPerTarget). */
  requestCountPerTarget: number | null;
  /** Average seconds (ALB's TargetResponseTime). */
  targetResponseTime: number | null;
  target5xx: number;
  elb5xx: number;
  tables: Record<string, StoreTableStats>;
  /**
   * Domain events the service's outbox relay delivered in the period (to the bus in the headless
   * topology, to in-process consumers in the monolith; the bus's own count is of events it accepted).
   * On AWS each would be one EventBridge PutEvents entry: the cost model charges these.
   */
  eventsPublished?: number;
  /**
   * Whether the host gave the running tasks the capacity they emulate: their holds in the period and
   * how many ended late (capacity/emulator.ts); absent when no task reported it.
   */
  emulation?: EmulationFidelity;
}

/** One period of the whole stack. */
export interface StackPeriodMetrics {
  /** Event time at the start of the period (s). */
  eventTime: number;
  period: number;
  services: Record<string, ServicePeriodMetrics>;
}

/** Called after each period with its metrics and the event time now (the period's end). */
export type PeriodHook = (metrics: StackPeriodMetrics, eventTime: number) => void;

/** One service in `status()`. */
export interface ServiceStatus extends FleetCounts {
  name: string;
  url: string;
  public: boolean;
  scalable: boolean;
  taskSize: TaskSize;
  health: 'healthy' | 'scaling' | 'unhealthy';
  tasks: { id: number; state: string; pid: number | undefined; url: string | undefined }[];
  /** The latest service events (tasks that failed health checks or exited, replacements), oldest first. */
  events: ServiceEvent[];
}

/** What `GET /_peakday/status` and `peakday stack status --json` show. */
export interface StackStatus {
  arch: Arch;
  url: string;
  clusterName: string;
  dataDir: string;
  startedAt: string;
  clock: EventClockSpec & { eventNow: number; setAt: string };
  periodSeconds: number;
  healthy: boolean;
  services: ServiceStatus[];
}

/** A running local stack. */
export interface Stack {
  readonly arch: Arch;
  readonly url: string;
  readonly port: number;
  readonly clusterName: string;
  readonly dataDir: string;
  readonly scheduler: EventScheduler;
  status(): StackStatus;
  /** Names of the services. */
  serviceNames(): string[];
  /** Sets a service's desired count (throws PeakdayError for an unknown or unscalable service). */
  setDesiredCount(service: string, n: number): void;
  /** Re-anchors the event clock of the stack and every replica. */
  setClock(spec: EventClockSpec): void;
  /** Registers a period hook (an autoscaler); returns a function that removes it. */
  onPeriod(hook: PeriodHook): () => void;
  /** Appends a scaling activity to the stack's activity log. */
  recordActivity(a: ScalingActivity): void;
  /** Stops every process and server. */
  stop(): Promise<void>;
}

/** The deployables of a topology as the orchestrator runs them. */
export function topologyServices(arch: Arch): StackServiceSpec[] {
  const deployables = TOPOLOGIES[arch].deployables as Partial<
    Record<ServiceName, { taskSize: TaskSize; minTasks: number; public: boolean; standsInFor?: string }>
  >;
  return servicesOf(arch).map((name) => {
    const d = deployables[name];
    if (!d) throw new Error(`topology ${arch} lacks ${name}`);
    return {
      name,
      taskSize: d.taskSize,
      minTasks: d.minTasks,
      scalable: d.standsInFor === undefined,
      public: d.public,
    };
  });
}

interface Running {
  spec: StackServiceSpec;
  balancer: LoadBalancer;
  fleet: ServiceFleet;
  url: string;
}

/** Starts a stack and resolves once every service's initial tasks are healthy. */
export async function startStack(options: StackOptions): Promise<Stack> {
  const host = options.host ?? '127.0.0.1';
  const arch = options.arch;
  const specs = options.services ?? topologyServices(arch);
  const periodSeconds = options.periodSeconds ?? 60;
  const clusterName = options.clusterName ?? 'peakday';
  const scheduler = new EventScheduler(options.clock ?? { timeScale: 1, eventStart: 0 });
  const launch: TaskLaunch = options.launch ?? {
    startLatency: defaultStartLatency(),
    healthCheck: defaultHealthCheck(),
  };
  const paths = telemetryPaths(options.dataDir);
  mkdirSync(paths.dir, { recursive: true });
  mkdirSync(join(options.dataDir, 'logs'), { recursive: true });
  const logFd = openSync(join(options.dataDir, 'logs', 'replicas.log'), 'a');
  const emf: EmfWriter = createEmfWriter(paths.metrics);
  const startedAt = new Date().toISOString();
  const hooks = new Set<PeriodHook>();

  const running = new Map<string, Running>();
  const publicSpec = specs.find((s) => s.public) ?? specs[specs.length - 1];
  let publicPort = 0;
  let edge: Edge | undefined;
  const edgeOptions = options.edge ?? {};
  try {
    for (const spec of specs) {
      const balancer = new LoadBalancer(spec.name);
      let port: number;
      try {
        port = await balancer.listen(spec === publicSpec && edgeOptions === false ? options.port : 0, host);
      } catch (e) {
        throw new PeakdayError(
          'port-in-use',
          `cannot listen on ${host}:${options.port}: ${(e as Error).message}`,
          {
            hint: 'choose another --port, or stop what uses it (peakday stack down if it is another stack)',
          },
        );
      }
      if (spec === publicSpec) publicPort = port;
      running.set(spec.name, {
        spec,
        balancer,
        fleet: undefined as unknown as ServiceFleet,
        url: `http://${host}:${port}`,
      });
    }
    if (edgeOptions !== false) {
      // The edge takes the public port: pages to the storefront's balancer (the monolith's in the
      // monolith), everything else to the entry's, as CloudFront in front of the ALB.
      const apiOrigin = running.get(publicSpec?.name ?? '')?.url ?? '';
      const pagesOrigin = running.get(TOPOLOGIES[arch].pages)?.url ?? apiOrigin;
      try {
        edge = await startEdge({
          host,
          port: options.port,
          origins: () => ({ api: apiOrigin, pages: pagesOrigin }),
          now: () => scheduler.eventNow(),
          ...(edgeOptions.routes ? { routes: edgeOptions.routes } : {}),
        });
      } catch (e) {
        throw new PeakdayError(
          'port-in-use',
          `cannot listen on ${host}:${options.port}: ${(e as Error).message}`,
          {
            hint: 'choose another --port, or stop what uses it (peakday stack down if it is another stack)',
          },
        );
      }
      publicPort = edge.port;
    }
  } catch (e) {
    await edge?.close();
    for (const r of running.values()) await r.balancer.close();
    closeSync(logFd);
    throw e;
  }
  let bundle: string | undefined;
  try {
    const workerPath = options.workerModule ?? fileURLToPath(new URL('../worker.ts', import.meta.url));
    bundle = await buildReplicaBundle(workerPath, `replica-${process.pid}-${Date.now()}`);
  } catch (e) {
    process.stderr.write(
      `peakday stack: replica bundle failed, starting replicas through tsx: ${(e as Error).message}\n`,
    );
  }
  const peers: Partial<Record<ServiceName, string>> = {};
  for (const [name, r] of running) peers[name as ServiceName] = r.url;

  for (const r of running.values()) {
    r.fleet = new ServiceFleet({
      service: r.spec.name,
      balancer: r.balancer,
      scheduler,
      workerModule: options.workerModule,
      bundle,
      logFd,
      launch: options.launchFor?.(r.spec.name) ?? launch,
      deregistrationDelaySeconds: options.deregistrationDelaySeconds ?? 300,
      warmPoolSize: r.spec.scalable ? (options.warmPoolSize ?? 1) : 0,
      seed: options.seed ?? 1,
      targetHealth: options.targetHealth,
      onEvent: (e) => {
        try {
          appendServiceEvent(paths.serviceEvents, e);
        } catch (err) {
          process.stderr.write(`peakday stack: cannot record a service event: ${(err as Error).message}\n`);
        }
        options.onServiceEvent?.(e);
      },
      maxTasks: r.spec.scalable ? (options.maxTasks ?? 8) : r.spec.minTasks,
      workerConfig: () => ({
        arch,
        service: r.spec.name as ServiceName,
        port: 0,
        host,
        dataDir: options.dataDir,
        peers,
        busUrl: peers.bus,
        ...(edge ? { edgeUrl: edge.url } : {}),
        taskSize: r.spec.taskSize,
        timeScale: scheduler.timeScale,
        eventStart: scheduler.eventNow(),
        startedAtEpochMs: Date.now(),
        statsIntervalMs: 3_600_000,
        ...options.workerExtras,
      }),
    });
  }

  const url = `http://${host}:${publicPort}`;
  let stopped = false;
  let periodTimer: TimerHandle | undefined;
  let periodStart = 0;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    periodTimer?.cancel();
    scheduler.close();
    await edge?.close();
    await Promise.all([...running.values()].map((r) => r.fleet.close()));
    await Promise.all([...running.values()].map((r) => r.balancer.close()));
    try {
      closeSync(logFd);
    } catch {
      // already closed
    }
    if (bundle) rmSync(bundle, { force: true });
  };

  try {
    await Promise.all([...running.values()].map((r) => r.fleet.start(r.spec.minTasks)));
  } catch (e) {
    await stop();
    throw replicaStartError(e, join(options.dataDir, 'logs', 'replicas.log'));
  }
  for (const r of running.values()) r.fleet.fillWarmPool();

  const periodWallMs = () => (periodSeconds / scheduler.timeScale) * 1000;

  async function closePeriod(start: number, end: number): Promise<void> {
    const lb = new Map([...running].map(([n, r]) => [n, r.balancer.takePeriodMetrics()]));
    const edgeMetrics = edge?.takePeriodMetrics();
    const counts = new Map([...running].map(([n, r]) => [n, r.fleet.counts()]));
    const timeout = Math.max(100, Math.min(400, periodWallMs() * 0.3));
    const stats = new Map<string, (WorkerStats | null)[]>();
    await Promise.all(
      [...running].map(async ([n, r]) => {
        const warm = r.fleet.warmReplicas();
        const [taskStats] = await Promise.all([
          Promise.all(r.fleet.runningReplicas().map((x) => x.flush(timeout))),
          Promise.all(warm.map((x) => x.flush(timeout))),
        ]);
        stats.set(n, taskStats);
      }),
    );
    if (stopped) return;
    const metrics: StackPeriodMetrics = { eventTime: start, period: periodSeconds, services: {} };
    for (const [name] of running) {
      const c = counts.get(name) as FleetCounts;
      const b = lb.get(name) as ReturnType<LoadBalancer['takePeriodMetrics']>;
      const s = (stats.get(name) ?? []).filter((x): x is WorkerStats => x !== null);
      metrics.services[name] = {
        service: name,
        desired: c.desired,
        running: c.running,
        pending: c.pending,
        healthy: c.healthy,
        cpu: average(s.map((x) => cpuOf(x))),
        memory: average(s.map((x) => x.memoryUtilization)),
        requestCount: b.requestCount,
        requestCountPerTarget: c.healthy > 0 ? b.requestCount / c.healthy : null,
        targetResponseTime: b.targetResponseTime,
        target5xx: b.target5xx,
        elb5xx: b.elb5xx,
        tables: sumTables(s),
        eventsPublished: s.reduce((n, x) => n + (x.eventsPublished ?? 0), 0),
        ...(s.some((x) => x.emulation)
          ? {
              emulation: s.reduce<EmulationFidelity | undefined>(
                (a, x) => addFidelity(a, x.emulation),
                undefined,
              ),
            }
          : {}),
      };
    }
    emf.write([
      ...computeEmfRecords(metrics, {
        arch,
        clusterName,
        counts,
        timestampMs: Date.now(),
        periodSeconds: end - start,
      }),
      ...(edgeMetrics
        ? computeEdgeEmfRecords(edgeMetrics, {
            arch,
            eventTime: start,
            periodSeconds: end - start,
            timestampMs: Date.now(),
          })
        : []),
    ]);
    for (const h of hooks) {
      try {
        h(metrics, end);
      } catch (e) {
        process.stderr.write(`peakday stack: a period hook failed: ${(e as Error).message}\n`);
      }
    }
  }

  function schedulePeriods(): void {
    const now = scheduler.eventNow();
    periodStart = Math.floor(now / periodSeconds + 1e-9) * periodSeconds;
    const next = () => {
      const end = periodStart + periodSeconds;
      periodTimer = scheduler.at(end, () => {
        const start = periodStart;
        periodStart = end;
        next();
        void closePeriod(start, end);
      });
    };
    next();
  }
  schedulePeriods();

  const stack: Stack = {
    arch,
    url,
    port: publicPort,
    clusterName,
    dataDir: options.dataDir,
    scheduler,
    serviceNames: () => [...running.keys()],
    status(): StackStatus {
      const services: ServiceStatus[] = [...running.values()].map((r) => {
        const c = r.fleet.counts();
        const health =
          c.healthy === 0 && c.desired > 0
            ? 'unhealthy'
            : c.pending > 0 || c.unhealthy > 0 || c.healthy < c.desired
              ? 'scaling'
              : 'healthy';
        return {
          name: r.spec.name,
          url: r.spec.public ? url : r.url,
          public: r.spec.public,
          scalable: r.spec.scalable,
          taskSize: r.spec.taskSize,
          ...c,
          health,
          tasks: r.fleet.tasks.map((t) => ({
            id: t.id,
            state: t.state,
            pid: t.replica?.pid,
            url: t.replica?.url,
          })),
          events: [...r.fleet.recentEvents],
        };
      });
      return {
        arch,
        url,
        clusterName,
        dataDir: options.dataDir,
        startedAt,
        clock: {
          ...scheduler.spec,
          eventNow: scheduler.eventNow(),
          setAt: new Date(scheduler.setAtEpochMs).toISOString(),
        },
        periodSeconds,
        healthy: services.every((s) => s.health !== 'unhealthy'),
        services,
      };
    },
    setDesiredCount(service, n) {
      const r = running.get(service);
      if (!r) {
        throw new PeakdayError('unknown-service', `no service ${service} in the ${arch} stack`, {
          hint: `services: ${[...running.keys()].join(', ')}`,
        });
      }
      if (!r.spec.scalable) {
        throw new PeakdayError(
          'service-not-scalable',
          `${service} stands in for a managed service and does not scale`,
        );
      }
      if (!Number.isInteger(n) || n < 0) {
        throw new PeakdayError('invalid-desired-count', `desired count must be a whole number ≥ 0, got ${n}`);
      }
      r.fleet.setDesiredCount(n);
    },
    setClock(spec) {
      scheduler.setClock(spec);
      for (const r of running.values()) {
        for (const x of r.fleet.replicas()) {
          x.send({
            type: 'clock',
            timeScale: spec.timeScale,
            eventStart: spec.eventStart,
            startedAtEpochMs: scheduler.setAtEpochMs,
          });
        }
      }
      // The period in progress is discarded (its event times belong to the old clock and could
      // collide with the new range); counters restart and periods restart on the new clock.
      periodTimer?.cancel();
      for (const r of running.values()) {
        r.balancer.takePeriodMetrics();
        for (const x of r.fleet.replicas()) void x.flush(200);
      }
      schedulePeriods();
    },
    onPeriod(hook) {
      hooks.add(hook);
      return () => hooks.delete(hook);
    },
    recordActivity(a) {
      appendScalingActivity(paths.activities, a);
    },
    stop,
  };
  const entry = [...running.values()].find((r) => r.spec === publicSpec);
  if (entry) entry.balancer.intercept = createControlIntercept(stack);
  return stack;
}

/**
 * A task's CPUUtilization, at most 100%: on Fargate the task's CPU is a hard limit (AWS docs,
 * "Troubleshoot Amazon ECS task definition invalid CPU or memory errors": the CPU control differs
 * between EC2 and Fargate), unlike EC2 tasks without a limit, whose utilization can pass 100%.
 */
function cpuOf(s: WorkerStats): number {
  const span = s.periodEndMs - s.periodStartMs;
  return span > 0 && s.vcpu > 0 ? Math.min(100, (s.busyCpuMs / (s.vcpu * span)) * 100) : s.cpuUtilization;
}

function average(xs: number[]): number | null {
  const ok = xs.filter((x) => Number.isFinite(x));
  return ok.length === 0 ? null : ok.reduce((a, b) => a + b, 0) / ok.length;
}

function sumTables(stats: WorkerStats[]): Record<string, StoreTableStats> {
  const out: Record<string, StoreTableStats> = {};
  for (const s of stats) {
    for (const [table, t] of Object.entries(s.store ?? {})) {
      const p = out[table];
      if (!p) {
        out[table] = { ...t };
        continue;
      }
      p.consumedReadUnits += t.consumedReadUnits;
      p.consumedWriteUnits += t.consumedWriteUnits;
      p.throttledReads += t.throttledReads;
      p.throttledWrites += t.throttledWrites;
      p.hotPartitionThrottles += t.hotPartitionThrottles;
      if ((t.hottestKeyUnits ?? 0) > (p.hottestKeyUnits ?? 0)) {
        p.hottestKey = t.hottestKey;
        p.hottestKeyUnits = t.hottestKeyUnits;
      }
    }
  }
  return out;
}

/**
 * Turns one period's metrics into EMF records (emf.ts), one per namespace and dimension set. Pure.
 * DynamoDB throttles use Operation=Read|Write: the local store model counts reads and writes, not API calls.
 */
export function computeEmfRecords(
  m: StackPeriodMetrics,
  ctx: {
    arch: string;
    clusterName: string;
    counts: Map<string, FleetCounts>;
    timestampMs: number;
    periodSeconds: number;
  },
): EmfRecordInput[] {
  const out: EmfRecordInput[] = [];
  for (const s of Object.values(m.services)) {
    const info = { eventTime: m.eventTime, period: ctx.periodSeconds, service: s.service, arch: ctx.arch };
    const base = { info, timestampMs: ctx.timestampMs };
    const ecs = { ClusterName: ctx.clusterName, ServiceName: s.service };
    const ecsValues: Record<string, number> = {};
    if (s.cpu !== null) ecsValues.CPUUtilization = round(s.cpu);
    if (s.memory !== null) ecsValues.MemoryUtilization = round(s.memory);
    if (Object.keys(ecsValues).length > 0)
      out.push({ group: 'AWS/ECS', dimensions: ecs, values: ecsValues, ...base });
    out.push({
      group: 'ECS/ContainerInsights',
      dimensions: ecs,
      values: { RunningTaskCount: s.running, DesiredTaskCount: s.desired, PendingTaskCount: s.pending },
      ...base,
    });
    const c = ctx.counts.get(s.service);
    const alb: Record<string, number> = {
      RequestCount: s.requestCount,
      HTTPCode_Target_5XX_Count: s.target5xx,
      HTTPCode_ELB_5XX_Count: s.elb5xx,
      HealthyHostCount: s.healthy,
      UnHealthyHostCount: c ? Math.max(0, c.running - c.healthy - c.draining) : 0,
    };
    if (s.requestCountPerTarget !== null) alb.RequestCountPerTarget = round(s.requestCountPerTarget);
    if (s.targetResponseTime !== null) alb.TargetResponseTime = Math.round(s.targetResponseTime * 1e6) / 1e6;
    out.push({
      group: 'AWS/ApplicationELB',
      dimensions: {
        LoadBalancer: `app/${ctx.clusterName}/local`,
        TargetGroup: `targetgroup/${s.service}/local`,
      },
      values: alb,
      ...base,
    });
    if (s.eventsPublished !== undefined)
      out.push({
        group: 'Peakday/Events',
        dimensions: ecs,
        values: { EventsPublished: s.eventsPublished },
        ...base,
      });
    if (s.emulation)
      out.push({
        group: 'Peakday/Emulation',
        dimensions: ecs,
        values: {
          HoldCount: s.emulation.holds,
          StretchedHoldCount: s.emulation.stretched,
          EmulatedServiceTime: round(s.emulation.emulatedMs),
          AddedServiceTime: round(s.emulation.addedMs),
          QueuedTime: round(s.emulation.queuedMs),
        },
        ...base,
      });
    for (const [table, t] of Object.entries(s.tables)) {
      out.push({
        group: 'AWS/DynamoDB',
        dimensions: { TableName: table },
        values: {
          ConsumedReadCapacityUnits: round(t.consumedReadUnits),
          ConsumedWriteCapacityUnits: round(t.consumedWriteUnits),
        },
        ...base,
      });
      out.push({
        group: 'AWS/DynamoDB#throttles',
        dimensions: { TableName: table, Operation: 'Read' },
        values: { ThrottledRequests: t.throttledReads },
        ...base,
      });
      out.push({
        group: 'AWS/DynamoDB#throttles',
        dimensions: { TableName: table, Operation: 'Write' },
        values: { ThrottledRequests: t.throttledWrites },
        ...base,
      });
    }
  }
  return out;
}

/**
 * The edge's period as EMF records: the distribution under CloudFront's names (Requests, the cache hit
 * rate over cacheable requests, error rates, origin latency) and, custom, per route and its purges. Pure.
 */
export function computeEdgeEmfRecords(
  m: EdgePeriodMetrics,
  ctx: { arch: string; eventTime: number; periodSeconds: number; timestampMs: number },
): EmfRecordInput[] {
  const info = { eventTime: ctx.eventTime, period: ctx.periodSeconds, service: 'edge', arch: ctx.arch };
  const base = { info, timestampMs: ctx.timestampMs };
  const all = EDGE_ROUTES.map((r) => m.routes[r]);
  const sum = (f: (c: (typeof all)[number]) => number) => all.reduce((n, c) => n + f(c), 0);
  const requests = sum((c) => c.requests);
  const origin = sum((c) => c.originRequests);
  const pct = (n: number) => (requests > 0 ? round((n / requests) * 100) : 0);
  const dist: Record<string, number> = {
    Requests: requests,
    BytesDownloaded: sum((c) => c.bytesOut),
    '4xxErrorRate': pct(sum((c) => c.status4xx)),
    '5xxErrorRate': pct(sum((c) => c.status5xx)),
    TotalErrorRate: pct(sum((c) => c.status4xx + c.status5xx)),
  };
  const rate = hitRatio(m);
  if (rate !== null) dist.CacheHitRate = round(rate * 100);
  if (origin > 0) dist.OriginLatency = round(sum((c) => c.originLatencyMsSum) / origin);
  const out: EmfRecordInput[] = [
    {
      group: 'AWS/CloudFront',
      dimensions: { DistributionId: LOCAL_DISTRIBUTION_ID, Region: 'Global' },
      values: dist,
      ...base,
    },
  ];
  for (const r of EDGE_ROUTES) {
    const c = m.routes[r];
    if (c.requests === 0) continue;
    const values: Record<string, number> = {
      Requests: c.requests,
      CacheHits: c.hits,
      CacheMisses: c.misses,
      CachePasses: c.passes,
      OriginRequests: c.originRequests,
    };
    const routeRate = hitRatio(m, [r]);
    if (routeRate !== null) values.CacheHitRate = round(routeRate * 100);
    out.push({
      group: 'Peakday/Edge',
      dimensions: { DistributionId: LOCAL_DISTRIBUTION_ID, Route: r },
      values,
      ...base,
    });
  }
  out.push({
    group: 'Peakday/Edge#purges',
    dimensions: { DistributionId: LOCAL_DISTRIBUTION_ID },
    values: { Invalidations: m.invalidations, PurgedObjects: m.purgedObjects },
    ...base,
  });
  return out;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}
