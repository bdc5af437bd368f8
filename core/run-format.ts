/**
 * The run directory format: the contract between stages (docs/run-directory.md documents every
 * file; later stages read nothing undocumented). `runs/<id>/` holds:
 *
 *   meta.json              RunMeta: what ran, how, how it ended, validity
 *   plan.json              the compiled Plan (scenarios/plan.ts)
 *   series.ndjson          SeriesRecord per interval per tag set, appended while running
 *   engine.ndjson          EngineHealthRecord per second (live runs): scheduler lag, loop delay, CPU
 *   summary.json           RunSummary, written at the end (and rewritten on interruption)
 *   timeline.ndjson        TimelineRecord per service per period (from `collect` or the simulator)
 *   scaling-activities.json ScalingActivity[] in DescribeScalingActivities shape
 *   calibration.json       capacity per task (from `probe`)
 *   report/                renderer outputs (`report`)
 *
 * Times: `t` fields are event seconds; `wall` fields are seconds since the run started.
 * Latency histograms are HDR histograms of microseconds, encoded with hdr-histogram-js
 * `encodeIntoCompressedBase64` (mergeable exactly).
 */

export const RUN_FORMAT_VERSION = 1;

export const RUN_FILES = {
  meta: 'meta.json',
  plan: 'plan.json',
  series: 'series.ndjson',
  engine: 'engine.ndjson',
  summary: 'summary.json',
  timeline: 'timeline.ndjson',
  activities: 'scaling-activities.json',
  /** How the timeline was collected: source, time, partial, notes (telemetry/collect.ts). */
  telemetry: 'telemetry.json',
  calibration: 'calibration.json',
  /** k6 metrics per second beyond the series (custom Trend/Counter/Rate/Gauge, vus, ...): `peakday import k6`. */
  metrics: 'metrics.ndjson',
  /** The budgets a run brought with it (an imported k6 run's thresholds), in the k6 form of docs/budgets.md. */
  budgets: 'budgets.json',
  reportDir: 'report',
} as const;

export type RunMode = 'live' | 'simulated';
/** `none`: no load run, a window of a system's metrics (`peakday collect --from --to` without a run). */
export type RunDriver = 'builtin' | 'k6' | 'simulator' | 'merge' | 'none';
export type EndReason =
  | 'completed'
  | 'interrupted'
  | 'circuit-breaker'
  | 'budget-abort'
  | 'error'
  | 'running';

/** Where a number came from; every figure a report shows carries one. */
export type Provenance = 'measured' | 'simulated' | 'model-input';

export interface RunMeta {
  formatVersion: typeof RUN_FORMAT_VERSION;
  id: string;
  mode: RunMode;
  driver: RunDriver;
  tool: { name: 'peakday'; version: string };
  profile: { name: string; hash: string; file?: string };
  /** Options as given (secrets never included). */
  options: Record<string, unknown>;
  target?: string;
  timeScale: number;
  eventStart: number;
  eventEnd: number;
  window?: string;
  seed: number;
  startedAt: string;
  endedAt?: string;
  endReason: EndReason;
  /** Why the run stopped early, when it did. */
  endDetail?: string;
  valid: boolean;
  invalidReasons: string[];
  /**
   * Validity criteria the driver could not measure (k6: scheduler lag, ...): `valid` covers only
   * the others, so an unmeasured criterion never reads as met. Absent when every one was measured.
   */
  validityUnmeasured?: string[];
  /** What the driver could measure: k6 has no intended-start latency. */
  capabilities: { intendedStartLatency: boolean; sendLatency: boolean };
  /** Free-form notes shown wherever results are shown (e.g. "k6 measures from send time"). */
  notes: string[];
  segment?: { index: number; count: number };
}

export interface StatusCounts {
  '1xx'?: number;
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
}

export interface ErrorCounts {
  timeout: number;
  refused: number;
  reset: number;
  check: number;
  other: number;
  /**
   * Requests not sent because a template resolved to an empty value (an empty data-pool value, a
   * variable never set): counted as failed requests of their own kind, never sent silently.
   * Absent when none.
   */
  emptyValue?: number;
}

export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

/**
 * One interval of one tag set. `step: null` records carry iteration counts for a (channel, journey);
 * step records carry request counts and latency. Live runs use 1-s wall intervals; simulated runs
 * state their resolution in `dt` and give latency estimates instead of histograms.
 */
