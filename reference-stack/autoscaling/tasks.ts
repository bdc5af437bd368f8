/**
 * Task lifecycle: a task launched at time L becomes RUNNING after a start latency drawn from a seeded
 * distribution, and takes traffic once it has passed the load balancer's health check(s). Times are
 * fixed at launch, so a task's status at any event time is a pure function of that time: nothing has
 * to "tick" between decisions. Each task draws from its own stream (seed, service, task id), so adding a
 * task never changes another task's latency.
 */
import { createRng, hash32, type Rng } from '../../core/rng.ts';
import type { StartLatency, TaskCounts, TaskLaunch, TaskRecord } from './types.ts';

type Sampler<K extends StartLatency['distribution']> = (
  spec: Extract<StartLatency, { distribution: K }>,
  rng: Rng,
) => number;

/** Start-latency distributions by name. */
export const startLatencySamplers = {
  fixed: ((spec) => spec.seconds) as Sampler<'fixed'>,
  uniform: ((spec, rng) =>
    spec.minSeconds + rng.next() * (spec.maxSeconds - spec.minSeconds)) as Sampler<'uniform'>,
  normal: ((spec, rng) =>
    Math.max(spec.minSeconds, rng.normal(spec.meanSeconds, spec.sdSeconds))) as Sampler<'normal'>,
} satisfies { [K in StartLatency['distribution']]: Sampler<K> };

function sampleStart(spec: StartLatency, rng: Rng): number {
  const sampler = startLatencySamplers[spec.distribution] as Sampler<typeof spec.distribution>;
  return sampler(spec as never, rng);
}

/** The task's own stream: `createRng(seed).fork(label)` without building the parent stream. */
export function taskRng(seed: number, service: string, id: number): Rng {
  return createRng((seed ^ hash32(`${service}#${id}`)) >>> 0 || 1);
}

/**
 * A task launched at `at`. The first health check after RUNNING falls uniformly within one interval
 * (assumption: registration is not aligned with the check schedule); further checks, if required,
 * follow at the interval.
 */
export function launchTask(
  launch: TaskLaunch,
  seed: number,
  service: string,
  id: number,
  at: number,
): TaskRecord {
  const rng = taskRng(seed, service, id);
  const runningAt = at + sampleStart(launch.startLatency, rng);
  const hc = launch.healthCheck;
  const firstCheck = (1 - rng.next()) * hc.intervalSeconds;
  const healthyAt = runningAt + firstCheck + (hc.checksToHealthy - 1) * hc.intervalSeconds;
  return { id, launchedAt: at, runningAt, healthyAt };
}

/** A task that is already healthy at `at` (the service's tasks when the stack starts). */
export function initialTask(id: number, at: number): TaskRecord {
  return { id, launchedAt: at, runningAt: at, healthyAt: at };
}

/** Counts tasks by status at `t`. */
export function countTasks(desired: number, tasks: readonly TaskRecord[], t: number): TaskCounts {
  let pending = 0;
  let running = 0;
  let healthy = 0;
  for (const task of tasks) {
    if (t < task.runningAt) pending++;
    else {
      running++;
      if (t >= task.healthyAt) healthy++;
    }
  }
  return { desired, pending, running, healthy };
}

/**
 * Which tasks stop on scale-in: those furthest from serving first (pending, then running but not yet
 * healthy, then the newest healthy). Deregistration delay is not modelled: stopped tasks leave at once.
 */
export function stopTasks(tasks: readonly TaskRecord[], count: number, t: number): TaskRecord[] {
  if (count > 0 && count < tasks.length && inLaunchOrder(tasks)) return stopNewestByRank(tasks, count, t);
  const rank = (task: TaskRecord) => (t < task.runningAt ? 0 : t < task.healthyAt ? 1 : 2);
  const order = [...tasks].sort((a, b) => rank(a) - rank(b) || b.launchedAt - a.launchedAt || b.id - a.id);
  const stop = new Set(order.slice(0, count).map((x) => x.id));
  return tasks.filter((x) => !stop.has(x.id));
}

/** Whether tasks are in launch order (launchedAt, then id, ascending): how `decide` appends them. */
function inLaunchOrder(tasks: readonly TaskRecord[]): boolean {
  for (let i = 1; i < tasks.length; i++) {
    const a = tasks[i - 1] as TaskRecord;
    const b = tasks[i] as TaskRecord;
    if (a.launchedAt > b.launchedAt || (a.launchedAt === b.launchedAt && a.id >= b.id)) return false;
  }
  return true;
}

/**
 * `stopTasks` for a list in launch order, in O(tasks) instead of a sort: newest first within a rank
 * is the list read backwards, so each rank is taken from the end. Same tasks stop as with the sort.
 */
function stopNewestByRank(tasks: readonly TaskRecord[], count: number, t: number): TaskRecord[] {
  const stop = new Uint8Array(tasks.length);
  let left = count;
  const ranks = [
    (task: TaskRecord) => t < task.runningAt,
    (task: TaskRecord) => t >= task.runningAt && t < task.healthyAt,
    (task: TaskRecord) => t >= task.healthyAt,
  ];
  for (const inRank of ranks) {
    for (let i = tasks.length - 1; i >= 0 && left > 0; i--) {
      if (inRank(tasks[i] as TaskRecord)) {
        stop[i] = 1;
        left--;
      }
    }
  }
  return tasks.filter((_, i) => stop[i] === 0);
}
