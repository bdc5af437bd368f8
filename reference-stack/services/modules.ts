/**
 * Builds the domain modules hosted by one deployable on its database: all seven in the monolith
 * (one shared database, in-process ports), one in a headless service (its own database; the ports
 * to the other modules are HTTP clients). Also the event consumers and the periodic sweeps, so a
 * deployable is wired the same way whatever hosts it.
 */
import { type CartModule, createCartModule, migrateCart } from '../domain/cart.ts';
import { type CatalogModule, createCatalogModule, migrateCatalog } from '../domain/catalog.ts';
import { type CheckoutModule, createCheckoutModule, migrateCheckout } from '../domain/checkout.ts';
import type { DomainContext, DomainEvent } from '../domain/context.ts';
import { createInventoryModule, type InventoryModule, migrateInventory } from '../domain/inventory.ts';
import { createOrdersModule, migrateOrders, type OrdersModule } from '../domain/orders.ts';
import { createPaymentProvider, paymentSeed } from '../domain/payment.ts';
import { localPort, type Ports } from '../domain/ports.ts';
import { createPricingModule, migratePricing, type PricingModule } from '../domain/pricing.ts';
import { createSearchModule, migrateSearch, type SearchModule } from '../domain/search.ts';
import { createDynamoCartModule } from '../store/dynamodb/cart.ts';
import { seedCatalogDynamo } from '../store/dynamodb/catalog.ts';
import { createDynamoPricingModule, createDynamoSearchModule } from '../store/dynamodb/consumers.ts';
import { createDynamoInventoryModule, migrateInventoryDynamo } from '../store/dynamodb/inventory.ts';
import {
  createDynamoCheckoutStore,
  createDynamoOrdersModule,
  migrateOrdersDynamo,
} from '../store/dynamodb/orders.ts';
import type { ModuleName } from '../topology.ts';

/** The modules of one deployable (absent ones live elsewhere). */
export interface HostedModules {
  catalog?: CatalogModule;
  search?: SearchModule;
  pricing?: PricingModule;
  cart?: CartModule;
  inventory?: InventoryModule;
  orders?: OrdersModule;
  checkout?: CheckoutModule;
}

const MIGRATIONS: Record<ModuleName, (ctx: DomainContext) => void> = {
  catalog: migrateCatalog,
  search: migrateSearch,
  pricing: migratePricing,
  cart: migrateCart,
  inventory: migrateInventory,
  orders: migrateOrders,
  checkout: migrateCheckout,
};

/** Modules whose whole state lives in DynamoDB with that store (no local tables). */
const DYNAMO_ONLY: readonly ModuleName[] = ['cart', 'inventory', 'orders', 'checkout'];

/**
 * Prepares DynamoDB for the hosted modules (seeds stock and the order history once per table set,
 * and on AWS the catalog table). Call before `createHostedModules` when the context has a DynamoDB store.
 */
export async function migrateHostedDynamo(ctx: DomainContext, hosted: readonly ModuleName[]): Promise<void> {
  if (!ctx.dynamo) return;
  if (hosted.includes('catalog') && ctx.dynamo.config.seedCatalog) await seedCatalogDynamo(ctx, ctx.dynamo);
  if (hosted.includes('inventory')) await migrateInventoryDynamo(ctx, ctx.dynamo);
  if (hosted.includes('orders')) await migrateOrdersDynamo(ctx, ctx.dynamo);
}

/**
 * Creates the hosted modules. `remote` supplies ports for modules hosted elsewhere; hosted ones
 * are reached in-process. Returns the modules and the complete set of ports.
 */
