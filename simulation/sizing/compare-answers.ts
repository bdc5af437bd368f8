/**
 * What a comparison answers beyond its cost table: for each configuration where its capacity went
 * (per service) and what limited it; whether that limit depends on the topology (a hot partition
 * throttles both topologies the same way) and the fix re-simulated; the blast radius of one failing
 * service per topology; and one verdict sentence with the figures it rests on. Pure: the
 * simulations come in (the fix's re-simulation through an injected function).
 */
import type { Arch, ServiceName } from '../../reference-stack/topology.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { evaluate } from '../../scenarios/rate-function.ts';
import { computeScenarioDemands } from '../demand.ts';
import type { SimulateOptions, SimulationResult } from '../simulate.ts';
import type { ComparedConfiguration } from './compare.ts';

/** One service's share of a configuration's compute and how it fared. */
export interface ServiceSpend {
  vcpuHours: number;
  /** Of the configuration's vCPU-hours. */
  share: number;
  peakTasks: number;
  /** Requests the service rejected (its bounded queues full: capacity short). */
  rejected: number;
  minutesAtMaxCapacity: number;
  /** Capacity per task relative to the emulated model, and where it came from. */
  efficiency: number;
  capacitySource: string;
}

/** The kinds of failure a simulated run counts apart. */
export type LimitCause = 'hot-partition' | 'table-ceiling' | 'capacity' | 'timeout';

/** One cause of failed requests in a configuration. */
export interface Limit {
  cause: LimitCause;
  /** The table (store limits) or services (capacity) it happened at. */
  where: string[];
  failedRequests: number;
  /** Of all requests of the run. */
  share: number;
  /** Event minutes in which it happened (store throttles: periods with throttled requests). */
  minutes: number | null;
}

/** A configuration's answer: where its capacity went and what limited it, biggest cause first. */
export interface ConfigurationAnswer {
  key: string;
  capacity: Record<string, ServiceSpend>;
  limits: Limit[];
  /** Throttled minutes per table (periods with ≥ 1 throttled request). */
  throttledMinutes: Record<string, number>;
  /** Services that never left the availability floor (2 tasks): their size is the floor's, not the load's. */
  atFloor: string[];
}

/** Whether the limit is the topology's doing. */
export interface TopologyDependence {
  dependsOnTopology: boolean;
  /** The dominant failure cause shared by every configuration, when there is one. */
  sharedCause: LimitCause | null;
  /** The table (store causes) the shared cause happens at. */
  where: string[];
  sentence: string;
}

/** One side of a fix: how a configuration did. */
export interface FixSide {
  failedRate: number;
  breachMinutes: number;
  /** The most throttled table's throttled minutes. */
  throttledMinutes: number;
  meetsBudgets: boolean;
  computeCostUsd: number;
}

/** A fix re-simulated on every configuration, each right-sized again with it. */
export interface FixResult {
  fix: string;
  /** Simulator inputs the fix changes (e.g. `hotKeys` 20 → 200). */
  change: Record<string, { before: number; after: number }>;
  configurations: Record<
    string,
    {
      before: FixSide;
      after: FixSide;
    }
  >;
}

/** What fails when one service fails, per topology. */
export interface BlastRadius {
  service: ServiceName;
  byArch: Record<
    string,
    {
      /** The deployable that hosts the service's code in that topology. */
      host: string;
      /** The service's code fails (an exception in its handlers); its process keeps serving the rest. */
      codeFault: BlastScope;
      /** Its process fails (crash, out of memory, CPU starved, a bad deploy): everything it hosts fails. */
      processFault: BlastScope;
    }
  >;
}

/** Requests and journeys a fault takes down. */
export interface BlastScope {
  /** Share of the event's requests that fail. */
  requestShare: number;
  /** Journeys (channel/journey) with at least one failing step. */
  journeys: string[];
  /** Share of the event's iterations that meet a failing step. */
  iterationShare: number;
}

const round = (x: number, d = 4) => Math.round(x * 10 ** d) / 10 ** d;

