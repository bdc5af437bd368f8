/**
 * Fargate's launch rate as a queue of tasks waiting for a launch token, shared by every service of
 * the account. AWS documents the rate as a token bucket per account and Region: a bucket of 100
 * tokens refilled at 20 per second, one token per task launched (Amazon ECS Developer Guide, "AWS
 * Fargate throttling quotas"; docs/sources.md). A task the autoscaler asked for waits in this queue,
 * then starts (its seeded start latency and health check follow its admission).
 *
 * Why a queue and not a delay fixed at launch: when a later decision lowers the desired count, ECS
 * stops pending tasks first, and a task that never got its token never spent it. Delays fixed at
 * launch kept that phantom debt and pushed every later launch further back (hours at event scale).
 * Here the queue is re-planned at every period boundary (the only times the autoscaler changes the
 * task list), so admissions within a period are exact and stopped tasks free their place.
 *
 * Fairness between services (assumption: each ECS service scheduler retries throttled launches on
 * equal terms): tasks launched at the same boundary are interleaved across services, round-robin,
 * behind everything already waiting.
 */

/** One task waiting for its launch token. */
export interface WaitingTask {
  /** Index of the service in the simulator's service list. */
  service: number;
  id: number;
  /** When the autoscaler launched it (event s). */
  launchedAt: number;
  /** Seeded start latency (launch → RUNNING) and RUNNING → healthy, from the decision (s). */
  startLatency: number;
  healthDelay: number;
  /** Planned admission (event s); NaN until first planned, re-planned at boundaries while waiting. */
  admitAt: number;
}

/** The account's launch queue. */
export interface LaunchQueue {
  /**
   * Re-plans at a period boundary `now`: counts the waiting tasks admitted since the last boundary
   * (their tokens are spent), drops waiting tasks of the `touched` services that are gone (`alive`
   * false: stopped by a scale-in or blocked by a quota; either takes a service's newest tasks first),
   * appends the new launches round-robin across services, and plans the admission time of every task
   * behind the first change. Returns the tasks whose admission time was (re)planned, oldest first.
   * O(admitted + changes): a plan that stands is not recomputed.
   */
  plan(
    now: number,
    launched: readonly WaitingTask[][],
    touched: ReadonlySet<number>,
    alive: (w: WaitingTask) => boolean,
  ): WaitingTask[];
  /** Tasks still waiting after the last plan, oldest first. */
  waiting(): WaitingTask[];
}

/** Creates an empty queue with a full bucket at `t0`. */
export function createLaunchQueue(rate: { burst: number; perSecond: number }, t0: number): LaunchQueue {
  let tokens = rate.burst;
  let last = t0;
  let queue: WaitingTask[] = [];
  let head = 0;
  /** Waiting tasks per service. */
  const count = new Map<number, number>();
  const bump = (service: number, by: number) => count.set(service, (count.get(service) ?? 0) + by);
  const compact = () => {
    if (head > 0) {
      queue = queue.slice(head);
      head = 0;
    }
  };
  return {
    waiting() {
      compact();
      return queue;
    },
    plan(now, launched, touched, alive) {
      // Admission times are non-decreasing along the queue: the admitted are a prefix.
      const before = head;
      while (head < queue.length && (queue[head] as WaitingTask).admitAt < now) {
        bump((queue[head] as WaitingTask).service, -1);
        head++;
      }
      tokens = Math.min(rate.burst, tokens + (now - last) * rate.perSecond - (head - before));
      last = now;
      if (head > 4096 && head * 2 > queue.length) compact();
      // Gone tasks are their service's newest waiting ones: scan back until each touched service
      // shows a task that is still there.
      let firstChange = queue.length;
      if (touched.size > 0) {
        const open = new Set([...touched].filter((si) => (count.get(si) ?? 0) > 0));
        let removed = false;
        for (let i = queue.length - 1; i >= head && open.size > 0; i--) {
          const w = queue[i] as WaitingTask;
          if (!open.has(w.service)) continue;
          if (alive(w)) open.delete(w.service);
          else {
            queue[i] = undefined as unknown as WaitingTask;
            bump(w.service, -1);
            removed = true;
            firstChange = i;
          }
        }
        if (removed) {
          let k = firstChange;
          for (let i = firstChange; i < queue.length; i++)
            if (queue[i] !== undefined) queue[k++] = queue[i] as WaitingTask;
          queue.length = k;
        }
      }
      firstChange = Math.min(firstChange, queue.length);
      const longest = launched.reduce((m, l) => Math.max(m, l.length), 0);
      for (let i = 0; i < longest; i++)
        for (const list of launched) {
          const w = list[i];
          if (w) {
            queue.push(w);
            bump(w.service, 1);
          }
        }
      const planned: WaitingTask[] = [];
      for (let i = firstChange; i < queue.length; i++) {
        const w = queue[i] as WaitingTask;
        const at = now + Math.max(0, (i - head + 1 - tokens) / rate.perSecond);
        // A re-plan reproduces an unchanged task's time up to rounding: keep it then.
        if (!(Math.abs(at - w.admitAt) <= 1e-6)) {
          w.admitAt = at;
          planned.push(w);
        }
      }
      return planned;
    },
  };
}
