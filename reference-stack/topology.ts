/**
 * The two topologies of the reference stack as pure data: which deployables exist, their default
 * Fargate task sizes, which internal methods each public API operation calls, and from that the
 * service demand (emulated CPU-ms) every public operation puts on every deployable.
 *
 * The same domain code runs in both topologies. What differs is only *where* a method runs and
 * whether a call between two methods crosses a process boundary (a hop, with a measured per-hop
 * CPU cost on both sides) or stays in-process (no hop). The per-method CPU demand comes from the
 * demand-table measurement (`reference-stack/capacity/demand-table.ts`, measured from this code) times ONE
 * scale factor, identical for both topologies. The orchestrator, the local replicas and the
 * event-scale simulator all read demand from here, so a simulated service and a local replica
 * charge the same CPU for the same request.
 */
import { DEMAND_TABLE, type DemandTable } from './capacity/demand-table.ts';

/** The two architectures compared by the stack. */
export type Arch = 'monolith' | 'headless';

/** Every deployable name across both topologies (plus the event bus of the headless topology). */
export type ServiceName =
  | 'gateway'
  | 'catalog'
  | 'search'
  | 'pricing'
  | 'cart'
  | 'inventory'
  | 'checkout'
  | 'orders'
  | 'storefront'
  | 'monolith'
  | 'bus';

/** The domain modules; in the headless topology each is its own service, in the monolith all live in one. */
export type ModuleName = 'catalog' | 'search' | 'pricing' | 'cart' | 'inventory' | 'checkout' | 'orders';

/** A valid Fargate task size (vCPU and memory pair). */
export interface TaskSize {
  vcpu: number;
  memoryGb: number;
}

/**
 * Valid Fargate (Linux) CPU/memory combinations (AWS ECS task definition docs, "Task CPU and memory"):
 * 0.25 vCPU: 0.5, 1, 2 GB; 0.5: 1–4 GB; 1: 2–8 GB; 2: 4–16 GB (1-GB steps); 4: 8–30 GB (1-GB steps);
 * 8: 16–60 GB (4-GB steps); 16: 32–120 GB (8-GB steps).
 */
export function isValidFargateSize(size: TaskSize): boolean {
  const { vcpu, memoryGb: m } = size;
  const range = (lo: number, hi: number, step: number) =>
    m >= lo && m <= hi && Number.isInteger((m - lo) / step);
  const rules: Record<string, () => boolean> = {
    '0.25': () => m === 0.5 || m === 1 || m === 2,
    '0.5': () => range(1, 4, 1),
    '1': () => range(2, 8, 1),
    '2': () => range(4, 16, 1),
    '4': () => range(8, 30, 1),
    '8': () => range(16, 60, 4),
    '16': () => range(32, 120, 8),
  };
  return rules[String(vcpu)]?.() ?? false;
}

/**
 * Public API operation ids (the contract's operationIds; scenarios/contract/openapi). GraphQL root
 * fields map onto these through `GRAPHQL_FIELD_OPERATIONS`.
 */
export const API_OPERATION_IDS = [
  'getHealth',
  'listCategories',
  'listProducts',
  'getProduct',
  'search',
  'listDeals',
  'createCart',
  'getCart',
  'addCartItem',
  'removeCartItem',
  'checkout',
  'getOrder',
  'listCustomerOrders',
  'reorder',
  'listStores',
  'getStoreInventory',
  'graphql',
] as const;

/** One public API operation id (served by the gateway/BFF, or the monolith). */
export type ApiOperationId = (typeof API_OPERATION_IDS)[number];

/**
 * The storefront's pages (the contract's HTML operations): what the web and social channels request
 * through the edge. Each renders server-side from the BFF's data (`PAGE_CALLS`).
 */
export const PAGE_OPERATION_IDS = [
  'getHomePage',
  'getCategoryPage',
  'getProductPage',
  'getCartPage',
] as const;

/** One storefront page. */
export type PageOperationId = (typeof PAGE_OPERATION_IDS)[number];

/** Every public operation: the API's and the storefront's pages. */
export const OPERATION_IDS = [...API_OPERATION_IDS, ...PAGE_OPERATION_IDS] as const;

/** One public operation id (API or page). */
export type OperationId = (typeof OPERATION_IDS)[number];

/** Whether an operation is a storefront page (rendered by the storefront, cached by the edge). */
export function isPageOperation(op: string): op is PageOperationId {
  return (PAGE_OPERATION_IDS as readonly string[]).includes(op);
}

