/**
 * The arrival scheduler: walks every scenario's arrival sequence (engine/executors/) and starts each
 * arrival when it is due, earliest first across scenarios, waiting in between by sleeping on a timer
 * or spinning on setImmediate (SchedulerMode in engine/engine.ts says why and what each costs). It
 * keeps a segment's arrivals only (engine/segments.ts) and knows nothing of what an iteration does
 * (engine/iteration-runner.ts): it calls `start` and, once the sequences are exhausted,
 * `onArrivalsDone`. Its state is its own: the cursors, the pending wake-up, the measured rate.
 */
import type { SchedulerMode } from './engine.ts';
import { type Segment, segmentKeeps } from './segments.ts';

/**
 * One scenario's place in its arrival sequence: the next due time (ms), that arrival's number in the
 * whole plan's sequence (0-based, the same on every worker and generator), and the next index.
 */
export interface ArrivalCursor {
  arrivals: Iterator<number>;
  nextMs: number;
  nextArrival: number;
  index: number;
}

/** Moves a cursor to its next arrival that the segment keeps (Infinity when there is none). */
export function advanceCursor(c: ArrivalCursor, seg: Segment | undefined): void {
  for (;;) {
    const n = c.arrivals.next();
    if (n.done) {
      c.nextMs = Number.POSITIVE_INFINITY;
      return;
    }
    const idx = c.index++;
    if (seg && !segmentKeeps(idx, seg)) continue;
    c.nextMs = n.value * 1000;
    c.nextArrival = idx;
    return;
  }
}

/**
 * Arrivals one poke starts at most: a response's handling is no place for a backlog (a stall's
 * backlog goes out from the scheduler's own wake-ups, maxStartsPerTick per turn of the loop).
 */
const POKE_STARTS = 8;

/**
 * How late (ms) the earliest due arrival must be before a response's poke starts it; until then the
 * scheduler's own timer does, every arrival due since its last wake-up in one batch. Sleeping on
 * a 1-ms timer batches the arrivals of the last millisecond or so (20 at 20,000/s): written in one
 * burst, they wake the target once and their answers come back together, so the engine sleeps and
 * wakes a few times per millisecond instead of once per request, as it did when every response's
 * poke started the one arrival due since the previous response. A poke remains the backstop for a
 * timer held up behind a busy turn of the loop. Each start's lag (now minus its due time) is
 * recorded as before: a batched arrival is up to a timer period (1-2 ms) late, and says so.
 * docs/run-directory.md ("CPU per request") has the measurements.
 */
export const POKE_AFTER_MS = 2;

/** What the scheduler needs. */
export interface ArrivalSchedulerOptions {
  /** One per scenario, in plan order (`start` gets the index). */
  arrivals: Iterator<number>[];
  segment?: Segment;
  mode: SchedulerMode;
  /** Whether to spin from the first arrival (`spinsFromStart`). */
  spinFromStart: boolean;
  /** 'auto': spin while arrivals come at least this fast (per second). */
  spinAboveRps: number;
  /** Arrivals started in one wake-up before yielding to I/O. */
  maxStartsPerTick: number;
  /** How late (ms) an arrival must be for a poke to start it (default POKE_AFTER_MS). */
  pokeAfterMs?: number;
  /** Milliseconds since the run's clock started. */
  now: () => number;
  /** Starts arrival number `arrival` (0-based in the whole plan's sequence) of scenario `si`. */
  start: (si: number, dueMs: number, arrival: number) => void;
  onArrivalsDone: () => void;
}

/** A running scheduler. */
export interface ArrivalScheduler {
  /** The first wake-up (call once the clock has started). */
  run(): void;
  /**
   * Called as each response is handled: starts what is due if the earliest due arrival is at least
   * `pokeAfterMs` late (the timer is held up behind a busy turn of the loop), else nothing, so that
   * the timer's wake-ups start the arrivals in batches (POKE_AFTER_MS says why).
   */
  poke(): void;
  /** No more starts; the pending wake-up is cancelled. */
  cancel(): void;
  /** Whether it spun at any time since the last call (each second's `scheduler` in engine.ndjson). */
  takeSpun(): boolean;
}

