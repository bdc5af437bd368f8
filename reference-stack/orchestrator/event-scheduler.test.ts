import { afterEach, describe, expect, it } from 'vitest';
import { EventScheduler } from './event-scheduler.ts';

let wall = 0;
const schedulers: EventScheduler[] = [];
function make(timeScale: number, eventStart = 0): EventScheduler {
  wall = 0;
  const s = new EventScheduler(
    { timeScale, eventStart },
    () => wall,
    () => 1_000 + wall,
  );
  schedulers.push(s);
  return s;
}
afterEach(() => {
  for (const s of schedulers.splice(0)) s.close();
});

describe('the event scheduler', () => {
  it('advances event time by the time scale', () => {
    const s = make(60, 100);
    wall = 1_000;
    expect(s.eventNow()).toBe(160);
    expect(s.wallMsUntil(220)).toBe(1_000);
  });

  it('fires a timer once its event time is reached, not before', () => {
    const s = make(60);
    const fired: string[] = [];
    s.after(30, () => fired.push('health check'));
    wall = 499;
    s.fireDue();
    expect(fired).toEqual([]);
    wall = 500;
    s.fireDue();
    expect(fired).toEqual(['health check']);
  });

  it('keeps the remaining event time of pending timers when the clock is re-set', () => {
    const s = make(1);
    const fired: number[] = [];
    s.after(40, () => fired.push(s.eventNow()));
    wall = 10_000; // 10 event seconds later, 30 remain
    s.setClock({ timeScale: 60, eventStart: 3_600 });
    wall = 10_000 + 499; // 29.94 event s at 60x
    s.fireDue();
    expect(fired).toEqual([]);
    wall = 10_000 + 500;
    s.fireDue();
    expect(fired).toEqual([3_630]);
  });

  it('fires due timers in event-time order and never a cancelled one', () => {
    const s = make(1);
    const fired: string[] = [];
    s.at(5, () => fired.push('b'));
    s.at(2, () => fired.push('a'));
    s.at(3, () => fired.push('cancelled')).cancel();
    wall = 6_000;
    s.fireDue();
    expect(fired).toEqual(['a', 'b']);
  });

  it('rejects a clock beyond what the event clock accepts', () => {
    const s = make(1);
    expect(() => s.setClock({ timeScale: 0, eventStart: 0 })).toThrow(/time scale/);
  });
});
