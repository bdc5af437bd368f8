/**
 * The demand table: CPU time each internal method, each gateway operation and each side of a
 * service-to-service hop really takes in this code, MEASURED by `measure-demand-table.ts` (process.cpuUsage
 * around each call, self time only: time spent in nested calls is subtracted), and the ONE scale
 * factor applied to all of them in both topologies. Re-measure with
 * `node --import tsx reference-stack/capacity/measure-demand-table.ts --write`.
 *
 * Why a committed table instead of live measurement: a replica's capacity must not depend on the
 * host (2 shared cores here); the table makes the emulated CPU deterministic, and it is the same
 * table the event-scale simulator reads.
 */
import type { ApiOperationId, MethodName, PageOperationId } from '../topology.ts';

/** Measured self CPU times (ms) plus the scale factor. */
export interface DemandTable {
  /** When and how the numbers were measured. */
  measuredAt: string;
  source: string;
  /**
   * The one scale factor: emulated CPU-ms = measured CPU-ms × scale, identical for every method and
   * both topologies. It stands for the extra work a production service does that this lean code
   * does not (TLS, logging, tracing, auth, a heavier framework, a remote database client).
   * Chosen so that the profiles' baseline runs each deployable at its 2-task floor and a 10x spike
   * needs scaling (docs/reference-stack.md, "Demand-table check"); 6 also keeps the host's real CPU at about
   * 1/6 of the emulated CPU, so the model, not the host's cores, sets capacity.
   */
  scale: number;
  /** Self CPU-ms per internal method (nested calls excluded). */
  methodCpuMs: Record<MethodName, number>;
  /** Self CPU-ms of the gateway/BFF's own work per public operation (parse, validate, shape, serialize). */
  gatewayCpuMs: Record<ApiOperationId, number>;
  /**
   * Self CPU-ms of the storefront's own work per page (session cookie, the BFF answers' parsing left
   * out, server-side HTML rendering with escaping), its BFF calls excluded.
   */
  pageCpuMs: Record<PageOperationId, number>;
  /** CPU-ms of the client side of one service-to-service HTTP call (undici request + JSON). */
  hopClientCpuMs: number;
  /** CPU-ms of the server side of one service-to-service HTTP call (node:http + JSON). */
  hopServerCpuMs: number;
  /**
   * CPU-ms of one store round trip's client side (the AWS SDK's HTTPS call to DynamoDB on AWS), charged
   * per `storeCalls` of each method in both topologies. Measured as the client side of an HTTP JSON call.
   */
  storeCallCpuMs: number;
  /** CPU-ms one consumer spends applying one delivered event (idempotency check + effect). */
  eventConsumeCpuMs: number;
}

/**
 * Default demand table, measured by `measure-demand-table.ts` on the development host (2 shared cores under heavy
 * load from parallel builds: load average ~30, so absolute numbers are inflated; the ratios between
 * methods, hops and store calls are what the model relies on, and the scale factor absorbs the rest).
 * Re-measure on your own host and replace the numbers; the simulator reads the same table.
 */
export const DEMAND_TABLE: DemandTable = {
  measuredAt: '2026-11-25T02:10:14.259Z',
  source:
    'node --import tsx reference-stack/capacity/measure-demand-table.ts (Node v20.20.2, n=300 per method, self CPU)',
  scale: 6,
  methodCpuMs: {
    'catalog.listCategories': 0.069,
    'catalog.listProducts': 0.2759,
    'catalog.getProduct': 0.0236,
    'catalog.resolveSkus': 0.0177,
    'search.search': 1.6701,
    'pricing.quote': 0.5221,
    'pricing.listDeals': 0.121,
    'cart.create': 0.1365,
    'cart.get': 0.0325,
    'cart.addItem': 0.2443,
    'cart.removeItem': 0.1874,
    'inventory.availability': 0.0307,
    'inventory.reserve': 0.2732,
    'inventory.commit': 0.1974,
    'inventory.release': 0.1695,
    'inventory.findStores': 0.2946,
    'inventory.storeInventory': 0.0471,
    'orders.create': 0.1989,
    'orders.get': 0.0191,
    'orders.listByCustomer': 0.2757,
    'checkout.checkout': 0.1818,
  },
  gatewayCpuMs: {
    listCategories: 0.0232,
    listProducts: 0.3554,
    getProduct: 0.0609,
    search: 0.26,
    listDeals: 0.0775,
    createCart: 0.0363,
    getCart: 0.0199,
    addCartItem: 0.3198,
    removeCartItem: 0.1712,
    getOrder: 0.0316,
    listCustomerOrders: 0.0427,
    reorder: 0.1029,
    listStores: 0.1035,
    getStoreInventory: 0.021,
    getHealth: 0.0005,
    checkout: 0.0363,
    graphql: 2.0556,
  },
  // Pages: the full documents (head with OpenGraph and JSON-LD, the category tree, 24 product tiles
  // with responsive images on a category page, the product page's gallery, variants and specs, the
  // footer, the hydration state; 9-56 KB), measured 2026-12-03 by the same script: the median of 4
  // passes (n=300 each, load average 8-10), each pass's pages multiplied by its own
  // `tableBasisRatio` (2.66-3.08: the median of this table's entries over the same pass's
  // measurements of them, so pages and the rest share one host state). Raw medians: home 0.427,
  // category 0.443, product 0.296, cart 0.146 ms. Until 2026-12-03 the pages were 0.3-4 KB stubs of
  // 0.005-0.037 ms raw (0.018-0.135 on this basis).
  pageCpuMs: { getHomePage: 1.2577, getCategoryPage: 1.2727, getProductPage: 0.8399, getCartPage: 0.4236 },
  hopClientCpuMs: 1.1547,
  hopServerCpuMs: 0.9448,
  eventConsumeCpuMs: 0.2779,
  storeCallCpuMs: 1.1547,
};

/**
 * The page costs the stack charged before the storefront rendered whole documents (0.3-4 KB stubs),
 * and the time the documents landed on main. A live run keeps no copy of the table it ran with, so a
 * replay of an older run (`simulate --validate`, a rehearsal's calibration) must not charge it the
 * new pages: `demandTableForRun` gives it the table it ran with.
 */
export const PAGE_CPU_MS_BEFORE_DOCUMENTS = {
  until: '2026-12-03T00:43:48Z',
  pageCpuMs: { getHomePage: 0.1347, getCategoryPage: 0.0644, getProductPage: 0.0633, getCartPage: 0.0184 },
} as const satisfies { until: string; pageCpuMs: Record<PageOperationId, number> };

/**
 * The demand table a live run that started at `startedAt` (ISO 8601, the run's meta) ran with: the
 * table before the page documents when it started before they landed, else `table`. A run without a
 * start time is taken as current.
 */
export function demandTableForRun(
  startedAt: string | undefined,
  table: DemandTable = DEMAND_TABLE,
): DemandTable {
  const t = startedAt ? Date.parse(startedAt) : Number.NaN;
  return Number.isFinite(t) && t < Date.parse(PAGE_CPU_MS_BEFORE_DOCUMENTS.until)
    ? { ...table, pageCpuMs: { ...PAGE_CPU_MS_BEFORE_DOCUMENTS.pageCpuMs } }
    : table;
}