export interface SeriesRecord {
  /** Event time at the start of the interval (s). */
  t: number;
  /** Wall offset at the start of the interval (s). */
  wall: number;
  /** Interval length in wall seconds. */
  dt: number;
  channel: string;
  journey: string;
  step: string | null;
  /** k6 runs: the k6 scenario and group (`::a::b`) of the points, when they had them. */
  scenario?: string;
  group?: string;
  planned?: number;
  started?: number;
  completed?: number;
  dropped?: number;
  /** Iterations that ended with at least one failed request. */
  failedIterations?: number;
  requests?: number;
  failed?: number;
  status?: StatusCounts;
  /** Answers 429 Too Many Requests (also counted in `status['4xx']`); absent when none. */
  rateLimited?: number;
  errors?: ErrorCounts;
  checks?: { passed: number; failed: number };
  /** HDR histogram (µs) of latency from the intended start (coordinated-omission safe). */
  latency?: string;
  /** HDR histogram (µs) of latency from the actual send (k6's http_req_duration). */
  latencySend?: string;
  /** Simulated runs: estimated percentiles in ms. */
  latencyEstimate?: Omit<Percentiles, 'count' | 'mean'> & { mean?: number };
}

/** The type of a k6 metric, as k6 declares it (`unknown`: a CSV output without a summary to tell). */
export type K6MetricType = 'counter' | 'gauge' | 'rate' | 'trend' | 'unknown';

/**
 * One k6 metric in one wall second for one tag set (`metrics.ndjson`, written by `peakday import k6`):
 * enough to evaluate any k6 threshold aggregation over any set of seconds exactly (counts, sums, min,
 * max, rates, the last gauge value) or within HDR precision (trend percentiles).
 */
