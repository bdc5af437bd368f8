/**
 * CloudWatch Embedded Metric Format (EMF) for the local stack's telemetry, writer and reader.
 *
 * Every period (60 s of EVENT time; 1 s of wall time at 60x) the orchestrator writes one JSON line per
 * (namespace, dimension values) to `<dataDir>/telemetry/metrics.ndjson`, under the same namespaces,
 * metric names, units and dimensions CloudWatch uses, so the telemetry stage reads the local stack and
 * a real ECS deployment the same way. A record:
 *
 *   {"_aws":{"Timestamp":1764033600000,"CloudWatchMetrics":[{"Namespace":"AWS/ECS",
 *     "Dimensions":[["ClusterName","ServiceName"]],
 *     "Metrics":[{"Name":"CPUUtilization","Unit":"Percent"},{"Name":"MemoryUtilization","Unit":"Percent"}]}]},
 *    "ClusterName":"peakday-headless","ServiceName":"catalog",
 *    "CPUUtilization":42.5,"MemoryUtilization":18.2,
 *    "peakday":{"eventTime":120,"period":60,"service":"catalog","arch":"headless"}}
 *
 * - `_aws.Timestamp`: wall-clock epoch ms at which the period closed (EMF requires epoch ms).
 * - Dimension values and metric values are top-level members, as EMF specifies.
 * - `peakday` (an EMF "property", ignored by CloudWatch): `eventTime` is the event time (s) at which the
 *   period STARTS, `period` its length in event seconds; timelines align on these, never on wall time.
 *   `service` names the deployable the record belongs to (ALB and DynamoDB records do not carry a
 *   ServiceName dimension).
 *
 * Namespaces written (docs/sources.md, "CloudWatch metric names"):
 *   AWS/ECS               CPUUtilization, MemoryUtilization (Percent)             ClusterName, ServiceName
 *   ECS/ContainerInsights RunningTaskCount, DesiredTaskCount, PendingTaskCount   ClusterName, ServiceName
 *   AWS/ApplicationELB    RequestCount, RequestCountPerTarget, HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count,
 *                         HealthyHostCount, UnHealthyHostCount (Count), TargetResponseTime (Seconds)
 *                                                                                LoadBalancer, TargetGroup
 *   AWS/DynamoDB          ConsumedReadCapacityUnits, ConsumedWriteCapacityUnits  TableName
 *   AWS/DynamoDB          ThrottledRequests                                       TableName, Operation
 *   Peakday/Events        EventsPublished (Count, custom)                         ClusterName, ServiceName
 *   Peakday/Emulation     HoldCount, StretchedHoldCount (Count), EmulatedServiceTime,
 *                         AddedServiceTime, QueuedTime (Milliseconds) (custom, local only)    ClusterName, ServiceName
 *   AWS/CloudFront        Requests, BytesDownloaded (None), CacheHitRate, 4xxErrorRate, 5xxErrorRate,
 *                         TotalErrorRate (Percent), OriginLatency (Milliseconds) DistributionId, Region
 *   Peakday/Edge          Requests, CacheHits, CacheMisses, CachePasses, OriginRequests (Count),
 *                         CacheHitRate (Percent) (custom, local only)             DistributionId, Route
 *   Peakday/Edge          Invalidations, PurgedObjects (Count) (custom)           DistributionId
 *
 * Caveat: real EMF cannot publish into the reserved `AWS/` namespaces; on ECS those metrics come from
 * AWS itself and the services' own EMF would use a custom namespace. Locally we emit the AWS names so
 * that one reader serves both.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PeakdayError } from '../../core/errors.ts';

/** CloudWatch units used by the stack's metrics. */
export type EmfUnit = 'Percent' | 'Count' | 'Seconds' | 'Milliseconds' | 'None';

