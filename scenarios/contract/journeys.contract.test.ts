/**
 * Every built-in journey step against the API contract: its method and path hit an operation (the
 * one it names), its body and parameters validate with template placeholders replaced by catalog
 * values, and every JSON path it extracts or checks exists in the response schema (REST) or is
 * selected by its query (GraphQL, which must also validate against schema.graphql).
 */
import { describe, expect, it } from 'vitest';
import { createCatalog } from '../catalog.ts';
import { builtinPools } from '../data-pools.ts';
import type { Journey, JourneyStep } from '../journey.ts';
import { builtinJourneys, listProfiles, loadProfile } from '../profile.ts';
import {
  findOperation,
  graphqlQueryHasJsonPath,
  schemaAtJsonPath,
  schemaHasJsonPath,
  validateGraphqlQuery,
  validateRequest,
} from './contract.ts';

const catalog = createCatalog();
const first = (pool: string): unknown => {
  const values = (builtinPools as Record<string, (c: typeof catalog) => readonly unknown[]>)[pool]?.(catalog);
  return values?.[0];
};

/** Candidate values for an extracted variable, the first that fits the schema's pattern wins. */
const CANDIDATES = [
  catalog.productIds[0],
  catalog.skus[0],
  catalog.storeIds[0],
  catalog.customerIds[0],
  catalog.stores[0]?.zip,
] as string[];

function exampleFor(schema: Record<string, unknown> | undefined, name: string): unknown {
  if (!schema) return `example-${name}`;
  if (typeof schema.pattern === 'string') {
    const re = new RegExp(schema.pattern);
    const hit = CANDIDATES.find((c) => re.test(c));
    if (hit) return hit;
  }
  if (schema.type === 'integer' || schema.type === 'number') return 1;
  return `example-${name}`;
}

const WHOLE = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;
const ANY = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/** Renders templates as the engine and the k6 script do (a whole-template string keeps the value's type). */
function render(x: unknown, vars: Record<string, unknown>, missing: Set<string>): unknown {
  if (typeof x === 'string') {
    const whole = WHOLE.exec(x);
    if (whole) {
      const name = whole[1] as string;
      if (!(name in vars)) missing.add(name);
      return vars[name];
    }
    return x.replace(ANY, (_m, name: string) => {
      if (!(name in vars)) {
        missing.add(name);
        return `missing-${name}`;
      }
      return encodeURIComponent(String(vars[name]));
    });
  }
  if (Array.isArray(x)) return x.map((y) => render(y, vars, missing));
  if (x !== null && typeof x === 'object') {
    return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, render(v, vars, missing)]));
  }
  return x;
}

/** Success statuses a step accepts (its check, else the operation's 2xx). */
function successStatuses(step: JourneyStep, declared: string[]): number[] {
  const fromCheck = (step.check?.status ?? []).filter((s) => s >= 200 && s < 300);
  if (fromCheck.length > 0) return fromCheck;
  return declared.filter((s) => /^2\d\d$/.test(s)).map(Number);
}

