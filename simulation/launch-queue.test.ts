import { describe, expect, it } from 'vitest';
import { createLaunchQueue, type WaitingTask } from './launch-queue.ts';

const RATE = { burst: 100, perSecond: 20 };
const tasks = (service: number, from: number, n: number, at: number): WaitingTask[] =>
  Array.from({ length: n }, (_, i) => ({
    service,
    id: from + i,
    launchedAt: at,
    startLatency: 40,
    healthDelay: 10,
    admitAt: Number.NaN,
  }));
const none = new Set<number>();

describe('launch queue', () => {
  it('starts the burst at once and then 20 tasks a second', () => {
    const q = createLaunchQueue(RATE, 0);
    const planned = q.plan(60, [tasks(0, 0, 300, 60)], none, () => true);
    expect(planned).toHaveLength(300);
    expect(planned[99]?.admitAt).toBe(60);
    expect(planned[100]?.admitAt).toBeCloseTo(60.05, 9);
    expect(planned[299]?.admitAt).toBeCloseTo(70, 9);
  });

  it('interleaves the services that launch at the same boundary', () => {
    const q = createLaunchQueue({ burst: 0, perSecond: 1 }, 0);
    const planned = q.plan(0, [tasks(0, 0, 3, 0), tasks(1, 0, 1, 0)], none, () => true);
    expect(planned.map((w) => w.service)).toEqual([0, 1, 0, 0]);
    expect(planned.map((w) => w.admitAt)).toEqual([1, 2, 3, 4]);
  });

  it('gives the place of a stopped task to the tasks behind it instead of keeping its token', () => {
    const q = createLaunchQueue({ burst: 1, perSecond: 1 }, 0);
    q.plan(0, [tasks(0, 0, 10, 0), tasks(1, 0, 10, 0)], none, () => true);
    expect(q.waiting().at(-1)).toMatchObject({ service: 1, id: 9, admitAt: 19 });
    // At t = 3 service 0 scales in: its five newest waiting tasks stop.
    const planned = q.plan(3, [], new Set([0]), (w) => w.service !== 0 || w.id < 5);
    const waiting = q.waiting();
    // Admitted before t = 3: the tasks planned for t = 0, 1 and 2 (their tokens are spent).
    expect(waiting).toHaveLength(20 - 3 - 5);
    expect(waiting.at(-1)).toMatchObject({ service: 1, id: 9, admitAt: 14 });
    expect(planned.every((w) => w.service === 1)).toBe(true);
  });

  it('leaves a standing plan alone when nothing was added or stopped', () => {
    const q = createLaunchQueue(RATE, 0);
    q.plan(0, [tasks(0, 0, 1000, 0)], none, () => true);
    const last = q.waiting().at(-1)?.admitAt;
    expect(last).toBe(45);
    expect(q.plan(30, [], none, () => true)).toEqual([]);
    expect(q.waiting().at(-1)?.admitAt).toBe(last);
    // By t = 30: the burst of 100 and 20 a second for 30 s, less the one planned for exactly t = 30.
    expect(q.waiting()).toHaveLength(1000 - 100 - 20 * 30 + 1);
  });
});
