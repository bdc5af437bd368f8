/**
 * The calibration table: CPU time each internal method, each gateway operation and each side of a
 * service-to-service hop really takes in this code, MEASURED by `calibrate.ts` (process.cpuUsage
 * around each call, self time only: time spent in nested calls is subtracted), and the ONE scale
 * factor applied to all of them in both topologies. Re-measure with
 * `node --import tsx reference-stack/capacity/calibrate.ts --write`.
 *
 * Why a committed table instead of live measurement: a replica's capacity must not depend on the
 * host (2 shared cores here); the table makes the emulated CPU deterministic, and it is the same
 * table the event-scale simulator reads.
 */
import type { MethodName, OperationId } from '../topology.ts';

/** Measured self CPU times (ms) plus the scale factor. */
export interface Calibration {
  /** When and how the numbers were measured. */
  measuredAt: string;
  source: string;
  /**
   * The one scale factor: emulated CPU-ms = measured CPU-ms × scale, identical for every method and
   * both topologies. It stands for the extra work a production service does that this lean code
   * does not (TLS, logging, tracing, auth, a heavier framework, a remote database client).
   * Chosen so that the profiles' baseline runs each deployable at its 2-task floor and a 10x spike
   * needs scaling (docs/reference-stack.md, "Calibration").
   */
  scale: number;
  /** Self CPU-ms per internal method (nested calls excluded). */
  methodCpuMs: Record<MethodName, number>;
  /** Self CPU-ms of the gateway/BFF's own work per public operation (parse, validate, shape, serialize). */
  gatewayCpuMs: Record<OperationId, number>;
  /** CPU-ms of the client side of one service-to-service HTTP call (undici request + JSON). */
  hopClientCpuMs: number;
  /** CPU-ms of the server side of one service-to-service HTTP call (node:http + JSON). */
  hopServerCpuMs: number;
  /** CPU-ms one consumer spends applying one delivered event (idempotency check + effect). */
  eventConsumeCpuMs: number;
}

/** Default calibration (placeholder values until the first measured pass is committed). */
export const CALIBRATION: Calibration = {
  measuredAt: 'placeholder',
  source: 'placeholder until calibrate.ts runs',
  scale: 40,
  methodCpuMs: {
    'catalog.listCategories': 0.02,
    'catalog.listProducts': 0.15,
    'catalog.getProduct': 0.03,
    'catalog.resolveSkus': 0.03,
    'search.search': 0.3,
    'pricing.quote': 0.05,
    'pricing.listDeals': 0.03,
    'cart.create': 0.05,
    'cart.get': 0.03,
    'cart.addItem': 0.08,
    'cart.removeItem': 0.08,
    'inventory.availability': 0.03,
    'inventory.reserve': 0.1,
    'inventory.commit': 0.08,
    'inventory.release': 0.08,
    'inventory.findStores': 0.05,
    'inventory.storeInventory': 0.03,
    'orders.create': 0.1,
    'orders.get': 0.03,
    'orders.listByCustomer': 0.05,
    'checkout.checkout': 0.1,
  },
  gatewayCpuMs: {
    getHealth: 0.01,
    listCategories: 0.03,
    listProducts: 0.1,
    getProduct: 0.05,
    search: 0.1,
    listDeals: 0.03,
    createCart: 0.03,
    getCart: 0.03,
    addCartItem: 0.05,
    removeCartItem: 0.03,
    checkout: 0.05,
    getOrder: 0.03,
    listCustomerOrders: 0.03,
    reorder: 0.05,
    listStores: 0.03,
    getStoreInventory: 0.03,
    graphql: 0.15,
  },
  hopClientCpuMs: 0.08,
  hopServerCpuMs: 0.06,
  eventConsumeCpuMs: 0.03,
};