/** The namespaces the stack emits; a typed registry of their metrics, units and dimension sets. */
export const EMF_NAMESPACES = {
  'AWS/ECS': {
    dimensions: ['ClusterName', 'ServiceName'],
    metrics: { CPUUtilization: 'Percent', MemoryUtilization: 'Percent' },
  },
  'ECS/ContainerInsights': {
    dimensions: ['ClusterName', 'ServiceName'],
    metrics: { RunningTaskCount: 'Count', DesiredTaskCount: 'Count', PendingTaskCount: 'Count' },
  },
  'AWS/ApplicationELB': {
    dimensions: ['LoadBalancer', 'TargetGroup'],
    metrics: {
      RequestCount: 'Count',
      RequestCountPerTarget: 'Count',
      TargetResponseTime: 'Seconds',
      HTTPCode_Target_5XX_Count: 'Count',
      HTTPCode_ELB_5XX_Count: 'Count',
      HealthyHostCount: 'Count',
      UnHealthyHostCount: 'Count',
    },
  },
  'AWS/DynamoDB': {
    dimensions: ['TableName'],
    metrics: { ConsumedReadCapacityUnits: 'Count', ConsumedWriteCapacityUnits: 'Count' },
  },
  'AWS/DynamoDB#throttles': {
    dimensions: ['TableName', 'Operation'],
    metrics: { ThrottledRequests: 'Count' },
  },
  // A custom namespace (EventBridge's own AWS/Events metrics are per rule, not per publisher): the
  // domain events each service published, which the cost model charges at EventBridge's price.
  'Peakday/Events': {
    dimensions: ['ClusterName', 'ServiceName'],
    metrics: { EventsPublished: 'Count' },
  },
  // A custom namespace, local stack only: whether the host gave the emulated tasks their capacity
  // (holds that ended in the period, those the host stretched beyond the bound, the emulated service
  // time and the time the host added; reference-stack/capacity/emulator.ts).
  'Peakday/Emulation': {
    dimensions: ['ClusterName', 'ServiceName'],
    metrics: {
      HoldCount: 'Count',
      StretchedHoldCount: 'Count',
      EmulatedServiceTime: 'Milliseconds',
      AddedServiceTime: 'Milliseconds',
      QueuedTime: 'Milliseconds',
    },
  },
  // The edge cache (reference-stack/edge/) under CloudFront's names: a distribution's metrics in
  // Region=Global (CacheHitRate and OriginLatency are CloudFront's "additional metrics").
  'AWS/CloudFront': {
    dimensions: ['DistributionId', 'Region'],
    metrics: {
      Requests: 'None',
      BytesDownloaded: 'None',
      CacheHitRate: 'Percent',
      '4xxErrorRate': 'Percent',
      '5xxErrorRate': 'Percent',
      TotalErrorRate: 'Percent',
      OriginLatency: 'Milliseconds',
    },
  },
  // Custom, local only: the edge per route (CloudFront has no per-behaviour metrics) and its purges.
  'Peakday/Edge': {
    dimensions: ['DistributionId', 'Route'],
    metrics: {
      Requests: 'Count',
      CacheHits: 'Count',
      CacheMisses: 'Count',
      CachePasses: 'Count',
      OriginRequests: 'Count',
      CacheHitRate: 'Percent',
    },
  },
  'Peakday/Edge#purges': {
    dimensions: ['DistributionId'],
    metrics: { Invalidations: 'Count', PurgedObjects: 'Count' },
  },
} as const satisfies Record<string, { dimensions: readonly string[]; metrics: Record<string, EmfUnit> }>;

/** A key of EMF_NAMESPACES (the `#suffix` distinguishes two dimension sets of one namespace). */
export type EmfGroup = keyof typeof EMF_NAMESPACES;

/** The `peakday` property of a record: where in event time the period sits, and whose it is. */
export interface EmfPeriodInfo {
  /** Event time (s) at which the period starts. */
  eventTime: number;
  /** Period length in event seconds (60 by default, like CloudWatch's 1-minute metrics). */
  period: number;
  /** The deployable (service) the values belong to. */
  service: string;
  /** The topology the stack runs. */
  arch: string;
}

/** What a caller gives the writer: one group's dimension values and metric values for one period. */
export interface EmfRecordInput {
  group: EmfGroup;
  dimensions: Record<string, string>;
  values: Record<string, number>;
  info: EmfPeriodInfo;
  /** Wall-clock epoch ms; defaults to now at the I/O edge. */
  timestampMs: number;
}

/** One metric value read back from a record: the flat form the telemetry stage consumes. */
export interface EmfDatum {
  namespace: string;
  name: string;
  unit: string;
  dimensions: Record<string, string>;
  value: number;
  timestampMs: number;
  /** From the `peakday` property, when present (always, for records this module wrote). */
  eventTime?: number;
  period?: number;
  service?: string;
  arch?: string;
}

/** Builds one EMF JSON object. Pure; throws on unknown metrics or missing dimensions (a bug, not input). */
export function formatEmfRecord(input: EmfRecordInput): Record<string, unknown> {
  const spec = EMF_NAMESPACES[input.group];
  const namespace = input.group.split('#')[0] as string;
  const units = spec.metrics as Record<string, EmfUnit>;
  const metrics: { Name: string; Unit: EmfUnit }[] = [];
  const record: Record<string, unknown> = {};
  for (const d of spec.dimensions) {
    const v = input.dimensions[d];
    if (typeof v !== 'string' || v.length === 0) {
      throw new PeakdayError('emf-dimension-missing', `${namespace} record lacks dimension ${d}`, {});
    }
    record[d] = v;
  }
  for (const [name, value] of Object.entries(input.values)) {
    const unit = units[name];
    if (unit === undefined) {
      throw new PeakdayError(
        'emf-unknown-metric',
        `${name} is not a ${namespace} metric the stack emits`,
        {},
      );
    }
    if (!Number.isFinite(value)) continue;
    metrics.push({ Name: name, Unit: unit });
    record[name] = value;
  }
  return {
    _aws: {
      Timestamp: Math.round(input.timestampMs),
      CloudWatchMetrics: [{ Namespace: namespace, Dimensions: [[...spec.dimensions]], Metrics: metrics }],
    },
    ...record,
    peakday: { ...input.info },
  };
}

