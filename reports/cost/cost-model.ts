/**
 * The event's cost from what ran: task-seconds per service over event time (Fargate vCPU and GB,
 * per second with the 1-minute minimum per task start), load balancer hours and LCUs, DynamoDB
 * request units, EventBridge events, CloudWatch GetMetricData and EMF log ingestion, and what the
 * headless topology adds (cross-AZ traffic between services, extra ALB rule evaluations).
 * Autoscaled (as ran) vs provisioned for the peak all event long; cost per 1,000 orders. Pure: every
 * line says its provenance and the price (with source) it used.
 *
 * Counts from a compressed live rehearsal (requests, units, orders) are multiplied by the time scale:
 * the rehearsal's wall rates held for the event's length. Task-seconds are already event time.
 */
import type { Provenance } from '../../core/run-format.ts';
import type { Price, PriceKey, PricingTable } from '../../simulation/pricing/pricing-table.ts';
import type { ServiceSeries } from '../findings/service-series.ts';

/** A task size. */
export interface CostTaskSize {
  vcpu: number;
  memoryGb: number;
  arch: 'x86' | 'arm';
  /** Where the size came from. */
  source: string;
}

/** Model inputs of the cost model; each default is an assumption shown in the report. */
export interface CostAssumptions {
  loadBalancers: number;
  /** Average bytes in + out per edge request (ALB processed bytes). */
  bytesPerRequest: number;
  /** New TCP connections per request (keep-alive clients reuse connections). */
  newConnectionsPerRequest: number;
  /** Availability zones tasks spread over; a call crosses AZs with probability 1 − 1/azs. */
  availabilityZones: number;
  /** Bytes in + out per internal service-to-service call. */
  bytesPerInternalCall: number;
  /**
   * ALB listener rules evaluated per request; null derives it from the topology: headless has one
   * path rule per service (a request may be checked against all of them: an upper bound), monolith 1.
   */
  rulesPerRequest: number | null;
  /** Events put on the bus per order. */
  eventsPerOrder: number;
  /** CloudWatch metrics fetched per service per collection, and the collection period (s). */
  metricsPerService: number;
  collectionPeriodSeconds: number;
  /** EMF records per task per minute, and bytes per record. */
  emfRecordsPerTaskMinute: number;
  emfBytesPerRecord: number;
}

/** Defaults (assumptions, overridable through `assumptions.cost.*`). */
export const DEFAULT_COST_ASSUMPTIONS: CostAssumptions = {
  loadBalancers: 1,
  bytesPerRequest: 4096,
  newConnectionsPerRequest: 0.1,
  availabilityZones: 3,
  bytesPerInternalCall: 2048,
  rulesPerRequest: null,
  eventsPerOrder: 3,
  metricsPerService: 8,
  collectionPeriodSeconds: 60,
  emfRecordsPerTaskMinute: 1,
  emfBytesPerRecord: 1024,
};

/** Everything the model needs, already resolved. */
export interface CostInputs {
  pricing: PricingTable;
  topology: 'headless' | 'monolith';
  eventSeconds: number;
  timeScale: number;
  services: ServiceSeries[];
  taskSizes: Record<string, CostTaskSize>;
  defaultTaskSize: CostTaskSize;
  /** Edge requests per wall second at each load time, and its interval (event s). */
  edgeRps: number[];
  edgeIntervalSeconds: number;
  edgeProvenance: Provenance;
  orders: number;
  /**
   * Domain events the run published (at event scale), summed from the timeline's `eventsPublished`
   * over the services that publish (the bus stand-in excluded: it accepts what they publish); null
   * when the run does not report them, and `orders × eventsPerOrder` is charged instead.
   */
  eventsPublished?: number | null;
  eventsProvenance?: Provenance;
  assumptions: CostAssumptions;
  /** Which assumptions the user set (shown as such). */
  userAssumptions?: string[];
}

/** One line of the bill. */
export interface CostLine {
  service: string;
  item: string;
  quantity: number;
  unit: string;
  priceKey: PriceKey | PriceKey[];
  usd: number;
  provenance: Provenance;
  priceSource: string;
  priceVerified: boolean;
  /** Lines the headless topology adds. */
  headlessOnly?: boolean;
  note?: string;
}

