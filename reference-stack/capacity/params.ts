/**
 * Default capacity-emulation parameters of a replica. Every number is an assumption (marked) or has a
 * source; each is overridable through the worker configuration (`capacity` in PEAKDAY_WORKER).
 */
import type { CapacityParams } from '../worker-protocol.ts';

/** Resolved capacity parameters (all present). */
export type ResolvedCapacityParams = Required<CapacityParams>;

/** Defaults; see docs/reference-stack.md "Capacity model". */
export const CAPACITY_DEFAULTS: ResolvedCapacityParams = {
  /** Assumption: a Node service keeps ~64 requests per vCPU waiting before it sheds load. */
  queueLimit: 64,
  /** ALB and clients honour Retry-After; 1 s is the smallest whole value. */
  retryAfterSeconds: 1,
  /** Assumption: runtime, health checks and the ECS agent's share, ~2% of a task's CPU when idle. */
  taskOverheadCpuPct: 2,
  /** Assumption: an idle Node.js 20 process with SQLite and the domain loaded, ~120 MB resident. */
  taskBaseMemoryMb: 120,
  /** Assumption: ~0.5 MB of buffers and objects per in-flight request. */
  requestMemoryMb: 0.5,
  demandMultiplier: 1,
  disabled: false,
};

/** Fills in defaults. The queue limit scales with the task's vCPUs (at least one vCPU's worth). */
export function resolveCapacityParams(p: CapacityParams | undefined, vcpu: number): ResolvedCapacityParams {
  const merged = { ...CAPACITY_DEFAULTS, ...(p ?? {}) };
  if (p?.queueLimit === undefined)
    merged.queueLimit = Math.max(1, Math.round(CAPACITY_DEFAULTS.queueLimit * Math.max(1, vcpu)));
  return merged;
}
