/**
 * What every telemetry source is: given a run (its metadata and clocks) and options, it returns the
 * run's timeline and scaling activities in one format. Sources are found through the registry in
 * sources/index.ts; `peakday collect --source <name>` picks one.
 */
import type { PeakdayConfig } from '../../core/config.ts';
import { PeakdayError } from '../../core/errors.ts';
import type { EdgeTimelineRecord, RunMeta, ScalingActivity, TimelineRecord } from '../../core/run-format.ts';
import type { RunWindow } from '../timeline.ts';

/** Options from the command line; each source reads the ones it needs. */
export interface CollectOptions {
  /**
   * local: the stack's data directory (default: asked of the run's target, GET /_peakday/info; then
   * the stack of `cwd`, `.peakday/stack.json` or `.peakday/stack-data`).
   */
  stackDir?: string;
  /** local: the working directory whose stack to look for (default: the process's). */
  cwd?: string;
  /** cloudwatch: AWS region (default: the SDK's: AWS_REGION, profile). */
  region?: string;
  /** cloudwatch: ECS cluster name. */
  cluster?: string;
  /** Services to collect (default: all the source can discover). */
  services?: string[];
  /** cloudwatch: DynamoDB tables and EventBridge buses to read besides those named in task definitions. */
  tables?: string[];
  eventBuses?: string[];
  /**
   * cloudwatch: a CloudFront distribution in front of the stack (the stack file's `distributionId`):
   * its metrics (read in us-east-1, where CloudFront publishes them) become the run's edge records.
   */
  distributionId?: string;
  /** cloudwatch: tag key:value that marks the services to collect (default peakday:stack present). */
  tag?: string;
  /**
   * cloudwatch: the user's own CloudWatch metrics per service (`metrics:` of peakday.config.yaml):
   * requests, latency or queue depth by namespace, name, dimensions and statistic. They take the
   * place of the discovered metric for that field.
   */
  customMetrics?: PeakdayConfig['metrics'];
  /** cloudwatch: metric period in seconds (default: the finest CloudWatch keeps for the data's age). */
  period?: number;
  /** Endpoint override (tests; AWS_ENDPOINT_URL also works). */
  endpoint?: string;
  /** Credentials override (tests); default the SDK's provider chain. */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Current time (epoch ms) for retention rules; default Date.now() at the edge. */
  nowMs?: number;
  /**
   * Ctrl-C (set by the collect workflow, not a flag): aborts the source's requests in flight (the AWS
   * SDK's `abortSignal`, the local stack's info request) and its waits, and nothing is written.
   */
  signal?: AbortSignal;
}

/** The run as a source sees it. */
export interface CollectContext {
  dir: string;
  meta: RunMeta;
  window: RunWindow;
}

/**
 * A service as discovery found it (CloudWatch: ECS DescribeServices and DescribeTaskDefinition): what
 * the cost model prices (task size, CPU architecture, launch type or capacity provider) and what was
 * read for it. Kept in telemetry.json.
 */
export interface DiscoveredService {
  name: string;
  vcpu?: number;
  memoryGb?: number;
  cpuArchitecture: 'X86_64' | 'ARM64';
  launchType?: string;
  capacityProvider?: string;
  targetGroup?: string;
  loadBalancer?: string;
  discoveryNames: string[];
  tables: string[];
  eventBuses: string[];
}

/** What a source returns. */
export interface CollectResult {
  timeline: TimelineRecord[];
  activities: ScalingActivity[];
  /** True when some data could not be read (PartialData, missing periods, failed services). */
  partial: boolean;
  /** What is missing or was assumed, one sentence each, shown by `collect` and kept for reports. */
  notes: string[];
  /** The services as discovered (cloudwatch). */
  discovered?: DiscoveredService[];
  /** The edge's metrics per period (local: the stack's edge, under CloudFront's names), when it has one. */
  edge?: EdgeTimelineRecord[];
}

/** A telemetry source. */
export interface TelemetrySource {
  description: string;
  collect(ctx: CollectContext, options: CollectOptions): Promise<CollectResult>;
}

/** What a source (and collect) throws when the collect's AbortSignal fired during `what` (exit 130). */
export function collectInterrupted(what: string): PeakdayError {
  return new PeakdayError('collect-interrupted', `collect was interrupted during ${what}`, {
    hint: 'collect again: the source still holds the data',
  });
}
