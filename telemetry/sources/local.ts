/**
 * The `local` telemetry source: the local stack's CloudWatch Embedded Metric Format records
 * (`<dataDir>/telemetry/metrics.ndjson`, reference-stack/orchestrator/emf.ts) and its scaling-activity
 * log, aligned to the run. A record belongs to the run when it was written during the run (wall
 * time, `_aws.Timestamp`) and its period lies in the run's event range; its event time comes from
 * the `peakday.eventTime` property, or, for EMF from another producer, from its timestamp through the
 * run's clock.
 */
import { existsSync } from 'node:fs';
import { request } from 'undici';
import { PeakdayError } from '../../core/errors.ts';
import type { EdgeTimelineRecord, ScalingActivity, TimelineRecord } from '../../core/run-format.ts';
import { type EmfDatum, readEmfFile } from '../../reference-stack/orchestrator/emf.ts';
import { readStackState, statePaths } from '../../reference-stack/orchestrator/state.ts';
import { readScalingActivities, telemetryPaths } from '../../reference-stack/orchestrator/telemetry-files.ts';
import { STORE_METRICS, serviceMetric } from '../metric-map.ts';
import {
  buildTimeline,
  eventTimeAt,
  type MetricSample,
  type RunWindow,
  type StoreSample,
} from '../timeline.ts';
import {
  type CollectContext,
  type CollectOptions,
  type CollectResult,
  collectInterrupted,
  type TelemetrySource,
} from './source.ts';

const DEFAULT_PERIOD = 60;

/** Folds EMF data into the run's timeline. Pure. */
export function timelineFromEmf(
  data: readonly EmfDatum[],
  w: RunWindow,
): { timeline: TimelineRecord[]; periodSeconds: number; skipped: number } {
  const samples: MetricSample[] = [];
  const stores: (StoreSample & { service: string; t: number; period: number })[] = [];
  const emulation = new Map<string, NonNullable<TimelineRecord['emulation']>>();
  let skipped = 0;
  let periodSeconds = DEFAULT_PERIOD;
  for (const d of data) {
    const period = d.period ?? DEFAULT_PERIOD;
    periodSeconds = period;
    const wallSlack = (period / w.timeScale) * 2000 + 2000;
    if (d.timestampMs < w.startedAtMs - wallSlack || d.timestampMs > w.endedAtMs + wallSlack) {
      skipped++;
      continue;
    }
    const t = d.eventTime ?? eventTimeAt(w, d.timestampMs) - period;
    if (t < w.eventStart - period || t >= w.eventEnd + period) {
      skipped++;
      continue;
    }
    const service = d.service ?? d.dimensions.ServiceName;
    if (!service) {
      skipped++;
      continue;
    }
    if (d.namespace === 'Peakday/Events' && d.name === 'EventsPublished') {
      // The stack's custom events metric (reference-stack/orchestrator/emf.ts); CloudWatch has no
      // per-publisher equivalent, so it is read here rather than through the shared metric map.
      samples.push({ service, t, period, field: 'eventsPublished', value: d.value });
      continue;
    }
    const field = EMULATION_FIELDS[d.name];
    if (d.namespace === 'Peakday/Emulation' && field) {
      // The stack's emulation-fidelity metric (reference-stack/capacity/emulator.ts), local only.
      const key = `${service}\u0000${t}`;
      const e = emulation.get(key) ?? { holds: 0, stretched: 0, emulatedMs: 0, addedMs: 0 };
      // QueuedTime is absent from stacks before 2026-12-04: no data, never a zero.
      e[field] = (e[field] ?? 0) + d.value;
      emulation.set(key, e);
      continue;
    }
    const m = serviceMetric(d.namespace, d.name);
    if (m) {
      samples.push({ service, t, period, field: m.field, value: d.value * m.factor, additive: m.additive });
      continue;
    }
    const storeField = (STORE_METRICS as Record<string, 'readUnits' | 'writeUnits' | 'throttles'>)[d.name];
    const table = d.dimensions.TableName;
    if (d.namespace === 'AWS/DynamoDB' && storeField && table) {
      stores.push({ service, t, period, table, [storeField]: d.value });
    }
  }
  const timeline = buildTimeline(samples, stores, 'local');
  for (const r of timeline) {
    const e = emulation.get(`${r.service}\u0000${r.t}`);
    if (e) r.emulation = e;
  }
  return { timeline, periodSeconds, skipped };
}