/** Appends EMF records as JSON lines to one file; creates its directory. */
export interface EmfWriter {
  readonly file: string;
  /** Writes a batch (one period) with a single append, so a reader never sees half a period's line. */
  write(records: EmfRecordInput[]): void;
}

/** Creates the writer for `<dataDir>/telemetry/metrics.ndjson` (or any file). */
export function createEmfWriter(file: string): EmfWriter {
  mkdirSync(dirname(file), { recursive: true });
  return {
    file,
    write(records) {
      if (records.length === 0) return;
      const text = records.map((r) => `${JSON.stringify(formatEmfRecord(r))}\n`).join('');
      appendFileSync(file, text);
    },
  };
}

/** A record that is not valid EMF, located by line. */
export interface EmfParseProblem {
  line: number;
  message: string;
}

/**
 * Parses one EMF object (any producer's, not only ours) into data: one datum per metric per
 * dimension set. Returns problems instead of throwing, so a reader can skip a torn last line.
 */
export function parseEmfRecord(obj: unknown): { data: EmfDatum[] } | { error: string } {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) return { error: 'not a JSON object' };
  const rec = obj as Record<string, unknown>;
  const aws = rec._aws as Record<string, unknown> | undefined;
  if (typeof aws !== 'object' || aws === null) return { error: 'missing _aws metadata' };
  const ts = aws.Timestamp;
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return { error: '_aws.Timestamp must be epoch ms' };
  const directives = aws.CloudWatchMetrics;
  if (!Array.isArray(directives)) return { error: '_aws.CloudWatchMetrics must be an array' };
  const info = (typeof rec.peakday === 'object' && rec.peakday !== null ? rec.peakday : {}) as Record<
    string,
    unknown
  >;
  const data: EmfDatum[] = [];
  for (const dir of directives as Record<string, unknown>[]) {
    const ns = dir?.Namespace;
    if (typeof ns !== 'string') return { error: 'a CloudWatchMetrics entry lacks Namespace' };
    const dimSets = Array.isArray(dir.Dimensions) ? (dir.Dimensions as unknown[]) : [[]];
    const metrics = Array.isArray(dir.Metrics) ? (dir.Metrics as Record<string, unknown>[]) : [];
    for (const set of dimSets) {
      if (!Array.isArray(set)) return { error: `${ns}: Dimensions must be arrays of names` };
      const dimensions: Record<string, string> = {};
      for (const d of set) {
        const v = rec[String(d)];
        if (typeof v !== 'string') return { error: `${ns}: dimension ${String(d)} has no string value` };
        dimensions[String(d)] = v;
      }
      for (const m of metrics) {
        const name = m?.Name;
        if (typeof name !== 'string') return { error: `${ns}: a metric lacks Name` };
        const raw = rec[name];
        const values = Array.isArray(raw) ? raw : [raw];
        for (const value of values) {
          if (typeof value !== 'number' || !Number.isFinite(value)) {
            return { error: `${ns}: metric ${name} has no numeric value` };
          }
          const datum: EmfDatum = {
            namespace: ns,
            name,
            unit: typeof m.Unit === 'string' ? m.Unit : 'None',
            dimensions,
            value,
            timestampMs: ts,
          };
          if (typeof info.eventTime === 'number') datum.eventTime = info.eventTime;
          if (typeof info.period === 'number') datum.period = info.period;
          if (typeof info.service === 'string') datum.service = info.service;
          if (typeof info.arch === 'string') datum.arch = info.arch;
          data.push(datum);
        }
      }
    }
  }
  return { data };
}

/** Parses NDJSON text of EMF records. Pure. A torn last line (a writer mid-append) is skipped silently. */
export function parseEmfText(text: string): { data: EmfDatum[]; problems: EmfParseProblem[] } {
  const data: EmfDatum[] = [];
  const problems: EmfParseProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch {
      if (i === lines.length - 1) return;
      problems.push({ line: i + 1, message: 'not valid JSON' });
      return;
    }
    const r = parseEmfRecord(obj);
    if ('error' in r) problems.push({ line: i + 1, message: r.error });
    else data.push(...r.data);
  });
  return { data, problems };
}

/** Reads an EMF NDJSON file (the local stack's metrics); a missing file reads as no data. */
export function readEmfFile(file: string): { data: EmfDatum[]; problems: EmfParseProblem[] } {
  if (!existsSync(file)) return { data: [], problems: [] };
  return parseEmfText(readFileSync(file, 'utf8'));
}