/** Throttled minutes per table: 60-s periods of the timeline with at least one throttled request. */
export function throttledMinutes(r: SimulationResult): Record<string, number> {
  // Throttled requests per table per period, summed over the services that use the table.
  const byTable = new Map<string, Map<number, { n: number; period: number }>>();
  for (const rec of r.timeline)
    for (const st of rec.stores ?? []) {
      if (st.throttles <= 0) continue;
      const m = byTable.get(st.table) ?? new Map<number, { n: number; period: number }>();
      const e = m.get(rec.t) ?? { n: 0, period: rec.period };
      e.n += st.throttles;
      m.set(rec.t, e);
      byTable.set(st.table, m);
    }
  const out: Record<string, number> = {};
  for (const [t, m] of byTable) {
    let sec = 0;
    for (const e of m.values()) if (e.n >= 1) sec += e.period;
    if (sec > 0) out[t] = round(sec / 60, 1);
  }
  return out;
}

/** Where a configuration's capacity went and what limited it. */
export function answerConfiguration(key: string, r: SimulationResult): ConfigurationAnswer {
  const total = Object.values(r.findings.services).reduce((a, s) => a + s.vcpuHours, 0);
  const capacity: Record<string, ServiceSpend> = {};
  for (const [s, v] of Object.entries(r.findings.services))
    capacity[s] = {
      vcpuHours: v.vcpuHours,
      share: total > 0 ? round(v.vcpuHours / total, 3) : 0,
      peakTasks: v.peakTasks,
      rejected: v.rejected,
      minutesAtMaxCapacity: v.minutesAtMaxCapacity,
      efficiency: v.efficiency,
      capacitySource: v.capacitySource,
    };
  const requests = Math.max(1, r.summary.requests.total);
  const minutes = throttledMinutes(r);
  const limits: Limit[] = [];
  const hot = Object.entries(r.findings.tables).filter(([, t]) => t.hotThrottled >= 1);
  if (hot.length > 0) {
    const n = hot.reduce((a, [, t]) => a + t.hotThrottled, 0);
    limits.push({
      cause: 'hot-partition',
      where: hot.map(([k]) => k),
      failedRequests: Math.round(n),
      share: round(n / requests),
      minutes: Math.max(...hot.map(([k]) => minutes[k] ?? 0)),
    });
  }
  const ceil = Object.entries(r.findings.tables).filter(([, t]) => t.throttled >= 1);
  if (ceil.length > 0) {
    const n = ceil.reduce((a, [, t]) => a + t.throttled, 0);
    limits.push({
      cause: 'table-ceiling',
      where: ceil.map(([k]) => k),
      failedRequests: Math.round(n),
      share: round(n / requests),
      minutes: Math.max(...ceil.map(([k]) => minutes[k] ?? 0)),
    });
  }
  const rej = Object.entries(r.findings.services).filter(([, s]) => s.rejected >= 1);
  if (rej.length > 0) {
    const n = rej.reduce((a, [, s]) => a + s.rejected, 0);
    limits.push({
      cause: 'capacity',
      where: rej.sort((a, b) => b[1].rejected - a[1].rejected).map(([k]) => k),
      failedRequests: Math.round(n),
      share: round(n / requests),
      minutes: null,
    });
  }
  const timeouts = r.summary.requests.errors.timeout;
  if (timeouts >= 1)
    limits.push({
      cause: 'timeout',
      where: [],
      failedRequests: Math.round(timeouts),
      share: round(timeouts / requests),
      minutes: null,
    });
  limits.sort((a, b) => b.failedRequests - a.failedRequests);
  const atFloor = Object.entries(r.findings.services)
    .filter(([, v]) => v.peakTasks <= 2)
    .map(([k]) => k);
  return { key, capacity, limits, throttledMinutes: minutes, atFloor };
}

const STORE_CAUSES: readonly LimitCause[] = ['hot-partition', 'table-ceiling'];

/**
 * Whether the configurations' limit depends on the topology: when every configuration's largest
 * cause is the same store limit on the same tables, with failed requests within 5% of each other,
 * the topology does not matter to it (the store model is the same in both: a hot key is one
 * partition whichever service calls it).
 */
