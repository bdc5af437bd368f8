/**
 * What the findings layer produces: each finding carries its evidence, its event-time window and
 * its provenance, so a reader (or `report.json` consumer) can check it rather than trust it.
 */
import type { Provenance } from '../../core/run-format.ts';

/** Kinds of finding, in the order a report shows them. */
export type FindingKind =
  | 'validity'
  | 'budget-breach'
  | 'under-provisioned'
  | 'hot-partition'
  | 'scale-out-lag'
  | 'scaling-margin'
  | 'headroom'
  | 'capacity'
  | 'usl'
  | 'peak-ratio'
  | 'revenue-at-risk';

/** How much a reader should care. */
export type Severity = 'critical' | 'warning' | 'info';

/** One finding. `data` holds the same facts machine-readably. */
export interface Finding {
  /** Stable id, e.g. `scale-out-lag/cart@1200`. */
  id: string;
  kind: FindingKind;
  severity: Severity;
  title: string;
  service?: string;
  channel?: string;
  /** Event-time window (s) the finding is about. */
  window?: { start: number; end: number };
  value?: number;
  unit?: string;
  provenance: Provenance;
  /** Human-readable lines that back the finding (numbers and where they came from). */
  evidence: string[];
  /** Model inputs the finding rests on, with their source or "assumption". */
  assumptions?: string[];
  data?: Record<string, unknown>;
}

/** A latency/error budget for one channel (or `*` for every channel). */
export interface ChannelBudget {
  channel: string;
  p95Ms?: number;
  p99Ms?: number;
  /** Failed-request fraction 0..1. */
  errorRate?: number;
  /** Where the budget came from (file, profile default, or assumption). */
  source: string;
  /**
   * Per limit, the budget it came from as the gate reads it (comparison, minimum samples, warm-up), so
   * the report's breach minutes judge each interval by the gate's rule. Absent for the default
   * assumption: breached when over the limit, whatever the sample count.
   */
  rules?: Partial<Record<ChannelLimit, ChannelLimitRule>>;
}

/** The limits a channel budget can carry. */
export type ChannelLimit = 'p95Ms' | 'p99Ms' | 'errorRate';

/** What the gate needs to judge one limit (scenarios/budgets/budget.ts judgeReading). */
export interface ChannelLimitRule {
  op: '<' | '<=';
  limit: number;
  minSamples: number;
  warmupSeconds: number;
}

/** Budgets used when none are given: an assumption, shown as such. */
export const DEFAULT_BUDGETS: ChannelBudget[] = [
  {
    channel: '*',
    p95Ms: 800,
    errorRate: 0.01,
    source:
      'assumption: default budget p95 ≤ 800 ms, errors ≤ 1% (no budgets file given; pass --budgets to use yours)',
  },
];

/** A recommendation for one service, and whether it was checked by re-simulation. */
export interface Recommendation {
  service: string;
  minCapacity: number;
  maxCapacity: number;
  /** Event time (s) at which to raise the minimum (scheduled action), or null if not needed. */
  preWarmAt: number | null;
  /** Why, in a sentence each. */
  reasons: string[];
  assumptions: string[];
  provenance: Provenance;
}

/** Before/after of a re-simulation with the recommendations applied. */
export interface ResimulationOutcome {
  before: { breachMinutes: number; costUsd?: number; byChannel?: Record<string, number> };
  after: { breachMinutes: number; costUsd?: number; byChannel?: Record<string, number> };
  /** Run directory of the re-simulated run, when written. */
  runDir?: string;
  notes?: string[];
}

/**
 * Plug-in point for the simulator (simulation/): re-simulates the event with the recommendations
 * applied. Reports call it when given; without it they say "not re-simulated".
 */
export type Resimulate = (recommendations: Recommendation[]) => Promise<ResimulationOutcome>;

/** Recommendations plus the re-simulation verdict. */
export interface RecommendationSet {
  items: Recommendation[];
  resimulation:
    | { status: 'not-re-simulated'; reason: string }
    | { status: 're-simulated'; outcome: ResimulationOutcome };
  /** Account-level needs (Fargate launch quota, etc.). */
  quotaNotes: string[];
}
