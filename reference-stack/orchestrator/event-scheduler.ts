/**
 * The stack's live event clock and timers in EVENT time. Task start latency, health-check intervals,
 * deregistration delay and metric periods are all event-time durations, so at 60x a 30-s health-check
 * interval is half a wall second. When the clock is re-set (POST /_peakday/clock), every pending timer
 * keeps the event time it still had to wait, under the new scale: a task 20 event-seconds from ready stays
 * 20 event-seconds from ready.
 *
 * The wall clock is injected (`now()` in ms), so the scheduling arithmetic is testable without waiting.
 */
import { EventClock, type EventClockSpec } from '../../core/event-clock.ts';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A handle to cancel a scheduled callback. */
export interface TimerHandle {
  cancel(): void;
}

/** Event clock bound to a wall clock, with timers in event time. */
export class EventScheduler {
  private clock: EventClock;
  private wallZeroMs: number;
  private timers: Timer[] = [];
  private nextId = 1;
  private handle: ReturnType<typeof setTimeout> | undefined;
  private closed = false;
  /** Epoch ms at which the current clock setting took effect (for the control endpoint). */
  setAtEpochMs: number;

  constructor(
    spec: EventClockSpec,
    private readonly now: () => number = () => performance.now(),
    private readonly epochNow: () => number = () => Date.now(),
  ) {
    this.clock = new EventClock(spec);
    this.wallZeroMs = now();
    this.setAtEpochMs = epochNow();
  }

  /** Current clock setting. */
  get spec(): EventClockSpec {
    return this.clock.toJSON();
  }

  get timeScale(): number {
    return this.clock.timeScale;
  }

  /** Event time now (s). */
  eventNow(): number {
    return this.clock.eventAt((this.now() - this.wallZeroMs) / 1000);
  }

  /** Wall milliseconds until an event time is reached (0 if already past). */
  wallMsUntil(eventTime: number): number {
    return Math.max(0, ((eventTime - this.eventNow()) / this.clock.timeScale) * 1000);
  }

  /** Re-sets the clock: event time is `spec.eventStart` now. Pending timers keep their remaining event time. */
  setClock(spec: EventClockSpec): void {
    const next = new EventClock(spec);
    const before = this.eventNow();
    for (const t of this.timers) t.at = spec.eventStart + (t.at - before);
    this.clock = next;
    this.wallZeroMs = this.now();
    this.setAtEpochMs = this.epochNow();
    this.arm();
  }

  /** Runs `fn` when event time reaches `eventTime`. */
  at(eventTime: number, fn: () => void): TimerHandle {
    const t: Timer = { id: this.nextId++, at: eventTime, fn };
    this.timers.push(t);
    this.arm();
    return { cancel: () => this.remove(t.id) };
  }

  /** Runs `fn` after `eventSeconds` of event time. */
  after(eventSeconds: number, fn: () => void): TimerHandle {
    return this.at(this.eventNow() + eventSeconds, fn);
  }

  /** Cancels every timer; the scheduler fires nothing afterwards. */
  close(): void {
    this.closed = true;
    this.timers = [];
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
  }

  /** Fires every timer that is due (exported for tests driving a fake wall clock). */
  fireDue(): void {
    const now = this.eventNow();
    const due = this.timers.filter((t) => t.at <= now + 1e-9).sort((a, b) => a.at - b.at || a.id - b.id);
    if (due.length > 0) {
      const ids = new Set(due.map((t) => t.id));
      this.timers = this.timers.filter((t) => !ids.has(t.id));
      for (const t of due) t.fn();
    }
    this.arm();
  }

  private remove(id: number): void {
    this.timers = this.timers.filter((t) => t.id !== id);
  }

  private arm(): void {
    if (this.handle) clearTimeout(this.handle);
    this.handle = undefined;
    if (this.closed || this.timers.length === 0) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const t of this.timers) earliest = Math.min(earliest, t.at);
    const ms = Math.min(this.wallMsUntil(earliest), 2 ** 31 - 1);
    this.handle = setTimeout(() => this.fireDue(), Math.ceil(ms));
    this.handle.unref?.();
  }
}