/**
 * The BFF operations each page's render calls, in order (reference-stack/storefront/pages.ts): the
 * home page shows the categories and the deals, a category page one page of priced products, a
 * product page the product with its price and stock, the cart page the session's cart.
 */
export const PAGE_CALLS = {
  getHomePage: ['listCategories', 'listDeals'],
  getCategoryPage: ['listProducts'],
  getProductPage: ['getProduct'],
  getCartPage: ['getCart'],
} as const satisfies Record<PageOperationId, readonly ApiOperationId[]>;

/**
 * Internal methods, `<module>.<method>`; each runs in the deployable that hosts its module.
 * `storeCalls` is the number of database round trips the method makes in its DynamoDB access pattern
 * (GetItem, BatchGetItem, Query, PutItem, TransactWriteItems: e.g. a price quote is one BatchGetItem
 * of prices plus one Query of deals = 2). On AWS every one is an HTTPS call from the AWS SDK in BOTH
 * topologies, so each costs `storeCallCpuMs` of client CPU; the embedded SQLite here would otherwise
 * hide that cost from the monolith and flatter it.
 */
export const METHODS = {
  'catalog.listCategories': { module: 'catalog', storeCalls: 1, calls: [] },
  'catalog.listProducts': { module: 'catalog', storeCalls: 1, calls: [] },
  'catalog.getProduct': { module: 'catalog', storeCalls: 1, calls: [] },
  'catalog.resolveSkus': { module: 'catalog', storeCalls: 1, calls: [] },
  'search.search': { module: 'search', storeCalls: 1, calls: [] },
  'pricing.quote': { module: 'pricing', storeCalls: 2, calls: [] },
  'pricing.listDeals': { module: 'pricing', storeCalls: 1, calls: [] },
  'cart.create': { module: 'cart', storeCalls: 1, calls: [] },
  'cart.get': { module: 'cart', storeCalls: 1, calls: [] },
  'cart.addItem': { module: 'cart', storeCalls: 2, calls: [] },
  'cart.removeItem': { module: 'cart', storeCalls: 2, calls: [] },
  'inventory.availability': { module: 'inventory', storeCalls: 1, calls: [] },
  'inventory.reserve': { module: 'inventory', storeCalls: 1, calls: [] },
  'inventory.commit': { module: 'inventory', storeCalls: 2, calls: [] },
  'inventory.release': { module: 'inventory', storeCalls: 2, calls: [] },
  'inventory.findStores': { module: 'inventory', storeCalls: 1, calls: [] },
  'inventory.storeInventory': { module: 'inventory', storeCalls: 2, calls: [] },
  'orders.create': { module: 'orders', storeCalls: 1, calls: [] },
  'orders.get': { module: 'orders', storeCalls: 1, calls: [] },
  'orders.listByCustomer': { module: 'orders', storeCalls: 1, calls: [] },
  'checkout.checkout': {
    module: 'checkout',
    storeCalls: 3,
    calls: ['cart.get', 'pricing.quote', 'inventory.reserve', 'inventory.commit', 'orders.create'],
  },
} as const satisfies Record<string, { module: ModuleName; storeCalls: number; calls: readonly string[] }>;

/** One internal method name. */
export type MethodName = keyof typeof METHODS;

/**
 * What each public operation does at the gateway/BFF: the internal methods it calls, in order.
 * `health` touches nothing behind the gateway. `graphql` is priced per root field (see
 * `GRAPHQL_FIELD_OPERATIONS`); its entry here is the cost of one `product` query, the mobile app's
 * most frequent request.
 */
export const OPERATION_CALLS = {
  getHealth: [],
  listCategories: ['catalog.listCategories'],
  listProducts: ['catalog.listProducts', 'pricing.quote'],
  getProduct: ['catalog.getProduct', 'pricing.quote', 'inventory.availability'],
  search: ['search.search', 'pricing.quote'],
  listDeals: ['pricing.listDeals'],
  createCart: ['cart.create'],
  getCart: ['cart.get'],
  addCartItem: ['cart.get', 'catalog.resolveSkus', 'inventory.availability', 'pricing.quote', 'cart.addItem'],
  removeCartItem: ['cart.removeItem'],
  checkout: ['checkout.checkout'],
  getOrder: ['orders.get'],
  listCustomerOrders: ['orders.listByCustomer'],
  reorder: ['orders.get', 'cart.create', 'inventory.availability', 'pricing.quote', 'cart.addItem'],
  listStores: ['inventory.findStores'],
  getStoreInventory: ['inventory.storeInventory'],
  graphql: ['catalog.getProduct', 'pricing.quote', 'inventory.availability'],
} as const satisfies Record<ApiOperationId, readonly MethodName[]>;

