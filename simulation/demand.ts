/**
 * From a compiled plan to what the simulator needs per time step: for every (scenario, step), the
 * operation it calls, the emulated CPU-ms it costs each deployable of a topology (the same demand
 * table the local replicas charge: reference-stack/topology.ts), when it happens relative to its
 * iteration's start (mean think times before it), and whether it lands on a hot key (a value drawn
 * from a hot pool, or extracted from a response to a request that did). Pure.
 */
import { invalidInput } from '../core/errors.ts';
import { DEMAND_TABLE, type DemandTable } from '../reference-stack/capacity/demand-table.ts';
import { DOMAIN_DEFAULTS } from '../reference-stack/domain/context.ts';
import {
  type Arch,
  computeDemandTable,
  GRAPHQL_FIELD_OPERATIONS,
  isPageOperation,
  OPERATION_IDS,
  type OperationId,
  PAGE_CALLS,
  type ServiceName,
  scaledDemand,
  TOPOLOGIES,
} from '../reference-stack/topology.ts';
import { createCatalog } from '../scenarios/catalog.ts';
import { meanThinkSeconds } from '../scenarios/compile.ts';
import { BUILTIN_POOL_NAMES, builtinPools } from '../scenarios/data-pools.ts';
import type { Journey, JourneyStep } from '../scenarios/journey.ts';
import type { Plan } from '../scenarios/plan.ts';
import { type CallPath, computeCallPath } from './call-path.ts';
import {
  DEAL_PRICE_CHANGES_PER_SECOND,
  type EdgeStep,
  PAGE_ROUTES,
  pageTtlSeconds,
  responseBytesOf,
} from './edge-cache.ts';
import { type EventDelivery, eventDeliveries } from './events.ts';
import { type KeyWrites, LOCAL_KEY_WRITES } from './local-store.ts';

/** One step of one scenario, as the simulator charges it. */
export interface StepDemand {
  channel: string;
  journey: string;
  step: string;
  operation: OperationId;
  /** Event seconds from the iteration's start to this request (mean think times before it). */
  offset: number;
  /** Emulated CPU-ms per request on each deployable it touches. */
  cpuMs: Partial<Record<ServiceName, number>>;
  /** Deployables the request passes through, entry first. */
  services: ServiceName[];
  /** Service-to-service calls the request makes (each adds network latency). */
  hops: number;
  /** Whether the request's key comes from a hot pool (a flash-sale SKU): it lands on a hot partition. */
  hot: boolean;
  /** Store units per request (DynamoDB-like read/write units), by table. */
  store: StoreUse[];
  /**
   * Wall time the request waits on something outside every deployable (the card authorization of a
   * checkout), as a shifted exponential in ms; none for most operations.
   */
  external: { shift: number; tail: number } | null;
  /** A cacheable page's place in the edge cache (simulation/edge-cache.ts); null when not cached. */
  edge: EdgeStep | null;
  /**
   * Bytes of the answer's body the edge sends the client (measured per page and per API operation,
   * reference-stack/capacity/response-bytes.ts; `responseBytesOf`): the edge's BytesDownloaded.
   */
  responseBytes?: number;
  /**
   * The request's visits in order, parallel where the code calls at once (simulation/call-path.ts):
   * what its latency adds up along; its CPU per deployable is `cpuMs`.
   */
  path: CallPath;
  /** The writes it makes on one key more than once (a checkout's reservation and commit), for a local replay's store. */
  keyWrites: KeyWrites | null;
  /** The domain events it publishes, as their consumers' deployables receive them (simulation/events.ts). */
  events: EventDelivery[];
}

/**
 * The card authorization a checkout waits for (reference-stack/domain/payment.ts): log-normal with
 * the local stack's median and sigma (DOMAIN_DEFAULTS, assumptions there), wall time, no CPU. As a
 * shifted exponential with the same mean and p95: tail = (p95 − mean) / (ln 20 − 1), shift = mean − tail.
 */