/**
 * The edge's EMF records (reference-stack/orchestrator/emf.ts: AWS/CloudFront for the distribution,
 * Peakday/Edge per route and its purges) folded into one EdgeTimelineRecord per period, under
 * CloudFront's metric names, with the origin offload (the share of requests the edge answered
 * itself). Records outside the run are skipped as the services' are. Pure.
 */
export function edgeTimelineFromEmf(data: readonly EmfDatum[], w: RunWindow): EdgeTimelineRecord[] {
  const byT = new Map<number, EdgeTimelineRecord>();
  const get = (t: number, period: number) => {
    let r = byT.get(t);
    if (!r) {
      r = {
        t,
        period,
        service: 'edge',
        kind: 'edge',
        Requests: 0,
        BytesDownloaded: null,
        CacheHitRate: null,
        OriginLatency: null,
        OriginRequests: 0,
        originOffload: null,
        routes: {},
        source: 'local',
        provenance: 'measured',
      };
      byT.set(t, r);
    }
    return r;
  };
  for (const d of data) {
    if (d.namespace !== 'AWS/CloudFront' && d.namespace !== 'Peakday/Edge') continue;
    const period = d.period ?? DEFAULT_PERIOD;
    const wallSlack = (period / w.timeScale) * 2000 + 2000;
    if (d.timestampMs < w.startedAtMs - wallSlack || d.timestampMs > w.endedAtMs + wallSlack) continue;
    const t = d.eventTime ?? eventTimeAt(w, d.timestampMs) - period;
    if (t < w.eventStart - period || t >= w.eventEnd + period) continue;
    const r = get(t, period);
    const route = d.dimensions.Route;
    if (d.namespace === 'AWS/CloudFront') {
      if (d.name in DISTRIBUTION_FIELDS) (r as unknown as Record<string, number>)[d.name] = d.value;
    } else if (route) {
      const e = r.routes[route] ?? {
        Requests: 0,
        CacheHits: 0,
        CacheMisses: 0,
        CachePasses: 0,
        OriginRequests: 0,
        CacheHitRate: null,
      };
      r.routes[route] = e;
      if (d.name in e) (e as unknown as Record<string, number>)[d.name] = d.value;
    } else if (d.name === 'Invalidations' || d.name === 'PurgedObjects') r[d.name] = d.value;
  }
  const out = [...byT.values()].sort((a, b) => a.t - b.t);
  for (const r of out) {
    r.OriginRequests = Object.values(r.routes).reduce((n, x) => n + x.OriginRequests, 0);
    r.originOffload = r.Requests > 0 ? Math.round((1 - r.OriginRequests / r.Requests) * 1e4) / 1e4 : null;
  }
  return out;
}

/** The distribution's metrics (AWS/CloudFront) an edge record keeps, by name. */
const DISTRIBUTION_FIELDS = {
  Requests: true,
  BytesDownloaded: true,
  CacheHitRate: true,
  OriginLatency: true,
  '4xxErrorRate': true,
  '5xxErrorRate': true,
  TotalErrorRate: true,
} as const;

/** The Peakday/Emulation metrics and the timeline's `emulation` fields they fill. */
const EMULATION_FIELDS: Record<string, keyof NonNullable<TimelineRecord['emulation']>> = {
  HoldCount: 'holds',
  StretchedHoldCount: 'stretched',
  EmulatedServiceTime: 'emulatedMs',
  AddedServiceTime: 'addedMs',
  QueuedTime: 'queuedMs',
};