/** GraphQL root fields priced as the REST operation that does the same work. */
export const GRAPHQL_FIELD_OPERATIONS = {
  products: 'listProducts',
  product: 'getProduct',
  search: 'search',
  cart: 'getCart',
  order: 'getOrder',
  deals: 'listDeals',
  createCart: 'createCart',
  addToCart: 'addCartItem',
  checkout: 'checkout',
} as const satisfies Record<string, ApiOperationId>;

/** One deployable of a topology. */
export interface DeployableSpec {
  /** Modules hosted in this deployable (empty for the gateway and the bus). */
  modules: readonly ModuleName[];
  /** Default Fargate task size of one replica. */
  taskSize: TaskSize;
  /** Availability floor: the same for every deployable of both topologies. */
  minTasks: number;
  /** Serves the public API (gateway/BFF). */
  public: boolean;
  /**
   * A managed AWS service this deployable stands in for locally (the bus stands in for EventBridge):
   * it is priced per use, not per task, and is left out of task-count comparisons.
   */
  standsInFor?: string;
}

/** Per public operation, what it touches in one topology and the demand it puts on each deployable. */
export interface OperationRoute {
  /** Deployables this operation touches (the entry deployable first). */
  services: ServiceName[];
  /** Internal calls that cross a process boundary (service-to-service HTTP requests). */
  hops: number;
  /** Emulated CPU-ms this operation costs each deployable it touches (scaled, hop costs included). */
  demandCpuMs: Partial<Record<ServiceName, number>>;
}

/** A topology: deployables, where each module lives, how events travel, and every operation's route. */
export interface Topology {
  arch: Arch;
  /** The deployable that answers the public API. */
  entry: ServiceName;
  deployables: Partial<Record<ServiceName, DeployableSpec>>;
  /** Deployable hosting each module. */
  moduleHost: Record<ModuleName, ServiceName>;
  /** The deployable that renders the storefront's pages (its own service, or the monolith). */
  pages: ServiceName;
  /** `http`: the bus is its own service (at-least-once delivery over HTTP); `in-process`: same process. */
  bus: 'http' | 'in-process';
  operations: Record<OperationId, OperationRoute>;
}

/** Availability floor for every deployable in both topologies (issue 5: at least 2 tasks). */
export const MIN_TASKS = 2;

const MODULES: readonly ModuleName[] = [
  'catalog',
  'search',
  'pricing',
  'cart',
  'inventory',
  'checkout',
  'orders',
];

/**
 * Default task sizes (assumptions, overridable per service by the orchestrator). Headless services
 * are small tasks (0.25 vCPU / 0.5 GB) except the two on every page's path: the gateway, which does
 * the fan-out and all public serialization, and pricing, which every listing, product page and cart
 * change asks (0.5 vCPU / 1 GB each). The monolith is one 1 vCPU / 2 GB task. Floors (2 tasks each):
 * headless 2 × (0.5 + 0.5 + 6 × 0.25) = 5 vCPU, monolith 2 vCPU; the difference is the price of eight
 * independently scaled deployables (docs/reference-stack.md). The storefront renders every web and
 * social page (server-side HTML), so it is sized like the gateway (assumption). With the default demand table a
 * flash-sale mix at 12 req/s (the profiles' local baseline: flash-sale peakRps 120 = 10x) keeps every
 * deployable at its floor under ~40% CPU, and 120 req/s drives the busy ones past 100% (scaling needed).
 */
export const DEFAULT_TASK_SIZES: Record<ServiceName, TaskSize> = {
  gateway: { vcpu: 0.5, memoryGb: 1 },
  storefront: { vcpu: 0.5, memoryGb: 1 },
  catalog: { vcpu: 0.25, memoryGb: 0.5 },
  search: { vcpu: 0.25, memoryGb: 0.5 },
  pricing: { vcpu: 0.5, memoryGb: 1 },
  cart: { vcpu: 0.25, memoryGb: 0.5 },
  inventory: { vcpu: 0.25, memoryGb: 0.5 },
  checkout: { vcpu: 0.25, memoryGb: 0.5 },
  orders: { vcpu: 0.25, memoryGb: 0.5 },
  monolith: { vcpu: 1, memoryGb: 2 },
  bus: { vcpu: 0.25, memoryGb: 0.5 },
};

