/**
 * Building `summary.json` from series records: one code path for the embedded engine, the k6
 * conversion and `peakday merge`, so a figure means the same whichever produced it. Counts are
 * sums; latency percentiles come from the exact merge of the per-second HDR histograms, overall,
 * per channel and per journey.
 */
import {
  type EndReason,
  type ErrorCounts,
  type LatencyBreakdown,
  type Percentiles,
  RUN_FORMAT_VERSION,
  type RunMode,
  type RunSummary,
  type SeriesRecord,
  type StatusCounts,
} from '../core/run-format.ts';
import {
  addHistogram,
  createLatencyHistogram,
  decodeHistogram,
  type LatencyHistogram,
  percentilesMs,
} from './histogram.ts';

interface Breakdown {
  overall: LatencyHistogram;
  byChannel: Map<string, LatencyHistogram>;
  byJourney: Map<string, LatencyHistogram>;
}

const newBreakdown = (): Breakdown => ({
  overall: createLatencyHistogram(),
  byChannel: new Map(),
  byJourney: new Map(),
});

function addTo(b: Breakdown, channel: string, journey: string, h: LatencyHistogram): void {
  addHistogram(b.overall, h);
  const c = b.byChannel.get(channel) ?? createLatencyHistogram();
  addHistogram(c, h);
  b.byChannel.set(channel, c);
  const j = b.byJourney.get(journey) ?? createLatencyHistogram();
  addHistogram(j, h);
  b.byJourney.set(journey, j);
}

function breakdownOf(b: Breakdown): LatencyBreakdown {
  const rec = (m: Map<string, LatencyHistogram>): Record<string, Percentiles> =>
    Object.fromEntries(
      [...m.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, h]) => [k, percentilesMs(h)]),
    );
  return { overall: percentilesMs(b.overall), byChannel: rec(b.byChannel), byJourney: rec(b.byJourney) };
}

/** What the summary needs besides the series. */
export interface SummaryContext {
  mode: RunMode;
  endReason: EndReason;
  valid: boolean;
  invalidReasons: string[];
  durationSeconds: number;
  eventStart: number;
  eventEnd: number;
  timeScale: number;
  /** Iterations the plan (or segment) called for. */
  planned: number;
  /** Whether intended-start latency exists (false for k6). */
  intendedStartLatency: boolean;
  schedulerLag: Percentiles | null;
}

/** Accumulates series records into a RunSummary. */
export interface SummaryAccumulator {
  /** Adds a record: its counts and its latency histograms (decoded). */
  add(r: SeriesRecord): void;
  /**
   * Adds a record's counts only. The embedded engine adds every second's counts this way and its
   * whole-run histograms per scenario once at the end (`addLatency`): decoding every record's two
   * histograms again each second stalled the event loop (tens of ms a second with ~100 tag sets).
   */
  addCounts(r: SeriesRecord): void;
  /** Adds one scenario's latency histograms (intended start and send). */
  addLatency(channel: string, journey: string, intended: LatencyHistogram, send: LatencyHistogram): void;
  /** The merged intended-start histogram overall (for tests and merge checks). */
  overallIntended(): LatencyHistogram;
  finish(ctx: SummaryContext): RunSummary;
}

/** Creates an accumulator; feed it every record of a run, in any order. */
export function createSummaryAccumulator(): SummaryAccumulator {
  const intended = newBreakdown();
  const send = newBreakdown();
  const it = { planned: 0, started: 0, completed: 0, dropped: 0, failed: 0 };
  let total = 0;
  let failed = 0;
  const byStatus: StatusCounts = { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
  const errors: ErrorCounts = { timeout: 0, refused: 0, reset: 0, check: 0, other: 0 };
  let any1xx = 0;
  const addCounts = (r: SeriesRecord): void => {
    it.planned += r.planned ?? 0;
    it.started += r.started ?? 0;
    it.completed += r.completed ?? 0;
    it.dropped += r.dropped ?? 0;
    it.failed += r.failedIterations ?? 0;
    total += r.requests ?? 0;
    failed += r.failed ?? 0;
    if (r.status) {
      any1xx += r.status['1xx'] ?? 0;
      byStatus['2xx'] += r.status['2xx'];
      byStatus['3xx'] += r.status['3xx'];
      byStatus['4xx'] += r.status['4xx'];
      byStatus['5xx'] += r.status['5xx'];
    }
    if (r.errors) {
      for (const k of ['timeout', 'refused', 'reset', 'check', 'other'] as const)
        errors[k] += r.errors[k] ?? 0;
      if (r.errors.emptyValue) errors.emptyValue = (errors.emptyValue ?? 0) + r.errors.emptyValue;
    }
  };
  return {
    add(r) {
      addCounts(r);
      if (r.latency) addTo(intended, r.channel, r.journey, decodeHistogram(r.latency));
      if (r.latencySend) addTo(send, r.channel, r.journey, decodeHistogram(r.latencySend));
    },
    addCounts,
    addLatency(channel, journey, i, s) {
      addTo(intended, channel, journey, i);
      addTo(send, channel, journey, s);
    },
    overallIntended: () => intended.overall,
    finish(ctx) {
      if (any1xx > 0) byStatus['1xx'] = any1xx;
      const partial = ctx.endReason !== 'completed' || it.planned < ctx.planned;
      return {
        formatVersion: RUN_FORMAT_VERSION,
        mode: ctx.mode,
        valid: ctx.valid,
        invalidReasons: ctx.invalidReasons,
        endReason: ctx.endReason,
        partial,
        durationSeconds: ctx.durationSeconds,
        eventStart: ctx.eventStart,
        eventEnd: ctx.eventEnd,
        timeScale: ctx.timeScale,
        iterations: {
          planned: ctx.planned,
          started: it.started,
          completed: it.completed,
          dropped: it.dropped,
          failed: it.failed,
        },
        requests: {
          total,
          failed,
          ratePerSecond: ctx.durationSeconds > 0 ? Math.round((total / ctx.durationSeconds) * 100) / 100 : 0,
          byStatus,
          errors,
        },
        latency: {
          intended: ctx.intendedStartLatency ? breakdownOf(intended) : null,
          send: breakdownOf(send),
        },
        schedulerLag: ctx.schedulerLag,
      };
    },
  };
}