export function paymentWait(medianMs: number, sigma: number): { shift: number; tail: number } {
  const mean = medianMs * Math.exp((sigma * sigma) / 2);
  const p95 = medianMs * Math.exp(1.6448536 * sigma);
  const tail = (p95 - mean) / (Math.log(20) - 1);
  return { shift: Math.max(0, mean - tail), tail };
}

/** Operations that wait on an external call, and for how long (ms). */
const EXTERNAL_WAIT: Partial<Record<OperationId, { shift: number; tail: number }>> = {
  checkout: paymentWait(DOMAIN_DEFAULTS.paymentMedianMs, DOMAIN_DEFAULTS.paymentSigma),
};

/** The same waits on the method that makes them (a checkout's path: simulation/call-path.ts). */
const EXTERNAL_METHOD_WAIT = {
  'checkout.checkout': paymentWait(DOMAIN_DEFAULTS.paymentMedianMs, DOMAIN_DEFAULTS.paymentSigma),
};

/** Store consumption of one request on one table. */
export interface StoreUse {
  table: string;
  readUnits: number;
  writeUnits: number;
  /** Whether the key it reads or writes is the request's (possibly hot) product key. */
  productKeyed: boolean;
}

/** The plan's scenarios with their steps' demand, in plan order. */
export interface ScenarioDemand {
  id: string;
  channel: string;
  journey: string;
  /** Index into plan.scenarios. */
  index: number;
  steps: StepDemand[];
}

/** Pools whose values are hot keys (flash-sale SKUs and their products). */
const HOT_POOLS = new Set(['hotSkus', 'hotProductIds']);

/**
 * Store units per operation: a model input (assumption), following DynamoDB's unit sizes
 * (1 read unit per strongly consistent read of ≤4 KB, 1 write unit per write of ≤1 KB) and how the
 * reference stack's modules use their tables (reference-stack/domain/).
 */
const STORE_USE: Partial<Record<OperationId, StoreUse[]>> = {
  listCategories: [{ table: 'catalog', readUnits: 1, writeUnits: 0, productKeyed: false }],
  listProducts: [{ table: 'catalog', readUnits: 5, writeUnits: 0, productKeyed: false }],
  getProduct: [
    { table: 'catalog', readUnits: 1, writeUnits: 0, productKeyed: true },
    { table: 'inventory', readUnits: 1, writeUnits: 0, productKeyed: true },
  ],
  search: [{ table: 'catalog', readUnits: 5, writeUnits: 0, productKeyed: false }],
  listDeals: [{ table: 'pricing', readUnits: 1, writeUnits: 0, productKeyed: false }],
  createCart: [{ table: 'carts', readUnits: 0, writeUnits: 1, productKeyed: false }],
  getCart: [{ table: 'carts', readUnits: 1, writeUnits: 0, productKeyed: false }],
  addCartItem: [
    { table: 'carts', readUnits: 1, writeUnits: 1, productKeyed: false },
    { table: 'inventory', readUnits: 1, writeUnits: 0, productKeyed: true },
  ],
  removeCartItem: [{ table: 'carts', readUnits: 1, writeUnits: 1, productKeyed: false }],
  checkout: [
    { table: 'carts', readUnits: 1, writeUnits: 1, productKeyed: false },
    { table: 'inventory', readUnits: 0, writeUnits: 2, productKeyed: true },
    { table: 'orders', readUnits: 0, writeUnits: 1, productKeyed: false },
  ],
  getOrder: [{ table: 'orders', readUnits: 1, writeUnits: 0, productKeyed: false }],
  listCustomerOrders: [{ table: 'orders', readUnits: 2, writeUnits: 0, productKeyed: false }],
  reorder: [
    { table: 'orders', readUnits: 1, writeUnits: 0, productKeyed: false },
    { table: 'carts', readUnits: 0, writeUnits: 2, productKeyed: false },
  ],
  listStores: [{ table: 'stores', readUnits: 1, writeUnits: 0, productKeyed: false }],
  getStoreInventory: [{ table: 'inventory', readUnits: 1, writeUnits: 0, productKeyed: true }],
};

