/**
 * The per-second aggregator: counters and two HDR histograms per (channel, journey, step) and
 * iteration counters per (channel, journey), reset every second after being emitted as
 * SeriesRecords. Slots are allocated once at the start of the run, so the hot path is counter
 * bumps and histogram records; memory is flat however long the run is. Cumulative histograms per
 * scenario feed the summary (merged exactly by channel, by journey and overall).
 */
import type { ErrorCounts, SeriesRecord, StatusCounts } from '../core/run-format.ts';
import { addHistogram, createLatencyHistogram, encodeHistogram, type LatencyHistogram } from './histogram.ts';
import type { TransportError } from './http-client.ts';

/** Counters of one step in the current second. */
interface StepSlot {
  step: string;
  requests: number;
  failed: number;
  status: [number, number, number, number, number];
  /** Answers 429 (the circuit breaker counts them as overload; other 4xx are not). */
  rateLimited: number;
  errors: ErrorCounts;
  checksPassed: number;
  checksFailed: number;
  latency: LatencyHistogram;
  latencySend: LatencyHistogram;
}

/** Counters of one scenario in the current second, plus its cumulative totals. */
export interface ScenarioSlot {
  channel: string;
  journey: string;
  planned: number;
  started: number;
  completed: number;
  dropped: number;
  failedIterations: number;
  steps: StepSlot[];
  totals: ScenarioTotals;
}

/** Whole-run totals of one scenario. */
export interface ScenarioTotals {
  planned: number;
  started: number;
  completed: number;
  dropped: number;
  failedIterations: number;
  requests: number;
  failed: number;
  status: StatusCounts;
  errors: ErrorCounts;
  latency: LatencyHistogram;
  latencySend: LatencyHistogram;
}

const zeroErrors = (): ErrorCounts => ({ timeout: 0, refused: 0, reset: 0, check: 0, other: 0 });

/** Status class index: 1xx..5xx → 0..4; anything else counts as 5xx. */
function statusIndex(status: number): number {
  const c = Math.floor(status / 100) - 1;
  return c >= 0 && c <= 4 ? c : 4;
}

/** Per-second aggregation over a fixed set of scenarios and steps. */
export class Aggregator {
  readonly scenarios: ScenarioSlot[];
  /** Intended-start latency of every request of the last flushed second (live progress's p95). */
  readonly lastSecond: LatencyHistogram = createLatencyHistogram();

  constructor(scenarios: readonly { channel: string; journey: string; steps: readonly string[] }[]) {
    this.scenarios = scenarios.map((s) => ({
      channel: s.channel,
      journey: s.journey,
      planned: 0,
      started: 0,
      completed: 0,
      dropped: 0,
      failedIterations: 0,
      steps: s.steps.map((step) => ({
        step,
        requests: 0,
        failed: 0,
        status: [0, 0, 0, 0, 0],
        rateLimited: 0,
        errors: zeroErrors(),
        checksPassed: 0,
        checksFailed: 0,
        latency: createLatencyHistogram(),
        latencySend: createLatencyHistogram(),
      })),
      totals: {
        planned: 0,
        started: 0,
        completed: 0,
        dropped: 0,
        failedIterations: 0,
        requests: 0,
        failed: 0,
        status: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
        errors: zeroErrors(),
        latency: createLatencyHistogram(),
        latencySend: createLatencyHistogram(),
      },
    }));
  }

  /**
   * Records one finished request. `failed` covers transport errors, unaccepted statuses and failed
   * checks; `checkFailed` says whether a check (status, exists, equals, extraction) failed.
   */
  request(
    scenario: number,
    step: number,
    status: number,
    error: TransportError | null,
    checkFailed: boolean,
    hasCheck: boolean,
    failed: boolean,
    intendedUs: number,
    sendUs: number,
  ): void {
    const s = (this.scenarios[scenario] as ScenarioSlot).steps[step] as StepSlot;
    s.requests++;
    if (failed) s.failed++;
    if (error !== null) s.errors[error] += 1;
    else {
      s.status[statusIndex(status)] = (s.status[statusIndex(status)] as number) + 1;
      if (status === 429) s.rateLimited++;
    }
    if (checkFailed) {
      s.errors.check++;
      s.checksFailed++;
    } else if (hasCheck) s.checksPassed++;
    s.latency.recordValue(intendedUs < 1 ? 1 : Math.round(intendedUs));
    s.latencySend.recordValue(sendUs < 1 ? 1 : Math.round(sendUs));
  }