export function topologyDependence(answers: readonly ConfigurationAnswer[]): TopologyDependence {
  const tops = answers.map((a) => a.limits[0] ?? null);
  if (tops.length === 0 || tops.some((t) => t === null))
    return {
      dependsOnTopology: false,
      sharedCause: null,
      where: [],
      sentence: 'no configuration failed requests: nothing limited them within the budgets',
    };
  const first = tops[0]!;
  const same = tops.every(
    (t) => t!.cause === first.cause && [...t!.where].sort().join() === [...first.where].sort().join(),
  );
  const counts = tops.map((t) => t!.failedRequests);
  const spread = (Math.max(...counts) - Math.min(...counts)) / Math.max(1, Math.max(...counts));
  if (same && STORE_CAUSES.includes(first.cause) && spread <= 0.05) {
    const mins = answers.map((a) => Math.max(...first.where.map((w) => a.throttledMinutes[w] ?? 0)));
    return {
      dependsOnTopology: false,
      sharedCause: first.cause,
      where: first.where,
      sentence: `the limit does not depend on the topology: the ${first.cause === 'hot-partition' ? 'hot partition' : 'table ceiling'} of ${first.where.join(', ')} throttles every configuration the same way (${Math.min(...mins)}–${Math.max(...mins)} throttled minutes, ${(100 * first.share).toFixed(2)}% of requests), so no sizing of either topology removes it`,
    };
  }
  const byArch = new Map<string, string>();
  for (const a of answers) byArch.set(a.key, a.limits[0]?.cause ?? 'none');
  return {
    dependsOnTopology: true,
    sharedCause: same ? first.cause : null,
    where: same ? first.where : [],
    sentence: `the limit depends on the configuration: ${[...byArch].map(([k, c]) => `${k} ${c}`).join(', ')}`,
  };
}

/** How many partitions a hot key is sharded over by the write-sharding fix (assumption, overridable). */
export const WRITE_SHARDS = 10;

/** A store fix: the simulator inputs it changes, before and after, and what it is in words. */
export interface StoreFix {
  description: string;
  change: Record<string, { before: number; after: number }>;
  simulate: Partial<SimulateOptions>;
}

/**
 * Peak store units per second the plan asks of its busiest table (reads and writes apart): at each
 * breakpoint of the plan, every scenario's rate times the units its steps use per table. Pure.
 */
export function peakStoreUnits(plan: Plan, arch: Arch): { read: number; write: number } {
  const demands = computeScenarioDemands(plan, arch);
  const times = [...new Set(plan.scenarios.flatMap((sc) => sc.times))].sort((a, b) => a - b);
  let read = 0;
  let write = 0;
  for (const t of times) {
    const r = new Map<string, number>();
    const w = new Map<string, number>();
    for (const sc of demands) {
      const ps = plan.scenarios[sc.index]!;
      const rate = evaluate({ times: ps.times, values: ps.rates }, t);
      for (const st of sc.steps)
        for (const u of st.store) {
          r.set(u.table, (r.get(u.table) ?? 0) + rate * u.readUnits);
          w.set(u.table, (w.get(u.table) ?? 0) + rate * u.writeUnits);
        }
    }
    read = Math.max(read, ...r.values());
    write = Math.max(write, ...w.values());
  }
  return { read, write };
}

/**
 * The fix for the store limits every configuration shares: a hot partition → write sharding (each
 * hot key over {@link WRITE_SHARDS} partition-key suffixes; reads of a sharded key from a cache),
 * i.e. `hotKeys` × 10; an on-demand table's ceiling → the tables pre-warmed to the plan's peak
 * (DynamoDB warm throughput, docs/sources.md "DynamoDB capacity"), i.e. a previous peak of the
 * busiest table's peak units. Pure.
 */