/** The bill. */
export interface CostReport {
  region: string;
  pricingVersion: string;
  currency: 'USD';
  eventHours: number;
  lines: CostLine[];
  byService: Record<string, number>;
  total: number;
  /** Same services provisioned at their peak task count all event long. */
  provisionedForPeak: { byService: Record<string, number>; total: number; computeTotal: number };
  computeTotal: number;
  headlessExtra: number;
  orders: number;
  costPer1000Orders: number | null;
  assumptions: string[];
  notes: string[];
}

/** Billed task-seconds of a task count series: per second, with a minimum per task start (LIFO scale-in). */
export function billedTaskSeconds(
  times: number[],
  period: number,
  running: number[],
  minimumSeconds: number,
): number {
  let total = 0;
  const starts: number[] = [];
  let extra = 0;
  for (let i = 0; i < running.length; i++) {
    const t = times[i] ?? i * period;
    const n = running[i] ?? 0;
    total += n * period;
    while (starts.length < n) starts.push(t);
    while (starts.length > n) {
      const started = starts.pop()!;
      const lived = t - started;
      if (lived < minimumSeconds) extra += minimumSeconds - lived;
    }
  }
  return total + extra;
}

const GB = 1e9;

/** How a bill line looks a price up and cites it: its value, its sources with dates, and whether all are verified. */
interface PriceLookup {
  price: (k: PriceKey) => Price;
  src: (...ks: PriceKey[]) => string;
  verified: (...ks: PriceKey[]) => boolean;
}

function priceLookup(pricing: PricingTable): PriceLookup {
  const p = pricing.prices;
  return {
    price: (k) => p[k],
    src: (...ks) => ks.map((k) => `${k}: ${p[k].source} (${p[k].date})`).join('; '),
    verified: (...ks) => ks.every((k) => p[k].verified),
  };
}

/** The rule evaluations an ALB request costs: the user's figure, else one per service path (headless) or 1. */
function rulesPerRequestOf(inp: CostInputs): number {
  return inp.assumptions.rulesPerRequest ?? (inp.topology === 'headless' ? inp.services.length + 1 : 1);
}

/** Computes the bill: one part per priced resource, then the totals. */
export function computeCost(inp: CostInputs): CostReport {
  const prices = priceLookup(inp.pricing);
  const compute = fargateLines(inp, prices);
  const balancer = loadBalancerLines(inp, prices);
  const lines: CostLine[] = [
    ...compute.lines,
    ...balancer.lines,
    ...storeLines(inp, prices),
    eventLine(inp, prices),
    ...monitoringLines(inp, prices),
    ...crossAzLines(inp, prices, balancer.edgeRequests),
  ];
  return summarizeBill(inp, lines, compute.provisioned, compute.provisionedCompute);
}

/**
 * Fargate task-hours per service as it ran (per second, the minimum per task start), and what the
 * same service would cost provisioned at its peak task count all event long.
 */
function fargateLines(
  inp: CostInputs,
  { price, src, verified }: PriceLookup,
): { lines: CostLine[]; provisioned: Record<string, number>; provisionedCompute: number } {
  const lines: CostLine[] = [];
  const provisioned: Record<string, number> = {};
  let provisionedCompute = 0;
  for (const s of inp.services) {
    const size = inp.taskSizes[s.name] ?? inp.defaultTaskSize;
    const vKey: PriceKey = size.arch === 'arm' ? 'fargate.arm.vcpuHour' : 'fargate.x86.vcpuHour';
    const mKey: PriceKey = size.arch === 'arm' ? 'fargate.arm.gbHour' : 'fargate.x86.gbHour';
    const taskHours =
      billedTaskSeconds(s.times, s.period, s.running, price('fargate.minimumSeconds').value) / 3600;
    const perTaskHour = size.vcpu * price(vKey).value + size.memoryGb * price(mKey).value;
    lines.push({
      service: s.name,
      item: `Fargate ${size.arch} ${size.vcpu} vCPU / ${size.memoryGb} GB`,
      quantity: taskHours,
      unit: 'task-hours',
      priceKey: [vKey, mKey],
      usd: taskHours * perTaskHour,
      provenance: s.provenance,
      priceSource: src(vKey, mKey),
      priceVerified: verified(vKey, mKey),
      note: `task size: ${size.source}`,
    });
    const peak = Math.max(0, ...s.running, ...s.desired);
    provisioned[s.name] = (peak * inp.eventSeconds * perTaskHour) / 3600;
    provisionedCompute += provisioned[s.name]!;
  }
  return { lines, provisioned, provisionedCompute };
}

