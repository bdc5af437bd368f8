/**
 * The report model: everything a renderer shows, computed once from a run (pure apart from the
 * optional re-simulation callback). Renderers (reports/renderers/) only format it; `report.json` is
 * this object, so every finding is machine-readable.
 */
import type { EndReason, Percentiles, Provenance, RunMode, TimelineRecord } from '../core/run-format.ts';
import { DEFAULT_TASK_SIZES, TOPOLOGIES } from '../reference-stack/topology.ts';
import { type PricingTable, resolvePricing } from '../simulation/pricing/pricing-table.ts';
import { describeMissing, findMissing } from '../telemetry/timeline.ts';
import {
  type CostAssumptions,
  type CostReport,
  type CostTaskSize,
  computeCost,
  DEFAULT_COST_ASSUMPTIONS,
} from './cost/cost-model.ts';
import {
  bottleneckFindings,
  breachFindings,
  type ChannelBreach,
  computeBottlenecks,
  computeBreaches,
  DEFAULT_REVENUE_ASSUMPTIONS,
  type RevenueAssumptions,
  revenueFinding,
} from './findings/breaches.ts';
import {
  capacityFindings,
  computeCapacity,
  peakFindings,
  type ServiceCapacity,
  uslFindings,
} from './findings/capacity.ts';
import { computeEdgeSummary, type EdgeSummary } from './findings/edge.ts';
import { emulationBannerText, markEmulationAffected } from './findings/emulation.ts';
import {
  estimateTrafficFromLoad,
  labelEstimatedFindings,
  labelEstimatedRecommendations,
} from './findings/estimated-traffic.ts';
import {
  checkRecommendations,
  computeRecommendations,
  DEFAULT_RECOMMENDATION_ASSUMPTIONS,
  type RecommendationAssumptions,
  unsizedServices,
} from './findings/recommendations.ts';
import {
  activityService,
  computeScaleOuts,
  type ScaleOut,
  scaleOutFindings,
  unknownScaleOutFindings,
} from './findings/scale-out-lag.ts';
import { DEFAULT_DECISION_MARGIN, scalingMarginFindings, scalingMargins } from './findings/scaling-margin.ts';
import { computeServiceSeries, type ServiceSeries } from './findings/service-series.ts';
import {
  type ChannelBudget,
  DEFAULT_BUDGETS,
  type Finding,
  type FindingKind,
  type RecommendationSet,
  type Resimulate,
  type Severity,
} from './findings/types.ts';
import type { RunForReport } from './run/read-run-files.ts';

export const REPORT_FORMAT_VERSION = 1;

/** One channel's load as charted. */
export interface ReportChannelLoad {
  rps: number[];
  errorRate: number[];
  droppedPerSecond: number[];
  p50Ms: (number | null)[];
  p95Ms: (number | null)[];
  p99Ms: (number | null)[];
  totals: { requests: number; failed: number; dropped: number; started: number };
  overall: { p50: number | null; p95: number | null; p99: number | null; max: number | null };
}

/** One service panel. */
export interface ReportService {
  name: string;
  times: number[];
  period: number;
  running: number[];
  desired: number[];
  cpu: (number | null)[];
  rps: (number | null)[];
  rpsPerTask: (number | null)[];
  capacity: ServiceCapacity;
  provenance: Provenance;
  partial: boolean;
}

/** A scaling activity as marked on charts. */
export interface ReportActivity {
  service: string;
  t: number;
  from: number | null;
  to: number | null;
  status: string;
  cause: string;
}

/** A banner shown above everything. */
export interface ReportBanner {
  /** `emulation`: the local stack's emulation did not hold somewhere (reports/findings/emulation.ts). */
  level: 'invalid' | 'partial' | 'emulation' | 'note';
  text: string;
}

