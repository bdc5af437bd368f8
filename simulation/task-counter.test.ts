import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import { countTasks } from '../reference-stack/autoscaling/tasks.ts';
import type { TaskRecord } from '../reference-stack/autoscaling/types.ts';
import { createTaskCounter } from './task-counter.ts';

function randomTasks(seed: number, n: number, blocked: number): TaskRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: n }, (_, id) => {
    if (id < blocked)
      return {
        id,
        launchedAt: 0,
        runningAt: Number.POSITIVE_INFINITY,
        healthyAt: Number.POSITIVE_INFINITY,
      };
    const launchedAt = Math.floor(rng.next() * 300);
    const runningAt = launchedAt + 30 + rng.next() * 30;
    return { id, launchedAt, runningAt, healthyAt: runningAt + rng.next() * 30 };
  });
}

describe('task counter', () => {
  const cases = [
    { name: 'a fresh scale-out', seed: 1, n: 200, blocked: 0, from: 0 },
    { name: 'a list with quota-blocked tasks', seed: 2, n: 150, blocked: 20, from: 0 },
    { name: 'a counter reset mid-way through the launches', seed: 3, n: 300, blocked: 5, from: 170 },
  ];
  it.each(cases)('counts exactly as countTasks over time for $name', ({ seed, n, blocked, from }) => {
    const tasks = randomTasks(seed, n, blocked);
    const counter = createTaskCounter();
    counter.reset(tasks, from);
    for (let t = from; t <= 500; t += 0.5) {
      expect(counter.countsAt(n, t)).toEqual(countTasks(n, tasks, t));
    }
  });

  it('names the next time a count changes, and nothing once every task has settled', () => {
    const tasks: TaskRecord[] = [
      { id: 0, launchedAt: 0, runningAt: 0, healthyAt: 0 },
      { id: 1, launchedAt: 10, runningAt: 40, healthyAt: 55 },
    ];
    const counter = createTaskCounter();
    counter.reset(tasks, 10);
    counter.countsAt(2, 10);
    expect(counter.nextChange()).toBe(40);
    expect(counter.pendingFinite()).toBe(1);
    counter.countsAt(2, 40);
    expect(counter.nextChange()).toBe(55);
    expect(counter.pendingFinite()).toBe(0);
    counter.countsAt(2, 60);
    expect(counter.nextChange()).toBe(Number.POSITIVE_INFINITY);
    expect(counter.finite()).toBe(2);
  });
});
