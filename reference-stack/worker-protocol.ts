/**
 * The contract between one replica process (`reference-stack/worker.ts`) and the orchestrator that
 * starts it: the configuration passed in the `PEAKDAY_WORKER` environment variable, and the IPC
 * messages exchanged over `process.send` when the worker was forked with an IPC channel.
 *
 * Workers only *count*; the orchestrator turns period counters into CloudWatch-named metrics (EMF),
 * so the telemetry format lives in one place.
 */
import type { EmulationFidelity } from './capacity/emulator.ts';
import type { DynamoStoreConfig } from './store/dynamodb.ts';
import type { Arch, ServiceName, TaskSize } from './topology.ts';

/** Name of the environment variable holding the worker's JSON configuration. */
export const WORKER_ENV = 'PEAKDAY_WORKER';

/** Capacity emulation parameters of one replica (defaults in reference-stack/capacity/params.ts). */
export interface CapacityParams {
  /** Bounded queue length per replica, beyond which requests get 503 + Retry-After (assumption). */
  queueLimit?: number;
  /** Retry-After seconds sent with a 503 from a full queue. */
  retryAfterSeconds?: number;
  /** Emulated CPU a task spends on itself per vCPU (runtime, health checks, agents), in % (assumption). */
  taskOverheadCpuPct?: number;
  /** Resident memory of an idle task, MB (assumption, for MemoryUtilization). */
  taskBaseMemoryMb?: number;
  /** Memory held per in-flight request, MB (assumption). */
  requestMemoryMb?: number;
  /** Multiplies every calibrated demand (default 1: the committed calibration as is). */
  demandMultiplier?: number;
  /** Disable the emulation entirely (tests of pure behaviour). */
  disabled?: boolean;
}

/** Store capacity model parameters (defaults in reference-stack/store/capacity.ts). */
export interface StoreCapacityParams {
  /** Read units per second per partition key (DynamoDB: 3,000). */
  partitionReadUnitsPerSec?: number;
  /** Write units per second per partition key (DynamoDB: 1,000). */
  partitionWriteUnitsPerSec?: number;
  /** Scale applied to the DynamoDB limits for the local stack (assumption; see docs/reference-stack.md). */
  localScale?: number;
  /** Initial "previous peak" of a table, units/s before scaling (assumption). */
  initialPeakReadUnits?: number;
  initialPeakWriteUnits?: number;
  /** Event seconds after which a new peak becomes the "previous peak" (DynamoDB: ~30 min). */
  peakAdaptEventSeconds?: number;
  /** Disable the model (unlimited). */
  disabled?: boolean;
}

/** Domain parameters that a run may override (all assumptions with documented defaults). */
export interface DomainParams {
  /** Catalog seed and size (scenarios/catalog.ts). */
  catalogSeed?: number;
  catalogProducts?: number;
  /** Reservation time to live, event seconds. */
  reservationTtlSeconds?: number;
  /** Idle time after which a cart with items is abandoned, event seconds. */
  cartAbandonSeconds?: number;
  /** Simulated payment provider: median latency (wall ms), log-normal sigma, failure rate. */
  paymentMedianMs?: number;
  paymentSigma?: number;
  paymentFailureRate?: number;
  /** Seed of the payment provider's randomness. */
  paymentSeed?: number;
  /** Bus: probability that a delivery is repeated (exercises idempotent consumers). */
  busDuplicateRate?: number;
}

/** The JSON in `PEAKDAY_WORKER`. */
export interface WorkerConfig {
  arch: Arch;
  service: ServiceName;
  /** Port to listen on; 0 picks an ephemeral port (reported in the `ready` message). */
  port: number;
  host: string;
  /** Directory holding the SQLite files (shared by every replica of a service). */
  dataDir: string;
  /** Base URLs of the other services (headless), e.g. {catalog: 'http://127.0.0.1:4101'}: their load balancers. */
  peers: Partial<Record<ServiceName, string>>;
  /** Base URL of the event bus (headless); absent in the monolith (in-process bus). */
  busUrl?: string;
  /**
   * The stack's edge cache (reference-stack/edge/), told of every PriceChanged so it purges the pages
   * showing that price: by the bus in headless, by the monolith's in-process delivery in the monolith.
   */
  edgeUrl?: string;
  taskSize: TaskSize;
  /** Event clock: event seconds per wall second, event time at `startedAtEpochMs`. */
  timeScale: number;
  eventStart: number;
  /** Unix epoch ms at which event time was `eventStart` (defaults to the worker's start). */
  startedAtEpochMs?: number;
  /** Replica index within its service (for logs and stats). */
  replica?: number;
  /** Replicas of this service serving at start (default 1); updated by `replicas` messages. */
  replicas?: number;
  /** Wall ms between stats messages (default 1000). */
  statsIntervalMs?: number;
  capacity?: CapacityParams;
  store?: StoreCapacityParams;
  domain?: DomainParams;
  /**
   * Keep the domain's shared state in DynamoDB (the DynamoDB store adapter) instead of the SQLite
   * files: the endpoint (absent on AWS), region and physical table names.
   */
  dynamodb?: DynamoStoreConfig;
  /**
   * Deliver the outbox to this Amazon EventBridge bus (PutEvents) instead of the local HTTP bus: set
   * on AWS from `PEAKDAY_EVENT_BUS` (aws-env.ts). `endpoint` only for a local AWS endpoint.
   */
  eventBus?: { name: string; region: string; endpoint?: string };
  /**
   * Consume the events routed to this SQS queue (the EventBridge rule's target for this service's
   * consumer modules): set on AWS from `PEAKDAY_EVENT_QUEUE_URL` (aws-env.ts).
   */
  /**
   * The CloudFront distribution in front of the stack (on AWS, from `PEAKDAY_DISTRIBUTION_ID`, set for
   * the deployable that publishes PriceChanged): its relay invalidates the pages of every price change it
   * delivered (reference-stack/cloudfront-purge.ts), as the local edge purges them.
   */
  cloudFront?: { distributionId: string; endpoint?: string };
  eventQueue?: {
    url: string;
    region: string;
    endpoint?: string;
    /** Long-poll wait and retry backoff (reference-stack/bus/sqs-consumer.ts; defaults 20, 2, 60 s). */
    waitSeconds?: number;
    retryBaseSeconds?: number;
    retryMaxSeconds?: number;
  };
}