  /**
   * Records one request that was not sent because a template resolved to an empty value: a failed
   * request of its own kind (`errors.emptyValue`), with no latency (nothing was measured).
   */
  unsent(scenario: number, step: number): void {
    const s = (this.scenarios[scenario] as ScenarioSlot).steps[step] as StepSlot;
    s.requests++;
    s.failed++;
    s.errors.emptyValue = (s.errors.emptyValue ?? 0) + 1;
  }

  /** Histogram pairs freed by `completeRecord`, handed to steps at the next deferred flush. */
  private readonly spares: [LatencyHistogram, LatencyHistogram][] = [];

  /**
   * Emits the current second as SeriesRecords (iteration records always; step records only when
   * the step had requests), folds its counts into the totals and resets it. The step records'
   * histograms are not encoded yet: each step gets a fresh pair and the second's pair is returned
   * in `pending`, for `completeRecord` to encode, fold into the totals and recycle, a few at a time
   * (encoding ~100 tag sets at once blocked the event loop for 6-15 ms every second). A record is
   * complete once its `completeRecord` has run.
   */
  flushDeferred(t: number, wall: number, dt: number): { records: SeriesRecord[]; pending: PendingRecord[] } {
    const pending: PendingRecord[] = [];
    const out: SeriesRecord[] = [];
    const r3 = (x: number) => Math.round(x * 1000) / 1000;
    this.lastSecond.reset();
    for (const sc of this.scenarios) {
      const tot = sc.totals;
      out.push({
        t: r3(t),
        wall: r3(wall),
        dt: r3(dt),
        channel: sc.channel,
        journey: sc.journey,
        step: null,
        planned: sc.planned,
        started: sc.started,
        completed: sc.completed,
        dropped: sc.dropped,
        failedIterations: sc.failedIterations,
      });
      tot.planned += sc.planned;
      tot.started += sc.started;
      tot.completed += sc.completed;
      tot.dropped += sc.dropped;
      tot.failedIterations += sc.failedIterations;
      sc.planned = sc.started = sc.completed = sc.dropped = sc.failedIterations = 0;
      for (const st of sc.steps) {
        if (st.requests === 0) continue;
        const status: StatusCounts = {
          '1xx': st.status[0],
          '2xx': st.status[1],
          '3xx': st.status[2],
          '4xx': st.status[3],
          '5xx': st.status[4],
        };
        if (status['1xx'] === 0) delete status['1xx'];
        out.push({
          t: r3(t),
          wall: r3(wall),
          dt: r3(dt),
          channel: sc.channel,
          journey: sc.journey,
          step: st.step,
          requests: st.requests,
          failed: st.failed,
          status,
          ...(st.rateLimited > 0 ? { rateLimited: st.rateLimited } : {}),
          errors: { ...st.errors },
          checks: { passed: st.checksPassed, failed: st.checksFailed },
        });
        pending.push({
          record: out[out.length - 1] as SeriesRecord,
          latency: st.latency,
          latencySend: st.latencySend,
          totals: tot,
        });
        const spare = this.spares.pop();
        st.latency = spare ? spare[0] : createLatencyHistogram();
        st.latencySend = spare ? spare[1] : createLatencyHistogram();
        tot.requests += st.requests;
        tot.failed += st.failed;
        tot.status['1xx'] = (tot.status['1xx'] ?? 0) + st.status[0];
        tot.status['2xx'] += st.status[1];
        tot.status['3xx'] += st.status[2];
        tot.status['4xx'] += st.status[3];
        tot.status['5xx'] += st.status[4];
        for (const k of Object.keys(st.errors) as (keyof ErrorCounts)[])
          tot.errors[k] = (tot.errors[k] ?? 0) + (st.errors[k] ?? 0);
        st.requests = st.failed = st.checksPassed = st.checksFailed = st.rateLimited = 0;
        st.status.fill(0);
        st.errors = zeroErrors();
      }
    }
    return { records: out, pending };
  }

  /** Encodes a deferred record's histograms, folds them into the totals and recycles them. */
  completeRecord(p: PendingRecord): void {
    p.record.latency = encodeHistogram(p.latency);
    p.record.latencySend = encodeHistogram(p.latencySend);
    addHistogram(p.totals.latency, p.latency);
    addHistogram(p.totals.latencySend, p.latencySend);
    addHistogram(this.lastSecond, p.latency);
    p.latency.reset();
    p.latencySend.reset();
    this.spares.push([p.latency, p.latencySend]);
  }
}

/** A step record whose histograms `Aggregator.completeRecord` has yet to encode. */
export interface PendingRecord {
  record: SeriesRecord;
  latency: LatencyHistogram;
  latencySend: LatencyHistogram;
  totals: ScenarioTotals;
}
