/**
 * Ports: how one module reaches another. In the monolith a port is the module itself (an in-process
 * call); in the headless topology it is an HTTP client of the service hosting the module
 * (`reference-stack/services/rpc.ts`). The domain code is written once against these types.
 */
import type { CartModule } from './cart.ts';
import type { CatalogModule } from './catalog.ts';
import type { InventoryModule } from './inventory.ts';
import type { OrdersModule } from './orders.ts';
import type { PricingModule } from './pricing.ts';
import type { SearchModule } from './search.ts';

/** A module's methods, each taking one JSON argument and answering asynchronously. */
export type Remote<T> = {
  [K in keyof T]: T[K] extends (args: infer A) => infer R ? (args: A) => Promise<Awaited<R>> : never;
};

/** The checkout's own method, as a port. */
export interface CheckoutPort {
  checkout(args: CheckoutArgs): Promise<CheckoutResult>;
}

/** Input of a checkout. */
export interface CheckoutArgs {
  cartId: string;
  paymentToken: string;
  customerId?: string | null;
  storeId?: string | null;
  idempotencyKey: string;
}

/** A checkout's answer (HTTP 201 body). */
export interface CheckoutResult {
  orderId: string;
  status: 'confirmed' | 'payment_failed';
  total: number;
  currency: string;
}

/** Every module a caller may reach (the methods listed in topology.ts `METHODS`). */
export interface Ports {
  catalog: Remote<CatalogModule>;
  search: Remote<Pick<SearchModule, 'search'>>;
  pricing: Remote<Pick<PricingModule, 'quote' | 'listDeals'>>;
  cart: Remote<Pick<CartModule, 'create' | 'get' | 'addItem' | 'removeItem'>>;
  inventory: Remote<
    Pick<InventoryModule, 'availability' | 'reserve' | 'commit' | 'release' | 'findStores' | 'storeInventory'>
  >;
  orders: Remote<OrdersModule>;
  checkout: CheckoutPort;
}

/** Wraps a synchronous module as a port (in-process calls, one microtask later). */
export function localPort<T extends object>(module: T): Remote<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(module)) {
    if (typeof v === 'function')
      out[k] = async (args: unknown) => (v as (a: unknown) => unknown).call(module, args);
  }
  return out as Remote<T>;
}