/** The whole report. */
export interface Report {
  formatVersion: typeof REPORT_FORMAT_VERSION;
  generatedAt: string;
  run: {
    id: string;
    dir: string;
    mode: RunMode;
    driver: string;
    profile: string;
    window: string | null;
    timeScale: number;
    eventStart: number;
    eventEnd: number;
    seed: number;
    valid: boolean;
    invalidReasons: string[];
    partial: boolean;
    endReason: EndReason;
    topology: 'headless' | 'monolith';
    /**
     * What the renderers print for the target: the topology when the run knows it (a peakday stack,
     * or a timeline collected from one), else that it is not known: never "monolith" by default.
     */
    topologyLabel: string;
    latencyKind: string;
    latencyProvenance: Provenance;
    notes: string[];
    /**
     * How the load generator kept its schedule, for a live run that measured it (the embedded
     * engine; k6 reports no scheduler lag): its scheduler lag and the evidence its validity was
     * decided on (engine/validity.ts), in the words of summary.json. Null otherwise.
     */
    generator: { schedulerLag: Percentiles | null; evidence: string[] } | null;
  };
  banners: ReportBanner[];
  load: {
    times: number[];
    intervalSeconds: number;
    all: ReportChannelLoad;
    channels: Record<string, ReportChannelLoad>;
    ordersTotal: number;
  };
  services: ReportService[];
  activities: ReportActivity[];
  budgets: ChannelBudget[];
  breachMinutes: Record<string, number>;
  findings: Finding[];
  recommendations: RecommendationSet;
  cost: CostReport | null;
  pricing: Pick<PricingTable, 'version' | 'region' | 'notes'>;
  /** The edge (CloudFront) over the run, from the timeline's edge records; null without an edge. */
  edge?: EdgeSummary | null;
}

/** User-overridable model inputs (from `peakday.config.yaml` `assumptions`). */
export interface ReportAssumptions {
  revenue?: Partial<RevenueAssumptions>;
  cost?: Partial<CostAssumptions>;
  recommendations?: Partial<RecommendationAssumptions>;
  /** Task sizes by service. */
  taskSizes?: Record<string, Partial<CostTaskSize>>;
  /** A scale-out within this share of another capacity is reported (findings/scaling-margin.ts). */
  decisionMargin?: number;
  /**
   * Each service's share of the load run's requests, for services with no request metric of their
   * own (findings/estimated-traffic.ts); default 1.
   */
  trafficShare?: Record<string, number>;
}

/** Options of {@link buildReport}. */
export interface BuildReportOptions {
  /** ISO time the report is generated (passed in: the model is pure). */
  now: string;
  budgets?: ChannelBudget[];
  pricing?: PricingTable;
  assumptions?: ReportAssumptions;
  /** The simulator, to re-simulate recommendations. */
  resimulate?: Resimulate;
  /** Notes about the budgets (e.g. budgets the report cannot chart), shown with the run's notes. */
  budgetNotes?: string[];
}

const SEVERITY_ORDER: Record<Severity, number> = { critical: 0, warning: 1, info: 2 };
const KIND_ORDER: Record<FindingKind, number> = {
  validity: 0,
  'budget-breach': 1,
  'hot-partition': 2,
  'under-provisioned': 3,
  'scale-out-lag': 4,
  'scaling-margin': 5,
  headroom: 6,
  'revenue-at-risk': 7,
  capacity: 8,
  usl: 9,
  'peak-ratio': 10,
};

function topologyOf(run: RunForReport, services: string[]): 'headless' | 'monolith' {
  const arch = run.meta.options.arch;
  if (arch === 'monolith' || arch === 'headless') return arch;
  return services.length <= 1 || services.includes('monolith') ? 'monolith' : 'headless';
}

/** Whether the run says what it ran against: an arch option, a timeline, or the stack handshake. */
function topologyKnown(run: RunForReport, timelineServices: number): boolean {
  const arch = run.meta.options.arch;
  if (arch === 'monolith' || arch === 'headless') return true;
  if (timelineServices > 0) return true;
  return run.meta.notes.some((n) => n.startsWith('target is a peakday stack'));
}

function channelLoad(c: RunForReport['load']['all']): ReportChannelLoad {
  return {
    rps: c.rps,
    errorRate: c.rps.map((r, i) => (r > 0 ? (c.failedRps[i] ?? 0) / r : 0)),
    droppedPerSecond: c.droppedPerSecond,
    p50Ms: c.p50Ms,
    p95Ms: c.p95Ms,
    p99Ms: c.p99Ms,
    totals: {
      requests: c.totals.requests,
      failed: c.totals.failed,
      dropped: c.totals.dropped,
      started: c.totals.started,
    },
    overall: c.overall,
  };
}

