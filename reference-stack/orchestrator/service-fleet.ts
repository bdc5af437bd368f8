/**
 * The tasks of one service, emulating ECS on Fargate behind an ALB target group, in event time:
 *
 *   scale-out: a new task is PENDING for a start latency drawn from a seeded distribution (the same
 *   `launchTask` the autoscaler and the simulator use), then RUNNING and registered; it takes traffic
 *   once it passes ONE health check (a real GET /health to its process), the first falling within one
 *   health-check interval (ELB docs; docs/sources.md). The process behind it comes from a warm pool
 *   started in advance, so what a run measures is the emulated start latency, not the host's
 *   process start-up.
 *
 *   scale-in: the tasks furthest from serving stop first (pending, then not yet healthy, then the newest
 *   healthy ones). A healthy task is deregistered (no new requests), drains until its in-flight requests
 *   finish or the deregistration delay passes, then its worker drains and exits.
 *
 *   in service: every healthy task is checked each health-check interval (a real GET /health with the
 *   ALB's timeout, target-health.ts); after the unhealthy threshold of consecutive failures it is
 *   `unhealthy`: out of the balancer at once, a replacement task launched (start latency and health
 *   check again), and the unhealthy task stopped once its replacement is healthy (ECS's order). A task
 *   whose process exits is stopped and replaced too. Each step is a service event (`onEvent`).
 *
 * Counts follow ECS/ContainerInsights: PENDING tasks are `pending`; RUNNING tasks (healthy, still
 * checking, unhealthy, or draining) are `running`; `healthy` ones take traffic (the ALB's HealthyHostCount).
 */
import { launchTask } from '../autoscaling/tasks.ts';
import type { TaskLaunch, TaskRecord } from '../autoscaling/types.ts';
import type { WorkerConfig } from '../worker-protocol.ts';
import type { LoadBalancer } from './balancer.ts';
import type { EventScheduler, TimerHandle } from './event-scheduler.ts';
import { Replica } from './replica.ts';
import {
  computeProbeWallTimeoutMs,
  computeTargetHealth,
  defaultTargetHealthCheck,
  type HealthCheckResult,
  type ServiceEvent,
  type ServiceEventKind,
  serviceEventMessages,
  type TargetHealthCheck,
} from './target-health.ts';

/** Lifecycle of one emulated task. */
export type TaskState = 'pending' | 'activating' | 'healthy' | 'unhealthy' | 'draining' | 'stopped';

/** One emulated task and the replica process serving it. */
export interface FleetTask {
  id: number;
  state: TaskState;
  record: TaskRecord;
  replica: Replica | undefined;
  timer: TimerHandle | undefined;
  /** Consecutive failed health checks while in service. */
  failures?: number;
  /** The unhealthy task this one replaces (stopped once this one is healthy). */
  replaces?: FleetTask;
}

/** What a fleet needs from its stack. */
export interface FleetOptions {
  service: string;
  balancer: LoadBalancer;
  scheduler: EventScheduler;
  /** Worker configuration without `replica` (filled per process) and with the current clock. */
  workerConfig: () => WorkerConfig;
  workerModule?: string;
  /** Prebuilt replica bundle (replica-bundle.ts), if any. */
  bundle?: string;
  logFd?: number | 'ignore';
  launch: TaskLaunch;
  /** Event seconds a deregistered target may keep in-flight requests (ALB deregistration delay). */
  deregistrationDelaySeconds: number;
  /** Processes kept started and idle for scale-out. */
  warmPoolSize: number;
  seed: number;
  /** Upper bound on tasks (a local safety cap, not an AWS limit). */
  maxTasks: number;
  /** Health checking of tasks in service (default: ALB's 5-s timeout, 2 failures; target-health.ts). */
  targetHealth?: TargetHealthCheck;
  /** Called when a task changes state (for logs and tests). */
  onChange?: (task: FleetTask) => void;
  /** Called with each service event (unhealthy, started, stopped, exited): the stack logs them. */
  onEvent?: (event: ServiceEvent) => void;
}

