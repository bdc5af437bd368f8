/**
 * Run validity: can the engine's own measurements be trusted? A load generator that fell behind its
 * schedule, or ran on a saturated host, reports latencies that are partly its own. Pure: the engine
 * passes in what it measured; this decides and says why.
 *
 * Bounds (assumptions, documented in docs/run-directory.md and overridable with `ValidityBounds`):
 * - scheduler lag p99 ≤ 10 ms over the run: at most 1% of iterations started more than 10 ms late
 *   (the performance bar is 5 ms at 20,000/s; 10 ms leaves room for a shared CI host);
 * - event-loop delay p99 ≤ 50 ms over the run: the engine could react to responses in time;
 * - host CPU ≥ 95% in at most 20% of the run's seconds: the host was not saturated.
 */
import type { EngineHealthRecord } from '../core/run-format.ts';

/** The limits a run must stay within to be valid. */
export interface ValidityBounds {
  schedulerLagP99Ms: number;
  eventLoopDelayP99Ms: number;
  hostCpuSaturated: number;
  saturatedSecondsShare: number;
}

/** The documented defaults. */
export const DEFAULT_VALIDITY_BOUNDS: ValidityBounds = {
  schedulerLagP99Ms: 10,
  eventLoopDelayP99Ms: 50,
  hostCpuSaturated: 0.95,
  saturatedSecondsShare: 0.2,
};

/** What the validity decision rests on. */
export interface ValidityInput {
  /** Scheduler lag p99 over the whole run (ms); null when no iteration started. */
  schedulerLagP99Ms: number | null;
  /** Event-loop delay p99 over the whole run (ms). */
  eventLoopDelayP99Ms: number;
  /** Per-second health records (host CPU). */
  health: readonly Pick<EngineHealthRecord, 'hostCpu'>[];
}

/** Decides validity; every reason names the figure and its bound. */
export function computeValidity(
  input: ValidityInput,
  bounds: ValidityBounds = DEFAULT_VALIDITY_BOUNDS,
): { valid: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (input.schedulerLagP99Ms !== null && input.schedulerLagP99Ms > bounds.schedulerLagP99Ms) {
    reasons.push(
      `engine fell behind its schedule: scheduler lag p99 ${input.schedulerLagP99Ms.toFixed(1)} ms > ${bounds.schedulerLagP99Ms} ms`,
    );
  }
  if (input.eventLoopDelayP99Ms > bounds.eventLoopDelayP99Ms) {
    reasons.push(
      `engine event loop was blocked: delay p99 ${input.eventLoopDelayP99Ms.toFixed(1)} ms > ${bounds.eventLoopDelayP99Ms} ms`,
    );
  }
  const n = input.health.length;
  if (n > 0) {
    const saturated = input.health.filter((h) => h.hostCpu >= bounds.hostCpuSaturated).length;
    if (saturated / n > bounds.saturatedSecondsShare) {
      reasons.push(
        `host CPU saturated (≥ ${Math.round(bounds.hostCpuSaturated * 100)}%) in ${saturated} of ${n} seconds (> ${Math.round(bounds.saturatedSecondsShare * 100)}%)`,
      );
    }
  }
  return { valid: reasons.length === 0, reasons };
}
