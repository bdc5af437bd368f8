/**
 * The API contract as code: loads `openapi.yaml` and `schema.graphql` beside this file and answers
 * the questions both sides of the contract ask in their tests:
 * - the reference stack: "is this response what the contract promises?" (`validateResponse`);
 * - the profiles: "does this journey step call a real operation (`findOperation`), with a valid body
 *   (`validateRequest`), and can the JSON paths it extracts exist (`schemaHasJsonPath`)?", and for
 *   GraphQL steps "does the query validate (`validateGraphqlQuery`) and select what it extracts
 *   (`graphqlQueryHasJsonPath`)?".
 *
 * JSON Schema validation is ajv (draft 2020-12, the dialect of OpenAPI 3.1); each operation's
 * validators are compiled once and cached. Loading is lazy, so importing this module costs nothing.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import {
  buildSchema,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  GraphQLList,
  type GraphQLNamedType,
  GraphQLNonNull,
  type GraphQLOutputType,
  GraphQLScalarType,
  type GraphQLSchema,
  getNamedType,
  getVariableValues,
  isCompositeType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  validate,
} from 'graphql';
import { parse as parseYaml } from 'yaml';
import { PeakdayError } from '../../core/errors.ts';
import { type JsonPath, parseJsonPath } from '../../core/json-path.ts';

/** Where the contract files live, so docs and error messages can name them. */
export const CONTRACT_FILES = {
  openapi: new URL('./openapi.yaml', import.meta.url),
  graphql: new URL('./schema.graphql', import.meta.url),
  oasMetaSchema: new URL('./oas-3.1-schema.json', import.meta.url),
} as const;

const DOC_ID = 'https://peakday.dev/contract/openapi.json';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

/** The outcome of a validation: `valid` and, when not, readable errors (`/items/0/sku: must match ...`). */
export interface ValidationResult {
  valid: boolean;
  errors: string[];
}

/** One operation of the OpenAPI document, flattened. */
export interface ContractOperation {
  operationId: string;
  method: string;
  /** The OpenAPI path template, e.g. `/api/carts/{cartId}/items`. */
  path: string;
  /** Statuses declared for the operation (`200`, `404`, `5XX`, ...). */
  statuses: string[];
  hasRequestBody: boolean;
}

/** A request path matched to an operation, with its path parameters and query parsed. */
export interface OperationMatch {
  operation: ContractOperation;
  pathParams: Record<string, string>;
  query: Record<string, string>;
}

/** A request as a client would send it; every part optional. Header names are case-insensitive. */
export interface ContractRequest {
  body?: unknown;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  pathParams?: Record<string, string>;
}

type Json = Record<string, unknown>;

interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header' | 'cookie';
  required?: boolean;
  schema?: Json;
  /** JSON pointer (with `#`) to the parameter's schema in the document. */
  schemaPointer: string;
}

interface Loaded {
  doc: Json;
  ajv: Ajv2020;
  operations: Map<string, { op: ContractOperation; raw: Json; params: Parameter[] }>;
  matchers: { op: ContractOperation; regex: RegExp; names: string[]; literalSegments: number }[];
  validators: Map<string, ValidateFunction>;
}

let loaded: Loaded | undefined;
let graphqlSchema: GraphQLSchema | undefined;

const isObject = (x: unknown): x is Json => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Reads the OpenAPI document (parsed YAML). Cached after the first call. */
export function readOpenApiDocument(): Json {
  return load().doc;
}

/** Every operation in the contract, in document order. */
export function listOperations(): ContractOperation[] {
  return [...load().operations.values()].map((o) => o.op);
}

/** The OpenAPI document's structural problems against the official OAS 3.1 meta-schema (empty = valid). */
export function validateOpenApiDocument(doc: unknown = readOpenApiDocument()): string[] {
  // ajv resolves the meta-schema's `$dynamicRef: "#meta"` to the wrong schema; without an extension
  // dialect it means exactly `$ref: "#/$defs/schema"`, so substitute that.
  const text = readFileSync(CONTRACT_FILES.oasMetaSchema, 'utf8').replaceAll(
    '"$dynamicRef": "#meta"',
    '"$ref": "#/$defs/schema"',
  );
  const meta = JSON.parse(text) as Json;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addFormat('media-range', true);
  const check = ajv.compile(meta);
  if (check(doc)) return [];
  return formatErrors(check.errors);
}

