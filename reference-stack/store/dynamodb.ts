/**
 * The DynamoDB store handle: a small document API over `@aws-sdk/lib-dynamodb` (get, conditional
 * put / update / delete, query, scan) with the tables of `dynamodb-tables.ts` resolved to their
 * physical names. The AWS SDK is imported here only, and this module is itself imported lazily
 * (`openDynamoStore` is reached through a dynamic import), so a SQLite run never loads the SDK.
 *
 * Conditional writes answer `false` when their condition fails (ConditionalCheckFailedException),
 * which is how the adapters serialize concurrent writers on one item without transactions: every
 * multi-item change is a sequence of single-item conditional writes, each idempotent, resumable
 * from the state it left (dynalite, the tests' DynamoDB, has no TransactWriteItems either).
 */
import { TABLES, type TableName, tableEnvVar } from './dynamodb-tables.ts';

/** One item: plain JavaScript values (lib-dynamodb marshalls them). */
export type Item = Record<string, unknown>;

/** Where the tables are and what they are called. */
export interface DynamoStoreConfig {
  /** Endpoint URL (dynalite, DynamoDB Local); absent on AWS (the region's endpoint). */
  endpoint?: string;
  region: string;
  /**
   * Physical table names by logical name. Locally all five; on AWS from `PEAKDAY_TABLE_<NAME>`, only
   * the tables the task's modules use (its role may touch no other).
   */
  tables: Partial<Record<TableName, string>>;
  /**
   * Fill the `catalog` table from the catalog generator when the catalog module is hosted (once per
   * table set, idempotent): set on AWS (aws-env.ts), where the table is the shared catalog.
   */
  seedCatalog?: boolean;
}

/** Expression parts of a conditional write or a query. */
export interface Expr {
  condition?: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/** The document API the DynamoDB adapters use. */
export interface DynamoStore {
  readonly config: DynamoStoreConfig;
  get(table: TableName, key: Item, consistent?: boolean): Promise<Item | undefined>;
  /** Puts an item; false when `expr.condition` failed. */
  put(table: TableName, item: Item, expr?: Expr): Promise<boolean>;
  /** Updates an item; the new item, or undefined when `expr.condition` failed. */
  update(table: TableName, key: Item, update: string, expr?: Expr): Promise<Item | undefined>;
  /** Deletes an item; false when `expr.condition` failed. */
  delete(table: TableName, key: Item, expr?: Expr): Promise<boolean>;
  /** Every item of a key condition (all pages), optionally on an index and filtered. */
  query(
    table: TableName,
    keyCondition: string,
    expr: Expr & { index?: string; filter?: string; limit?: number; descending?: boolean },
  ): Promise<Item[]>;
  /** Every item of the table (all pages), optionally filtered; for sweeps and verification. */
  scan(table: TableName, expr?: Expr & { filter?: string }): Promise<Item[]>;
  /** Writes many items unconditionally (seeding), 25 per request, retrying unprocessed ones. */
  putMany(table: TableName, items: Item[]): Promise<void>;
  close(): void;
}

/** Words of the expression grammar (every other bare word is an attribute name). */
const GRAMMAR = new Set(['SET', 'REMOVE', 'ADD', 'DELETE', 'AND', 'OR', 'NOT', 'IN', 'BETWEEN']);

/**
 * Replaces every bare attribute name of an expression with a `#name` placeholder, so names that
 * are DynamoDB reserved words (`status`, `lines`, `location`...) need no care at the call sites.
 */
export function aliasNames(expression: string, names: Record<string, string>): string {
  return expression.replace(/(?<![:#\w.])([A-Za-z_][A-Za-z0-9_]*)\b(?!\s*\()/g, (w) => {
    if (GRAMMAR.has(w)) return w;
    names[`#${w}`] = w;
    return `#${w}`;
  });
}

/** Static credentials for a local endpoint (dynalite accepts any). */
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Opens the store (loads the AWS SDK). */
export async function openDynamoStore(config: DynamoStoreConfig): Promise<DynamoStore> {
  // The SDK warns on Node 20 at load; the warning is not the user's concern here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const ddb = await import('@aws-sdk/client-dynamodb');
  const lib = await import('@aws-sdk/lib-dynamodb');
  const client = new ddb.DynamoDBClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
    maxAttempts: 5,
  });
  const doc = lib.DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
  const name = (t: TableName) => {
    const n = config.tables[t];
    if (!n)
      throw new Error(
        `the ${t} table is not configured for this service (${tableEnvVar(t)} is not set): its modules were not granted it`,
      );
    return n;
  };
  const isConditionFailure = (e: unknown) => (e as Error).name === 'ConditionalCheckFailedException';
  /** The expression parameters, every attribute name aliased. */
  const exprParams = (e?: Expr, update?: string) => {
    const names: Record<string, string> = { ...(e?.names ?? {}) };
    const condition = e?.condition ? aliasNames(e.condition, names) : undefined;
    const updateExpr = update ? aliasNames(update, names) : undefined;
    return {
      ...(updateExpr ? { UpdateExpression: updateExpr } : {}),
      ...(condition ? { ConditionExpression: condition } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(e?.values && Object.keys(e.values).length > 0 ? { ExpressionAttributeValues: e.values } : {}),
    };
  };
  const readParams = (keyCondition: string | undefined, e?: Expr & { filter?: string }) => {
    const names: Record<string, string> = { ...(e?.names ?? {}) };
    const key = keyCondition ? aliasNames(keyCondition, names) : undefined;
    const filter = e?.filter ? aliasNames(e.filter, names) : undefined;
    return {
      ...(key ? { KeyConditionExpression: key } : {}),
      ...(filter ? { FilterExpression: filter } : {}),
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ...(e?.values && Object.keys(e.values).length > 0 ? { ExpressionAttributeValues: e.values } : {}),
    };
  };
  return {
    config,
    async get(table, key, consistent = true) {
      const r = await doc.send(
        new lib.GetCommand({ TableName: name(table), Key: key, ConsistentRead: consistent }),
      );
      return r.Item;
    },
    async put(table, item, expr) {
      try {
        await doc.send(new lib.PutCommand({ TableName: name(table), Item: item, ...exprParams(expr) }));
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },
    async update(table, key, update, expr) {
      try {
        const r = await doc.send(
          new lib.UpdateCommand({
            TableName: name(table),
            Key: key,
            ReturnValues: 'ALL_NEW',
            ...exprParams(expr, update),
          }),
        );
        return r.Attributes ?? {};
      } catch (e) {
        if (isConditionFailure(e)) return undefined;
        throw e;
      }
    },
    async delete(table, key, expr) {
      try {
        await doc.send(new lib.DeleteCommand({ TableName: name(table), Key: key, ...exprParams(expr) }));
        return true;
      } catch (e) {
        if (isConditionFailure(e)) return false;
        throw e;
      }
    },
    async query(table, keyCondition, expr) {
      const out: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new lib.QueryCommand({
            TableName: name(table),
            ...(expr.index ? { IndexName: expr.index } : { ConsistentRead: true }),
            ...readParams(keyCondition, expr),
            ...(expr.descending ? { ScanIndexForward: false } : {}),
            ...(expr.limit && !expr.filter ? { Limit: expr.limit - out.length } : {}),
            ExclusiveStartKey: start,
          }),
        );
        out.push(...(r.Items ?? []));
        start = r.LastEvaluatedKey;
      } while (start && !(expr.limit && out.length >= expr.limit));
      return expr.limit ? out.slice(0, expr.limit) : out;
    },
    async scan(table, expr) {
      const out: Item[] = [];
      let start: Record<string, unknown> | undefined;
      do {
        const r = await doc.send(
          new lib.ScanCommand({
            TableName: name(table),
            ConsistentRead: true,
            ...readParams(undefined, expr),
            ExclusiveStartKey: start,
          }),
        );
        out.push(...(r.Items ?? []));
        start = r.LastEvaluatedKey;
      } while (start);
      return out;
    },
    async putMany(table, items) {
      for (let i = 0; i < items.length; i += 25) {
        let requests: { PutRequest: { Item: Item } }[] = items
          .slice(i, i + 25)
          .map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
          const r = await doc.send(new lib.BatchWriteCommand({ RequestItems: { [name(table)]: requests } }));
          requests = (r.UnprocessedItems?.[name(table)] ?? []) as typeof requests;
        }
      }
    },
    close() {
      client.destroy();
    },
  };
}