export function createHostedModules(
  ctx: DomainContext,
  hosted: readonly ModuleName[],
  remote: Partial<Ports>,
  options: { replicaLabel?: string; sleep?: (ms: number) => Promise<void> } = {},
): { modules: HostedModules; ports: Ports } {
  const dynamo = ctx.dynamo;
  for (const m of hosted) if (!(dynamo && DYNAMO_ONLY.includes(m))) MIGRATIONS[m](ctx);
  const has = (m: ModuleName) => hosted.includes(m);
  const modules: HostedModules = {};
  if (has('catalog')) modules.catalog = createCatalogModule(ctx);
  if (has('search'))
    modules.search = dynamo ? createDynamoSearchModule(ctx, dynamo) : createSearchModule(ctx);
  if (has('pricing'))
    modules.pricing = dynamo ? createDynamoPricingModule(ctx, dynamo) : createPricingModule(ctx);
  if (has('cart')) modules.cart = dynamo ? createDynamoCartModule(ctx, dynamo) : createCartModule(ctx);
  if (has('inventory'))
    modules.inventory = dynamo ? createDynamoInventoryModule(ctx, dynamo) : createInventoryModule(ctx);
  if (has('orders'))
    modules.orders = dynamo ? createDynamoOrdersModule(ctx, dynamo) : createOrdersModule(ctx);
  const pick = <K extends keyof Ports>(k: K, local: Ports[K] | undefined): Ports[K] => {
    const p = local ?? remote[k];
    if (!p) return missingPort(k) as Ports[K];
    return p;
  };
  const partial = {
    catalog: pick('catalog', modules.catalog && localPort(modules.catalog)),
    search: pick('search', modules.search && localPort({ search: modules.search.search })),
    pricing: pick(
      'pricing',
      modules.pricing && localPort({ quote: modules.pricing.quote, listDeals: modules.pricing.listDeals }),
    ),
    cart: pick(
      'cart',
      modules.cart &&
        localPort({
          create: modules.cart.create,
          get: modules.cart.get,
          addItem: modules.cart.addItem,
          removeItem: modules.cart.removeItem,
        }),
    ),
    inventory: pick(
      'inventory',
      modules.inventory &&
        localPort({
          availability: modules.inventory.availability,
          reserve: modules.inventory.reserve,
          commit: modules.inventory.commit,
          release: modules.inventory.release,
          findStores: modules.inventory.findStores,
          storeInventory: modules.inventory.storeInventory,
        }),
    ),
    orders: pick('orders', modules.orders && localPort(modules.orders)),
  };
  if (has('checkout')) {
    const payments = createPaymentProvider({
      medianMs: ctx.params.paymentMedianMs,
      sigma: ctx.params.paymentSigma,
      failureRate: ctx.params.paymentFailureRate,
      seed: paymentSeed(ctx.params.paymentSeed, options.replicaLabel ?? `${process.pid}`),
    });
    modules.checkout = createCheckoutModule(ctx, partial, payments, {
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(dynamo ? { store: createDynamoCheckoutStore(ctx, dynamo) } : {}),
    });
  }
  const ports: Ports = {
    ...partial,
    checkout: pick('checkout', modules.checkout && { checkout: (a) => modules.checkout!.checkout(a) }),
  };
  return { modules, ports };
}

function missingPort(name: string): unknown {
  return new Proxy(
    {},
    {
      get: () => () =>
        Promise.reject(
          new Error(`no port to module ${name}: it is neither hosted here nor given a peer URL`),
        ),
    },
  );
}

/** Applies an event to the hosted consumers of its type; returns applied and duplicate counts. */
export async function consumeEvent(
  modules: HostedModules,
  consumers: readonly string[],
  event: DomainEvent,
): Promise<{ applied: number; duplicate: number }> {
  let applied = 0;
  let duplicate = 0;
  const table: Record<string, ((e: DomainEvent) => Promise<boolean>) | undefined> = {
    cart: modules.cart && ((e) => modules.cart!.consume(e)),
    search: modules.search && ((e) => modules.search!.consume(e)),
    pricing: modules.pricing && ((e) => modules.pricing!.consume(e)),
  };
  for (const c of consumers) {
    const fn = table[c];
    if (!fn) continue;
    if (await fn(event)) applied++;
    else duplicate++;
  }
  return { applied, duplicate };
}

/** Runs the periodic sweeps of the hosted modules (deal windows, abandoned carts, expired reservations). */
export async function runSweeps(modules: HostedModules): Promise<number> {
  return (
    ((await modules.pricing?.tick()) ?? 0) +
    ((await modules.cart?.tick()) ?? 0) +
    ((await modules.inventory?.tick()) ?? 0)
  );
}
