/**
 * The GraphQL endpoint for the mobile app: the contract's schema (scenarios/contract/schema.graphql)
 * executed with graphql@16 over the same use cases as REST. A document that does not parse or
 * validate is a 400 with GraphQL `errors`; a domain error inside a resolver becomes an entry of
 * `errors` with `extensions.code` (e.g. `insufficient-stock`), except overload and throttling
 * (5xx), which answer with that status and the contract's error body so load shedding stays visible.
 */
import { readFileSync } from 'node:fs';
import {
  buildSchema,
  execute,
  GraphQLError,
  type GraphQLSchema,
  Kind,
  type OperationDefinitionNode,
  parse,
  validate,
} from 'graphql';
import { DEMAND_TABLE } from '../capacity/demand-table.ts';
import { badRequest, DomainError, isDomainError } from '../domain/errors.ts';
import {
  type Arch,
  GRAPHQL_FIELD_OPERATIONS,
  type OperationId,
  type ServiceName,
  scaledDemand,
  TOPOLOGIES,
} from '../topology.ts';
import { type Api, DEFAULT_CHANNEL, type ProductSummary } from './api.ts';
import type { PublicResponse } from './rest.ts';

let schema: GraphQLSchema | undefined;

/** The contract's schema, built once per process. */
export function graphqlSchema(): GraphQLSchema {
  schema ??= buildSchema(
    readFileSync(new URL('../../scenarios/contract/schema.graphql', import.meta.url), 'utf8'),
  );
  return schema;
}

/** Largest accepted document, characters (assumption: real app queries are a few KB). */
export const MAX_QUERY_LENGTH = 20_000;

/** A parsed, validated GraphQL request ready to execute. */
export interface PreparedGraphql {
  document: ReturnType<typeof parse>;
  variables: Record<string, unknown> | undefined;
  operationName: string | undefined;
  /** Root fields selected by the operation (for demand accounting). */
  rootFields: string[];
}

/** Checks the request body, parses and validates the document. Throws a 400 DomainError or returns a 400 response. */
export function prepareGraphql(body: unknown): PreparedGraphql | PublicResponse {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw badRequest('the body must be a JSON object {query, variables?, operationName?}');
  const b = body as Record<string, unknown>;
  const extra = Object.keys(b).filter((k) => !['query', 'variables', 'operationName'].includes(k));
  if (extra.length > 0) throw badRequest(`unknown fields: ${extra.join(', ')}`, { fields: extra });
  if (typeof b.query !== 'string' || b.query.length === 0)
    throw badRequest('query must be a non-empty string');
  if (b.query.length > MAX_QUERY_LENGTH)
    throw badRequest(`query is longer than ${MAX_QUERY_LENGTH} characters`);
  if (
    b.variables !== undefined &&
    b.variables !== null &&
    (typeof b.variables !== 'object' || Array.isArray(b.variables))
  ) {
    throw badRequest('variables must be an object or null');
  }
  if (b.operationName !== undefined && b.operationName !== null && typeof b.operationName !== 'string') {
    throw badRequest('operationName must be a string or null');
  }
  let document: ReturnType<typeof parse>;
  try {
    document = parse(b.query);
  } catch (e) {
    return { status: 400, body: { errors: [toJsonError(e as GraphQLError)] } };
  }
  const errors = validate(graphqlSchema(), document);
  if (errors.length > 0) return { status: 400, body: { errors: errors.map(toJsonError) } };
  const operationName = (b.operationName as string | null | undefined) ?? undefined;
  const ops = document.definitions.filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const op = operationName
    ? ops.find((o) => o.name?.value === operationName)
    : ops.length === 1
      ? ops[0]
      : undefined;
  if (!op) {
    return {
      status: 400,
      body: {
        errors: [
          {
            message: operationName
              ? `no operation named ${operationName}`
              : 'several operations: name one in operationName',
          },
        ],
      },
    };
  }
  const rootFields = op.selectionSet.selections.flatMap((s) => (s.kind === Kind.FIELD ? [s.name.value] : []));
  return {
    document,
    variables: (b.variables as Record<string, unknown> | null) ?? undefined,
    operationName,
    rootFields,
  };
}

function toJsonError(e: GraphQLError): {
  message: string;
  locations?: readonly { line: number; column: number }[];
} {
  return { message: e.message, ...(e.locations ? { locations: e.locations } : {}) };
}

/**
 * Emulated CPU demand of a GraphQL request on the entry deployable: the GraphQL layer's own cost
 * plus, per root field, the entry demand of the REST operation doing the same work.
 */
export function graphqlEntryDemand(arch: Arch, rootFields: string[]): number {
  const t = TOPOLOGIES[arch];
  const entry: ServiceName = t.entry;
  let d = scaledDemand(DEMAND_TABLE.gatewayCpuMs.graphql);
  for (const f of rootFields) {
    const op = (GRAPHQL_FIELD_OPERATIONS as Record<string, OperationId>)[f];
    if (op) d += t.operations[op].demandCpuMs[entry] ?? 0;
  }
  return d;
}