/**
 * Creates the tables of `dynamodb-tables.ts` that do not exist yet (on demand, with their indexes),
 * for a local endpoint; on AWS the CDK stack creates them. Waits until each is ACTIVE.
 */
export async function ensureTables(config: DynamoStoreConfig): Promise<TableName[]> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const ddb = await import('@aws-sdk/client-dynamodb');
  const client = new ddb.DynamoDBClient({
    region: config.region,
    ...(config.endpoint ? { endpoint: config.endpoint, credentials: LOCAL_CREDENTIALS } : {}),
  });
  const created: TableName[] = [];
  try {
    for (const [logical, physical] of Object.entries(config.tables) as [TableName, string][]) {
      const design = TABLES[logical];
      const exists = await client
        .send(new ddb.DescribeTableCommand({ TableName: physical }))
        .then(() => true)
        .catch((e: Error) => {
          if (e.name === 'ResourceNotFoundException') return false;
          throw e;
        });
      if (exists) continue;
      const attrs = new Map<string, 'S' | 'N'>();
      const keyAttrs = [design.partitionKey, 'sortKey' in design ? design.sortKey : undefined];
      for (const ix of design.indexes)
        keyAttrs.push(ix.partitionKey, 'sortKey' in ix ? ix.sortKey : undefined);
      for (const a of keyAttrs) if (a) attrs.set(a.name, a.type);
      const schema = (pk: { name: string }, sk?: { name: string }) => [
        { AttributeName: pk.name, KeyType: 'HASH' as const },
        ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
      ];
      await client.send(
        new ddb.CreateTableCommand({
          TableName: physical,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({
            AttributeName,
            AttributeType,
          })),
          KeySchema: schema(design.partitionKey, 'sortKey' in design ? design.sortKey : undefined),
          ...(design.indexes.length > 0
            ? {
                GlobalSecondaryIndexes: design.indexes.map((ix) => ({
                  IndexName: ix.name,
                  KeySchema: schema(ix.partitionKey, 'sortKey' in ix ? ix.sortKey : undefined),
                  Projection: { ProjectionType: 'ALL' as const },
                })),
              }
            : {}),
        }),
      );
      for (let i = 0; i < 600; i++) {
        const d = await client.send(new ddb.DescribeTableCommand({ TableName: physical }));
        if (d.Table?.TableStatus === 'ACTIVE') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      created.push(logical);
    }
  } finally {
    client.destroy();
  }
  return created;
}

/** Physical names for a local stack: `<prefix>-<logical>`. */
export function localTableNames(prefix: string): Record<TableName, string> {
  return Object.fromEntries((Object.keys(TABLES) as TableName[]).map((t) => [t, `${prefix}-${t}`])) as Record<
    TableName,
    string
  >;
}