/** Service events kept per fleet for `stack status`. */
const RECENT_EVENTS = 20;

/** Counts of one service's tasks. */
export interface FleetCounts {
  desired: number;
  pending: number;
  running: number;
  healthy: number;
  draining: number;
  /** RUNNING tasks that failed their health checks, out of service and awaiting replacement. */
  unhealthy: number;
  warm: number;
  /** Tasks replaced since the stack started (unhealthy or exited). */
  replaced: number;
}

/** One service's tasks, warm pool and target registration. */
export class ServiceFleet {
  desired = 0;
  readonly tasks: FleetTask[] = [];
  private readonly warm: Replica[] = [];
  /**
   * The autoscaler's numbering (autoscaling/decide.ts `createScalingState`: the first tasks 0..n−1, then
   * each launch the next id). A task's start latency and first health check are drawn from (seed,
   * service, id), so the same ids give the fleet the very lifecycles the autoscaler and the simulator
   * draw, and a replay of a live run starts its tasks when the live ones started. (Until 2026-12-04
   * session 17 the fleet counted from 1: every live task drew its neighbour's latency, and a replay's
   * second new task could take traffic 15 s earlier than the live one.)
   */
  private nextTaskId = 0;
  private nextReplica = 0;
  private closed = false;
  private lastServing = 0;
  /** Tasks replaced since start, because they failed health checks or their process exited. */
  replaced = 0;
  /** The latest service events, oldest first (at most RECENT_EVENTS). */
  readonly recentEvents: ServiceEvent[] = [];
  private nextEventId = 1;

  constructor(readonly opts: FleetOptions) {}

  /** Starts the service's first tasks as already healthy (the stack's floor) and fills the warm pool. */
  async start(initial: number): Promise<void> {
    this.desired = initial;
    const now = this.opts.scheduler.eventNow();
    const tasks: FleetTask[] = [];
    for (let i = 0; i < initial; i++) {
      const id = this.nextTaskId++;
      const task: FleetTask = {
        id,
        state: 'activating',
        record: { id, launchedAt: now, runningAt: now, healthyAt: now },
        replica: this.spawn(),
        timer: undefined,
      };
      this.tasks.push(task);
      tasks.push(task);
      this.watch(task);
    }
    await Promise.all(tasks.map((t) => this.admitWhenReady(t)));
  }

  /** Starts warm processes until the pool is full (in the background). */
  fillWarmPool(): void {
    while (!this.closed && this.warm.length < this.opts.warmPoolSize) {
      const r = this.spawn();
      this.warm.push(r);
      r.ready.catch(() => {
        const i = this.warm.indexOf(r);
        if (i >= 0) this.warm.splice(i, 1);
      });
    }
  }

  /** Every live process of the service (tasks and warm pool), for stats and clock updates. */
  replicas(): Replica[] {
    const out = this.warm.filter((r) => !r.exited);
    for (const t of this.tasks) if (t.replica && !t.replica.exited) out.push(t.replica);
    return out;
  }

  /** Replicas of RUNNING tasks (those whose CPU counts toward the service's CPUUtilization). */
  runningReplicas(): Replica[] {
    return this.tasks
      .filter((t) => t.state === 'activating' || t.state === 'healthy' || t.state === 'draining')
      .flatMap((t) => (t.replica ? [t.replica] : []));
  }

  /** Warm processes (not part of the service's tasks). */
  warmReplicas(): Replica[] {
    return [...this.warm];
  }

  counts(): FleetCounts {
    const c: FleetCounts = {
      desired: this.desired,
      pending: 0,
      running: 0,
      healthy: 0,
      draining: 0,
      unhealthy: 0,
      warm: this.warm.filter((r) => r.url !== undefined && !r.exited).length,
      replaced: this.replaced,
    };
    for (const t of this.tasks) {
      if (t.state === 'pending') c.pending++;
      else if (t.state !== 'stopped') c.running++;
      if (t.state === 'healthy') c.healthy++;
      if (t.state === 'draining') c.draining++;
      if (t.state === 'unhealthy') c.unhealthy++;
    }
    return c;
  }