/**
 * The load balancer: its hours, its LCUs per interval from the edge rate, and (headless) the share of
 * the LCUs its extra path rules add. Also counts the edge requests, which the cross-AZ line subtracts.
 */
function loadBalancerLines(
  inp: CostInputs,
  { price, src, verified }: PriceLookup,
): { lines: CostLine[]; edgeRequests: number } {
  const a = inp.assumptions;
  const lines: CostLine[] = [];
  const hours = inp.eventSeconds / 3600;
  lines.push({
    service: 'shared',
    item: 'ALB hours',
    quantity: hours * a.loadBalancers,
    unit: 'LB-hours',
    priceKey: 'alb.hour',
    usd: hours * a.loadBalancers * price('alb.hour').value,
    provenance: 'model-input',
    priceSource: src('alb.hour'),
    priceVerified: verified('alb.hour'),
  });
  const freeRules = price('alb.freeRules').value;
  const rulesPerRequest = rulesPerRequestOf(inp);
  let lcuHours = 0;
  let lcuHoursWithoutExtraRules = 0;
  let edgeRequests = 0;
  for (const rps of inp.edgeRps) {
    const h = inp.edgeIntervalSeconds / 3600;
    edgeRequests += rps * inp.edgeIntervalSeconds;
    const conn = (rps * a.newConnectionsPerRequest) / 25;
    const bytes = (rps * a.bytesPerRequest * 3600) / GB;
    const rules = (rps * Math.max(0, rulesPerRequest - freeRules)) / 1000;
    const baseRules = inp.topology === 'headless' ? (rps * Math.max(0, 1 - freeRules)) / 1000 : rules;
    lcuHours += Math.max(conn, bytes, rules) * h;
    lcuHoursWithoutExtraRules += Math.max(conn, bytes, baseRules) * h;
  }
  const lcuUsd = lcuHours * price('alb.lcuHour').value;
  const extraRuleUsd = (lcuHours - lcuHoursWithoutExtraRules) * price('alb.lcuHour').value;
  lines.push({
    service: 'shared',
    item: 'ALB LCUs',
    quantity: lcuHoursWithoutExtraRules,
    unit: 'LCU-hours',
    priceKey: 'alb.lcuHour',
    usd: lcuUsd - extraRuleUsd,
    provenance: inp.edgeProvenance,
    priceSource: src('alb.lcuHour'),
    priceVerified: verified('alb.lcuHour'),
    note: `LCU = max(new conn/25, GB/h, rule evals/1000) per interval; ${a.newConnectionsPerRequest} new conn and ${a.bytesPerRequest} B per request (assumptions)`,
  });
  if (inp.topology === 'headless')
    lines.push({
      service: 'shared',
      item: `extra ALB rules (${rulesPerRequest} evaluated per request, ${freeRules} free)`,
      quantity: lcuHours - lcuHoursWithoutExtraRules,
      unit: 'LCU-hours',
      priceKey: ['alb.lcuHour', 'alb.freeRules'],
      usd: extraRuleUsd,
      provenance: 'model-input',
      priceSource: src('alb.lcuHour', 'alb.freeRules'),
      priceVerified: verified('alb.lcuHour', 'alb.freeRules'),
      headlessOnly: true,
      note: 'only when rule evaluations are the largest LCU dimension',
    });
  return { lines, edgeRequests };
}