/** Keeps the stack's activities that happened during the run's event range. Pure. */
export function localActivitiesInRun(
  activities: readonly ScalingActivity[],
  w: RunWindow,
  period: number,
): ScalingActivity[] {
  return activities
    .filter((a) => a.eventTime >= w.eventStart - period && a.eventTime <= w.eventEnd + period)
    .filter((a) => {
      // A wall-clock StartTime must fall within the run (excludes activity from before the run
      // whose event times overlap); a synthetic one (no wall mapping) is kept on event time alone.
      const at = Date.parse(a.StartTime);
      const wallish = Number.isFinite(at) && Math.abs(at - w.startedAtMs) < 86_400_000;
      return !wallish || (at >= w.startedAtMs - 5000 && at <= w.endedAtMs + 5000);
    })
    .sort((a, b) => a.eventTime - b.eventTime);
}

/** Finds the stack's data directory: the flag, the run's options, or the stack itself. */
async function findStackDir(ctx: CollectContext, options: CollectOptions): Promise<string> {
  if (options.stackDir) return options.stackDir;
  const fromMeta = ctx.meta.options.stackDataDir;
  if (typeof fromMeta === 'string') return fromMeta;
  const target = ctx.meta.target;
  if (target) {
    try {
      const base = new URL(target);
      const r = await request(`${base.origin}/_peakday/info`, {
        headersTimeout: 2000,
        bodyTimeout: 2000,
        signal: options.signal,
      });
      const body = (await r.body.json()) as { dataDir?: unknown };
      if (r.statusCode === 200 && typeof body.dataDir === 'string') return body.dataDir;
    } catch {
      if (options.signal?.aborted) throw collectInterrupted(`asking ${target} for its stack`);
      // not reachable or not a stack: fall through to the stack of the working directory
    }
  }
  const cwd = options.cwd ?? process.cwd();
  const candidates = [readStackState(cwd)?.dataDir, statePaths(cwd).defaultDataDir];
  for (const dir of candidates) {
    if (dir && existsSync(telemetryPaths(dir).metrics)) return dir;
  }
  throw new PeakdayError(
    'stack-dir-unknown',
    `cannot tell where the local stack of ${ctx.dir} keeps its telemetry`,
    {
      hint: `pass --stack-dir <dir> (the stack's data directory, shown by \`peakday stack status\`), run collect where the stack ran (.peakday/stack-data), or start the stack again so ${target ?? 'its target'} answers GET /_peakday/info`,
    },
  );
}

/** The `local` source. */
export const localSource: TelemetrySource = {
  description: "the local stack's EMF metrics and scaling activities (<stack dir>/telemetry/)",
  async collect(ctx, options): Promise<CollectResult> {
    const dir = await findStackDir(ctx, options);
    const paths = telemetryPaths(dir);
    const emf = readEmfFile(paths.metrics);
    const notes: string[] = [];
    if (emf.problems.length > 0) {
      notes.push(
        `${paths.metrics}: ${emf.problems.length} line(s) skipped (first: line ${emf.problems[0]?.line}: ${emf.problems[0]?.message})`,
      );
    }
    const { timeline, periodSeconds } = timelineFromEmf(emf.data, ctx.window);
    const edge = edgeTimelineFromEmf(emf.data, ctx.window);
    if (timeline.length === 0) {
      throw new PeakdayError(
        'telemetry-no-data',
        emf.data.length === 0
          ? `${paths.metrics} holds no metrics`
          : `${paths.metrics} holds no metrics from the time of run ${ctx.meta.id} (${ctx.meta.startedAt})`,
        {
          hint: 'collect from the stack the run targeted, while its data directory still holds that run (is --stack-dir right?)',
        },
      );
    }
    const activities = localActivitiesInRun(
      readScalingActivities(paths.activities),
      ctx.window,
      periodSeconds,
    );
    const expected = Math.floor((ctx.window.eventEnd - ctx.window.eventStart) / periodSeconds);
    const perService = new Map<string, number>();
    for (const r of timeline) perService.set(r.service, (perService.get(r.service) ?? 0) + 1);
    let partial = false;
    for (const [service, n] of perService) {
      if (n < expected - 1) {
        partial = true;
        notes.push(`${service}: ${n} of ${expected} periods have metrics`);
      }
    }
    return { timeline, activities, partial, notes, ...(edge.length > 0 ? { edge } : {}) };
  },
};