/** Creates the scheduler; every cursor is placed on its first arrival. */
export function createArrivalScheduler(o: ArrivalSchedulerOptions): ArrivalScheduler {
  const cursors: ArrivalCursor[] = o.arrivals.map((arrivals) => ({
    arrivals,
    nextMs: 0,
    nextArrival: 0,
    index: 0,
  }));
  for (const c of cursors) advanceCursor(c, o.segment);
  // The next tick: a timer (sleeping) or an immediate (spinning), never both.
  let tickTimer: NodeJS.Timeout | null = null;
  let tickImmediate: NodeJS.Immediate | null = null;
  let cancelled = false;
  // 'auto' starts in the mode the plan's starting rate calls for, then follows the measured rate.
  let spinning = o.spinFromStart;
  let spunSince = false;
  let rateWindowStart = 0;
  let rateWindowArrivals = 0;
  const pokeAfterMs = o.pokeAfterMs ?? POKE_AFTER_MS;

  // The earliest due time across cursors (ms), kept so that a poke costs one clock read.
  let nextDue = Number.POSITIVE_INFINITY;
  // A start can call back into the scheduler (a client failing synchronously ends an iteration).
  let starting = false;

  // Starts what is due at `now`, earliest first across scenarios, at most maxStartsPerTick: after a
  // stall (a cold start's compilation, a GC pause, a busy host) the overdue arrivals go out in
  // batches with responses read in between rather than in one synchronous burst, and no scenario's
  // backlog overtakes another's older arrivals. Each one's lag is recorded by `start`.
  const startDue = (now: number, max: number): void => {
    starting = true;
    let budget = max;
    for (;;) {
      let k = -1;
      let next = Number.POSITIVE_INFINITY;
      for (let si = 0; si < cursors.length; si++) {
        const at = (cursors[si] as ArrivalCursor).nextMs;
        if (at < next) {
          next = at;
          k = si;
        }
      }
      nextDue = next;
      if (next > now || budget === 0) break;
      const c = cursors[k] as ArrivalCursor;
      o.start(k, next, c.nextArrival);
      advanceCursor(c, o.segment);
      rateWindowArrivals++;
      budget--;
    }
    starting = false;
  };

  const tick = (): void => {
    tickTimer = null;
    tickImmediate = null;
    if (cancelled) return;
    const now = o.now();
    startDue(now, o.maxStartsPerTick);
    const next = nextDue;
    if (next === Number.POSITIVE_INFINITY) {
      o.onArrivalsDone();
      return;
    }
    // Sleep or spin until the next arrival (SchedulerMode says why and what each costs).
    if (o.mode === 'auto' && now - rateWindowStart >= 100) {
      spinning = (rateWindowArrivals * 1000) / (now - rateWindowStart) >= o.spinAboveRps;
      rateWindowStart = now;
      rateWindowArrivals = 0;
    }
    if (spinning) spunSince = true;
    const d = next - o.now();
    if (next <= now || (spinning && d <= 1.5)) tickImmediate = setImmediate(tick);
    else tickTimer = setTimeout(tick, Math.max(1, spinning ? d - 1 : d));
  };

  return {
    run: tick,
    poke() {
      // A backlog is the wake-ups' to start, a batch per turn of the loop (tickImmediate pending).
      if (cancelled || starting || tickImmediate || nextDue === Number.POSITIVE_INFINITY) return;
      const now = o.now();
      if (now < nextDue + pokeAfterMs) return;
      startDue(now, POKE_STARTS);
      // More is due than a poke starts: a stall; the backlog goes out from the next turn on.
      if (nextDue <= now) {
        if (tickTimer) clearTimeout(tickTimer);
        tickTimer = null;
        tickImmediate = setImmediate(tick);
      }
    },
    cancel() {
      cancelled = true;
      if (tickTimer) clearTimeout(tickTimer);
      if (tickImmediate) clearImmediate(tickImmediate);
      tickTimer = null;
      tickImmediate = null;
    },
    takeSpun() {
      const s = spunSince || spinning;
      spunSince = false;
      return s;
    },
  };
}