/**
 * The domain events a run published, at event scale: the sum of the timeline's `eventsPublished`
 * over the publishing services. Stand-ins for managed services are left out: the bus's count is of
 * the same events, as it accepted them. Null when no record reports events (CloudWatch, simulator).
 */
export function publishedEvents(
  timeline: readonly TimelineRecord[],
  standIns: ReadonlySet<string>,
  timeScale: number,
): { eventsPublished: number | null; eventsProvenance: Provenance } {
  let total = 0;
  let reported = false;
  let provenance: Provenance = 'measured';
  for (const r of timeline) {
    if (standIns.has(r.service) || typeof r.eventsPublished !== 'number') continue;
    reported = true;
    total += r.eventsPublished;
    provenance = r.provenance;
  }
  return { eventsPublished: reported ? total * timeScale : null, eventsProvenance: provenance };
}

/** Builds the report model from a run: the services' series, banners, findings, recommendations, cost. */
export async function buildReport(run: RunForReport, options: BuildReportOptions): Promise<Report> {
  const { meta, load } = run;
  const budgets = options.budgets ?? DEFAULT_BUDGETS;
  const pricing = options.pricing ?? resolvePricing();
  const as = options.assumptions ?? {};
  const standIns = standInServices();
  const series = reportSeries(run, standIns, as);
  const caps = series.map((s) => computeCapacity(s, run.calibration));
  const loadProv: Provenance = meta.mode === 'simulated' ? 'simulated' : 'measured';
  const { findings, breaches, scaleOuts } = reportFindings(run, series, caps, budgets, as, loadProv);

  const recItems = computeRecommendations(series, caps, scaleOuts, {
    ...DEFAULT_RECOMMENDATION_ASSUMPTIONS,
    ...as.recommendations,
  });
  labelEstimatedRecommendations(recItems, series);
  const recommendations = await checkRecommendations(recItems, series, options.resimulate);

  const topology = topologyOf(
    run,
    series.map((s) => s.name),
  );
  const cost =
    series.length > 0 ? reportCost(run, series, { topology, pricing, as, standIns, loadProv }) : null;

  return {
    formatVersion: REPORT_FORMAT_VERSION,
    generatedAt: options.now,
    run: reportRunSection(run, series, caps, topology, options.budgetNotes),
    banners: reportBanners(run),
    load: {
      times: load.times,
      intervalSeconds: load.intervalSeconds,
      all: channelLoad(load.all),
      channels: Object.fromEntries(Object.entries(load.channels).map(([k, v]) => [k, channelLoad(v)])),
      ordersTotal: load.ordersTotal,
    },
    services: series.map((s, k) => ({
      name: s.name,
      times: s.times,
      period: s.period,
      running: s.running,
      desired: s.desired,
      cpu: s.cpu,
      rps: s.rps,
      rpsPerTask: s.rpsPerTask,
      capacity: caps[k]!,
      provenance: s.provenance,
      partial: s.partial,
    })),
    activities: reportActivities(run),
    budgets,
    breachMinutes: Object.fromEntries(breaches.map((b) => [b.channel, b.minutes])),
    findings,
    recommendations,
    cost,
    pricing: { version: pricing.version, region: pricing.region, notes: pricing.notes },
    edge: computeEdgeSummary(run.edge),
  };
}

/**
 * Services that stand in for managed AWS services (the local bus for EventBridge): priced per use,
 * not per task, so they are left out of capacity findings, recommendations and task costs.
 */
function standInServices(): Set<string> {
  return new Set(
    Object.values(TOPOLOGIES).flatMap((t) =>
      Object.entries(t.deployables as Record<string, { standsInFor?: string }>)
        .filter(([, d]) => d.standsInFor !== undefined)
        .map(([name]) => name),
    ),
  );
}

