/**
 * The per-second close: every wall second the engine's aggregator is flushed into series records,
 * a health record is sampled, and the second goes to the subscribers (run writer, progress) and then
 * to the abort rules (circuit breaker, budgets). The records' histograms are encoded a few at a time,
 * yielding to the scheduler and I/O in between (Aggregator.flushDeferred); the last second is
 * completed at once. Also the helpers the worker pool (engine/workers.ts) shares: a second's totals
 * and the abort rules' verdict.
 */
import type { EndReason, EngineHealthRecord, SeriesRecord } from '../core/run-format.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { AbortRule } from './abort-rules.ts';
import type { Aggregator, PendingRecord } from './aggregator.ts';
import type { EngineSubscriber, SecondReport } from './engine.ts';
import type { HealthSampler } from './health.ts';
import type { LatencyHistogram } from './histogram.ts';

/**
 * Step records encoded per turn of the event loop when a second is emitted (2 histograms each,
 * ~30-100 µs a record): a profile with ~100 tag sets blocked the loop 6-15 ms every second when they
 * were all encoded at once.
 */
const EMIT_BATCH = 8;

/** A second's iteration and request totals over all its records. */
export function sumSecond(
  records: readonly SeriesRecord[],
): Pick<SecondReport, 'planned' | 'started' | 'dropped' | 'requests' | 'failed'> {
  const s = { planned: 0, started: 0, dropped: 0, requests: 0, failed: 0 };
  for (const r of records) {
    s.planned += r.planned ?? 0;
    s.started += r.started ?? 0;
    s.dropped += r.dropped ?? 0;
    s.requests += r.requests ?? 0;
    s.failed += r.failed ?? 0;
  }
  return s;
}

/** How a run must stop, when an abort rule says so (or fails: a broken rule must not leave load running). */
export type StopOrder = { reason: EndReason; detail: string; exitCode: number | undefined };

/** Asks every abort rule about one second; the first that aborts (or throws) decides. */
export function judgeSecond(
  rules: readonly AbortRule[],
  second: { t: number; wall: number; records: SeriesRecord[] },
): StopOrder | null {
  for (const rule of rules) {
    let d: ReturnType<AbortRule>;
    try {
      d = rule(second);
    } catch (e) {
      return { reason: 'error', detail: `abort rule failed: ${(e as Error).message}`, exitCode: 1 };
    }
    if (d.abort)
      return {
        reason: d.exitCode === 97 ? 'circuit-breaker' : 'budget-abort',
        detail: d.reason,
        exitCode: d.exitCode,
      };
  }
  return null;
}

/** What the close needs from the engine, explicitly. */
export interface SecondCloserOptions {
  plan: Pick<Plan, 'eventStart' | 'timeScale'>;
  agg: Aggregator;
  sampler: HealthSampler;
  /** Milliseconds since the run's clock started. */
  now: () => number;
  subscribers: readonly EngineSubscriber[];
  abortRules: readonly AbortRule[];
  /** The second's scheduler lag (reset here) and late starts (taken and reset here). */
  lagSecond: LatencyHistogram;
  takeLate: () => number;
  inFlight: () => number;
  /** The second's scheduler mode (open model), or undefined (closed loop). */
  takeSchedulerMode: () => 'spin' | 'sleep' | undefined;
  /** Every health record is pushed here. */
  health: EngineHealthRecord[];
  isStopped: () => boolean;
  stop: (order: StopOrder) => void;
}

/** The running close: `emit` a second (the last with `final`), `schedule` the next, `cancel`. */
export interface SecondCloser {
  emit(final: boolean): void;
  /** Emits each second on its wall boundary until `isFinished`. */
  schedule(isFinished: () => boolean): void;
  cancel(): void;
}

/** Creates the per-second close. */
export function createSecondCloser(o: SecondCloserOptions): SecondCloser {
  let second = 0;
  let timer: NodeJS.Timeout | null = null;
  /** The last second while its records are still being encoded (Aggregator.flushDeferred). */
  let deferred: { finishNow(): void } | null = null;

  const emit = (final: boolean): void => {
    deferred?.finishNow();
    const wall = second;
    // The last, partial second is always emitted (even if tiny) so no count is lost.
    const dt = final ? Math.max(0.001, o.now() / 1000 - second) : 1;
    const t = o.plan.eventStart + wall * o.plan.timeScale;
    const { records, pending } = o.agg.flushDeferred(t, wall, dt);
    const h = o.sampler.sample(t, wall, o.lagSecond, o.inFlight(), o.takeLate());
    const mode = o.takeSchedulerMode();
    if (mode) h.scheduler = mode;
    o.lagSecond.reset();
    o.health.push(h);
    second++;
    // Once every record is complete: the report to the subscribers, then the abort rules.
    const deliver = (): void => {
      deferred = null;
      const p95Ms = o.agg.lastSecond.totalCount ? o.agg.lastSecond.getValueAtPercentile(95) / 1000 : 0;
      const report: SecondReport = {
        second: wall,
        t,
        wall,
        dt,
        records,
        health: h,
        ...sumSecond(records),
        p95Ms,
      };
      for (const s of o.subscribers) s.onSecond?.(report);
      if (final || o.isStopped()) return;
      const order = judgeSecond(o.abortRules, { t, wall, records });
      if (order) o.stop(order);
    };
    // The records' histograms are encoded EMIT_BATCH at a time, yielding to the scheduler and I/O
    // in between; the last second, or a second stop() interrupts, is completed at once.
    let i = 0;
    let handle: NodeJS.Immediate | null = null;
    const completeAll = (): void => {
      for (; i < pending.length; i++) o.agg.completeRecord(pending[i] as PendingRecord);
    };
    if (final) {
      completeAll();
      deliver();
      return;
    }
    const work = (): void => {
      handle = null;
      const end = Math.min(pending.length, i + EMIT_BATCH);
      for (; i < end; i++) o.agg.completeRecord(pending[i] as PendingRecord);
      if (i < pending.length) handle = setImmediate(work);
      else deliver();
    };
    deferred = {
      finishNow: () => {
        if (handle) clearImmediate(handle);
        handle = null;
        completeAll();
        deliver();
      },
    };
    work();
  };

  const schedule = (isFinished: () => boolean): void => {
    timer = setTimeout(
      () => {
        if (isFinished()) return;
        emit(false);
        if (!isFinished()) schedule(isFinished);
      },
      Math.max(0, (second + 1) * 1000 - o.now()),
    );
  };

  return {
    emit,
    schedule,
    cancel() {
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