/** Every contract problem of a journey, as readable lines (empty = conforms). */
function checkJourney(journey: Journey, channel: string): string[] {
  const problems: string[] = [];
  const vars: Record<string, unknown> = {
    channel,
    uuid: '7f1c2a8e-3b4d-4c5e-9f60-718293a4b5c6',
    iteration: 1,
    vu: 1,
  };
  for (const [name, b] of Object.entries(journey.data ?? {})) {
    const v = first(b.pool);
    vars[name] = b.field && v && typeof v === 'object' ? (v as Record<string, unknown>)[b.field] : v;
    if (vars[name] === undefined) problems.push(`data ${name}: pool ${b.pool} has no values`);
  }
  for (const step of journey.steps) {
    const where = `${journey.name}/${step.name}`;
    const missing = new Set<string>();
    const path = String(render(step.path, vars, missing));
    const match = findOperation(step.method, path);
    if (!match) {
      problems.push(`${where}: ${step.method} ${step.path} matches no operation`);
      continue;
    }
    const opId = match.operation.operationId;
    if (step.operation && step.operation !== opId)
      problems.push(`${where}: names ${step.operation} but calls ${opId}`);
    const headers = render(step.headers ?? {}, vars, missing) as Record<string, string>;
    const extracted = Object.entries(step.extract ?? {});
    const checked = [...(step.check?.exists ?? []), ...Object.keys(step.check?.equals ?? {})];
    if (step.graphql) {
      const variables = render(step.graphql.variables ?? {}, vars, missing) as Record<string, unknown>;
      const body = { query: step.graphql.query, variables, operationName: step.graphql.operationName };
      const req = validateRequest(opId, { body, headers, query: match.query, pathParams: match.pathParams });
      problems.push(...req.errors.map((e) => `${where}: request ${e}`));
      const gql = validateGraphqlQuery(step.graphql.query, variables, step.graphql.operationName);
      problems.push(...gql.errors.map((e) => `${where}: GraphQL ${e}`));
      for (const p of [...extracted.map(([, p]) => p), ...checked]) {
        if (!graphqlQueryHasJsonPath(step.graphql.query, p, step.graphql.operationName)) {
          problems.push(`${where}: the query does not select ${p}`);
        }
      }
      for (const [name] of extracted) vars[name] = `example-${name}`;
    } else {
      const body = step.body === undefined ? undefined : render(step.body, vars, missing);
      const req = validateRequest(opId, { body, headers, query: match.query, pathParams: match.pathParams });
      problems.push(...req.errors.map((e) => `${where}: request ${e}`));
      const statuses = successStatuses(step, match.operation.statuses);
      if (statuses.length === 0) problems.push(`${where}: no success status to check paths against`);
      for (const status of statuses) {
        for (const p of [...extracted.map(([, p]) => p), ...checked]) {
          if (!schemaHasJsonPath(opId, status, p))
            problems.push(`${where}: ${p} is not in the ${opId} ${status} response`);
        }
      }
      for (const [name, p] of extracted)
        vars[name] = exampleFor(schemaAtJsonPath(opId, statuses[0] ?? 200, p), name);
    }
    for (const m of missing)
      problems.push(`${where}: template {{${m}}} has no value (not extracted earlier nor bound to data)`);
  }
  return problems;
}

/** Every journey of the built-in library and the built-in profiles, once per distinct (definition, channel). */
function collectJourneys(): [string, Journey, string][] {
  const out = new Map<string, [string, Journey, string]>();
  const add = (key: string, j: Journey, channel: string) => {
    const id = `${JSON.stringify(j)}@${channel}`;
    if (!out.has(id)) out.set(id, [key, j, channel]);
  };
  for (const [name, j] of Object.entries(builtinJourneys())) add(`library/${name}`, j, 'web');
  for (const p of listProfiles()) {
    const model = loadProfile(p.name).model;
    for (const ch of model.channels) {
      for (const name of Object.keys(ch.journeys)) {
        const j = model.journeys[name];
        if (j) add(`${p.name}/${ch.name}/${name}`, j, ch.name);
      }
    }
  }
  return [...out.values()];
}

const journeys = collectJourneys();

describe('built-in journeys against the API contract', () => {
  it('finds the built-in journeys and the profiles that use them', () => {
    const names = new Set(journeys.map(([, j]) => j.name));
    for (const n of [
      'browse',
      'search',
      'product-page',
      'add-to-cart',
      'checkout',
      'order-status',
      'store-lookup',
      'reorder',
    ]) {
      expect(names.has(n), n).toBe(true);
    }
    expect(journeys.some(([key]) => !key.startsWith('library/'))).toBe(true);
  });

  it.each(journeys)('%s conforms to the contract', (_key, journey, channel) => {
    expect(checkJourney(journey, channel)).toEqual([]);
  });

  it('reports a journey that breaks the contract (the check can fail)', () => {
    const broken: Journey = {
      name: 'broken',
      requestsPerIteration: 4,
      data: { sku: { pool: 'skus' } },
      steps: [
        { name: 'nowhere', method: 'GET', path: '/api/nowhere' },
        {
          name: 'cart',
          method: 'POST',
          path: '/api/carts',
          body: { channel: '{{channel}}', coupon: 'X' },
          extract: { cartId: '$.cartId' },
          operation: 'getCart',
        },
        {
          name: 'add',
          method: 'POST',
          path: '/api/carts/{{cart}}/items',
          body: { sku: '{{sku}}', quantity: 0 },
        },
        {
          name: 'app',
          method: 'POST',
          path: '/graphql',
          graphql: { query: '{ product(id: "x") { id } }' },
          extract: { price: '$.data.product.price.amount' },
        },
      ],
    };
    const problems = checkJourney(broken, 'web').join('\n');
    expect(problems).toContain('matches no operation');
    expect(problems).toContain('names getCart but calls createCart');
    expect(problems).toContain('(coupon)');
    expect(problems).toContain('$.cartId is not in the createCart 201 response');
    expect(problems).toContain('{{cart}} has no value');
    expect(problems).toContain('quantity');
    expect(problems).toContain('does not select $.data.product.price.amount');
  });
});
