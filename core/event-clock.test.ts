import { describe, expect, it } from 'vitest';
import { EventClock, timeScaleFor } from './event-clock.ts';

describe('the event clock', () => {
  it('maps wall offsets to event time by the time scale', () => {
    const c = new EventClock({ timeScale: 60, eventStart: 3600 });
    expect(c.eventAt(0)).toBe(3600);
    expect(c.eventAt(1)).toBe(3660);
    expect(c.wallAt(3720)).toBe(2);
  });

  it('scales event durations such as think times and metric periods to wall time', () => {
    const c = new EventClock({ timeScale: 60, eventStart: 0 });
    expect(c.toWallDuration(60)).toBe(1);
    expect(c.toEventDuration(0.5)).toBe(30);
  });

  it('derives the time scale from event length and run duration', () => {
    expect(timeScaleFor(3600, 60)).toBe(60);
    expect(() => timeScaleFor(3600, 0)).toThrow(/cannot compress/);
  });

  it('rejects a non-positive time scale', () => {
    expect(() => new EventClock({ timeScale: 0, eventStart: 0 })).toThrow(/positive/);
    expect(() => new EventClock({ timeScale: Number.NaN, eventStart: 0 })).toThrow(/positive/);
  });
});