/** Services of the headless topology, in start order (the bus first, the gateway and the storefront last). */
export const HEADLESS_SERVICES: readonly ServiceName[] = [
  'bus',
  'catalog',
  'search',
  'pricing',
  'cart',
  'inventory',
  'orders',
  'checkout',
  'gateway',
  'storefront',
];

/**
 * Emulated CPU demand (ms) of one method or public step, from the demand table scaled by the
 * one scale factor. Pure.
 */
export function scaledDemand(measuredCpuMs: number, demandTable: DemandTable = DEMAND_TABLE): number {
  return measuredCpuMs * demandTable.scale;
}

/**
 * Demand a method puts on the deployable hosting it, plus the demand its own calls put elsewhere,
 * added into `into`. A call from a method in deployable A to a method in deployable B (A ≠ B) is a
 * hop: the caller pays the client-side hop cost and the callee the server-side hop cost.
 */
function addMethodDemand(
  method: MethodName,
  host: Record<ModuleName, ServiceName>,
  demandTable: DemandTable,
  into: Partial<Record<ServiceName, number>>,
  hops: { n: number },
): void {
  const spec = METHODS[method];
  const here = host[spec.module];
  into[here] =
    (into[here] ?? 0) +
    scaledDemand(demandTable.methodCpuMs[method] + spec.storeCalls * demandTable.storeCallCpuMs, demandTable);
  for (const callee of spec.calls as readonly MethodName[]) {
    const there = host[METHODS[callee].module];
    if (there !== here) {
      hops.n++;
      into[here] = (into[here] ?? 0) + scaledDemand(demandTable.hopClientCpuMs, demandTable);
      into[there] = (into[there] ?? 0) + scaledDemand(demandTable.hopServerCpuMs, demandTable);
    }
    addMethodDemand(callee, host, demandTable, into, hops);
  }
}

/** Computes one public operation's route in a topology. Pure; the simulator calls it with its own demand table. */
export function computeOperationRoute(
  arch: Arch,
  operation: OperationId,
  demandTable: DemandTable = DEMAND_TABLE,
): OperationRoute {
  if (isPageOperation(operation)) return computePageRoute(arch, operation, demandTable);
  const host = moduleHostOf(arch);
  const entry: ServiceName = arch === 'monolith' ? 'monolith' : 'gateway';
  const demand: Partial<Record<ServiceName, number>> = {};
  demand[entry] = scaledDemand(demandTable.gatewayCpuMs[operation], demandTable);
  const hops = { n: 0 };
  for (const method of OPERATION_CALLS[operation] as readonly MethodName[]) {
    const there = host[METHODS[method].module];
    if (there !== entry) {
      hops.n++;
      demand[entry] = (demand[entry] ?? 0) + scaledDemand(demandTable.hopClientCpuMs, demandTable);
      demand[there] = (demand[there] ?? 0) + scaledDemand(demandTable.hopServerCpuMs, demandTable);
    }
    addMethodDemand(method, host, demandTable, demand, hops);
  }
  const services = [entry, ...Object.keys(demand).filter((s) => s !== entry)] as ServiceName[];
  for (const s of services) demand[s] = round3(demand[s] ?? 0);
  return { services, hops: hops.n, demandCpuMs: demand };
}

/**
 * A page's route: the render on the deployable hosting the storefront, plus every BFF operation it
 * calls. In the monolith the calls are in-process (the operations' own monolith demand, no hop). In
 * headless each call is an HTTP request from the storefront to the gateway: the storefront pays the
 * client side of the hop and the gateway charges it as any public request (what its replica charges,
 * reference-stack/services/runtime.ts), so the route is exactly what the live replicas charge.
 */
function computePageRoute(arch: Arch, page: PageOperationId, demandTable: DemandTable): OperationRoute {
  const host: ServiceName = arch === 'monolith' ? 'monolith' : 'storefront';
  const demand: Partial<Record<ServiceName, number>> = {};
  const calls = PAGE_CALLS[page] as readonly ApiOperationId[];
  demand[host] = scaledDemand(demandTable.pageCpuMs[page], demandTable);
  let hops = 0;
  for (const op of calls) {
    const r = computeOperationRoute(arch, op, demandTable);
    if (host !== 'monolith') {
      hops++;
      demand[host] = (demand[host] ?? 0) + scaledDemand(demandTable.hopClientCpuMs, demandTable);
    }
    hops += r.hops;
    for (const [s, ms] of Object.entries(r.demandCpuMs))
      demand[s as ServiceName] = (demand[s as ServiceName] ?? 0) + (ms ?? 0);
  }
  const services = [host, ...Object.keys(demand).filter((s) => s !== host)] as ServiceName[];
  for (const s of services) demand[s] = round3(demand[s] ?? 0);
  return { services, hops, demandCpuMs: demand };
}

