import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../../core/errors.ts';
import { readEdgeTimeline, readTimeline } from '../../core/run-directory.ts';
import type { ScalingActivity, TimelineRecord } from '../../core/run-format.ts';
import { tasksAt } from '../../reference-stack/autoscaling/decide.ts';
import { createLiveAutoscaler, wallTimestamp } from '../../reference-stack/autoscaling/live-autoscaler.ts';
import { loadScaling } from '../../reference-stack/autoscaling/scaling-file.ts';
import type { EdgePeriodMetrics } from '../../reference-stack/edge/edge-server.ts';
import {
  createEmfWriter,
  type EmfRecordInput,
  formatEmfRecord,
  parseEmfRecord,
} from '../../reference-stack/orchestrator/emf.ts';
import {
  computeEdgeEmfRecords,
  computeEmfRecords,
  type ServicePeriodMetrics,
} from '../../reference-stack/orchestrator/stack.ts';
import { appendScalingActivity, telemetryPaths } from '../../reference-stack/orchestrator/telemetry-files.ts';
import { collectTelemetry } from '../collect.ts';
import { writeTestRun } from '../test-run-fixture.ts';
import { timelineFromEmf } from './local.ts';

const START = Date.UTC(2026, 10, 25, 12, 0, 0);
const SCALE = 60;

/**
 * Emulates a stack playing event 0..1800 s at 60x: catalog's CPU follows its load divided by its
 * healthy tasks, the live autoscaler scales it, and every period is written as EMF plus activities,
 * exactly where the stack writes them. A period before the run (event time overlapping, wall time
 * earlier) is written too, and must be ignored.
 */
function writeStackTelemetry(): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
  const paths = telemetryPaths(dataDir);
  const emf = createEmfWriter(paths.metrics);
  const clock = { timeScale: SCALE, eventStart: 0 };
  const scaler = createLiveAutoscaler({
    scaling: loadScaling(),
    services: ['catalog'],
    seed: 1,
    startEventTime: 0,
    setDesiredCount: () => {},
    recordActivity: (a) => appendScalingActivity(paths.activities, a),
    timestamp: wallTimestamp(clock, START),
  });
  const write = (
    t: number,
    wallMs: number,
    cpu: number,
    counts: { desired: number; running: number; pending: number; healthy: number },
  ) => {
    const info = { eventTime: t, period: 60, service: 'catalog', arch: 'headless' };
    const records: EmfRecordInput[] = [
      {
        group: 'AWS/ECS',
        dimensions: { ClusterName: 'peakday', ServiceName: 'catalog' },
        values: { CPUUtilization: cpu, MemoryUtilization: 20 },
        info,
        timestampMs: wallMs,
      },
      {
        group: 'ECS/ContainerInsights',
        dimensions: { ClusterName: 'peakday', ServiceName: 'catalog' },
        values: {
          DesiredTaskCount: counts.desired,
          RunningTaskCount: counts.running,
          PendingTaskCount: counts.pending,
        },
        info,
        timestampMs: wallMs,
      },
      {
        group: 'AWS/ApplicationELB',
        dimensions: { LoadBalancer: 'app/peakday/local', TargetGroup: 'targetgroup/catalog/local' },
        values: {
          RequestCount: 600,
          RequestCountPerTarget: 600 / Math.max(1, counts.healthy),
          TargetResponseTime: 0.05,
          HTTPCode_Target_5XX_Count: 2,
          HTTPCode_ELB_5XX_Count: 1,
          HealthyHostCount: counts.healthy,
        },
        info,
        timestampMs: wallMs,
      },
      {
        group: 'AWS/DynamoDB',
        dimensions: { TableName: 'products' },
        values: { ConsumedReadCapacityUnits: 50, ConsumedWriteCapacityUnits: 0 },
        info,
        timestampMs: wallMs,
      },
    ];
    emf.write(records);
  };
  // Before the run: the stack at real time, event 0..120, an hour earlier.
  write(0, START - 3_600_000, 99, { desired: 2, running: 2, pending: 0, healthy: 2 });
  for (let t = 0; t < 1800; t += 60) {
    const state = scaler.states().catalog;
    if (!state) throw new Error('no state');
    const counts = tasksAt(state, t + 60);
    const load = t < 600 ? 60 : 240; // CPU-% of one task's worth of work: 1 task-equivalent, then 4
    const cpu = Math.min(100, (load / Math.max(1, counts.healthy)) * 1);
    const wallEnd = START + ((t + 60) / SCALE) * 1000;
    write(t, wallEnd, cpu, counts);
    scaler.onPeriod(
      { eventTime: t, period: 60, services: { catalog: { cpu, memory: 20, requestCountPerTarget: 300 } } },
      t + 60,
    );
  }
  return dataDir;
}