/**
 * Finds the operation a request hits. `path` may carry a query string and unresolved `{{template}}`
 * segments (a template without `/` matches one path segment). Literal segments win over parameters.
 */
export function findOperation(method: string, path: string): OperationMatch | undefined {
  const l = load();
  const [rawPath = '', rawQuery = ''] = stripOrigin(path).split('?', 2);
  const m = method.toLowerCase();
  const candidates = l.matchers
    .filter((c) => c.op.method === m)
    .sort((a, b) => b.literalSegments - a.literalSegments);
  for (const c of candidates) {
    const hit = c.regex.exec(rawPath);
    if (!hit) continue;
    const pathParams: Record<string, string> = {};
    c.names.forEach((n, i) => {
      pathParams[n] = decodeURIComponent(hit[i + 1] ?? '');
    });
    const query: Record<string, string> = {};
    for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = v;
    return { operation: c.op, pathParams, query };
  }
  return undefined;
}

/**
 * Validates a response body against the schema the contract declares for `operationId` and `status`
 * (exact status, then its range such as `5XX`, then `default`). An undeclared status is invalid.
 */
export function validateResponse(operationId: string, status: number, body: unknown): ValidationResult {
  const entry = operation(operationId);
  const key = responseKey(entry.raw, status);
  if (key === undefined) {
    return {
      valid: false,
      errors: [
        `status ${status} is not declared for ${operationId} (declared: ${entry.op.statuses.join(', ')})`,
      ],
    };
  }
  const pointer = responseSchemaPointer(entry, key);
  if (pointer === undefined) return { valid: true, errors: [] };
  return run(validatorFor(pointer), body);
}

/**
 * Validates a request against the contract: the JSON body against the request schema (and its
 * presence when required), required parameters present, query/path/header values of the right
 * type (strings are coerced as an HTTP server would), and no query parameters the operation lacks.
 * Parameter values that are still `{{templates}}` are skipped; body templates must be substituted
 * first (with catalog values), because a template says nothing about the value's type.
 */
