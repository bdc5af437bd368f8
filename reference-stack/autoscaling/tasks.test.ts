import { describe, expect, it } from 'vitest';
import { createRng } from '../../core/rng.ts';
import { launchTask, stopTasks, taskRng } from './tasks.ts';
import type { TaskLaunch, TaskRecord } from './types.ts';

const LAUNCH: TaskLaunch = {
  startLatency: { distribution: 'uniform', minSeconds: 30, maxSeconds: 60 },
  healthCheck: { intervalSeconds: 30, checksToHealthy: 1 },
};

/** The reference order stopTasks promises: pending, then running-not-healthy, then newest healthy. */
function stopBySort(tasks: readonly TaskRecord[], count: number, t: number): TaskRecord[] {
  const rank = (x: TaskRecord) => (t < x.runningAt ? 0 : t < x.healthyAt ? 1 : 2);
  const order = [...tasks].sort((a, b) => rank(a) - rank(b) || b.launchedAt - a.launchedAt || b.id - a.id);
  const stop = new Set(order.slice(0, count).map((x) => x.id));
  return tasks.filter((x) => !stop.has(x.id));
}

describe('task lifecycle', () => {
  it.each([
    { seed: 1, service: 'gateway', id: 0 },
    { seed: 42, service: 'catalog', id: 12345 },
    { seed: 0, service: 'orders', id: 7 },
  ])(
    'draws a task from the same stream as createRng(seed).fork (seed $seed, $service#$id)',
    ({ seed, service, id }) => {
      const a = taskRng(seed, service, id);
      const b = createRng(seed).fork(`${service}#${id}`);
      for (let i = 0; i < 5; i++) expect(a.next()).toBe(b.next());
    },
  );

  const launched = (n: number): TaskRecord[] =>
    Array.from({ length: n }, (_, id) => launchTask(LAUNCH, 9, 'cart', id, Math.floor(id / 4) * 60));
  it.each([
    { name: 'a few pending tasks', n: 40, count: 3, t: 560 },
    { name: 'pending and unhealthy tasks', n: 40, count: 9, t: 560 },
    { name: 'healthy tasks as well', n: 40, count: 30, t: 600 },
    { name: 'a list in no particular order', n: 40, count: 12, t: 560, shuffle: true },
  ])('stops the same tasks as the ranked sort with $name', ({ n, count, t, shuffle }) => {
    let tasks = launched(n);
    if (shuffle) tasks = [...tasks.slice(20), ...tasks.slice(0, 20)];
    expect(stopTasks(tasks, count, t)).toEqual(stopBySort(tasks, count, t));
  });
});