describe('the local source', () => {
  it('writes a timeline in which catalog’s replicas rise after the spike, with AWS timing, and its activities', async () => {
    const stackDir = writeStackTelemetry();
    const runDir = writeTestRun({ startedAtMs: START, timeScale: SCALE, eventStart: 0, eventEnd: 1800 });
    const { info } = await collectTelemetry(runDir, 'local', { stackDir });
    expect(info).toMatchObject({ source: 'local', partial: false, services: ['catalog'], records: 30 });
    const timeline = readFileSync(join(runDir, 'timeline.ndjson'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TimelineRecord);
    const at = (t: number) => timeline.find((r) => r.t === t);
    expect(at(0)).toMatchObject({
      service: 'catalog',
      period: 60,
      cpu: 30,
      desired: 2,
      running: 2,
      healthy: 2,
      requests: 600,
      responseTimeMs: 50,
      http5xx: 3,
      source: 'local',
      provenance: 'measured',
      store: { table: 'products', readUnits: 50, writeUnits: 0, throttles: 0 },
    });
    // The spike starts at 600; 3 breaching datapoints (600, 660, 720) + 60 s lag → scale-out at 840.
    expect(at(780)?.desired).toBe(2);
    expect(at(840)?.desired).toBeGreaterThan(2);
    expect(timeline[timeline.length - 1]?.running).toBeGreaterThan(2);
    const activities = JSON.parse(
      readFileSync(join(runDir, 'scaling-activities.json'), 'utf8'),
    ) as ScalingActivity[];
    const scaled = activities.filter((a) => a.StatusCode === 'Successful');
    expect(scaled[0]).toMatchObject({
      eventTime: 840,
      fromCapacity: 2,
      ResourceId: 'service/peakday/catalog',
    });
    expect(scaled[0]?.StartTime).toBe(new Date(START + 14_000).toISOString());
  });

  it('says which directory holds no metrics of the run', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
    const runDir = writeTestRun({ startedAtMs: START, timeScale: SCALE, eventStart: 0, eventEnd: 600 });
    await expect(collectTelemetry(runDir, 'local', { stackDir })).rejects.toMatchObject({
      code: 'telemetry-no-data',
      message: expect.stringContaining('metrics.ndjson holds no metrics'),
    });
  });

  it('refuses a run without load data, naming the missing file', async () => {
    const runDir = writeTestRun({
      startedAtMs: START,
      timeScale: SCALE,
      eventStart: 0,
      eventEnd: 600,
      series: false,
    });
    const err = await collectTelemetry(runDir, 'local', { stackDir: '/nonexistent' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PeakdayError);
    expect(err).toMatchObject({ code: 'run-no-load-data', exitCode: 2 });
    expect((err as PeakdayError).message).toContain('series.ndjson');
  });

  it('asks for --stack-dir when the run’s target is not a reachable stack', async () => {
    const runDir = writeTestRun({
      startedAtMs: START,
      timeScale: SCALE,
      eventStart: 0,
      eventEnd: 600,
      target: 'http://127.0.0.1:9',
    });
    const cwd = mkdtempSync(join(tmpdir(), 'peakday-cwd-'));
    await expect(collectTelemetry(runDir, 'local', { cwd })).rejects.toMatchObject({
      code: 'stack-dir-unknown',
      hint: expect.stringContaining('--stack-dir'),
    });
  });

  it('finds the stack of the working directory when the run’s target is gone', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'peakday-cwd-'));
    const emf = createEmfWriter(telemetryPaths(join(cwd, '.peakday', 'stack-data')).metrics);
    emf.write([
      {
        group: 'AWS/ECS',
        dimensions: { ClusterName: 'peakday', ServiceName: 'cart' },
        values: { CPUUtilization: 10, MemoryUtilization: 10 },
        info: { eventTime: 0, period: 60, service: 'cart', arch: 'headless' },
        timestampMs: START + 1000,
      },
    ]);
    const runDir = writeTestRun({
      startedAtMs: START,
      timeScale: SCALE,
      eventStart: 0,
      eventEnd: 60,
      target: 'http://127.0.0.1:9',
    });
    const { info } = await collectTelemetry(runDir, 'local', { cwd });
    expect(info.services).toEqual(['cart']);
  });

  it('marks a timeline with missing periods as partial and says which service', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
    const emf = createEmfWriter(telemetryPaths(dataDir).metrics);
    for (const t of [0, 60]) {
      emf.write([
        {
          group: 'AWS/ECS',
          dimensions: { ClusterName: 'peakday', ServiceName: 'cart' },
          values: { CPUUtilization: 10, MemoryUtilization: 10 },
          info: { eventTime: t, period: 60, service: 'cart', arch: 'headless' },
          timestampMs: START + ((t + 60) / SCALE) * 1000,
        },
      ]);
    }
    writeFileSync(
      join(dataDir, 'telemetry', 'metrics.ndjson'),
      `${readFileSync(join(dataDir, 'telemetry', 'metrics.ndjson'), 'utf8')}{"torn`,
    );
    const runDir = writeTestRun({ startedAtMs: START, timeScale: SCALE, eventStart: 0, eventEnd: 600 });
    const { info } = await collectTelemetry(runDir, 'local', { stackDir: dataDir });
    expect(info.partial).toBe(true);
    expect(info.notes).toContain('cart: 2 of 10 periods have metrics');
  });
});

