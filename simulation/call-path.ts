/**
 * The path a request takes through the deployables, as a tree of visits (docs/simulation.md "Latency
 * model"): each visit is one hold of a deployable's CPU (the local replicas hold once per request they
 * receive: the entry for the operation, a service for each internal call it serves), visits follow
 * each other in series except where the code calls in parallel (`Promise.all`): the gateway asks
 * pricing and inventory at once for a product, the storefront's home page asks for the categories and
 * the deals at once. The simulator's latency is the sum along the series and the maximum across the
 * parallel legs (`simulation/path-latency.ts`); the CPU each deployable is charged stays the demand
 * table's (the visits of a deployable add up to its demand, tested). Pure.
 */
import { DEMAND_TABLE, type DemandTable } from '../reference-stack/capacity/demand-table.ts';
import {
  type ApiOperationId,
  type Arch,
  isPageOperation,
  METHODS,
  type MethodName,
  moduleHostOf,
  OPERATION_CALLS,
  type OperationId,
  PAGE_CALLS,
  type PageOperationId,
  type ServiceName,
  scaledDemand,
} from '../reference-stack/topology.ts';

/** A node of a request's path: one hold of a deployable's CPU, a series, or parallel legs. */
export type CallPath =
  | { kind: 'visit'; service: ServiceName; cpuMs: number }
  | { kind: 'external'; shift: number; tail: number }
  | { kind: 'series'; parts: CallPath[] }
  | { kind: 'parallel'; parts: CallPath[] };

/**
 * The calls each API use case makes at once (reference-stack/gateway/api.ts, every `Promise.all`):
 * indices into its `OPERATION_CALLS` list. The rest are awaited one after the other. call-path.test.ts
 * reads api.ts and fails when a `Promise.all` there is not listed here (or the other way round).
 */
export const PARALLEL_CALLS: Partial<Record<ApiOperationId, readonly (readonly MethodName[])[]>> = {
  getProduct: [['pricing.quote', 'inventory.availability']],
  reorder: [['inventory.availability', 'pricing.quote']],
  // GraphQL's `product` field is getProduct (the mobile app's most frequent request).
  graphql: [['pricing.quote', 'inventory.availability']],
};

/** The BFF calls each page's render makes at once (reference-stack/storefront/pages.ts `Promise.all`). */
export const PARALLEL_PAGE_CALLS: Partial<Record<PageOperationId, readonly (readonly ApiOperationId[])[]>> = {
  getHomePage: [['listCategories', 'listDeals']],
};

/** The external wait of an operation's method (the card authorization inside checkout), as a leaf. */
export type ExternalWaits = Partial<Record<MethodName, { shift: number; tail: number }>>;

/** Groups `calls` in order: the members of a parallel group become one parallel node where the first of them stood. */
function group<T extends string>(
  calls: readonly T[],
  parallel: readonly (readonly T[])[] | undefined,
  node: (c: T) => CallPath,
): CallPath[] {
  const out: CallPath[] = [];
  const done = new Set<number>();
  calls.forEach((c, i) => {
    if (done.has(i)) return;
    const g = parallel?.find((p) => p.includes(c));
    if (!g) {
      out.push(node(c));
      return;
    }
    const legs: CallPath[] = [];
    calls.forEach((d, j) => {
      if (j >= i && !done.has(j) && g.includes(d)) {
        done.add(j);
        legs.push(node(d));
      }
    });
    out.push(legs.length === 1 ? (legs[0] as CallPath) : { kind: 'parallel', parts: legs });
  });
  return out;
}

/** A series of one node is that node. */
function series(parts: CallPath[]): CallPath {
  const flat = parts.flatMap((p) => (p.kind === 'series' ? p.parts : [p]));
  return flat.length === 1 ? (flat[0] as CallPath) : { kind: 'series', parts: flat };
}

/**
 * An internal method served on `here` (reached over a hop when `viaHop`): its own CPU, its in-process
 * callees' CPU and the client side of its remote calls in one visit, then its remote calls in order
 * (checkout: cart, pricing, inventory, the card authorization, inventory, orders).
 */
function methodPath(
  method: MethodName,
  host: Record<string, ServiceName>,
  here: ServiceName,
  viaHop: boolean,
  t: DemandTable,
  external: ExternalWaits,
): { cpuMs: number; after: CallPath[] } {
  const spec = METHODS[method];
  let cpuMs =
    scaledDemand(t.methodCpuMs[method] + spec.storeCalls * t.storeCallCpuMs, t) +
    (viaHop ? scaledDemand(t.hopServerCpuMs, t) : 0);
  const after: CallPath[] = [];
  for (const callee of spec.calls as readonly MethodName[]) {
    const there = host[METHODS[callee].module] as ServiceName;
    if (there === here) {
      const inner = methodPath(callee, host, here, false, t, external);
      cpuMs += inner.cpuMs;
      after.push(...inner.after);
    } else {
      cpuMs += scaledDemand(t.hopClientCpuMs, t);
      const inner = methodPath(callee, host, there, true, t, external);
      after.push(series([{ kind: 'visit', service: there, cpuMs: inner.cpuMs }, ...inner.after]));
    }
  }
  const ext = external[method];
  if (ext) {
    // The authorization comes after the reservation (reference-stack/domain/checkout.ts): before the
    // commit and the order, which a series puts anywhere alike.
    after.push({ kind: 'external', shift: ext.shift, tail: ext.tail });
  }
  return { cpuMs, after };
}