export function storeFix(
  causes: readonly LimitCause[],
  current: { hotKeys: number; initialPeakReadUnits: number; initialPeakWriteUnits: number },
  peak: { read: number; write: number },
): StoreFix | null {
  const change: StoreFix['change'] = {};
  const simulate: Partial<SimulateOptions> = {};
  const words: string[] = [];
  if (causes.includes('hot-partition')) {
    change.hotKeys = { before: current.hotKeys, after: current.hotKeys * WRITE_SHARDS };
    simulate.hotKeys = current.hotKeys * WRITE_SHARDS;
    words.push(
      `write sharding (each hot key over ${WRITE_SHARDS} partition-key suffixes; reads of a sharded key from a cache)`,
    );
  }
  if (causes.includes('table-ceiling')) {
    const r = Math.max(current.initialPeakReadUnits, Math.ceil(peak.read));
    const w = Math.max(current.initialPeakWriteUnits, Math.ceil(peak.write));
    change.initialPeakReadUnits = { before: current.initialPeakReadUnits, after: r };
    change.initialPeakWriteUnits = { before: current.initialPeakWriteUnits, after: w };
    simulate.store = { initialPeakReadUnits: r, initialPeakWriteUnits: w };
    words.push(
      `the tables pre-warmed to the event's peak (DynamoDB warm throughput: ${r.toLocaleString('en-US')} read / ${w.toLocaleString('en-US')} write units/s)`,
    );
  }
  if (words.length === 0) return null;
  return { description: `${words.join(' and ')}, every configuration right-sized again`, change, simulate };
}

/** A compared configuration and its simulation, as the fix compares them. */
export interface Sized {
  configuration: ComparedConfiguration;
  r: SimulationResult;
}

/**
 * The store fix's effect: each configuration before (as compared) and after (the 2×2 right-sized
 * again with the fix's simulator inputs, `change`). Pure.
 */
export function computeFixResult(
  fix: Pick<StoreFix, 'description' | 'change'>,
  before: ReadonlyMap<string, Sized>,
  after: ReadonlyMap<string, Sized>,
): FixResult {
  const side = (x: Sized) => {
    const m = throttledMinutes(x.r);
    return {
      failedRate: x.configuration.failedRate,
      breachMinutes: x.configuration.breachMinutes,
      throttledMinutes: Math.max(0, ...Object.values(m)),
      meetsBudgets: x.configuration.meetsBudgets,
      computeCostUsd: x.configuration.computeCostUsd,
    };
  };
  const configurations: FixResult['configurations'] = {};
  for (const [key, b] of before) {
    const a = after.get(key);
    if (a) configurations[key] = { before: side(b), after: side(a) };
  }
  return { fix: fix.description, change: fix.change, configurations };
}

/**
 * The blast radius of one failing service, per topology, from the plan's request mix: which
 * requests pass through the failing code (a code fault) or through the deployable that hosts it (a
 * process fault). In the headless topology both are the service's own requests; in the monolith a
 * process fault takes every request down. Pure.
 */
export function blastRadius(plan: Plan, service: ServiceName, archs: readonly Arch[]): BlastRadius {
  const byArch: BlastRadius['byArch'] = {};
  // Which operations reach the service's code: the headless topology names it on their path.
  const reaches = new Set<string>();
  for (const sc of computeScenarioDemands(plan, 'headless'))
    for (const st of sc.steps) if (st.services.includes(service)) reaches.add(st.operation);
  for (const arch of archs) {
    const demands = computeScenarioDemands(plan, arch);
    const host = arch === 'headless' ? service : 'monolith';
    const scope = (fails: (op: string, services: readonly string[]) => boolean): BlastScope => {
      let req = 0;
      let bad = 0;
      let iter = 0;
      let badIter = 0;
      const journeys = new Set<string>();
      for (const sc of demands) {
        const n = plan.scenarios[sc.index]?.iterations ?? 0;
        iter += n;
        let hit = false;
        for (const st of sc.steps) {
          req += n;
          if (fails(st.operation, st.services)) {
            bad += n;
            hit = true;
          }
        }
        if (hit) {
          badIter += n;
          journeys.add(`${sc.channel}/${sc.journey}`);
        }
      }
      return {
        requestShare: req > 0 ? round(bad / req) : 0,
        journeys: [...journeys].sort(),
        iterationShare: iter > 0 ? round(badIter / iter) : 0,
      };
    };
    const codeFault = scope((op) => reaches.has(op));
    const processFault = scope((_, services) => services.includes(host as ServiceName));
    byArch[arch] = { host, codeFault, processFault };
  }
  return { service, byArch };
}