describe('events published, from the stack to the timeline', () => {
  it('carries each service’s published events into its timeline record (the cost charges them)', () => {
    const svc = (service: string, eventsPublished: number): ServicePeriodMetrics => ({
      service,
      desired: 2,
      running: 2,
      pending: 0,
      healthy: 2,
      cpu: 30,
      memory: 20,
      requestCount: 100,
      requestCountPerTarget: 50,
      targetResponseTime: 0.01,
      target5xx: 0,
      elb5xx: 0,
      tables: {},
      eventsPublished,
    });
    const metrics = {
      eventTime: 120,
      period: 60,
      services: { orders: svc('orders', 7), bus: svc('bus', 7) },
    };
    const records = computeEmfRecords(metrics, {
      arch: 'headless',
      clusterName: 'peakday',
      counts: new Map(),
      timestampMs: START + 3000,
      periodSeconds: 60,
    });
    const data = records.flatMap((r) => {
      const parsed = parseEmfRecord(formatEmfRecord(r));
      return 'data' in parsed ? parsed.data : [];
    });
    const { timeline } = timelineFromEmf(data, {
      startedAtMs: START,
      endedAtMs: START + 30_000,
      timeScale: SCALE,
      eventStart: 0,
      eventEnd: 1800,
    });
    const of = (s: string) => timeline.find((r) => r.service === s && r.t === 120);
    expect(of('orders')?.eventsPublished).toBe(7);
    expect(of('bus')?.eventsPublished).toBe(7);
    expect(of('orders')?.running).toBe(2);
  });
});

describe("the local source: the edge's metrics", () => {
  /** One period of the local edge's counters, as the stack writes them (computeEdgeEmfRecords). */
  const period = (t: number, product: { hits: number; misses: number }, api: number): EdgePeriodMetrics => {
    const zero = {
      requests: 0,
      hits: 0,
      misses: 0,
      passes: 0,
      originRequests: 0,
      bytesOut: 0,
      status4xx: 0,
      status5xx: 0,
      originLatencyMsSum: 0,
    };
    return {
      routes: {
        home: { ...zero },
        category: { ...zero },
        cart: { ...zero },
        product: {
          ...zero,
          requests: product.hits + product.misses,
          hits: product.hits,
          misses: product.misses,
          originRequests: product.misses,
          bytesOut: 3000 * (product.hits + product.misses),
          originLatencyMsSum: 20 * product.misses + t / 60,
        },
        api: { ...zero, requests: api, passes: api, originRequests: api, originLatencyMsSum: 10 * api },
      },
      invalidations: 1,
      purgedObjects: 2,
    };
  };

  it('puts CloudFront’s metrics per period into the timeline: hit rate per route, origin offload, origin latency', async () => {
    const stackDir = mkdtempSync(join(tmpdir(), 'peakday-stack-'));
    const emf = createEmfWriter(telemetryPaths(stackDir).metrics);
    // A service's record too: the edge's records come beside the services', never as one.
    for (let t = 0; t < 600; t += 60) {
      const wallMs = START + ((t + 60) / SCALE) * 1000;
      emf.write([
        {
          group: 'AWS/ECS',
          dimensions: { ClusterName: 'peakday', ServiceName: 'catalog' },
          values: { CPUUtilization: 30, MemoryUtilization: 20 },
          info: { eventTime: t, period: 60, service: 'catalog', arch: 'headless' },
          timestampMs: wallMs,
        },
        ...computeEdgeEmfRecords(period(t, { hits: 90, misses: 10 }, 50), {
          arch: 'headless',
          eventTime: t,
          periodSeconds: 60,
          timestampMs: wallMs,
        }),
      ]);
    }
    const runDir = writeTestRun({ startedAtMs: START, timeScale: SCALE, eventStart: 0, eventEnd: 600 });
    const { info } = await collectTelemetry(runDir, 'local', { stackDir });
    expect(info.services).toEqual(['catalog']);
    expect(info.edgePeriods).toBe(10);
    // The services' readers never see the edge; the edge's reader sees only it.
    expect(readTimeline(runDir).map((r) => r.service)).toEqual(Array(10).fill('catalog'));
    const edge = readEdgeTimeline(runDir);
    expect(edge).toHaveLength(10);
    expect(edge[0]).toMatchObject({
      t: 0,
      period: 60,
      service: 'edge',
      Requests: 150,
      // CloudFront's CacheHitRate: hits over cacheable requests (the API is not cacheable).
      CacheHitRate: 90,
      OriginRequests: 60,
      originOffload: 0.6,
      BytesDownloaded: 300_000,
      Invalidations: 1,
      PurgedObjects: 2,
      source: 'local',
      provenance: 'measured',
    });
    expect(edge[0]?.routes.product).toEqual({
      Requests: 100,
      CacheHits: 90,
      CacheMisses: 10,
      CachePasses: 0,
      OriginRequests: 10,
      CacheHitRate: 90,
    });
    expect(edge[0]?.routes.api?.CacheHitRate).toBeNull();
    // Origin latency: the origin fetches' mean, (200 + 500) ms over 60 fetches at t = 0.
    expect(edge[0]?.OriginLatency).toBeCloseTo(700 / 60, 2);
  });
});
