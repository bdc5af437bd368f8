/**
 * Health checking of tasks that already take traffic, as an ALB target group does it, and the service
 * events ECS writes when it replaces a task. Without it a replica that is alive but no longer answers
 * (a hung event loop, a stopped process) would stay in its balancer for ever.
 *
 * ALB defaults (ELB docs, target-group-health-checks; docs/sources.md): a check
 * every 30 s (the task launch's `healthCheck.intervalSeconds`, shared with the autoscaler), a 5-s timeout,
 * and 2 consecutive failures make a target unhealthy; the load balancer then stops routing to it. ECS
 * (docs: "Amazon ECS services") then starts a replacement task first and stops the unhealthy one once
 * the replacement is healthy; a task whose process exits is stopped and replaced likewise.
 *
 * Intervals and timeouts are event seconds, compressed by the clock's time scale. The timeout alone has
 * a wall-clock floor (`minWallTimeoutMs`, an assumption): a replica's /health answer takes real host time,
 * which the emulation does not compress, and 5 event seconds at 60x is 83 wall ms, within the reach of a
 * busy 2-core host's scheduling delay.
 */

/** How a target group checks a target that is in service. */
export interface TargetHealthCheck {
  /** Event seconds a check waits for its answer (ALB default 5, documented). */
  timeoutSeconds: number;
  /** Consecutive failed checks that make a target unhealthy (ALB default 2, documented). */
  unhealthyThreshold: number;
  /** Wall-clock floor of the timeout in ms (assumption: 1,000; host time is not compressed). */
  minWallTimeoutMs: number;
}

/** The defaults, each with its source, for docs and for `stack up`. */
export const TARGET_HEALTH_DEFAULTS = {
  timeoutSeconds: {
    value: 5,
    kind: 'documented',
    source: 'ELB target group HealthCheckTimeoutSeconds default 5 s',
  },
  unhealthyThreshold: {
    value: 2,
    kind: 'documented',
    source: 'ELB target group UnhealthyThresholdCount default 2',
  },
  minWallTimeoutMs: {
    value: 1_000,
    kind: 'assumption',
    source: 'wall-clock floor of the timeout: a busy shared host must not fail a responsive replica',
  },
} as const;

/** The default target health check. */
export function defaultTargetHealthCheck(): TargetHealthCheck {
  return {
    timeoutSeconds: TARGET_HEALTH_DEFAULTS.timeoutSeconds.value,
    unhealthyThreshold: TARGET_HEALTH_DEFAULTS.unhealthyThreshold.value,
    minWallTimeoutMs: TARGET_HEALTH_DEFAULTS.minWallTimeoutMs.value,
  };
}

/** Wall ms a check waits at a time scale: the event timeout compressed, never below the floor. Pure. */
export function computeProbeWallTimeoutMs(check: TargetHealthCheck, timeScale: number): number {
  return Math.max(check.minWallTimeoutMs, (check.timeoutSeconds / timeScale) * 1000);
}

/** Why a check failed, in the ALB's TargetHealth reason codes (DescribeTargetHealth). */
export type HealthCheckFailure =
  | 'Target.Timeout'
  | 'Target.ResponseCodeMismatch'
  | 'Target.FailedHealthChecks';

/** The outcome of one check. */
export type HealthCheckResult = { ok: true } | { ok: false; reason: HealthCheckFailure };

/**
 * Consecutive failures after one check, and whether the target is now unhealthy. Pure.
 * A passing check resets the count, as the ALB's "consecutive" threshold does.
 */
export function computeTargetHealth(
  failures: number,
  result: HealthCheckResult,
  check: TargetHealthCheck,
): { failures: number; unhealthy: boolean } {
  const next = result.ok ? 0 : failures + 1;
  return { failures: next, unhealthy: next >= check.unhealthyThreshold };
}

/** What happened to a task, as ECS service events report it. */
export type ServiceEventKind = 'task-unhealthy' | 'task-started' | 'task-stopped' | 'task-exited';

/**
 * One service event: the local stand-in for ECS DescribeServices `events` (id, createdAt, message),
 * plus the event time and the task, so timelines and `stack status` can place it.
 */
export interface ServiceEvent {
  id: string;
  createdAt: string;
  /** Event time (s). */
  eventTime: number;
  service: string;
  kind: ServiceEventKind;
  taskId: number;
  /** The task this one replaces (for `task-started` of a replacement). */
  replaces?: number;
  message: string;
}

const REASON_TEXT: Record<HealthCheckFailure, string> = {
  'Target.Timeout': 'Request timed out',
  'Target.ResponseCodeMismatch': 'Health checks failed with these codes',
  'Target.FailedHealthChecks': 'Health checks failed',
};

/** ECS-style messages of the service events. Pure. */
export const serviceEventMessages = {
  unhealthy: (service: string, taskId: number, reason: HealthCheckFailure) =>
    `(service ${service}) (task ${taskId}) is unhealthy in (target-group ${service}) due to (reason ${REASON_TEXT[reason]}).`,
  started: (service: string, taskId: number, replaces?: number) =>
    `(service ${service}) has started 1 tasks: (task ${taskId}).${replaces !== undefined ? ` It replaces (task ${replaces}).` : ''}`,
  stoppedUnhealthy: (service: string, taskId: number) =>
    `(service ${service}) has stopped 1 running tasks: (task ${taskId}). Reason: Task failed ELB health checks in (target-group ${service}).`,
  exited: (service: string, taskId: number, how: string) =>
    `(service ${service}) has stopped 1 running tasks: (task ${taskId}). Reason: Essential container in task exited (${how}).`,
} as const;