/**
 * The per-service series the report judges, stand-ins left out. A service with no request metric of
 * its own gets the load run's rate × its share, labelled an estimate on every finding that uses it
 * (findings/estimated-traffic.ts); a window with no load run has no rate to lend, and such services
 * stay unknown.
 */
function reportSeries(
  run: RunForReport,
  standIns: ReadonlySet<string>,
  as: ReportAssumptions,
): ServiceSeries[] {
  const { meta, load } = run;
  return estimateTrafficFromLoad(
    computeServiceSeries(
      run.timeline.filter((r) => !standIns.has(r.service)),
      meta.timeScale,
    ),
    { times: load.times, intervalSeconds: load.intervalSeconds, rps: load.all.rps },
    as.trafficShare,
  );
}

/**
 * The banners above everything, in this order: the run invalid, partial, the emulation not holding,
 * the run's notes, no telemetry at all, and periods with missing telemetry (unknown, not zero).
 */
function reportBanners(run: RunForReport): ReportBanner[] {
  const { meta } = run;
  const banners: ReportBanner[] = [];
  if (!meta.valid)
    banners.push({
      level: 'invalid',
      text: `INVALID RUN: ${meta.invalidReasons.join('; ') || 'marked invalid by the engine'}. Its numbers are shown for diagnosis only; do not use them for decisions.`,
    });
  if (run.partial)
    banners.push({
      level: 'partial',
      text: `PARTIAL RUN: ${run.notes.filter((n) => !n.includes('missing: no task')).join('; ') || 'the run did not finish'}.`,
    });
  const emulationText = emulationBannerText(run.timeline);
  if (emulationText) banners.push({ level: 'emulation', text: emulationText });
  for (const n of meta.notes) banners.push({ level: 'note', text: n });
  if (run.telemetry && run.telemetry.records === 0)
    banners.push({
      level: 'partial',
      text: `NO TELEMETRY DATA: collect (${run.telemetry.source}) found no datapoints for the run's window, so scale-out lag, capacity per task, under-provisioned windows and cost cannot be judged (${run.telemetry.notes.slice(-3).join('; ') || 'no note'}).`,
    });

  if (!(run.telemetry && run.telemetry.records === 0)) {
    const missing = findMissing(run.timeline);
    if (missing.length > 0)
      banners.push({
        level: 'partial',
        text: `MISSING TELEMETRY: periods with no datapoint are unknown, not zero: ${missing
          .slice(0, 6)
          .map(describeMissing)
          .join(
            '; ',
          )}${missing.length > 6 ? `; and ${missing.length - 6} more (telemetry.json notes)` : ''}.`,
      });
  }
  return banners;
}

/**
 * Every finding of the run, most severe first: validity, bottlenecks, budget breaches (throttling no
 * breach overlaps downgraded), scale-out lag, peaks, capacity, USL and revenue at risk; marked where
 * the emulation did not hold or the traffic is estimated. The breaches and scale-outs are returned
 * too: the breach minutes and the recommendations rest on them.
 */