/** Wraps a domain error for GraphQL's `errors`. */
function gqlError(e: unknown): never {
  if (isDomainError(e)) {
    if (e.status >= 500) throw e;
    throw new GraphQLError(e.message, {
      extensions: { code: e.code, status: e.status, ...(e.details ? { details: e.details } : {}) },
    });
  }
  throw e;
}

async function guard<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    return gqlError(e);
  }
}

/** A Product for GraphQL: summary fields now, detail fields (description, attributes, stock) on demand. */
function lazyProduct(api: Api, s: ProductSummary, channel: string) {
  let detail: ReturnType<Api['getProduct']> | undefined;
  const load = () => {
    detail ??= api.getProduct({ id: s.id, channel });
    return detail;
  };
  return {
    ...s,
    description: () => guard(async () => (await load()).description),
    attributes: () => guard(async () => (await load()).attributes),
    inventory: () => guard(async () => (await load()).inventory),
  };
}

/** Root resolvers over the use cases. */
function rootValue(api: Api) {
  const nullIf404 = async <T>(f: () => Promise<T>): Promise<T | null> => {
    try {
      return await f();
    } catch (e) {
      if (isDomainError(e) && e.status === 404) return null;
      return gqlError(e);
    }
  };
  const first = (n: unknown) => {
    const v = typeof n === 'number' ? n : 20;
    if (v < 1 || v > 100)
      throw new GraphQLError('first must be from 1 to 100', { extensions: { code: 'bad-request' } });
    return v;
  };
  return {
    products: (a: { category?: string; first?: number; after?: string }) =>
      guard(async () => {
        const limit = first(a.first);
        const page = a.after ? Number(a.after) + 1 : 1;
        if (!Number.isInteger(page) || page < 1)
          throw new DomainError(400, 'bad-request', 'after must be an endCursor from a previous page');
        const r = await api.listProducts({
          category: a.category ?? undefined,
          page,
          limit,
          channel: DEFAULT_CHANNEL,
        });
        return {
          items: r.items.map((s) => lazyProduct(api, s, DEFAULT_CHANNEL)),
          total: r.total,
          endCursor: r.items.length > 0 ? String(page) : null,
          hasNextPage: page * limit < r.total,
        };
      }),
    product: (a: { id: string; channel?: string }) =>
      nullIf404(() => api.getProduct({ id: a.id, channel: a.channel ?? DEFAULT_CHANNEL })),
    search: (a: { q: string; first?: number }) =>
      guard(async () => {
        if (a.q.length === 0 || a.q.length > 200)
          throw new DomainError(400, 'bad-request', 'q must be 1 to 200 characters');
        const r = await api.search({ q: a.q, limit: first(a.first), channel: DEFAULT_CHANNEL });
        return {
          items: r.items.map((s) => lazyProduct(api, s, DEFAULT_CHANNEL)),
          total: r.total,
          facets: r.facets,
        };
      }),
    cart: (a: { id: string }) => nullIf404(() => api.getCart({ cartId: a.id })),
    order: (a: { id: string }) => nullIf404(() => api.getOrder({ orderId: a.id })),
    deals: () => guard(async () => (await api.listDeals()).items),
    createCart: (a: { channel?: string }) =>
      guard(() => api.createCart({ channel: a.channel ?? 'mobile-app' })),
    addToCart: (a: { cartId: string; sku: string; quantity: number }) =>
      guard(async () => {
        if (a.quantity < 1 || a.quantity > 100)
          throw new DomainError(400, 'bad-request', 'quantity must be from 1 to 100');
        return api.addCartItem(a);
      }),
    checkout: (a: { cartId: string; paymentToken: string; idempotencyKey: string }) =>
      guard(() =>
        api.checkout({ cartId: a.cartId, paymentToken: a.paymentToken, idempotencyKey: a.idempotencyKey }),
      ),
  };
}

/** Executes a prepared request. A 5xx domain error inside becomes that HTTP status with the error body. */
export async function executeGraphql(api: Api, prepared: PreparedGraphql): Promise<PublicResponse> {
  const result = await execute({
    schema: graphqlSchema(),
    document: prepared.document,
    rootValue: rootValue(api),
    variableValues: prepared.variables,
    operationName: prepared.operationName,
  });
  const errors = result.errors ?? [];
  const severe = errors
    .map((e) => e.originalError)
    .find((o): o is DomainError => isDomainError(o) && o.status >= 500);
  if (severe) return { status: severe.status, body: severe.toBody() };
  const unexpected = errors.find(
    (e) => e.originalError && !(e.originalError instanceof GraphQLError) && !isDomainError(e.originalError),
  );
  if (unexpected) throw unexpected.originalError;
  if (errors.length > 0 && result.data === undefined)
    return { status: 400, body: { errors: errors.map((e) => e.toJSON()) } };
  return {
    status: 200,
    body:
      errors.length > 0
        ? { data: result.data ?? null, errors: errors.map((e) => e.toJSON()) }
        : { data: result.data ?? null },
  };
}