/** An API operation entered at `entry` (the gateway, or the monolith), `extraEntryCpuMs` added to its hold (GraphQL's own). */
function apiPath(
  arch: Arch,
  op: ApiOperationId,
  t: DemandTable,
  external: ExternalWaits,
  extraEntryCpuMs: number,
): CallPath {
  const host = moduleHostOf(arch);
  const entry: ServiceName = arch === 'monolith' ? 'monolith' : 'gateway';
  let cpuMs = scaledDemand(t.gatewayCpuMs[op], t) + extraEntryCpuMs;
  const calls = OPERATION_CALLS[op] as readonly MethodName[];
  const remote = (m: MethodName): CallPath => {
    const there = host[METHODS[m].module];
    const inner = methodPath(m, host, there, true, t, external);
    return series([{ kind: 'visit', service: there, cpuMs: inner.cpuMs }, ...inner.after]);
  };
  const after: CallPath[] = [];
  const remoteCalls: MethodName[] = [];
  for (const m of calls) {
    if (host[METHODS[m].module] === entry) {
      const inner = methodPath(m, host, entry, false, t, external);
      cpuMs += inner.cpuMs;
      after.push(...inner.after);
    } else {
      cpuMs += scaledDemand(t.hopClientCpuMs, t);
      remoteCalls.push(m);
    }
  }
  after.push(...group(remoteCalls, PARALLEL_CALLS[op], remote));
  return series([{ kind: 'visit', service: entry, cpuMs }, ...after]);
}

/**
 * The path of one public operation in a topology (a page: the render's hold on the storefront, then
 * its BFF calls through the gateway; in the monolith everything is one hold). `extraEntryCpuMs` is
 * what the entry charges on top (a GraphQL request's parsing and execution). Pure.
 */
export function computeCallPath(
  arch: Arch,
  operation: OperationId,
  options: { demandTable?: DemandTable; external?: ExternalWaits; extraEntryCpuMs?: number } = {},
): CallPath {
  const t = options.demandTable ?? DEMAND_TABLE;
  const external = options.external ?? {};
  const extra = options.extraEntryCpuMs ?? 0;
  if (!isPageOperation(operation)) return apiPath(arch, operation, t, external, extra);
  const calls = PAGE_CALLS[operation] as readonly ApiOperationId[];
  if (arch === 'monolith') {
    // The monolith renders from its in-process use cases: one hold of the page's and the calls' CPU.
    const parts = calls.map((c) => apiPath(arch, c, t, external, 0));
    return mergeVisits(
      series([
        { kind: 'visit', service: 'monolith', cpuMs: scaledDemand(t.pageCpuMs[operation], t) + extra },
        ...parts,
      ]),
    );
  }
  const cpuMs =
    scaledDemand(t.pageCpuMs[operation], t) + calls.length * scaledDemand(t.hopClientCpuMs, t) + extra;
  return series([
    { kind: 'visit', service: 'storefront', cpuMs },
    ...group(calls, PARALLEL_PAGE_CALLS[operation], (c) => apiPath(arch, c, t, external, 0)),
  ]);
}

/**
 * Merges consecutive visits of one deployable in a series: the monolith's page and the use cases it
 * calls in-process are one hold (in headless, two calls to one service are two requests: never merged).
 */
function mergeVisits(path: CallPath): CallPath {
  if (path.kind === 'visit' || path.kind === 'external') return path;
  const parts = path.parts.map(mergeVisits);
  if (path.kind === 'parallel') return { kind: 'parallel', parts };
  const out: CallPath[] = [];
  for (const p of parts.flatMap((x) => (x.kind === 'series' ? x.parts : [x]))) {
    const last = out[out.length - 1];
    if (last?.kind === 'visit' && p.kind === 'visit' && last.service === p.service)
      out[out.length - 1] = { ...last, cpuMs: last.cpuMs + p.cpuMs };
    else out.push(p);
  }
  return out.length === 1 ? (out[0] as CallPath) : { kind: 'series', parts: out };
}

/** CPU-ms per deployable over every visit of a path (what the demand table charges). Pure. */
export function pathDemand(path: CallPath, into: Partial<Record<ServiceName, number>> = {}) {
  if (path.kind === 'visit') into[path.service] = (into[path.service] ?? 0) + path.cpuMs;
  else if (path.kind === 'series' || path.kind === 'parallel')
    for (const p of path.parts) pathDemand(p, into);
  return into;
}

/**
 * Each deployable's holds along a path, their CPU-ms in order: what its balancer counts as requests
 * (an add-to-cart is two requests to the cart, a storefront page one to the gateway per BFF call),
 * each a hold of its own. The simulator's queues and a run's measured capacity count these, not one
 * request per step (docs/simulation.md, session 11). Pure.
 */
export function pathVisits(
  path: CallPath,
  into: Partial<Record<ServiceName, number[]>> = {},
): Partial<Record<ServiceName, number[]>> {
  if (path.kind === 'visit') {
    const holds = into[path.service] ?? [];
    holds.push(path.cpuMs);
    into[path.service] = holds;
  } else if (path.kind === 'series' || path.kind === 'parallel')
    for (const p of path.parts) pathVisits(p, into);
  return into;
}