/** DynamoDB on-demand read and write units the services' stores used, at event scale; none when unused. */
function storeLines(inp: CostInputs, { price, src, verified }: PriceLookup): CostLine[] {
  let rru = 0;
  let wru = 0;
  let storeProv: Provenance = 'model-input';
  for (const s of inp.services)
    for (const st of s.store ?? []) {
      rru += st.readUnits * inp.timeScale;
      wru += st.writeUnits * inp.timeScale;
      storeProv = s.provenance;
    }
  if (rru + wru <= 0) return [];
  return [
    {
      service: 'shared',
      item: 'DynamoDB on-demand reads',
      quantity: rru,
      unit: 'RRU',
      priceKey: 'dynamodb.rruMillion',
      usd: (rru / 1e6) * price('dynamodb.rruMillion').value,
      provenance: storeProv,
      priceSource: src('dynamodb.rruMillion'),
      priceVerified: verified('dynamodb.rruMillion'),
    },
    {
      service: 'shared',
      item: 'DynamoDB on-demand writes',
      quantity: wru,
      unit: 'WRU',
      priceKey: 'dynamodb.wruMillion',
      usd: (wru / 1e6) * price('dynamodb.wruMillion').value,
      provenance: storeProv,
      priceSource: src('dynamodb.wruMillion'),
      priceVerified: verified('dynamodb.wruMillion'),
    },
  ];
}

/**
 * EventBridge events: what the run published when it says (one EventBridge entry each, the monolith's
 * in-process events priced alike so both topologies are charged by the same rule), else assumed per order.
 */
function eventLine(inp: CostInputs, { price, src, verified }: PriceLookup): CostLine {
  const a = inp.assumptions;
  const measuredEvents = inp.eventsPublished ?? null;
  const events = measuredEvents ?? inp.orders * a.eventsPerOrder;
  return {
    service: 'shared',
    item:
      measuredEvents === null
        ? `EventBridge events (${a.eventsPerOrder} per order)`
        : 'EventBridge events (as published by the services)',
    quantity: events,
    unit: 'events',
    priceKey: 'eventbridge.eventsMillion',
    usd: (events / 1e6) * price('eventbridge.eventsMillion').value,
    provenance: measuredEvents === null ? 'model-input' : (inp.eventsProvenance ?? 'measured'),
    priceSource: src('eventbridge.eventsMillion'),
    priceVerified: verified('eventbridge.eventsMillion'),
    note:
      measuredEvents === null
        ? 'the run does not report the events its services published: eventsPerOrder is an assumption'
        : `OrderPlaced, InventoryReserved/Released, PriceChanged and CartAbandoned, counted at each publisher's outbox${inp.topology === 'monolith' ? ' (the monolith dispatches them in process; priced as EventBridge events so both topologies are charged alike)' : ''}${inp.timeScale !== 1 ? `; × ${inp.timeScale} (time scale)` : ''}`,
  };
}

/** Watching the event: CloudWatch GetMetricData for the collections, and the tasks' EMF log ingestion. */
function monitoringLines(inp: CostInputs, { price, src, verified }: PriceLookup): CostLine[] {
  const a = inp.assumptions;
  const metrics =
    inp.services.length * a.metricsPerService * Math.ceil(inp.eventSeconds / a.collectionPeriodSeconds);
  const taskMinutes = inp.services.reduce(
    (s, x) => s + x.running.reduce((a2, n) => a2 + n, 0) * (x.period / 60),
    0,
  );
  const emfGb = (taskMinutes * a.emfRecordsPerTaskMinute * a.emfBytesPerRecord) / GB;
  return [
    {
      service: 'shared',
      item: 'CloudWatch GetMetricData',
      quantity: metrics,
      unit: 'metrics requested',
      priceKey: 'cloudwatch.getMetricDataThousandMetrics',
      usd: (metrics / 1000) * price('cloudwatch.getMetricDataThousandMetrics').value,
      provenance: 'model-input',
      priceSource: src('cloudwatch.getMetricDataThousandMetrics'),
      priceVerified: verified('cloudwatch.getMetricDataThousandMetrics'),
      note: `${a.metricsPerService} metrics per service every ${a.collectionPeriodSeconds} s`,
    },
    {
      service: 'shared',
      item: 'CloudWatch Logs ingestion (EMF metric records)',
      quantity: emfGb,
      unit: 'GB',
      priceKey: 'cloudwatch.logIngestionGb',
      usd: emfGb * price('cloudwatch.logIngestionGb').value,
      provenance: 'model-input',
      priceSource: src('cloudwatch.logIngestionGb'),
      priceVerified: verified('cloudwatch.logIngestionGb'),
      note: `${a.emfRecordsPerTaskMinute} record of ${a.emfBytesPerRecord} B per task per minute`,
    },
  ];
}