function reportFindings(
  run: RunForReport,
  series: ServiceSeries[],
  caps: ServiceCapacity[],
  budgets: ChannelBudget[],
  as: ReportAssumptions,
  loadProv: Provenance,
): {
  findings: Finding[];
  breaches: ChannelBreach[];
  scaleOuts: ScaleOut[][];
} {
  const { meta, load } = run;
  const provOf = (name: string): Provenance => series.find((s) => s.name === name)?.provenance ?? 'measured';
  const findings: Finding[] = [];
  if (!meta.valid)
    findings.push({
      id: 'validity',
      kind: 'validity',
      severity: 'critical',
      title: 'The run is invalid: its results are not a measurement of the target',
      provenance: loadProv,
      evidence: meta.invalidReasons.length > 0 ? meta.invalidReasons : ['meta.json valid: false'],
    });
  const bottlenecks = computeBottlenecks(series, caps);
  findings.push(...bottleneckFindings(bottlenecks, provOf));
  const breaches = computeBreaches(load, budgets, bottlenecks, meta.eventStart);
  findings.push(...breachFindings(breaches, load.latencyProvenance));
  downgradeUnbreachedThrottling(findings);
  const scaleOuts = series.map((s) => computeScaleOuts(s, run.activities));
  series.forEach((s, k) => {
    findings.push(...scaleOutFindings(scaleOuts[k]!, s.period, s.provenance));
  });
  findings.push(...unknownScaleOutFindings(series, scaleOuts, (s) => s.provenance));
  findings.push(
    ...scalingMarginFindings(
      scalingMargins(run.activities),
      provOf,
      as.decisionMargin ?? DEFAULT_DECISION_MARGIN,
      run.calibration,
    ),
  );
  findings.push(...peakFindings(series, caps));
  findings.push(...capacityFindings(caps));
  findings.push(...uslFindings(series, caps, run.calibration));
  const revenue = revenueFinding(
    load,
    breaches,
    meta.timeScale,
    { ...DEFAULT_REVENUE_ASSUMPTIONS, ...as.revenue },
    load.latencyProvenance,
  );
  if (revenue) findings.push(revenue);
  markEmulationAffected(findings, run.timeline);
  labelEstimatedFindings(findings, series);
  findings.sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
      (a.window?.start ?? 0) - (b.window?.start ?? 0),
  );
  return { findings, breaches, scaleOuts };
}

/** Throttling that no budget breach overlaps hurt no channel's budget: a warning, not critical. */
function downgradeUnbreachedThrottling(findings: Finding[]): void {
  const breachWindows = findings.filter((f) => f.kind === 'budget-breach' && f.window).map((f) => f.window!);
  for (const f of findings)
    if (
      f.kind === 'hot-partition' &&
      f.window &&
      !breachWindows.some((w) => w.start < f.window!.end && f.window!.start < w.end)
    ) {
      f.severity = 'warning';
      f.evidence.push(
        'no budget breach overlaps this window: every channel’s budget held while the table throttled',
      );
    }
}

/**
 * Each service's task size and where it came from: discovered by collect (the ECS task definition)
 * unless the user set one, else the user's, else the reference stack's default; services with none
 * of these get the cost model's default.
 */
function reportTaskSizes(
  run: RunForReport,
  series: ServiceSeries[],
  as: ReportAssumptions,
): Record<string, CostTaskSize> {
  const taskSizes: Record<string, CostTaskSize> = {};
  const discovered = new Map((run.telemetry?.discovered ?? []).map((d) => [d.name, d]));
  for (const s of series) {
    const d = discovered.get(s.name);
    if (!as.taskSizes?.[s.name] && d?.vcpu !== undefined && d.memoryGb !== undefined) {
      const spot = d.capacityProvider === 'FARGATE_SPOT';
      taskSizes[s.name] = {
        vcpu: d.vcpu,
        memoryGb: d.memoryGb,
        arch: d.cpuArchitecture === 'ARM64' ? 'arm' : 'x86',
        source: `discovered by collect (ECS task definition: ${d.vcpu} vCPU, ${d.memoryGb} GB, ${d.cpuArchitecture ?? 'X86_64'}, ${d.capacityProvider ?? d.launchType ?? 'launch type unknown'})${spot ? '; Fargate Spot is priced at the on-demand rate, an upper bound: Spot prices vary by region and over time (set pricing.overrides)' : ''}`,
      };
      continue;
    }
    const known = (DEFAULT_TASK_SIZES as Record<string, { vcpu: number; memoryGb: number }>)[s.name];
    const user = as.taskSizes?.[s.name];
    if (known || user)
      taskSizes[s.name] = {
        vcpu: user?.vcpu ?? known?.vcpu ?? 0.5,
        memoryGb: user?.memoryGb ?? known?.memoryGb ?? 1,
        arch: user?.arch ?? 'x86',
        source: user
          ? 'assumptions.taskSizes (user-set)'
          : 'reference-stack/topology.ts DEFAULT_TASK_SIZES (assumption)',
      };
  }
  return taskSizes;
}

/**
 * The event's bill over the series' span: services whose task count is unknown are left out (a zero
 * would understate it), counts at event scale, the user's cost assumptions over the defaults.
 */