/**
 * Demand (emulated CPU-ms) one call of an internal method costs the deployable serving it, as
 * charged by that deployable's replica when the call arrives over HTTP (server-side hop included).
 * In-process calls are charged by the entry request's route instead.
 */
export function methodServerDemand(method: MethodName, demandTable: DemandTable = DEMAND_TABLE): number {
  return round3(
    scaledDemand(
      demandTable.methodCpuMs[method] +
        METHODS[method].storeCalls * demandTable.storeCallCpuMs +
        demandTable.hopServerCpuMs,
      demandTable,
    ) +
      (METHODS[method].calls as readonly MethodName[]).length *
        scaledDemand(demandTable.hopClientCpuMs, demandTable),
  );
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Where each module lives in a topology. */
export function moduleHostOf(arch: Arch): Record<ModuleName, ServiceName> {
  const host = {} as Record<ModuleName, ServiceName>;
  for (const m of MODULES) host[m] = arch === 'monolith' ? 'monolith' : m;
  return host;
}

/** Every operation's route in a topology, from a demandTable. Pure. */
export function computeOperationRoutes(
  arch: Arch,
  demandTable: DemandTable = DEMAND_TABLE,
): Record<OperationId, OperationRoute> {
  const out = {} as Record<OperationId, OperationRoute>;
  for (const op of OPERATION_IDS) out[op] = computeOperationRoute(arch, op, demandTable);
  return out;
}

/**
 * Demand table for the simulator: operation → deployable → emulated CPU-ms per request. Pure data
 * derived from the demandTable; the same numbers the local replicas charge.
 */
export function computeDemandTable(
  arch: Arch,
  demandTable: DemandTable = DEMAND_TABLE,
): Record<OperationId, Partial<Record<ServiceName, number>>> {
  const routes = computeOperationRoutes(arch, demandTable);
  const out = {} as Record<OperationId, Partial<Record<ServiceName, number>>>;
  for (const op of OPERATION_IDS) out[op] = routes[op].demandCpuMs;
  return out;
}

function deployable(name: ServiceName, modules: readonly ModuleName[], isPublic: boolean): DeployableSpec {
  return { modules, taskSize: DEFAULT_TASK_SIZES[name], minTasks: MIN_TASKS, public: isPublic };
}

/** The local event bus: one replica (it owns the delivery log), standing in for Amazon EventBridge. */
const BUS: DeployableSpec = {
  modules: [],
  taskSize: DEFAULT_TASK_SIZES.bus,
  minTasks: 1,
  public: false,
  standsInFor: 'Amazon EventBridge',
};

/** The two topologies with the default demand table. */
export const TOPOLOGIES = {
  monolith: {
    arch: 'monolith',
    entry: 'monolith',
    deployables: { monolith: deployable('monolith', MODULES, true) },
    moduleHost: moduleHostOf('monolith'),
    pages: 'monolith',
    bus: 'in-process',
    operations: computeOperationRoutes('monolith'),
  },
  headless: {
    arch: 'headless',
    entry: 'gateway',
    deployables: {
      bus: BUS,
      catalog: deployable('catalog', ['catalog'], false),
      search: deployable('search', ['search'], false),
      pricing: deployable('pricing', ['pricing'], false),
      cart: deployable('cart', ['cart'], false),
      inventory: deployable('inventory', ['inventory'], false),
      orders: deployable('orders', ['orders'], false),
      checkout: deployable('checkout', ['checkout'], false),
      gateway: deployable('gateway', [], true),
      storefront: deployable('storefront', [], false),
    },
    moduleHost: moduleHostOf('headless'),
    pages: 'storefront',
    bus: 'http',
    operations: computeOperationRoutes('headless'),
  },
} as const satisfies Record<Arch, Topology>;

/** The deployables of a topology in start order (for the orchestrator). */
export function servicesOf(arch: Arch): ServiceName[] {
  return arch === 'monolith' ? ['monolith'] : [...HEADLESS_SERVICES];
}
