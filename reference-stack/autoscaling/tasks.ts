/**
 * Task lifecycle: a task launched at time L becomes RUNNING after a start latency drawn from a seeded
 * distribution, and takes traffic once it has passed the load balancer's health check(s). Times are
 * fixed at launch, so a task's status at any event time is a pure function of that time: nothing has
 * to "tick" between decisions. Each task draws from its own stream (seed, service, task id), so adding a
 * task never changes another task's latency.
 */
import { createRng, type Rng } from '../../core/rng.ts';
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
  const rng = createRng(seed).fork(`${service}#${id}`);
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
  const rank = (task: TaskRecord) => (t < task.runningAt ? 0 : t < task.healthyAt ? 1 : 2);
  const order = [...tasks].sort((a, b) => rank(a) - rank(b) || b.launchedAt - a.launchedAt || b.id - a.id);
  const stop = new Set(order.slice(0, count).map((x) => x.id));
  return tasks.filter((x) => !stop.has(x.id));
}
