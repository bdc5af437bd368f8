/**
 * The event clock. A profile's times (burst starts, think times, deal windows, reservation expiry,
 * scaling periods) are *event time*: seconds since the event began. A run plays a range of event
 * time compressed by its time scale (event seconds per wall second; 60 means one wall second plays
 * one event minute). Every stage maps between the two clocks through this module only, so a
 * 60-s CloudWatch period is 1 wall second in a 60x rehearsal everywhere at once.
 *
 * `EventClock` is pure (it is given wall times, it never reads a clock); `createLiveEventClock`
 * binds one to the process's monotonic clock at the edge.
 */
import { invalidInput } from './errors.ts';

/** The largest compression a live run against the local stack may use (issue 6; docs/run-directory.md). */
export const MAX_LIVE_TIME_SCALE = 60;

export interface EventClockSpec {
  /** Event seconds per wall second; 1 = real time. */
  timeScale: number;
  /** Event time (s) at wall offset 0, i.e. where the played range starts. */
  eventStart: number;
}

/** Maps between event time and wall offsets (seconds since the run started). Pure. */
export class EventClock {
  readonly timeScale: number;
  readonly eventStart: number;

  constructor(spec: EventClockSpec) {
    if (!(spec.timeScale > 0) || !Number.isFinite(spec.timeScale)) {
      throw invalidInput('invalid-time-scale', `time scale must be a positive number, got ${spec.timeScale}`);
    }
    if (!Number.isFinite(spec.eventStart)) {
      throw invalidInput('invalid-time-scale', `event start must be finite, got ${spec.eventStart}`);
    }
    this.timeScale = spec.timeScale;
    this.eventStart = spec.eventStart;
  }

  /** Event time (s) reached at a wall offset (s since the run started). */
  eventAt(wallOffset: number): number {
    return this.eventStart + wallOffset * this.timeScale;
  }

  /** Wall offset (s since run start) at which an event time is reached. */
  wallAt(eventTime: number): number {
    return (eventTime - this.eventStart) / this.timeScale;
  }

  /** Converts an event-time duration (think time, cooldown, period) to wall seconds. */
  toWallDuration(eventSeconds: number): number {
    return eventSeconds / this.timeScale;
  }

  /** Converts a wall-clock duration to event seconds. */
  toEventDuration(wallSeconds: number): number {
    return wallSeconds * this.timeScale;
  }

  /** A plain object for run metadata and the stack's control endpoint. */
  toJSON(): EventClockSpec {
    return { timeScale: this.timeScale, eventStart: this.eventStart };
  }
}

/** The time scale that plays `eventSeconds` of event in `wallSeconds` of wall time. */
export function timeScaleFor(eventSeconds: number, wallSeconds: number): number {
  if (!(eventSeconds > 0) || !(wallSeconds > 0)) {
    throw invalidInput(
      'invalid-duration',
      `cannot compress ${eventSeconds}s of event into ${wallSeconds}s`,
      'both the event range and --duration must be longer than 0s',
    );
  }
  return eventSeconds / wallSeconds;
}

/** A clock bound to the process's monotonic time: the I/O edge of the event clock. */
export interface LiveEventClock {
  clock: EventClock;
  /** Wall offset in seconds since `start` (monotonic, sub-millisecond). */
  wallNow(): number;
  /** Event time now. */
  eventNow(): number;
  /** Unix epoch milliseconds at wall offset 0, for metadata. */
  startedAtEpochMs: number;
}

/** Binds an EventClock to `performance.now()`, starting now. */
export function createLiveEventClock(spec: EventClockSpec): LiveEventClock {
  const clock = new EventClock(spec);
  const t0 = performance.now();
  const startedAtEpochMs = Date.now();
  const wallNow = () => (performance.now() - t0) / 1000;
  return { clock, wallNow, eventNow: () => clock.eventAt(wallNow()), startedAtEpochMs };
}
