/**
 * Builds run directories whose right answers are known, for tests and benchmarks: load per channel,
 * latency, errors, and per-service tasks/CPU/requests are given as functions of event time, so a
 * test can plant a capacity, a scale-out lag or a breach and check the report finds exactly it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import hdr from 'hdr-histogram-js';
import {
  RUN_FILES,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type ScalingActivity,
  type SeriesRecord,
  type TimelineRecord,
} from '../../core/run-format.ts';

/** One channel's load in the fixture. */
export interface FixtureChannel {
  name: string;
  /** Requests per wall second at event time t. */
  rps: (t: number) => number;
  /** Latency (ms) every request in the interval has (one value: p50 = p95 = p99). */
  latencyMs: (t: number) => number;
  errorRate?: (t: number) => number;
  /** Checkout iterations completed per wall second (orders). */
  ordersPerSecond?: (t: number) => number;
}

/** One service's timeline in the fixture. */
export interface FixtureService {
  name: string;
  /** Requests per event-time period. */
  requests: (t: number) => number;
  running: (t: number) => number;
  desired?: (t: number) => number;
  cpu?: (t: number) => number;
  store?: (t: number) => TimelineRecord['store'];
  /** Domain events the service published in the period starting at t (absent: not reported). */
  eventsPublished?: (t: number) => number;
}

/** What to build. */
export interface FixtureSpec {
  mode?: 'live' | 'simulated';
  eventStart?: number;
  eventEnd: number;
  timeScale?: number;
  /** Event seconds per series interval (default timeScale, i.e. 1 wall second). */
  seriesInterval?: number;
  /** Event seconds per timeline period (default 60). */
  period?: number;
  channels: FixtureChannel[];
  services?: FixtureService[];
  activities?: ScalingActivity[];
  calibration?: unknown;
  valid?: boolean;
  invalidReasons?: string[];
  partial?: boolean;
  /** Fields summary.json carries besides the ones derived from the spec (scheduler lag, validity evidence). */
  summaryExtra?: Partial<RunSummary>;
  /** Omit summary.json (an unfinished run). */
  noSummary?: boolean;
}

const round = (x: number) => Math.round(x);

/** Writes the run directory and returns its path. */
export function writeFixtureRun(dir: string, spec: FixtureSpec): string {
  mkdirSync(dir, { recursive: true });
  const mode = spec.mode ?? 'live';
  const eventStart = spec.eventStart ?? 0;
  const timeScale = spec.timeScale ?? 1;
  const interval = spec.seriesInterval ?? timeScale;
  const dt = interval / timeScale;
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: 'fixture',
    mode,
    driver: mode === 'live' ? 'builtin' : 'simulator',
    tool: { name: 'peakday', version: '0.0.0-fixture' },
    profile: { name: 'fixture', hash: '0' },
    options: {},
    timeScale,
    eventStart,
    eventEnd: spec.eventEnd,
    seed: 1,
    startedAt: '2026-11-25T00:00:00.000Z',
    endReason: spec.partial ? 'interrupted' : 'completed',
    valid: spec.valid ?? true,
    invalidReasons: spec.invalidReasons ?? [],
    capabilities: { intendedStartLatency: mode === 'live', sendLatency: mode === 'live' },
    notes: [],
  };
  writeFileSync(join(dir, RUN_FILES.meta), JSON.stringify(meta));
  const lines: string[] = [];
  const hist = hdr.build();
  for (let t = eventStart; t < spec.eventEnd; t += interval) {
    const wall = (t - eventStart) / timeScale;
    for (const ch of spec.channels) {
      const requests = round(ch.rps(t) * dt);
      const failed = round(requests * (ch.errorRate?.(t) ?? 0));
      const orders = round((ch.ordersPerSecond?.(t) ?? 0) * dt);
      const it: SeriesRecord = {
        t,
        wall,
        dt,
        channel: ch.name,
        journey: 'checkout',
        step: null,
        planned: orders,
        started: orders,
        completed: orders,
        dropped: 0,
        failedIterations: 0,
      };
      lines.push(JSON.stringify(it));
      const rec: SeriesRecord = {
        t,
        wall,
        dt,
        channel: ch.name,
        journey: 'browse',
        step: 'GET /api/products',
        requests,
        failed,
        status: { '2xx': requests - failed, '3xx': 0, '4xx': 0, '5xx': failed },
      };
      const ms = ch.latencyMs(t);
      if (mode === 'live') {
        hist.reset();
        if (requests > 0) hist.recordValueWithCount(Math.max(1, round(ms * 1000)), requests);
        rec.latency = hdr.encodeIntoCompressedBase64(hist);
      } else rec.latencyEstimate = { p50: ms, p90: ms, p95: ms, p99: ms, max: ms };
      lines.push(JSON.stringify(rec));
    }
  }
  writeFileSync(join(dir, RUN_FILES.series), `${lines.join('\n')}\n`);
  const period = spec.period ?? 60;
  if (spec.services) {
    const tl: string[] = [];
    for (let t = eventStart; t < spec.eventEnd; t += period)
      for (const s of spec.services) {
        const running = s.running(t);
        const requests = s.requests(t);
        const r: TimelineRecord = {
          t,
          period,
          service: s.name,
          desired: s.desired?.(t) ?? running,
          running,
          pending: Math.max(0, (s.desired?.(t) ?? running) - running),
          cpu: s.cpu?.(t) ?? null,
          memory: null,
          requests,
          requestsPerTarget: running > 0 ? requests / running : null,
          responseTimeMs: null,
          http5xx: 0,
          source: mode === 'live' ? 'local' : 'simulator',
          provenance: mode === 'live' ? 'measured' : 'simulated',
        };
        const store = s.store?.(t);
        if (store) r.store = store;
        if (s.eventsPublished) r.eventsPublished = s.eventsPublished(t);
        tl.push(JSON.stringify(r));
      }
    writeFileSync(join(dir, RUN_FILES.timeline), `${tl.join('\n')}\n`);
  }
  if (spec.activities) writeFileSync(join(dir, RUN_FILES.activities), JSON.stringify(spec.activities));
  if (spec.calibration) writeFileSync(join(dir, RUN_FILES.calibration), JSON.stringify(spec.calibration));
  if (!spec.noSummary) {
    const summary = {
      formatVersion: RUN_FORMAT_VERSION,
      mode,
      valid: meta.valid,
      invalidReasons: meta.invalidReasons,
      endReason: meta.endReason,
      partial: spec.partial ?? false,
      durationSeconds: (spec.eventEnd - eventStart) / timeScale,
      eventStart,
      eventEnd: spec.eventEnd,
      timeScale,
      ...(spec.summaryExtra ?? {}),
    } as Partial<RunSummary>;
    writeFileSync(join(dir, RUN_FILES.summary), JSON.stringify(summary));
  }
  return dir;
}

/** A scaling activity for fixtures. */
export function fixtureActivity(
  service: string,
  eventTime: number,
  from: number,
  to: number,
): ScalingActivity {
  return {
    ActivityId: `fixture-${service}-${eventTime}`,
    ServiceNamespace: 'ecs',
    ResourceId: `service/peakday/${service}`,
    ScalableDimension: 'ecs:service:DesiredCount',
    Description: `Setting desired count to ${to}.`,
    Cause: 'monitor alarm TargetTracking-high in state ALARM triggered policy cpu',
    StartTime: new Date(Date.UTC(2026, 10, 25) + eventTime * 1000).toISOString(),
    StatusCode: 'Successful',
    eventTime,
    fromCapacity: from,
    toCapacity: to,
  };
}