/** Consumed capacity of one table in one period. */
export interface StoreTableStats {
  consumedReadUnits: number;
  consumedWriteUnits: number;
  throttledReads: number;
  throttledWrites: number;
  /** Throttles caused by one partition key exceeding its limit (hot partition). */
  hotPartitionThrottles: number;
  /** The hottest partition key of the period and its units. */
  hottestKey?: string;
  hottestKeyUnits?: number;
}

/** Period counters of one replica; every counter is the delta since the previous `stats` message. */
export interface WorkerStats {
  type: 'stats';
  service: ServiceName;
  replica: number;
  pid: number;
  /** Sequence number, starting at 1. */
  seq: number;
  /** Wall epoch ms of the period's start and end. */
  periodStartMs: number;
  periodEndMs: number;
  /** Requests answered, by status class. */
  requests: number;
  status2xx: number;
  status3xx: number;
  status4xx: number;
  status5xx: number;
  /** 503s from a full queue (included in status5xx). */
  rejected: number;
  /** Emulated vCPU-ms busy in the period (holds of demand, incl. task overhead). */
  busyCpuMs: number;
  /** Emulated vCPU count of the task: CPUUtilization = busyCpuMs / (vcpu × (end − start)) × 100. */
  vcpu: number;
  /** Emulated CPU utilization of the period, %. */
  cpuUtilization: number;
  /** Emulated memory utilization at the end of the period, %. */
  memoryUtilization: number;
  /** Queue length at the end of the period and its peak during it. */
  queueLength: number;
  queuePeak: number;
  /** In-flight requests at the end of the period. */
  inFlight: number;
  /** Sum and max of response times (wall ms) of requests answered in the period. */
  latencySumMs: number;
  latencyMaxMs: number;
  /** Store counters per table. */
  store: Record<string, StoreTableStats>;
  /** Events published and consumed (applied, duplicates skipped). */
  eventsPublished: number;
  eventsConsumed: number;
  eventsDuplicate: number;
  /** Holds that ended in the period and how late the host let them end (capacity/emulator.ts). */
  emulation?: EmulationFidelity;
}

/** Sent once when the HTTP server listens. */
export interface WorkerReady {
  type: 'ready';
  service: ServiceName;
  replica: number;
  pid: number;
  port: number;
}

/** Sent when the worker hits an unrecoverable error just before it exits. */
export interface WorkerFatal {
  type: 'fatal';
  service: ServiceName;
  replica: number;
  message: string;
  /** The error's code: a system errno (`EMFILE`, `ENOSPC`) or a peakday catalog code, when it has one. */
  code?: string;
}

/** Messages a worker sends to its parent. */
export type WorkerToParent = WorkerReady | WorkerStats | WorkerFatal;

/** Re-anchors the event clock (e.g. when a run starts with its own time scale). */
export interface ClockMessage {
  type: 'clock';
  timeScale: number;
  eventStart: number;
  /** Epoch ms at which event time was `eventStart` (defaults to now). */
  startedAtEpochMs?: number;
}

/** Stop accepting new requests, finish in-flight ones, send final stats, then exit 0. */
export interface DrainMessage {
  type: 'drain';
}

/** Send a stats message now (ends the current period early). */
export interface FlushMessage {
  type: 'flush';
}

/**
 * How many replicas of this service are serving now. Each replica enforces its share (1/count) of
 * the store's partition and table limits, since the load balancer spreads traffic evenly.
 */
export interface ReplicasMessage {
  type: 'replicas';
  count: number;
}

/** Messages the parent sends to a worker. */
export type ParentToWorker = ClockMessage | DrainMessage | FlushMessage | ReplicasMessage;

/** Reads and checks the worker configuration from the environment. Throws with a clear message. */
export function parseWorkerConfig(raw: string | undefined): WorkerConfig {
  if (!raw)
    throw new Error(
      `${WORKER_ENV} is not set: a worker is started by the orchestrator or test/stack-helper.ts`,
    );
  const c = JSON.parse(raw) as WorkerConfig;
  const missing = (
    ['arch', 'service', 'port', 'dataDir', 'taskSize', 'timeScale', 'eventStart'] as const
  ).filter((k) => c[k] === undefined);
  if (missing.length > 0) throw new Error(`${WORKER_ENV} lacks: ${missing.join(', ')}`);
  return { ...c, host: c.host ?? '127.0.0.1', peers: c.peers ?? {} };
}