/** Everything a comparison answers besides its cost table (comparison.json `answers`). */
export interface ComparisonAnswers {
  configurations: ConfigurationAnswer[];
  topology: TopologyDependence;
  fix?: FixResult;
  blastRadius: BlastRadius;
}

/** The verdict and the figures it rests on. */
export interface Verdict {
  verdict: string;
  evidence: Record<string, unknown>;
}

const usd = (x: number) => (x < 100 ? `$${x.toFixed(2)}` : `$${Math.round(x).toLocaleString('en-US')}`);
const label = (c: Pick<ComparedConfiguration, 'arch' | 'provisioning'>) =>
  `${c.arch} ${c.provisioning === 'provisioned' ? 'provisioned for peak' : 'autoscaled'}`;

/**
 * One sentence an architect can act on, and its evidence: the cheapest configuration that meets the
 * budgets (or, when none does, why none does and whether the fix changes it), its cost against the
 * others, and the limit's dependence on the topology. Identical configurations never yield a claimed
 * difference: costs within 2% are called equal.
 */
export function computeVerdict(input: {
  profile: string;
  peakRps: number;
  configurations: readonly ComparedConfiguration[];
  answers: readonly ConfigurationAnswer[];
  dependence: TopologyDependence;
  fix?: FixResult;
  /** The 2×2 right-sized again with the fix (its configurations), when the fix was simulated. */
  fixed?: readonly ComparedConfiguration[];
  blast?: BlastRadius;
}): Verdict {
  const cs = input.configurations;
  const key = (c: ComparedConfiguration) => `${c.arch}-${c.provisioning}`;
  const byCost = (list: readonly ComparedConfiguration[]) =>
    [...list].sort((a, b) => a.computeCostUsd - b.computeCostUsd);
  const meeting = byCost(cs.filter((c) => c.meetsBudgets));
  const evidence: Record<string, unknown> = {
    profile: input.profile,
    peakRps: Math.round(input.peakRps),
    computeCostUsd: Object.fromEntries(cs.map((c) => [key(c), c.computeCostUsd])),
    meetsBudgets: Object.fromEntries(cs.map((c) => [key(c), c.meetsBudgets])),
    failedRate: Object.fromEntries(cs.map((c) => [key(c), c.failedRate])),
    breachMinutes: Object.fromEntries(cs.map((c) => [key(c), c.breachMinutes])),
    limit: Object.fromEntries(
      input.answers.map((a) => [
        a.key,
        a.limits[0] ? { cause: a.limits[0].cause, where: a.limits[0].where, share: a.limits[0].share } : null,
      ]),
    ),
    dependsOnTopology: input.dependence.dependsOnTopology,
  };
  const head = `At ${Math.round(input.peakRps).toLocaleString('en-US')} req/s on ${input.profile}`;
  const equal = (a: number, b: number) => Math.abs(a - b) <= 0.02 * Math.max(a, b);
  /** The ranking sentence of a sorted list, and its figures into `into`. */
  const rank = (list: readonly ComparedConfiguration[], into: Record<string, unknown>): string => {
    const best = list[0]!;
    const next = list.find((c) => c !== best && !equal(c.computeCostUsd, best.computeCostUsd));
    const ties = list.filter((c) => c !== best && equal(c.computeCostUsd, best.computeCostUsd));
    into.cheapest = { configuration: key(best), computeCostUsd: best.computeCostUsd };
    if (ties.length > 0) into.tiedWith = ties.map(key);
    if (next)
      into.next = {
        configuration: key(next),
        computeCostUsd: next.computeCostUsd,
        moreThanCheapest: round(next.computeCostUsd / Math.max(1e-9, best.computeCostUsd) - 1, 3),
      };
    const tie = ties.length > 0 ? ` (as cheap, within 2%: ${ties.map(label).join(', ')})` : '';
    return `${label(best)} is the cheapest at ${usd(best.computeCostUsd)} of Fargate compute for the event${tie}${next ? `; the next, ${label(next)}, costs ${Math.round(100 * (next.computeCostUsd / best.computeCostUsd - 1))}% more (${usd(next.computeCostUsd)})` : ''}`;
  };
  let verdict: string;
  if (meeting.length > 0) {
    verdict = `${head}, of the configurations that meet the budgets ${rank(meeting, evidence)}.`;
  } else {
    let fixClause = '';
    if (input.fix && !input.dependence.dependsOnTopology && input.dependence.sharedCause) {
      const f = Object.values(input.fix.configurations);
      const before = Math.max(0, ...f.map((v) => v.before.throttledMinutes));
      const after = Math.max(0, ...f.map((v) => v.after.throttledMinutes));
      const fixEvidence: Record<string, unknown> = {
        fix: input.fix.fix,
        change: input.fix.change,
        throttledMinutes: { before, after },
        meetsBudgetsAfter: Object.fromEntries(
          Object.entries(input.fix.configurations).map(([k, v]) => [k, v.after.meetsBudgets]),
        ),
        computeCostUsdAfter: Object.fromEntries(
          Object.entries(input.fix.configurations).map(([k, v]) => [k, v.after.computeCostUsd]),
        ),
      };
      evidence.fix = fixEvidence;
      const fixedMeeting = byCost((input.fixed ?? []).filter((c) => c.meetsBudgets));
      fixClause =
        fixedMeeting.length > 0
          ? ` The fix, re-simulated — ${input.fix.fix} — takes throttled minutes from ${before} to ${after}; then ${rank(fixedMeeting, fixEvidence)}, meeting the budgets.`
          : ` The fix, re-simulated — ${input.fix.fix} — takes throttled minutes from ${before} to ${after}, yet no configuration then meets the budgets.`;
    }
    const costs: Record<string, unknown> = {};
    evidence.onCostAlone = costs;
    verdict = `${head}, no configuration meets the budgets: ${input.dependence.sentence}. On cost alone, ${rank(byCost(cs), costs)}.${fixClause}`;
  }
  // The edge is in front of both topologies: the same traffic, the same CloudFront bill.
  const edge = cs.map((c) => c.edge?.usd ?? 0);
  if (edge.some((x) => x > 0)) {
    evidence.edgeCostUsd = Object.fromEntries(cs.map((c) => [key(c), c.edge.usd]));
    const lo = Math.min(...edge);
    const hi = Math.max(...edge);
    const n = (x: number | undefined) => Math.round(x ?? 0).toLocaleString('en-US');
    const e0 = cs[0]?.edge;
    verdict += ` CloudFront in front of the stack adds ${equal(lo, hi) ? usd(hi) : `${usd(lo)}–${usd(hi)}`} to each configuration (${n(e0?.requests)} requests: ${n((e0?.requests ?? 0) - (e0?.apiRequests ?? 0))} pages, ${n(e0?.apiRequests)} API and GraphQL), the same in both topologies.`;
  }
  if (input.blast) {
    const b = input.blast.byArch;
    evidence.blastRadius = Object.fromEntries(
      Object.entries(b).map(([a, v]) => [
        a,
        {
          processFaultRequestShare: v.processFault.requestShare,
          codeFaultRequestShare: v.codeFault.requestShare,
        },
      ]),
    );
    const h = b.headless?.processFault.requestShare;
    const m = b.monolith?.processFault.requestShare;
    if (h !== undefined && m !== undefined)
      verdict += ` A ${input.blast.service} outage fails ${(100 * h).toFixed(1)}% of requests in headless and, if it takes its process down, ${(100 * m).toFixed(1)}% in the monolith.`;
  }
  return { verdict, evidence };
}
