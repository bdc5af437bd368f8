/**
 * Builders for constructed runs with known answers, shared by the budgets tests and the gate's
 * end-to-end test: series records carry real HDR histograms, encoded exactly as the engine does.
 */
import * as hdr from 'hdr-histogram-js';
import type { RunMeta, SeriesRecord } from '../../core/run-format.ts';

/** Encodes `count` samples of `ms` (and optional extra [ms, count] pairs) as an HDR histogram of µs. */
export function encodeLatencies(samples: readonly (readonly [ms: number, count: number])[]): string {
  const h = hdr.build({ lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3, autoResize: true });
  for (const [ms, count] of samples) if (count > 0) h.recordValueWithCount(Math.round(ms * 1000), count);
  return hdr.encodeIntoCompressedBase64(h);
}

/** What one constructed second looks like for one tag set. */
export interface SecondSpec {
  channel?: string;
  journey?: string;
  step?: string;
  requests: number;
  failed?: number;
  /** [ms, count] pairs; default: every request at 100 ms. */
  latency?: (readonly [number, number])[];
  checks?: { passed: number; failed: number };
  planned?: number;
  dropped?: number;
}

/** One step record and one iteration record per spec, at event time `t`. */
export function recordsAt(t: number, specs: SecondSpec[], dt = 1): SeriesRecord[] {
  const out: SeriesRecord[] = [];
  for (const s of specs) {
    const channel = s.channel ?? 'web';
    const journey = s.journey ?? 'browse';
    const lat = encodeLatencies(s.latency ?? [[100, s.requests]]);
    out.push({
      t,
      wall: t,
      dt,
      channel,
      journey,
      step: s.step ?? 'home',
      requests: s.requests,
      failed: s.failed ?? 0,
      checks: s.checks ?? { passed: s.requests - (s.failed ?? 0), failed: s.failed ?? 0 },
      latency: lat,
      latencySend: lat,
    });
    const planned = s.planned ?? s.requests;
    out.push({
      t,
      wall: t,
      dt,
      channel,
      journey,
      step: null,
      planned,
      started: planned - (s.dropped ?? 0),
      completed: planned - (s.dropped ?? 0),
      dropped: s.dropped ?? 0,
    });
  }
  return out;
}

/** A run meta for constructed runs (live, builtin, valid) with overrides. */
export function constructedMeta(over: Partial<RunMeta> = {}): RunMeta {
  return {
    formatVersion: 1,
    id: 'constructed',
    mode: 'live',
    driver: 'builtin',
    tool: { name: 'peakday', version: '0.0.0' },
    profile: { name: 'constructed', hash: '0' },
    options: {},
    timeScale: 1,
    eventStart: 0,
    eventEnd: 600,
    seed: 1,
    startedAt: '2026-11-25T00:00:00Z',
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    notes: [],
    ...over,
  };
}

/** A run of `seconds` seconds where `spec(t)` says what each second holds. */
export function constructRun(
  seconds: number,
  spec: (t: number) => SecondSpec[],
  meta: Partial<RunMeta> = {},
): { meta: RunMeta; records: SeriesRecord[] } {
  const records: SeriesRecord[] = [];
  for (let t = 0; t < seconds; t++) records.push(...recordsAt(t, spec(t)));
  return { meta: constructedMeta({ eventEnd: seconds, ...meta }), records };
}