export function validateRequest(operationId: string, request: ContractRequest = {}): ValidationResult {
  const entry = operation(operationId);
  const errors: string[] = [];
  const requestBody = resolveRef(entry.raw.requestBody) as Json | undefined;
  if (requestBody) {
    const pointer = `${opPointer(entry.op)}/requestBody/content/application~1json/schema`;
    if (request.body === undefined) {
      if (requestBody.required === true) errors.push('body: required but missing');
    } else
      errors.push(
        ...run(validatorFor(pointer), request.body).errors.map(
          (e) => `body${e.slice(0, 1) === '/' ? '' : ' '}${e}`,
        ),
      );
  } else if (request.body !== undefined) {
    errors.push(`body: ${operationId} takes no request body`);
  }
  const headers = Object.fromEntries(
    Object.entries(request.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  const sources: Record<Parameter['in'], Record<string, string>> = {
    query: request.query ?? {},
    path: request.pathParams ?? {},
    header: headers,
    cookie: {},
  };
  for (const p of entry.params) {
    const value = sources[p.in][p.in === 'header' ? p.name.toLowerCase() : p.name];
    if (value === undefined) {
      // Path parameters are checked only when the caller passes them (findOperation returns them).
      const checkable = p.in !== 'path' || request.pathParams !== undefined;
      if (p.required && checkable) errors.push(`${p.in} parameter ${p.name}: required but missing`);
      continue;
    }
    if (!p.schema || isTemplate(value)) continue;
    const r = run(validatorFor(p.schemaPointer), coerce(value, resolveRef(p.schema) as Json));
    errors.push(...r.errors.map((e) => `${p.in} parameter ${p.name} ${e}`));
  }
  const known = new Set(entry.params.filter((p) => p.in === 'query').map((p) => p.name));
  for (const k of Object.keys(request.query ?? {})) {
    if (!known.has(k)) errors.push(`query parameter ${k}: not defined for ${operationId}`);
  }
  return { valid: errors.length === 0, errors };
}

/**
 * Says whether a JSON path (`$.items[0].id`, `$.price.amount`, `$['facets'].brand[*].value`) can
 * exist in the response schema of `operationId` at `status`. Follows `$ref`, `allOf`/`anyOf`/`oneOf`,
 * array `items` and schema-valued `additionalProperties`; a path into an unconstrained value is false,
 * because the contract does not promise it.
 */
export function schemaHasJsonPath(operationId: string, status: number, jsonPath: string): boolean {
  return schemaAtJsonPath(operationId, status, jsonPath) !== undefined;
}

/**
 * The response schema at a JSON path (after following `$ref`s at the end, so `pattern`/`type` are
 * visible), or undefined when the contract does not promise that path. Lets tests make example
 * values for extracted variables (a product id where a product id is extracted).
 */
export function schemaAtJsonPath(operationId: string, status: number, jsonPath: string): Json | undefined {
  const entry = operation(operationId);
  const key = responseKey(entry.raw, status);
  if (key === undefined) return undefined;
  const pointer = responseSchemaPointer(entry, key);
  if (pointer === undefined) return undefined;
  const found = schemaAt(pointerGet(load().doc, pointer.slice(1)), parseJsonPath(jsonPath), 0);
  return found ? (resolveRef(found) as Json) : undefined;
}

/** The GraphQL schema (schema.graphql), built once. */
export function readGraphqlSchema(): GraphQLSchema {
  graphqlSchema ??= buildSchema(readFileSync(CONTRACT_FILES.graphql, 'utf8'));
  return graphqlSchema;
}

/**
 * Validates a GraphQL document against schema.graphql: syntax, fields and arguments, and (when
 * given) the variables against the selected operation's variable definitions. Template strings in
 * variables (`{{sku}}`) count as valid strings.
 */
export function validateGraphqlQuery(
  query: string,
  variables?: Record<string, unknown>,
  operationName?: string,
): ValidationResult {
  const schema = readGraphqlSchema();
  let document: ReturnType<typeof parse>;
  try {
    document = parse(query);
  } catch (e) {
    return { valid: false, errors: [(e as Error).message] };
  }
  const errors = validate(schema, document).map((e) => e.message);
  if (errors.length === 0 && variables !== undefined) {
    const op = selectOperation(document.definitions, operationName);
    if (!op) errors.push(`no operation${operationName ? ` named ${operationName}` : ''} in the document`);
    else {
      const r = getVariableValues(schema, op.variableDefinitions ?? [], substituteTemplates(variables, op));
      if (r.errors) errors.push(...r.errors.map((e) => e.message));
    }
  }
  return { valid: errors.length === 0, errors };
}

/**
 * Says whether a JSON path into a GraphQL response (`$.data.product.price.amount`) is selected by
 * the query: each key must be a field's response name (alias or name) in the selection set at that
 * level (fragments included), and indexes are allowed only on list fields. Under a `JSON` scalar
 * anything goes. `$.errors...` is always possible.
 */
export function graphqlQueryHasJsonPath(query: string, jsonPath: string, operationName?: string): boolean {
  const schema = readGraphqlSchema();
  const document = parse(query);
  const op = selectOperation(document.definitions, operationName);
  if (!op) return false;
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const segments = parseJsonPath(jsonPath);
  const [first, ...rest] = segments;
  if (typeof first !== 'string') return false;
  if (first === 'errors') return true;
  if (first !== 'data') return false;
  const root = op.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!root) return false;
  let type: GraphQLOutputType = root;
  let selection: SelectionSetNode | undefined = op.selectionSet;
  for (let i = 0; i < rest.length; i++) {
    const s = rest[i] as string | number;
    if (typeof s === 'number') {
      const inner: GraphQLOutputType = type instanceof GraphQLNonNull ? type.ofType : type;
      if (!(inner instanceof GraphQLList)) return false;
      type = inner.ofType;
      continue;
    }
    const named: GraphQLNamedType = getNamedType(type);
    if (named instanceof GraphQLScalarType && named.name === 'JSON') return true;
    if (!selection || !isCompositeType(named)) return false;
    const field = findField(selection, s, fragments);
    if (!field) return false;
    if (field.name.value === '__typename') return i === rest.length - 1;
    const def: GraphQLField<unknown, unknown> | undefined =
      'getFields' in named ? named.getFields()[field.name.value] : undefined;
    if (!def) return false;
    type = def.type;
    selection = field.selectionSet;
  }
  return true;
}

/**
 * Validates a GraphQL response against the query that produced it and schema.graphql: the envelope
 * (`data`/`errors`), then `data` field by field: every selected field present under its response
 * name and no other, scalars of their type (Int, Float, String, ID, Boolean, enums; `JSON` anything),
 * lists as arrays, non-null fields not null (unless `errors` explain it). The stack's GraphQL tests
 * use it the way REST tests use `validateResponse`.
 */
export function validateGraphqlResponse(
  query: string,
  body: unknown,
  operationName?: string,
): ValidationResult {
  const envelope = validateResponse('graphql', 200, body);
  if (!envelope.valid) return envelope;
  const schema = readGraphqlSchema();
  const document = parse(query);
  const op = selectOperation(document.definitions, operationName);
  if (!op) return { valid: false, errors: ['no operation to check the response against'] };
  const fragments = new Map(
    document.definitions
      .filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const { data, errors: gqlErrors } = body as { data?: unknown; errors?: unknown[] };
  const lenientNulls = Array.isArray(gqlErrors) && gqlErrors.length > 0;
  const root = op.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  const errors: string[] = [];
  if (data === null || data === undefined || !root) return { valid: true, errors: [] };
  const checkValue = (
    value: unknown,
    type: GraphQLOutputType,
    sel: SelectionSetNode | undefined,
    at: string,
  ): void => {
    if (value === undefined) {
      errors.push(`${at}: missing`);
      return;
    }
    if (type instanceof GraphQLNonNull) {
      if (value === null) {
        if (!lenientNulls) errors.push(`${at}: must not be null`);
        return;
      }
      checkValue(value, type.ofType, sel, at);
      return;
    }
    if (value === null) return;
    if (type instanceof GraphQLList) {
      if (!Array.isArray(value)) errors.push(`${at}: must be a list`);
      else
        value.forEach((v, i) => {
          checkValue(v, type.ofType, sel, `${at}/${i}`);
        });
      return;
    }
    const named: GraphQLNamedType = getNamedType(type);
    if (named instanceof GraphQLScalarType) {
      const ok = scalarChecks[named.name]?.(value) ?? true;
      if (!ok) errors.push(`${at}: must be ${named.name}, got ${JSON.stringify(value)}`);
      return;
    }
    if ('getValues' in named) {
      if (!named.getValues().some((v) => v.name === value))
        errors.push(`${at}: must be one of ${named.name}`);
      return;
    }
    if (!isObject(value)) {
      errors.push(`${at}: must be an object`);
      return;
    }
    if (!sel || !('getFields' in named)) return;
    const selected = collectFields(sel, fragments);
    const fields = named.getFields();
    for (const [key, field] of selected) {
      if (field.name.value === '__typename') {
        if (typeof value[key] !== 'string') errors.push(`${at}/${key}: must be a type name`);
        continue;
      }
      const def = fields[field.name.value];
      if (def) checkValue(value[key], def.type, field.selectionSet, `${at}/${key}`);
    }
    for (const key of Object.keys(value))
      if (!selected.has(key)) errors.push(`${at}/${key}: not selected by the query`);
  };
  checkValue(data, root, op.selectionSet, '/data');
  return { valid: errors.length === 0, errors };
}

const scalarChecks: Record<string, (v: unknown) => boolean> = {
  Int: (v) => Number.isInteger(v),
  Float: (v) => typeof v === 'number' && Number.isFinite(v),
  String: (v) => typeof v === 'string',
  ID: (v) => typeof v === 'string' || Number.isInteger(v),
  Boolean: (v) => typeof v === 'boolean',
};

function collectFields(
  selection: SelectionSetNode,
  fragments: Map<string, FragmentDefinitionNode>,
  out = new Map<string, FieldNode>(),
): Map<string, FieldNode> {
  for (const s of selection.selections) {
    if (s.kind === Kind.FIELD) out.set(s.alias?.value ?? s.name.value, s);
    else if (s.kind === Kind.INLINE_FRAGMENT) collectFields(s.selectionSet, fragments, out);
    else {
      const frag = fragments.get(s.name.value);
      if (frag) collectFields(frag.selectionSet, fragments, out);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

function addFormats(ajv: Ajv2020): void {
  const plugin = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (
    a: Ajv2020,
  ) => void;
  plugin(ajv);
}

function load(): Loaded {
  if (loaded) return loaded;
  const doc = parseYaml(readFileSync(CONTRACT_FILES.openapi, 'utf8')) as Json;
  const ajv = new Ajv2020({ strict: true, allErrors: true, strictTypes: false, strictRequired: false });
  addFormats(ajv);
  // OpenAPI keywords that are not JSON Schema keywords, and document-level keys.
  ajv.addVocabulary(['example', 'discriminator', 'xml', 'externalDocs']);
  ajv.addVocabulary(['openapi', 'info', 'servers', 'tags', 'paths', 'components', 'webhooks', 'security']);
  const container = { ...doc, $id: DOC_ID };
  ajv.addSchema(container as object, DOC_ID, undefined, false);
  const operations: Loaded['operations'] = new Map();
  const matchers: Loaded['matchers'] = [];
  const paths = (doc.paths ?? {}) as Record<string, Json>;
  for (const [path, item] of Object.entries(paths)) {
    const itemPointer = `#/paths/${escapePointer(path)}`;
    const shared = readParameters(doc, item.parameters, `${itemPointer}/parameters`);
    for (const method of METHODS) {
      const raw = item[method] as Json | undefined;
      if (!raw) continue;
      const op: ContractOperation = {
        operationId: String(raw.operationId),
        method,
        path,
        statuses: Object.keys((raw.responses ?? {}) as Json),
        hasRequestBody: raw.requestBody !== undefined,
      };
      const own = readParameters(doc, raw.parameters, `${itemPointer}/${method}/parameters`);
      const params = [...shared.filter((p) => !own.some((o) => o.name === p.name && o.in === p.in)), ...own];
      operations.set(op.operationId, { op, raw, params });
      const names: string[] = [];
      let literalSegments = 0;
      const pattern = path
        .split('/')
        .map((seg) => {
          const m = /^\{(.+)\}$/.exec(seg);
          if (m) {
            names.push(m[1] as string);
            return '([^/]+)';
          }
          literalSegments++;
          return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/');
      matchers.push({ op, regex: new RegExp(`^${pattern}/?$`), names, literalSegments });
    }
  }
  loaded = { doc, ajv, operations, matchers, validators: new Map() };
  return loaded;
}

function readParameters(doc: Json, list: unknown, pointer: string): Parameter[] {
  return ((list ?? []) as unknown[]).map((raw, i) => {
    const ref = isObject(raw) && typeof raw.$ref === 'string' ? raw.$ref : undefined;
    const p = resolveRefIn(doc, raw) as Omit<Parameter, 'schemaPointer'>;
    return { ...p, schemaPointer: `${ref ?? `${pointer}/${i}`}/schema` };
  });
}

function operation(operationId: string): { op: ContractOperation; raw: Json; params: Parameter[] } {
  const entry = load().operations.get(operationId);
  if (!entry) {
    throw new PeakdayError(
      'contract-unknown-operation',
      `no operation "${operationId}" in the API contract`,
      {
        hint: `known operations: ${[...load().operations.keys()].join(', ')}`,
      },
    );
  }
  return entry;
}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function opPointer(op: ContractOperation): string {
  return `#/paths/${escapePointer(op.path)}/${op.method}`;
}

function responseKey(raw: Json, status: number): string | undefined {
  const responses = (raw.responses ?? {}) as Json;
  const exact = String(status);
  const range = `${exact[0]}XX`;
  return [exact, range, 'default'].find((k) => k in responses);
}

/** Pointer to the JSON schema of a response, following a `$ref` to components/responses. */
function responseSchemaPointer(entry: { op: ContractOperation; raw: Json }, key: string): string | undefined {
  const responses = entry.raw.responses as Json;
  let response = responses[key] as Json;
  let base = `${opPointer(entry.op)}/responses/${escapePointer(key)}`;
  if (typeof response.$ref === 'string') {
    base = response.$ref;
    response = resolveRef(response) as Json;
  }
  const content = response.content as Json | undefined;
  if (!content || !isObject(content['application/json'])) return undefined;
  return `${base}/content/application~1json/schema`;
}

function validatorFor(pointer: string): ValidateFunction {
  const l = load();
  let v = l.validators.get(pointer);
  if (!v) {
    v = l.ajv.compile({ $ref: `${DOC_ID}${pointer}` });
    l.validators.set(pointer, v);
  }
  return v;
}

function run(v: ValidateFunction, value: unknown): ValidationResult {
  if (v(value)) return { valid: true, errors: [] };
  return { valid: false, errors: formatErrors(v.errors) };
}

function formatErrors(errors: ErrorObject[] | null | undefined): string[] {
  const out = (errors ?? []).map((e) => {
    const where = e.instancePath || '/';
    const p = e.params as Record<string, unknown>;
    const extra = p.additionalProperty ?? p.unevaluatedProperty;
    return `${where}: ${e.message ?? 'invalid'}${extra !== undefined ? ` (${String(extra)})` : ''}`;
  });
  return [...new Set(out)];
}

function resolveRef(x: unknown): unknown {
  return resolveRefIn(load().doc, x);
}

function resolveRefIn(doc: Json, x: unknown): unknown {
  let cur = x;
  for (let guard = 0; guard < 20 && isObject(cur) && typeof cur.$ref === 'string'; guard++) {
    if (!cur.$ref.startsWith('#/')) return cur;
    const target = pointerGet(doc, cur.$ref.slice(1));
    if (target === undefined) return cur;
    // A $ref with sibling keywords (2020-12) is the union: keep the siblings alongside the target.
    const { $ref: _ref, ...siblings } = cur;
    cur = Object.keys(siblings).length > 0 ? { ...siblings, allOf: [target] } : target;
  }
  return cur;
}

function pointerGet(doc: unknown, pointer: string): unknown {
  const parts = pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: unknown = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = cur[Number(p)];
    else if (isObject(cur)) cur = cur[p];
    else return undefined;
  }
  return cur;
}

/** The schema at `path[i..]` under `schema`, following refs and combinators; undefined when absent. */
function schemaAt(schema: unknown, path: JsonPath, i: number): Json | undefined {
  if (!isObject(schema)) return i === path.length && schema === true ? {} : undefined;
  if (i === path.length) return schema;
  const seg = path[i] as string | number;
  if (typeof schema.$ref === 'string') {
    const found = schemaAt(pointerGet(load().doc, schema.$ref.slice(1)), path, i);
    if (found) return found;
  }
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    const branches = schema[k];
    if (!Array.isArray(branches)) continue;
    for (const b of branches) {
      const found = schemaAt(b, path, i);
      if (found) return found;
    }
  }
  if (typeof seg === 'string') {
    const props = schema.properties;
    if (isObject(props) && seg in props) return schemaAt(props[seg], path, i + 1);
    if (isObject(schema.additionalProperties)) return schemaAt(schema.additionalProperties, path, i + 1);
    return undefined;
  }
  if (isObject(schema.items)) return schemaAt(schema.items, path, i + 1);
  if (Array.isArray(schema.prefixItems)) {
    return schemaAt(schema.prefixItems[seg], path, i + 1);
  }
  return undefined;
}

function coerce(value: string, schema: Json): unknown {
  const type = schema.type;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && Number.isFinite(Number(value))) {
    return Number(value);
  }
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

const isTemplate = (s: string): boolean => /\{\{[^}]+\}\}/.test(s);

function stripOrigin(path: string): string {
  const m = /^[a-z]+:\/\/[^/]+(\/.*)?$/i.exec(path);
  return m ? (m[1] ?? '/') : path;
}

function selectOperation(
  definitions: readonly { kind: string }[],
  operationName: string | undefined,
): OperationDefinitionNode | undefined {
  const ops = definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (operationName) return ops.find((o) => o.name?.value === operationName);
  return ops.length === 1 ? ops[0] : undefined;
}

/** Replaces `{{template}}` strings with a value of the variable's declared type, so they coerce. */
function substituteTemplates(
  variables: Record<string, unknown>,
  op: OperationDefinitionNode,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const types = new Map((op.variableDefinitions ?? []).map((d) => [d.variable.name.value, typeName(d.type)]));
  for (const [k, v] of Object.entries(variables)) {
    if (typeof v === 'string' && isTemplate(v)) {
      const t = types.get(k);
      out[k] = t === 'Int' ? 1 : t === 'Float' ? 1.5 : t === 'Boolean' ? true : v;
    } else out[k] = v;
  }
  return out;
}

function typeName(t: { kind: string; type?: unknown; name?: { value: string } }): string {
  if (t.name) return t.name.value;
  return typeName(t.type as { kind: string; type?: unknown; name?: { value: string } });
}

function findField(
  selection: SelectionSetNode,
  responseKey: string,
  fragments: Map<string, FragmentDefinitionNode>,
): FieldNode | undefined {
  for (const s of selection.selections) {
    if (s.kind === Kind.FIELD && (s.alias?.value ?? s.name.value) === responseKey) return s;
    if (s.kind === Kind.INLINE_FRAGMENT) {
      const f = findField(s.selectionSet, responseKey, fragments);
      if (f) return f;
    }
    if (s.kind === Kind.FRAGMENT_SPREAD) {
      const frag = fragments.get(s.name.value);
      const f = frag ? findField(frag.selectionSet, responseKey, fragments) : undefined;
      if (f) return f;
    }
  }
  return undefined;
}