function reportCost(
  run: RunForReport,
  series: ServiceSeries[],
  ctx: {
    topology: 'headless' | 'monolith';
    pricing: PricingTable;
    as: ReportAssumptions;
    standIns: ReadonlySet<string>;
    loadProv: Provenance;
  },
): CostReport {
  const { meta, load } = run;
  const { as } = ctx;
  const tStart = Math.min(...series.map((s) => s.times[0] ?? 0));
  const tEnd = Math.max(...series.map((s) => (s.times[s.times.length - 1] ?? 0) + s.period));
  return computeCost({
    pricing: ctx.pricing,
    topology: ctx.topology,
    eventSeconds: tEnd - tStart,
    timeScale: meta.timeScale,
    services: series.filter((s) => !taskCountUnknown(s)),
    taskSizes: reportTaskSizes(run, series, as),
    defaultTaskSize: {
      vcpu: 0.5,
      memoryGb: 1,
      arch: 'x86',
      source: 'default 0.5 vCPU / 1 GB x86 (assumption)',
    },
    edgeRps: load.all.rps,
    edgeIntervalSeconds: load.intervalSeconds,
    edgeProvenance: ctx.loadProv,
    orders: load.ordersTotal * meta.timeScale,
    ...publishedEvents(run.timeline, ctx.standIns, meta.timeScale),
    assumptions: { ...DEFAULT_COST_ASSUMPTIONS, ...as.cost },
    userAssumptions: Object.keys(as.cost ?? {}),
  });
}

/** The run's scaling activities as charts mark them, in time order. */
function reportActivities(run: RunForReport): ReportActivity[] {
  return run.activities
    .map((a) => ({
      service: activityService(a),
      t: a.eventTime,
      from: a.fromCapacity ?? null,
      to: a.toCapacity ?? null,
      status: a.StatusCode,
      cause: a.Cause,
    }))
    .sort((a, b) => a.t - b.t);
}

/**
 * What the report says about the run itself: its identity, validity, target and latency kind, and
 * every note (the run's, unsized and unpriced services, collect's, the budgets').
 */
function reportRunSection(
  run: RunForReport,
  series: ServiceSeries[],
  caps: ServiceCapacity[],
  topology: 'headless' | 'monolith',
  budgetNotes: string[] | undefined,
): Report['run'] {
  const { meta, load } = run;
  return {
    id: meta.id,
    dir: run.dir,
    mode: meta.mode,
    driver: meta.driver,
    profile: meta.profile?.name ?? 'unknown',
    window: meta.window ?? null,
    timeScale: meta.timeScale,
    eventStart: meta.eventStart,
    eventEnd: meta.eventEnd,
    seed: meta.seed,
    valid: meta.valid,
    invalidReasons: meta.invalidReasons,
    partial: run.partial,
    endReason: meta.endReason,
    topology,
    topologyLabel: topologyKnown(run, series.length) ? topology : 'topology unknown (not a peakday stack)',
    latencyKind: load.latencyKind,
    latencyProvenance: load.latencyProvenance,
    notes: [
      ...run.notes,
      ...unsizedServices(series, caps),
      ...series
        .filter(taskCountUnknown)
        .map(
          (s) =>
            `${s.name}: not priced: its task count is unknown (no running or desired tasks in the timeline: is Container Insights enabled on the cluster?); a zero would understate the bill`,
        ),
      ...(run.telemetry?.notes ?? []).map((n) => `collect (${run.telemetry?.source}): ${n}`),
      ...(budgetNotes ?? []),
    ],
    generator:
      meta.mode === 'live' && (run.summary?.schedulerLag || (run.summary?.validityEvidence?.length ?? 0) > 0)
        ? {
            schedulerLag: run.summary?.schedulerLag ?? null,
            evidence: run.summary?.validityEvidence ?? [],
          }
        : null,
  };
}

/**
 * A collected service whose timeline never shows a running or desired task: the count was not
 * reported (CloudWatch without Container Insights), not zero, so it is left out of the bill.
 */
function taskCountUnknown(s: ServiceSeries): boolean {
  return s.provenance === 'measured' && s.running.every((x) => x <= 0) && s.desired.every((x) => x <= 0);
}