/** Store units of one request of an operation: a page's are those of the BFF operations it calls. */
function storeUseOf(operation: OperationId): StoreUse[] {
  if (!isPageOperation(operation)) return STORE_USE[operation] ?? [];
  return PAGE_CALLS[operation].flatMap((op) => STORE_USE[op] ?? []);
}

/** The root field of a GraphQL document (`query { product(...) {...} }` → `product`). */
function graphqlRootField(query: string): string | undefined {
  const body = query.replace(/#[^\n]*/g, '');
  const open = body.indexOf('{');
  if (open < 0) return undefined;
  return /^\s*(?:\w+\s*:\s*)?(\w+)/.exec(body.slice(open + 1))?.[1];
}

/** The topology operation a journey step exercises. */
export function operationOfStep(step: JourneyStep): OperationId {
  if (step.graphql) {
    const field = graphqlRootField(step.graphql.query);
    const op = field ? (GRAPHQL_FIELD_OPERATIONS as Record<string, OperationId>)[field] : undefined;
    if (op) return op;
    return 'graphql' as OperationId;
  }
  const name = step.operation;
  if (name && (OPERATION_IDS as readonly string[]).includes(name)) return name as OperationId;
  throw invalidInput(
    'simulate-unknown-operation',
    `step "${step.name}" (${step.method} ${step.path}) names no operation of the reference stack${name ? ` ("${name}")` : ''}`,
    'the simulator models the reference stack: give each step an `operation` from scenarios/contract/openapi.yaml',
  );
}

function templateVars(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    for (const m of value.matchAll(/\{\{\s*([\w.]+)\s*\}\}/g)) if (m[1]) into.add(m[1]);
  } else if (Array.isArray(value)) for (const v of value) templateVars(v, into);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) templateVars(v, into);
}

/** Which steps of a journey touch a hot key: hot pool values and what is extracted using them. */
function hotSteps(journey: Journey): boolean[] {
  const hotVars = new Set<string>();
  for (const [name, binding] of Object.entries(journey.data ?? {}))
    if (HOT_POOLS.has(binding.pool)) hotVars.add(name);
  return journey.steps.map((step) => {
    const used = new Set<string>();
    templateVars(step.path, used);
    templateVars(step.body, used);
    templateVars(step.graphql?.variables, used);
    const hot = [...used].some((v) => hotVars.has(v));
    if (hot) for (const v of Object.keys(step.extract ?? {})) hotVars.add(v);
    return hot;
  });
}

let poolSizes: Record<string, number> | undefined;

/** Sizes of the built-in data pools (the engine draws from the default catalog). */
function builtinPoolSizes(): Record<string, number> {
  if (!poolSizes) {
    const catalog = createCatalog({});
    poolSizes = Object.fromEntries(BUILTIN_POOL_NAMES.map((n) => [n, builtinPools[n](catalog).length]));
  }
  return poolSizes;
}

/** Pools whose values are the lightning deals' products (their prices change during the event). */
const DEAL_POOLS = new Set(['hotSkus', 'hotProductIds', 'topSku', 'topProductId']);

/**
 * Each step's place in the edge cache: a cacheable page spreads over as many pages as its path's
 * variables can take (the sizes of the pools they come from, or of the pools of the step a value was
 * extracted from: a search result's page follows the search terms). A user pool's size is not known
 * here: its pages are modelled as never cached (the origin count is an upper bound).
 */