export interface MetricRecord {
  t: number;
  wall: number;
  dt: number;
  metric: string;
  type: K6MetricType;
  channel: string;
  journey: string;
  step: string | null;
  scenario?: string;
  group?: string;
  /** Samples. */
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Samples with a non-zero value (a Rate's passes). */
  nonZero: number;
  /** The second's last sample and its time (epoch ms): a Gauge's value. */
  last: number;
  lastMs: number;
  /**
   * Trends (and unknown types): HDR histogram of round(value × 1000), so ms trends are held in µs like
   * the series' latency and other values to 3 decimals. Negative samples are not in it (`negative`).
   */
  hist?: string;
  negative?: number;
}

export interface EngineHealthRecord {
  t: number;
  wall: number;
  /** Scheduler lag (actual send minus intended start), ms. */
  schedulerLag: { p50: number; p99: number; max: number };
  /** Iterations started in the second more than the validity bound (10 ms) after they were due. */
  lateStarts?: number;
  eventLoopDelay: { p50: number; p99: number; max: number };
  /** Event-loop delay samples in the second over the validity bound (50 ms). */
  loopStalls?: number;
  /** Time the engine thread was runnable but waited for a CPU (Linux schedstat): in all, and per time slice. */
  cpuWait?: { ms: number; perSliceMs: number };
  /** Host CPU use 0..1 over the second, and this process's share. */
  hostCpu: number;
  processCpu: number;
  inFlight: number;
  rssMb: number;
  /**
   * Share of the host's CPU time the hypervisor gave to other guests while this host's CPUs wanted
   * to run (Linux /proc/stat `steal`), 0..1 over the second; absent where unreadable. A late start in
   * a second with steal is the host's, not the engine's (engine/validity.ts says how many).
   */
  steal?: number;
  /** This thread's garbage-collection pauses in the second (perf_hooks 'gc' entries): in all, and the longest (ms). */
  gc?: { ms: number; maxMs: number };
  /** Open-model runs: whether the scheduler spun at any time in the second or only slept (SchedulerMode). */
  scheduler?: 'sleep' | 'spin';
  /** Which input run a record came from, in merged runs (`peakday merge`). */
  source?: string;
  /**
   * With several engine workers (`--workers N`): each worker's own figures, in worker order; the
   * fields above are then the process's (worst lag and delay, summed counts).
   */
  workers?: Pick<
    EngineHealthRecord,
    'schedulerLag' | 'lateStarts' | 'eventLoopDelay' | 'loopStalls' | 'cpuWait' | 'inFlight' | 'gc'
  >[];
}

export interface LatencyBreakdown {
  overall: Percentiles;
  byChannel: Record<string, Percentiles>;
  byJourney: Record<string, Percentiles>;
}

export interface RunSummary {
  formatVersion: typeof RUN_FORMAT_VERSION;
  mode: RunMode;
  valid: boolean;
  invalidReasons: string[];
  /** As RunMeta.validityUnmeasured: criteria `valid` does not cover. */
  validityUnmeasured?: string[];
  /** What each validity criterion measured, with its bound (engine/validity.ts), valid or not. */
  validityEvidence?: string[];
  endReason: EndReason;
  /** True when the run did not play its whole plan. */
  partial: boolean;
  durationSeconds: number;
  eventStart: number;
  eventEnd: number;
  timeScale: number;
  iterations: { planned: number; started: number; completed: number; dropped: number; failed: number };
  requests: {
    total: number;
    failed: number;
    ratePerSecond: number;
    byStatus: StatusCounts;
    errors: ErrorCounts;
  };
  /** Latency in ms; `intended` is null when the driver cannot measure it (k6). */
  latency: { intended: LatencyBreakdown | null; send: LatencyBreakdown | null };
  schedulerLag: Percentiles | null;
  /** The scheduler-lag HDR histogram (µs, encoded like series histograms), so merges stay exact. */
  schedulerLagHistogram?: string;
}

/** One service in one period, the same whatever the source (local stack, CloudWatch, simulator). */
export interface TimelineRecord {
  t: number;
  period: number;
  service: string;
  desired: number;
  running: number;
  pending: number;
  /** Tasks taking traffic (the target group's HealthyHostCount), when the source reports it. */
  healthy?: number | null;
  cpu: number | null;
  memory: number | null;
  requests: number | null;
  requestsPerTarget: number | null;
  responseTimeMs: number | null;
  http5xx: number | null;
  /**
   * Domain events the service published in the period (its outbox relay's deliveries: to the bus
   * in the headless topology, in process in the monolith). Absent when the source does not report it
   * (CloudWatch, the simulator); the cost model then uses its events-per-order assumption.
   */
  eventsPublished?: number | null;
  store?: { table: string; readUnits: number; writeUnits: number; throttles: number; hotKey?: string };
  /** Every table the service used in the period, busiest first (`store` is the first). */
  stores?: {
    table: string;
    readUnits: number;
    writeUnits: number;
    throttles: number;
    /** CloudWatch: the table's provisioned capacity (absent for on-demand tables). */
    provisionedReadUnits?: number;
    provisionedWriteUnits?: number;
    /**
     * CloudWatch: requests DynamoDB throttled in the period (ThrottledRequests, by TableName and
     * Operation), in all and by operation; absent when none was reported.
     */
    throttledRequests?: number;
    throttledOperations?: Record<string, number>;
  }[];
  /** CloudWatch: percentiles of the service's response time (ALB TargetResponseTime, or Service Connect). */
  responseTimeP50Ms?: number | null;
  responseTimeP95Ms?: number | null;
  responseTimeP99Ms?: number | null;
  /**
   * CloudWatch: the service's load balancer's own 5xx and rejected connections (load-balancer level,
   * shared by every target group behind it; not in `http5xx`).
   */
  elb5xx?: number | null;
  rejectedConnections?: number | null;
  /** CloudWatch: the event buses the service names (EventBridge Invocations, FailedInvocations, ThrottledRules). */
  eventInvocations?: number | null;
  eventFailedInvocations?: number | null;
  eventThrottledRules?: number | null;
  /**
   * Where `requests` came from: the service's target group, its Service Connect proxy, or a metric
   * the user mapped to it in peakday.config.yaml (`metrics:`).
   */
  requestsFrom?: 'load-balancer' | 'service-connect' | 'custom-metric';
  /** A queue's depth the user mapped to the service (`metrics.<service>.queueDepth`). */
  queueDepth?: number | null;
  /**
   * Whether the host gave the local stack's emulated tasks the capacity they emulate in this period:
   * holds of emulated CPU that ended, how many the host stretched beyond the bound, the emulated
   * service time and the time the host added (telemetry/emulation.ts). Local stack only.
   */
  emulation?: { holds: number; stretched: number; emulatedMs: number; addedMs: number; queuedMs?: number };
  source: 'local' | 'cloudwatch' | 'simulator';
  provenance: Provenance;
  /**
   * Fields the source read for this service but got no datapoint for in this period: unknown, not
   * zero (`running`, `desired` and `pending` then hold 0 only as placeholders). A record whose every
   * read field is missing is a period the service reported nothing in, kept so that the gap shows.
   */
  missing?: string[];
  /** The service reported no datapoint at all in this period (every field is in `missing`). */
  noData?: boolean;
  /** Some of the record's metrics came back incomplete; `partialFields` names them. */
  partial?: boolean;
  partialFields?: string[];
}

/** One route of the edge in one period (the local edge's Peakday/Edge metrics, by Route). */
export interface EdgeRoutePeriod {
  Requests: number;
  /** Served from the cache (collapsed misses included). */
  CacheHits: number;
  /** Cacheable, fetched from the origin. */
  CacheMisses: number;
  /** Not cacheable (the API, the cart, POSTs): forwarded. */
  CachePasses: number;
  /** Requests the edge sent to the origin. */
  OriginRequests: number;
  /** Hits over cacheable requests (hits + misses), percent; null when the route had none. */
  CacheHitRate: number | null;
}

/**
 * The edge (a CloudFront distribution, or the local edge that stands in for one) in one period, in
 * timeline.ndjson beside the services' records (`service: "edge"`), under CloudFront's metric names:
 * the distribution's Requests, BytesDownloaded, CacheHitRate (percent of cacheable requests),
 * OriginLatency (ms) and error rates (AWS/CloudFront), per route the counts the local edge keeps
 * (Peakday/Edge: CloudFront has no per-behaviour metrics), and the origin offload. `readTimeline`
 * leaves these records out (they are not a service); `readEdgeTimeline` reads them.
 */
export interface EdgeTimelineRecord {
  t: number;
  period: number;
  service: 'edge';
  kind: 'edge';
  Requests: number;
  BytesDownloaded: number | null;
  CacheHitRate: number | null;
  OriginLatency: number | null;
  '4xxErrorRate'?: number | null;
  '5xxErrorRate'?: number | null;
  TotalErrorRate?: number | null;
  /**
   * Requests the edge sent to the origin, over every route; null when the source cannot tell (CloudFront
   * publishes no origin request count: an edge collected from CloudWatch).
   */
  OriginRequests: number | null;
  /** Share of the requests the edge answered without the origin (1 − OriginRequests / Requests). */
  originOffload: number | null;
  routes: Record<string, EdgeRoutePeriod>;
  /** Price changes that purged cached pages, and the objects they purged. */
  Invalidations?: number;
  PurgedObjects?: number;
  source: 'local' | 'cloudwatch' | 'simulator';
  provenance: Provenance;
}

/** Whether a timeline.ndjson line is the edge's, not a service's. */
export function isEdgeRecord(r: { kind?: unknown }): r is EdgeTimelineRecord {
  return r.kind === 'edge';
}

/**
 * How close a scale-out decided by peakday's autoscaler (the local stack's or the simulator's) was to
 * asking for another capacity: the metric value the deciding policy read, and the values at which it
 * would have asked for one step fewer tasks (`lower`: at or below it for target tracking; below a
 * step's lower bound) or more (`upper`: above it; at or above a step's upper bound). Null where no
 * value would change it (the lowest step; a capacity clamped at its maximum has no `upper`).
 * Application Auto Scaling does not report the value, so activities read from AWS carry none.
 */
export interface DecisionBoundary {
  /** The metric as the policy names it (e.g. ECSServiceAverageCPUUtilization). */
  metric: string;
  value: number;
  lower: number | null;
  upper: number | null;
}

/** A scaling activity in DescribeScalingActivities' shape (times as ISO strings, plus event time). */
export interface ScalingActivity {
  ActivityId: string;
  ServiceNamespace: 'ecs';
  ResourceId: string;
  ScalableDimension: 'ecs:service:DesiredCount';
  Description: string;
  Cause: string;
  StartTime: string;
  EndTime?: string;
  StatusCode: 'Pending' | 'InProgress' | 'Successful' | 'Overridden' | 'Unfulfilled' | 'Failed';
  StatusMessage?: string;
  NotScaledReasons?: { Code: string; MaxCapacity?: number; MinCapacity?: number; CurrentCapacity?: number }[];
  /** Event time of StartTime (s). */
  eventTime: number;
  fromCapacity?: number;
  toCapacity?: number;
  /** A scale-out's distance from another capacity (peakday's autoscaler only). */
  boundary?: DecisionBoundary;
}
