/**
 * The DynamoDB table design of the reference stack: pure data, read by the CDK stack (infra/) that
 * creates the tables and by the DynamoDB store adapter that queries them, so the keys a query uses
 * and the keys a table has cannot drift apart. Keep this module stable: both sides depend on it.
 *
 * Modelled around the front end's queries (docs/aws.md "Tables"):
 *
 *   table     partition key   sort key    index (partition, sort)          serves
 *   catalog   productId       -           byCategory (category, productId)  product page, category listing,
 *                                                                            price quote (price on the item)
 *   carts     cartId          -           -                                 get/add/remove cart lines
 *   stock     sku             location    -                                 availability and reservations per
 *                                                                            SKU (location `online` or a store id)
 *   orders    orderId         -           byCustomer (customerId, createdAt) order page, a customer's orders;
 *                                                                            idempotency items keyed `idem#<key>`
 *   events    consumer        eventId     -                                 the outbox (`outbox#<shard>`), the
 *                                                                            published log, and one item per
 *                                                                            (consumer, event) applied
 *
 * Every attribute named here is a string (`S`) except `createdAt` (`N`, epoch ms). `expiresAt` is each
 * table's time-to-live attribute where one applies (carts abandon, consumed-event markers age out).
 */

/** A key attribute: its name and DynamoDB scalar type. */
export interface KeyAttribute {
  name: string;
  type: 'S' | 'N';
}

/** A global secondary index (all attributes projected: the queries read whole items). */
export interface IndexDesign {
  name: string;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
}

/** One table: its logical name (the physical name is chosen by CloudFormation), keys, indexes, TTL. */
export interface TableDesign {
  /** Logical name, also the suffix of the table's environment variable (`PEAKDAY_TABLE_<NAME>`). */
  name: TableName;
  partitionKey: KeyAttribute;
  sortKey?: KeyAttribute;
  indexes: readonly IndexDesign[];
  /** Time-to-live attribute (epoch seconds), when items expire. */
  ttlAttribute?: string;
  /** The domain modules that read it and those that write it (least-privilege grants follow these). */
  readers: readonly TableModule[];
  writers: readonly TableModule[];
  /** What it serves, for docs and the template's descriptions. */
  purpose: string;
}

/** The tables' logical names. */
export type TableName = 'catalog' | 'carts' | 'stock' | 'orders' | 'events';

/** The domain modules (as in reference-stack/topology.ts ModuleName). */
export type TableModule = 'catalog' | 'search' | 'pricing' | 'cart' | 'inventory' | 'checkout' | 'orders';

const S = (name: string): KeyAttribute => ({ name, type: 'S' });

/** The five tables, by logical name. */
export const TABLES = {
  catalog: {
    name: 'catalog',
    partitionKey: S('productId'),
    indexes: [{ name: 'byCategory', partitionKey: S('category'), sortKey: S('productId') }],
    readers: ['catalog', 'search', 'pricing'],
    writers: ['catalog', 'pricing'],
    purpose: 'products by id and by category, with their prices and deals',
  },
  carts: {
    name: 'carts',
    partitionKey: S('cartId'),
    indexes: [],
    ttlAttribute: 'expiresAt',
    readers: ['cart'],
    writers: ['cart'],
    purpose: 'carts and their lines',
  },
  stock: {
    name: 'stock',
    partitionKey: S('sku'),
    sortKey: S('location'),
    indexes: [],
    readers: ['inventory'],
    writers: ['inventory'],
    purpose: 'stock and reservations per SKU and location (conditional writes: never oversold)',
  },
  orders: {
    name: 'orders',
    partitionKey: S('orderId'),
    indexes: [
      { name: 'byCustomer', partitionKey: S('customerId'), sortKey: { name: 'createdAt', type: 'N' } },
    ],
    readers: ['orders', 'checkout'],
    writers: ['orders', 'checkout'],
    purpose: "orders by id and a customer's orders; idempotency keys (conditional puts: one order per key)",
  },
  events: {
    name: 'events',
    partitionKey: S('consumer'),
    sortKey: S('eventId'),
    indexes: [],
    ttlAttribute: 'expiresAt',
    // The consumers write their markers; every module that publishes writes its outbox here
    // (inventory, orders, pricing, cart), and its relay reads and clears it.
    readers: ['cart', 'search', 'pricing', 'inventory', 'orders'],
    writers: ['cart', 'search', 'pricing', 'inventory', 'orders'],
    purpose:
      'the outbox of every publishing module and the events each consumer has applied (idempotent consumers under at-least-once delivery)',
  },
} as const satisfies Record<TableName, TableDesign>;

/** Every table, in a stable order. */
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

/** The environment variable that carries a table's physical name to the services. */
export function tableEnvVar(table: TableName): string {
  return `PEAKDAY_TABLE_${table.toUpperCase()}`;
}

/** The tables a set of modules reads and writes (least privilege for the deployable hosting them). */
export function tableAccessOf(modules: readonly string[]): { read: TableName[]; write: TableName[] } {
  const has = (list: readonly string[]) => list.some((m) => modules.includes(m));
  const write = TABLE_NAMES.filter((t) => has(TABLES[t].writers));
  const read = TABLE_NAMES.filter((t) => !write.includes(t) && has(TABLES[t].readers));
  return { read, write };
}