  /** Sets the desired count: launches or stops tasks to match (ECS's service scheduler). */
  setDesiredCount(n: number): void {
    this.desired = Math.max(0, Math.min(this.opts.maxTasks, Math.round(n)));
    const active = this.tasks.filter(
      (t) => t.state !== 'draining' && t.state !== 'stopped' && t.state !== 'unhealthy',
    );
    if (active.length < this.desired) {
      for (let i = active.length; i < this.desired; i++) this.launch();
    } else if (active.length > this.desired) {
      const rank = (t: FleetTask) => (t.state === 'pending' ? 0 : t.state === 'activating' ? 1 : 2);
      const order = [...active].sort(
        (a, b) => rank(a) - rank(b) || b.record.launchedAt - a.record.launchedAt || b.id - a.id,
      );
      for (const t of order.slice(0, active.length - this.desired)) void this.stopTask(t);
    }
    this.reapUnhealthy();
  }

  /** Stops every process. */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.warm.splice(0), ...this.tasks.flatMap((t) => (t.replica ? [t.replica] : []))];
    for (const t of this.tasks) {
      t.timer?.cancel();
      t.state = 'stopped';
    }
    await Promise.all(all.map((r) => r.kill(1_500)));
  }

  private spawn(): Replica {
    const config = {
      ...this.opts.workerConfig(),
      replica: this.nextReplica++,
      replicas: Math.max(1, this.lastServing, this.desired),
    };
    return new Replica({
      config,
      workerModule: this.opts.workerModule,
      bundle: this.opts.bundle,
      logFd: this.opts.logFd,
    });
  }

  private takeWarm(): Replica {
    // Prefer a process that is already up; a still-starting one is better than a new one.
    const i = this.warm.findIndex((x) => x.url !== undefined && !x.exited);
    const r = i >= 0 ? this.warm.splice(i, 1)[0] : this.warm.shift();
    this.fillWarmPool();
    return r ?? this.spawn();
  }

  private launch(): FleetTask {
    const id = this.nextTaskId++;
    const now = this.opts.scheduler.eventNow();
    const record = launchTask(this.opts.launch, this.opts.seed, this.opts.service, id, now);
    const task: FleetTask = { id, state: 'pending', record, replica: this.takeWarm(), timer: undefined };
    this.tasks.push(task);
    this.watch(task);
    this.changed(task);
    task.timer = this.opts.scheduler.at(record.runningAt, () => {
      task.state = 'activating';
      this.changed(task);
      task.timer = this.opts.scheduler.at(record.healthyAt, () => void this.healthCheck(task));
    });
    return task;
  }

  /** One ALB health check: passes when the process answers GET /health with 200. */
  private async healthCheck(task: FleetTask): Promise<void> {
    if (task.state !== 'activating' || !task.replica) return;
    const ok = await probe(task.replica);
    if (task.state !== 'activating') return;
    if (ok && task.replica.url) {
      this.admit(task, task.replica.url);
    } else {
      task.timer = this.opts.scheduler.after(
        this.opts.launch.healthCheck.intervalSeconds,
        () => void this.healthCheck(task),
      );
    }
  }

  /** Initial tasks: admitted as soon as their process answers its health check (wall time: stack start-up). */
  private async admitWhenReady(task: FleetTask): Promise<void> {
    const r = task.replica as Replica;
    await r.ready;
    for (let i = 0; i < 50 && !(await probe(r)); i++) await new Promise((res) => setTimeout(res, 100));
    if (task.state !== 'activating' || !r.url) return;
    this.admit(task, r.url);
  }

  /** Registers a task that passed its first health check, and starts checking it in service. */
  private admit(task: FleetTask, url: string): void {
    task.state = 'healthy';
    task.failures = 0;
    this.opts.balancer.addTarget(targetId(this.opts.service, task.id), url);
    this.changed(task);
    this.scheduleInServiceCheck(task, this.opts.scheduler.eventNow());
    // A replacement that is healthy lets ECS stop the task it replaces.
    this.reapUnhealthy();
  }

  /** The next in-service check one interval after the last one started (never two at once). */
  private scheduleInServiceCheck(task: FleetTask, lastStart: number): void {
    if (this.closed || task.state !== 'healthy') return;
    const at = Math.max(
      lastStart + this.opts.launch.healthCheck.intervalSeconds,
      this.opts.scheduler.eventNow(),
    );
    task.timer = this.opts.scheduler.at(at, () => void this.inServiceCheck(task));
  }

  /** One in-service health check; the threshold of consecutive failures takes the task out. */
  private async inServiceCheck(task: FleetTask): Promise<void> {
    if (task.state !== 'healthy' || !task.replica) return;
    const started = this.opts.scheduler.eventNow();
    const check = this.opts.targetHealth ?? defaultTargetHealthCheck();
    const result = await checkHealth(
      task.replica,
      computeProbeWallTimeoutMs(check, this.opts.scheduler.timeScale),
    );
    if (task.state !== 'healthy' || this.closed) return;
    const next = computeTargetHealth(task.failures ?? 0, result, check);
    task.failures = next.failures;
    if (next.unhealthy && !result.ok) this.markUnhealthy(task, result.reason);
    else this.scheduleInServiceCheck(task, started);
  }

  /**
   * The target group marks the task unhealthy: no new requests go to it. ECS launches a replacement
   * first (if the desired count still asks for the task) and stops this one when the replacement is healthy.
   */
  private markUnhealthy(task: FleetTask, reason: Exclude<HealthCheckResult, { ok: true }>['reason']): void {
    task.timer?.cancel();
    task.state = 'unhealthy';
    this.opts.balancer.deregister(targetId(this.opts.service, task.id));
    this.replaced++;
    this.event('task-unhealthy', task.id, serviceEventMessages.unhealthy(this.opts.service, task.id, reason));
    this.changed(task);
    const active = this.tasks.filter(
      (t) => t.state !== 'draining' && t.state !== 'stopped' && t.state !== 'unhealthy',
    ).length;
    if (active < this.desired) {
      const replacement = this.launch();
      replacement.replaces = task;
      this.event(
        'task-started',
        replacement.id,
        serviceEventMessages.started(this.opts.service, replacement.id, task.id),
        task.id,
      );
    }
    this.reapUnhealthy();
  }

  /** Stops every unhealthy task that no starting task replaces any more (its replacement is healthy or gone). */
  private reapUnhealthy(): void {
    for (const t of [...this.tasks]) {
      if (t.state !== 'unhealthy') continue;
      const waiting = this.tasks.some(
        (x) => x.replaces === t && (x.state === 'pending' || x.state === 'activating'),
      );
      if (!waiting) void this.stopUnhealthy(t);
    }
  }

  /**
   * Stops an unhealthy task: its in-flight requests get the deregistration delay (they may never
   * finish: the process does not answer), then the process is killed (SIGTERM, then SIGKILL).
   */
  private async stopUnhealthy(task: FleetTask): Promise<void> {
    task.state = 'draining';
    for (const x of this.tasks) if (x.replaces === task) x.replaces = undefined;
    this.changed(task);
    await this.deregistrationDelay(targetId(this.opts.service, task.id));
    await task.replica?.kill(1_000);
    task.state = 'stopped';
    this.forget(task);
    this.event('task-stopped', task.id, serviceEventMessages.stoppedUnhealthy(this.opts.service, task.id));
    this.changed(task);
  }

  /**
   * ALB's deregistration delay: waits until the target's in-flight requests are done or the delay
   * (event time) runs out, whichever comes first, then removes the target from the balancer.
   */
  private async deregistrationDelay(id: string): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = this.opts.scheduler.after(this.opts.deregistrationDelaySeconds, resolve);
      void this.opts.balancer.whenIdle(id).then(() => {
        timer.cancel();
        resolve();
      });
    });
    this.opts.balancer.removeTarget(id);
  }

  private event(kind: ServiceEventKind, taskId: number, message: string, replaces?: number): void {
    const e: ServiceEvent = {
      id: `${this.opts.service}-${this.nextEventId++}`,
      createdAt: new Date().toISOString(),
      eventTime: this.opts.scheduler.eventNow(),
      service: this.opts.service,
      kind,
      taskId,
      ...(replaces !== undefined ? { replaces } : {}),
      message,
    };
    this.recentEvents.push(e);
    if (this.recentEvents.length > RECENT_EVENTS) this.recentEvents.shift();
    this.opts.onEvent?.(e);
  }

  private async stopTask(task: FleetTask): Promise<void> {
    task.timer?.cancel();
    const r = task.replica;
    if (task.state === 'pending' || task.state === 'activating') {
      task.state = 'stopped';
      this.changed(task);
      this.forget(task);
      // A process that never served can go back to the warm pool.
      if (r && !r.exited && this.warm.length < this.opts.warmPoolSize && !this.closed) this.warm.push(r);
      else await r?.kill();
      return;
    }
    if (task.state !== 'healthy') return;
    task.state = 'draining';
    this.changed(task);
    const id = targetId(this.opts.service, task.id);
    this.opts.balancer.deregister(id);
    await this.deregistrationDelay(id);
    await r?.drain(5_000);
    task.state = 'stopped';
    this.changed(task);
    this.forget(task);
  }

  /**
   * A task whose process dies (crash, OOM, killed) is stopped and, like ECS's service scheduler does,
   * replaced by a new task (start latency and health check again) while the desired count asks for it.
   */
  private watch(task: FleetTask): void {
    task.replica?.child.once('exit', (code, signal) => {
      if (this.closed || task.state === 'stopped' || task.state === 'draining') return;
      const wasUnhealthy = task.state === 'unhealthy';
      task.timer?.cancel();
      task.state = 'stopped';
      this.opts.balancer.removeTarget(targetId(this.opts.service, task.id));
      this.forget(task);
      this.event(
        'task-exited',
        task.id,
        serviceEventMessages.exited(this.opts.service, task.id, signal ?? `exit code ${code}`),
      );
      this.changed(task);
      if (wasUnhealthy) return; // its replacement is already on its way
      this.replaced++;
      const before = new Set(this.tasks);
      this.setDesiredCount(this.desired);
      for (const t of this.tasks) {
        if (!before.has(t)) {
          this.event(
            'task-started',
            t.id,
            serviceEventMessages.started(this.opts.service, t.id, task.id),
            task.id,
          );
        }
      }
    });
  }

  private forget(task: FleetTask): void {
    const i = this.tasks.indexOf(task);
    if (i >= 0) this.tasks.splice(i, 1);
  }

  private changed(task: FleetTask): void {
    this.opts.onChange?.(task);
    // Each replica enforces its share of the store's limits: tell them how many serve now.
    const serving = Math.max(1, this.tasks.filter((t) => t.state === 'healthy').length);
    if (serving !== this.lastServing) {
      this.lastServing = serving;
      for (const r of this.runningReplicas()) r.send({ type: 'replicas', count: serving });
    }
  }
}

/** The target id of a task in its service's balancer. */
export function targetId(service: string, task: number): string {
  return `${service}-task-${task}`;
}

/** An in-service check: 200 passes; no answer within the timeout, a refused connection or another status fails. */
async function checkHealth(r: Replica, timeoutMs: number): Promise<HealthCheckResult> {
  if (!r.url || r.exited) return { ok: false, reason: 'Target.FailedHealthChecks' };
  try {
    const res = await fetch(`${r.url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.status === 200 ? { ok: true } : { ok: false, reason: 'Target.ResponseCodeMismatch' };
  } catch (e) {
    const name = (e as Error).name;
    return {
      ok: false,
      reason:
        name === 'TimeoutError' || name === 'AbortError' ? 'Target.Timeout' : 'Target.FailedHealthChecks',
    };
  }
}

async function probe(r: Replica): Promise<boolean> {
  if (!r.url || r.exited) return false;
  try {
    const res = await fetch(`${r.url}/health`, { signal: AbortSignal.timeout(5_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
