/**
 * Task counts at event scale without scanning every task every step. `countTasks`
 * (reference-stack/autoscaling/tasks.ts) is O(tasks) per call; at tens of thousands of tasks per
 * service, recounting each time one task changes state dominated a 48-hour simulation. A task's
 * lifecycle times are fixed when it is launched, so between two changes of the task list the counts
 * only move when the clock passes a RUNNING or healthy time: this counter sorts those future times
 * once per change of the list and advances two cursors. The counts are exactly `countTasks`'s
 * (pending: t < runningAt; healthy: t ≥ healthyAt), so the decisions fed by them are unchanged.
 */
import type { TaskCounts, TaskRecord } from '../reference-stack/autoscaling/types.ts';

/** Counts of one service's tasks over non-decreasing event times. */
export interface TaskCounter {
  /** The task list the counter was built from (compared by identity to detect a change). */
  readonly tasks: readonly TaskRecord[] | null;
  /** Counts at `t` (t must not decrease between calls until the next `reset`). */
  countsAt(desired: number, t: number): TaskCounts;
  /** The next event time after the last `countsAt`/`reset` at which a count changes (∞ if none). */
  nextChange(): number;
  /** Tasks launched but not RUNNING by the last time counted, with a finite RUNNING time. */
  pendingFinite(): number;
  /** Tasks whose RUNNING time is finite (not blocked). */
  finite(): number;
  /** Rebuilds from a task list at event time `t`. O(tasks + future·log future). */
  reset(tasks: readonly TaskRecord[], t: number): void;
}

/** Creates an empty counter; call `reset` before counting. */
export function createTaskCounter(): TaskCounter {
  let list: readonly TaskRecord[] | null = null;
  let total = 0;
  let infinite = 0;
  let baseRunning = 0;
  let baseHealthy = 0;
  let running = new Float64Array(0);
  let healthy = new Float64Array(0);
  let ri = 0;
  let hi = 0;
  const advance = (t: number) => {
    while (ri < running.length && (running[ri] as number) <= t) ri++;
    while (hi < healthy.length && (healthy[hi] as number) <= t) hi++;
  };
  return {
    get tasks() {
      return list;
    },
    reset(tasks, t) {
      list = tasks;
      total = tasks.length;
      infinite = 0;
      baseRunning = 0;
      baseHealthy = 0;
      const r: number[] = [];
      const h: number[] = [];
      for (const task of tasks) {
        if (t < task.runningAt) {
          if (Number.isFinite(task.runningAt)) r.push(task.runningAt);
          else infinite++;
        } else baseRunning++;
        if (t >= task.healthyAt) baseHealthy++;
        else if (Number.isFinite(task.healthyAt)) h.push(task.healthyAt);
      }
      running = Float64Array.from(r).sort();
      healthy = Float64Array.from(h).sort();
      ri = 0;
      hi = 0;
    },
    countsAt(desired, t) {
      advance(t);
      const run = baseRunning + ri;
      return { desired, pending: total - run, running: run, healthy: baseHealthy + hi };
    },
    nextChange() {
      const a = ri < running.length ? (running[ri] as number) : Number.POSITIVE_INFINITY;
      const b = hi < healthy.length ? (healthy[hi] as number) : Number.POSITIVE_INFINITY;
      return Math.min(a, b);
    },
    pendingFinite() {
      return running.length - ri;
    },
    finite() {
      return total - infinite;
    },
  };
}
