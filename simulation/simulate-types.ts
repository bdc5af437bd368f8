/**
 * The simulator's public vocabulary: its options, the model inputs with their sources, and what it
 * returns. Kept apart from the model's parts (simulate-state, -step, -period, -series, -summary) so
 * that they and every caller name the same types without importing
 */

import type {
  EdgeTimelineRecord,
  Provenance,
  RunSummary,
  ScalingActivity,
  SeriesRecord,
  TimelineRecord,
} from '../core/run-format.ts';
import type { ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import type { DemandTable } from '../reference-stack/capacity/demand-table.ts';
import { CAPACITY_DEFAULTS } from '../reference-stack/capacity/params.ts';
import type { Arch, ServiceName, TaskSize } from '../reference-stack/topology.ts';
import type { LocalStoreLimits } from './local-store.ts';
import type { MixtureComponent } from './queueing.ts';
import type { SeriesColumns } from './series-columns.ts';

/** A model input with where it came from. */
export interface ModelInput<T> {
  value: T;
  source: string;
}

/** Where a service's capacity per task comes from when no calibration measured it. */
export const MODEL_TABLE_SOURCE =
  "model table: the local emulation's demand table (reference-stack/capacity/demand-table.ts)";

/** A service's measured efficiency (from a calibration file), relative to the emulated model. */
export interface ServiceEfficiency {
  /** Measured capacity ÷ modelled capacity (1 = the task serves exactly its vCPU budget). */
  efficiency: number;
  /** Relative uncertainty (± fraction) of the efficiency, from the probe. */
  uncertainty?: number;
  provenance: Provenance;
  source: string;
}

/** Everything a simulation needs besides the plan; all defaults are documented model inputs. */
export interface SimulateOptions {
  arch: Arch;
  scaling: ScalingConfig;
  seed: number;
  /** Event seconds per simulation step (default 1). */
  stepSeconds?: number;
  /** Series resolution in event seconds (default: 60 s, coarser for long events; see `seriesResolution`). */
  resolutionSeconds?: number;
  /** CPU demand table (default: the committed table, reference-stack/capacity/demand-table.ts). */
  demandTable?: DemandTable;
  /** Measured efficiency per service (from a calibration file, `peakday probe`). */
  efficiency?: Partial<Record<ServiceName, ServiceEfficiency>>;
  taskSizes?: Partial<Record<ServiceName, TaskSize>>;
  /** Hot keys the hot pools spread over (default: the catalog's 20 hot SKUs). */
  hotKeys?: number;
  /** Fargate launch rate: burst, then tasks per second (docs/sources.md). */
  launchRate?: { burst: number; perSecond: number };
  /** Account vCPU quota for Fargate; undefined = unlimited. */
  vcpuQuota?: number;
  /**
   * Network latency per hop, ms (assumption): each hop between deployables and the balancer's into
   * the first one.
   */
  hopLatencyMs?: number;
  /** Where a given `hopLatencyMs` came from (default "user"): a replay's is measured from its live run. */
  hopLatencySource?: string;
  /** Requests a task queues per vCPU before shedding (reference-stack/capacity/params.ts). */
  queueLimitPerVcpu?: number;
  /** Task CPU overhead, % (reference-stack/capacity/params.ts). */
  overheadPct?: number;
  /**
   * Whether the task's overhead takes capacity from its requests (default true: a real task's own
   * CPU is spent). The local replicas' emulator only adds it to the CPUUtilization it reports
   * (reference-stack/capacity/emulator.ts), so a replay of a local run sets this false.
   */
  overheadTakesCapacity?: boolean;
  /**
   * The client's per-request timeout (ms): requests that would take longer fail as timeouts and are
   * recorded at the timeout. Default: the engine's (engine/engine.ts, 10 s). Infinity: no timeout.
   */
  clientTimeoutMs?: number;
  store?: Partial<StoreLimits>;
  /**
   * The local store's limits, when replaying a local run: a request that writes one key more than
   * its replica's share of the scaled partition limit allows within a wall second is throttled as
   * the local store throttles it (simulation/local-store.ts). Absent at event scale (DynamoDB's).
   */
  localStore?: LocalStoreLimits;
  /** Metric period of the autoscaler (CloudWatch 1-minute metrics). */
  periodSeconds?: number;
  /**
   * Model the load generator's concurrency cap (plan.maxConcurrency): true when replaying a live
   * run, whose engine dropped what exceeded it; false (default) for the real event's open arrivals.
   */
  clientConcurrencyCap?: boolean;
  /**
   * Start each service at the task count its CPU target-tracking policy holds at the first minute's
   * load (default true; assumption: the system ran at that load before the event). False starts at
   * the scaling file's initial desired count.
   */
  warmStart?: boolean;
  /**
   * Compute summary.json's latency percentiles (default true). `compare`'s coarser sizing trials,
   * which are never written or reported, skip them (their series still carry every estimate).
   */
  summaryLatency?: boolean;
  /**
   * Return every series interval's latency components (`SimulationResult.latencyComponents`,
   * default true): a validation reads them; `compare`, which never does, skips them (69,120 entries
   * for a 48-h run: memory, and each crosses threads with its run).
   */
  latencyComponents?: boolean;
  /**
   * Write the run's timeline and the edge's timeline records (default true). `compare`'s coarser
   * sizing trials, never written or reported, read only their series and task-hours: they skip the
   * records (a record per service and metric period, 25,920 for a 48-h headless run), not the
   * metrics the autoscaler decides on.
   */
  timeline?: boolean;
  /**
   * Keep the series as columns (`SimulationResult.seriesColumns`, simulation/series-columns.ts)
   * instead of records (`series` is then empty; default false). `compare`'s coarser sizing trials,
   * read only by the budgets' judge, which reads the columns as they are.
   */
  seriesColumns?: boolean;
}

/** DynamoDB on-demand limits (docs/sources.md) and the table's starting peak (assumption). */
export interface StoreLimits {
  partitionReadUnits: number;
  partitionWriteUnits: number;
  /** Previous-peak of a fresh on-demand table, units/s; the table absorbs double this at once. */
  initialPeakReadUnits: number;
  initialPeakWriteUnits: number;
  /** Seconds before a new peak raises the table's ceiling (assumption: "within 30 minutes"). */
  adaptSeconds: number;
}

/** The defaults and their sources, also written into the run directory. */
export const SIMULATION_INPUTS = {
  hotKeys: { value: 20, source: 'scenarios/catalog.ts hotCount (model input)' },
  launchRate: {
    value: { burst: 100, perSecond: 20 },
    source:
      'docs/sources.md, Fargate and load balancer timings: Fargate launch quota, burst 100 then 20 tasks/s per account per Region',
  },
  hopLatencyMs: { value: 0.5, source: 'assumption: same-Region service-to-service round trip on AWS' },
  queueLimitPerVcpu: {
    value: CAPACITY_DEFAULTS.queueLimit,
    source: 'reference-stack/capacity/params.ts (assumption)',
  },
  overheadPct: {
    value: CAPACITY_DEFAULTS.taskOverheadCpuPct,
    source: 'reference-stack/capacity/params.ts (assumption)',
  },
  store: {
    value: {
      partitionReadUnits: 3000,
      partitionWriteUnits: 1000,
      initialPeakReadUnits: 6000,
      initialPeakWriteUnits: 2000,
      adaptSeconds: 1800,
    } satisfies StoreLimits,
    source:
      'docs/sources.md, DynamoDB capacity: 3,000 RCU / 1,000 WCU per partition, double the previous peak; assumption: a fresh table serves 12,000 RCU / 4,000 WCU (DynamoDB docs, initial on-demand throughput) and adapts in 30 min',
  },
  periodSeconds: { value: 60, source: 'CloudWatch 1-minute ECS metrics (docs/sources.md)' },
  clientTimeoutMs: {
    value: 10_000,
    source:
      "engine/engine.ts default per-request timeout: the simulated client is peakday's engine (a live rehearsal records timeouts at 10 s); assumption for real shoppers' clients, override with the option",
  },
} as const satisfies Record<string, ModelInput<unknown>>;

/** Series resolution: 60 s for events up to 6 h, else the smallest multiple of 60 s giving ≤ 1,440 intervals. */
export function seriesResolution(eventSeconds: number): number {
  if (eventSeconds <= 6 * 3600) return 60;
  return Math.ceil(eventSeconds / 1440 / 60) * 60;
}

/** What the simulator learned beyond the run-directory files (written as simulation.json). */
export interface SimulationFindings {
  arch: Arch;
  seed: number;
  stepSeconds: number;
  resolutionSeconds: number;
  inputs: Record<string, ModelInput<unknown>>;
  services: Record<
    string,
    {
      taskSize: TaskSize;
      efficiency: number;
      capacityProvenance: Provenance;
      /** Where the capacity per task came from: the calibration's source, or the model table and why. */
      capacitySource: string;
      peakTasks: number;
      /** The scalable target's MaxCapacity (from the scaling file). */
      maxCapacity: number;
      /**
       * Tasks the busiest metric period's CPU demand needs at the service's CPU target (100% without
       * a CPU target-tracking policy): what target tracking would settle at if tasks came at once.
       */
      neededAtPeak: number;
      minutesAtMaxCapacity: number;
      tasksBlockedByQuota: number;
      vcpuHours: number;
      memoryGbHours: number;
      requests: number;
      rejected: number;
    }
  >;
  tables: Record<
    string,
    { peakReadUnits: number; peakWriteUnits: number; throttled: number; hotThrottled: number }
  >;
  launchDelayMaxSeconds: number;
  /** What a reader must know before trusting the numbers (cap hits, launch-rate compounding, capacity basis). */
  warnings: string[];
  quota: { vcpu: number | null; peakVcpu: number; exceeded: boolean };
}

/** The simulator's output: the run directory's contents, in memory. */
export interface SimulationResult {
  /** Empty when the run kept its series as columns (`seriesColumns`). */
  series: SeriesRecord[];
  /** The series as columns, when the options asked for them (`SimulateOptions.seriesColumns`). */
  seriesColumns?: SeriesColumns;
  timeline: TimelineRecord[];
  /** The edge's records per metric period (CloudFront's metrics: requests, hit rate, origin offload). */
  edge?: EdgeTimelineRecord[];
  activities: ScalingActivity[];
  summary: RunSummary;
  findings: SimulationFindings;
  /**
   * Every series interval's latency components per (channel, step) (ms, weights in requests): what
   * the run's exact percentiles are solved from, kept so that a part of the run (the periods a
   * validation compares) gets its exact percentiles too, not a mean of per-interval ones.
   */
  latencyComponents?: IntervalLatency[];
  /** Event time at which a controlled run stopped early (simulate.ts `SimulateControl`); absent: it ran to the end. */
  stoppedAt?: number;
}

/** One series interval's latency components of one (scenario, step). */
export interface IntervalLatency {
  /** Event time at the interval's start (s). */
  t: number;
  channel: string;
  /** The step's journey and name: a per-step comparison with a live run's series reads them. */
  journey?: string;
  step?: string;
  components: MixtureComponent[];
}