/**
 * What the headless topology's internal calls cost in cross-AZ traffic: the service requests beyond
 * the edge's, the share that crosses zones, charged each way. None for the monolith.
 */
function crossAzLines(
  inp: CostInputs,
  { price, src, verified }: PriceLookup,
  edgeRequests: number,
): CostLine[] {
  if (inp.topology !== 'headless') return [];
  const a = inp.assumptions;
  const serviceRequests = inp.services.reduce((s, x) => s + x.requestsTotal, 0) * inp.timeScale;
  const internal = Math.max(0, serviceRequests - edgeRequests);
  const crossFraction = 1 - 1 / Math.max(1, a.availabilityZones);
  const gb = (internal * a.bytesPerInternalCall * crossFraction) / GB;
  return [
    {
      service: 'shared',
      item: 'cross-AZ traffic between services',
      quantity: gb,
      unit: 'GB',
      priceKey: 'transfer.crossAzGbEachWay',
      usd: gb * 2 * price('transfer.crossAzGbEachWay').value,
      provenance: inp.services[0]?.provenance ?? 'model-input',
      priceSource: src('transfer.crossAzGbEachWay'),
      priceVerified: verified('transfer.crossAzGbEachWay'),
      headlessOnly: true,
      note: `${internal.toFixed(0)} internal calls (service requests minus edge requests) × ${a.bytesPerInternalCall} B × ${(crossFraction * 100).toFixed(0)}% crossing AZs, charged each way`,
    },
  ];
}

/**
 * The bill's totals from its lines: by service, compute vs shared, provisioned for the peak (the
 * shared lines as ran: they do not depend on task counts), the headless extra, cost per 1,000 orders,
 * and the assumptions and notes it rests on.
 */
function summarizeBill(
  inp: CostInputs,
  lines: CostLine[],
  provisioned: Record<string, number>,
  provisionedCompute: number,
): CostReport {
  const byService: Record<string, number> = {};
  for (const l of lines) byService[l.service] = (byService[l.service] ?? 0) + l.usd;
  const total = lines.reduce((s, l) => s + l.usd, 0);
  const computeTotal = lines.filter((l) => l.service !== 'shared').reduce((s, l) => s + l.usd, 0);
  const nonCompute = total - computeTotal;
  const provByService = { ...provisioned, shared: byService.shared ?? 0 };
  const assumptions = Object.entries({ ...inp.assumptions, rulesPerRequest: rulesPerRequestOf(inp) }).map(
    ([k, v]) => `${k} = ${v}${inp.userAssumptions?.includes(k) ? ' (user-set)' : ' (assumption)'}`,
  );
  const notes = [...inp.pricing.notes];
  if (inp.timeScale !== 1)
    notes.push(
      `counts × ${inp.timeScale} (time scale): the rehearsal's wall rates held for the event's length`,
    );
  return {
    region: inp.pricing.region,
    pricingVersion: inp.pricing.version,
    currency: 'USD',
    eventHours: inp.eventSeconds / 3600,
    lines,
    byService,
    total,
    provisionedForPeak: {
      byService: provByService,
      total: provisionedCompute + nonCompute,
      computeTotal: provisionedCompute,
    },
    computeTotal,
    headlessExtra: lines.filter((l) => l.headlessOnly).reduce((s, l) => s + l.usd, 0),
    orders: inp.orders,
    costPer1000Orders: inp.orders > 0 ? (total / inp.orders) * 1000 : null,
    assumptions,
    notes,
  };
}