function edgeSteps(journey: Journey, operations: readonly OperationId[]): (EdgeStep | null)[] {
  const sizes = builtinPoolSizes();
  const origin = new Map<string, string[]>();
  for (const [name, binding] of Object.entries(journey.data ?? {})) origin.set(name, [binding.pool]);
  return journey.steps.map((step, i) => {
    const used = new Set<string>();
    templateVars(step.path, used);
    // `{{channel}}` is one value per scenario; other built-ins (uuid, iteration, vu) and unknown names
    // take unbounded values.
    const pools = [
      ...new Set([...used].flatMap((v) => origin.get(v) ?? (v === 'channel' ? [] : [`?${v}`]))),
    ].sort();
    for (const v of Object.keys(step.extract ?? {})) origin.set(v, pools);
    const op = operations[i] as OperationId;
    if (!isPageOperation(op)) return null;
    const ttlSeconds = pageTtlSeconds(op);
    const keys = pools.reduce((n, p) => n * (sizes[p] ?? Number.POSITIVE_INFINITY), 1);
    if (ttlSeconds <= 0 || !Number.isFinite(keys)) return null;
    const route = PAGE_ROUTES[op];
    // A price change purges the product page of its SKU and the category pages listing it (at most one
    // per change: an upper bound); the home page shows no price.
    const purgesPerKeySecond =
      route === 'product'
        ? DEAL_PRICE_CHANGES_PER_SECOND /
          (pools.some((p) => DEAL_POOLS.has(p)) ? (sizes.hotSkus ?? 1) : (sizes.productIds ?? 1))
        : route === 'category'
          ? DEAL_PRICE_CHANGES_PER_SECOND / keys
          : 0;
    return { keyspace: `${route}:${pools.join('+')}`, space: { keys, ttlSeconds, purgesPerKeySecond } };
  });
}

/** Computes every scenario's per-step demand in a topology. */
export function computeScenarioDemands(plan: Plan, arch: Arch, demandTable?: DemandTable): ScenarioDemand[] {
  const table = computeDemandTable(arch, demandTable);
  const routes = TOPOLOGIES[arch].operations;
  const entry = TOPOLOGIES[arch].entry;
  const graphqlCpuMs = scaledDemand(
    (demandTable ?? DEMAND_TABLE).gatewayCpuMs.graphql,
    demandTable ?? DEMAND_TABLE,
  );
  return plan.scenarios.map((sc, index) => {
    const journey = plan.journeys[sc.journey];
    if (!journey) {
      throw invalidInput(
        'plan-invalid',
        `plan scenario ${sc.id} names journey "${sc.journey}" that the plan lacks`,
      );
    }
    const hot = hotSteps(journey);
    const edge = edgeSteps(journey, journey.steps.map(operationOfStep));
    let offset = 0;
    const steps = journey.steps.map((step, i): StepDemand => {
      const operation = operationOfStep(step);
      // A GraphQL request costs its entry the operation's work plus GraphQL's own parsing, validation
      // and execution, as the live gateway charges it (reference-stack/gateway/graphql.ts
      // graphqlEntryDemand). Until 2026-12-02 the simulator charged the REST operation alone: the
      // quiet-host rehearsals' gateway spent 1.26–1.28 times the replay's CPU per request, the mobile
      // app (GraphQL) being 45% of flash-sale's traffic.
      const cpuMs =
        step.graphql && operation !== 'graphql'
          ? { ...table[operation], [entry]: (table[operation][entry] ?? 0) + graphqlCpuMs }
          : table[operation];
      const d: StepDemand = {
        channel: sc.channel,
        journey: sc.journey,
        step: step.name,
        operation,
        offset,
        cpuMs,
        services: routes[operation].services,
        hops: routes[operation].hops,
        hot: hot[i] ?? false,
        store: storeUseOf(operation),
        external: EXTERNAL_WAIT[operation] ?? null,
        edge: edge[i] ?? null,
        keyWrites: LOCAL_KEY_WRITES[operation] ?? null,
        events: eventDeliveries(arch, operation, demandTable ?? DEMAND_TABLE),
        responseBytes: responseBytesOf(operation, step.graphql !== undefined),
        path: computeCallPath(arch, operation, {
          ...(demandTable ? { demandTable } : {}),
          external: EXTERNAL_METHOD_WAIT,
          extraEntryCpuMs: step.graphql && operation !== 'graphql' ? graphqlCpuMs : 0,
        }),
      };
      offset += meanThinkSeconds(step.think);
      return d;
    });
    return { id: sc.id, channel: sc.channel, journey: sc.journey, index, steps };
  });
}
