/**
 * Parses and validates a profile YAML into a `ProfileModel`, reporting every problem at once with
 * file:line:column, the YAML path, what was expected and a hint (core/yaml-source.ts). The grammar
 * (docs/profiles.md has the full example):
 *
 *   profile   := name description? event local shape channels journeys? windows? rehearsal?
 *                pools? target? sources? assumptions?
 *   event     := { duration: DURATION }
 *   local     := { peakRps: N | baselineRps: N, duration?: DURATION }
 *   shape     := [ { BLOCK: { op?: add|multiply, ...block keys } } ]   BLOCK ∈ shapes/index.ts
 *   channels  := { NAME: { share: N | { points: [{at, value}], repeat?: DURATION }, journeys: { JOURNEY: WEIGHT } } }
 *   journeys  := { NAME: { steps: [STEP], data?: {VAR: {pool, field?, pick?}}, auth? } }
 *   STEP      := { name, method, path, operation?, headers?, body? | graphql?, extract?, check?, think?, tags? }
 *   think     := DURATION | { dist: constant|uniform|exponential|normal, ... durations }
 *   windows   := { NAME: { start: DURATION, end: DURATION } }
 *   rehearsal := [ WINDOW ]
 *   pools     := { NAME: { file: PATH } }        (CSV or JSON by extension, relative to the profile)
 *
 * Journeys not defined in the profile come from the built-in library (scenarios/journeys/builtin.yaml).
 */
import { existsSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { compileJsonPath, JSON_PATH_EXAMPLE } from '../core/json-path.ts';
import { ABSOLUTE_MAX_RPS } from '../core/limits.ts';
import { createRng } from '../core/rng.ts';
import {
  type Checker,
  createChecker,
  type DocPath,
  didYouMean,
  type YamlSource,
} from '../core/yaml-source.ts';
import { BUILTIN_POOL_NAMES, poolColumns, readUserPool } from './data-pools.ts';
import type {
  AuthSpec,
  DataBinding,
  GraphqlRequest,
  HttpMethod,
  Journey,
  JourneyStep,
  StepCheck,
  ThinkTime,
} from './journey.ts';
import type { PlanWindow } from './plan.ts';
import type { ChannelModel, LocalDefaults, ProfileModel, UserPoolModel } from './profile-model.ts';
import { fromPoints, type PiecewiseLinear, unionTimes } from './rate-function.ts';
import { SHAPE_TYPES, type ShapeType, shapeBlocks } from './shapes/index.ts';
import type { ShapeBlock, ShapeOp, ShapeSpec } from './shapes/shape.ts';

const TOP_KEYS = [
  'name',
  'description',
  'event',
  'local',
  'shape',
  'channels',
  'journeys',
  'windows',
  'rehearsal',
  'pools',
  'target',
  'sources',
  'assumptions',
] as const;

/** Template variables every journey may use without defining them. */
export const BUILTIN_TEMPLATE_VARS = ['iteration', 'uuid', 'channel', 'vu'] as const;

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const satisfies readonly HttpMethod[];
const THINK_DISTS = ['constant', 'uniform', 'exponential', 'normal'] as const;
const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
const TEMPLATE_RE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
/** Shares must sum to 1 within this at every instant. */
export const SHARE_TOLERANCE = 0.001;
/** The longest event a profile may describe (a month). */
export const MAX_EVENT_SECONDS = 31 * 86400;
/** A live run may compress at most this much (core/event-clock.ts MAX_LIVE_TIME_SCALE). */
const REHEARSAL_SCALE = 60;

/** Options for parsing: built-in journeys to fall back on, and where relative files resolve from. */
export interface ParseOptions {
  builtinJourneys?: Record<string, Journey>;
  /** Environment used to check `auth.fromEnv` (default process.env). */
  env?: Record<string, string | undefined>;
}

/** Template variable names used in a string or any string inside a JSON-like value. */
export function templateVars(value: unknown, out: Set<string> = new Set()): Set<string> {
  if (typeof value === 'string') for (const m of value.matchAll(TEMPLATE_RE)) out.add(m[1] as string);
  else if (Array.isArray(value)) for (const v of value) templateVars(v, out);
  else if (value !== null && typeof value === 'object')
    for (const v of Object.values(value)) templateVars(v, out);
  return out;
}

function stringRecord(c: Checker, path: DocPath, raw: unknown): Record<string, string> | undefined {
  const o = c.object(path, raw);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const s = c.string([...path, k], v);
    if (s !== undefined) out[k] = s;
  }
  return out;
}

function parseThink(c: Checker, path: DocPath, raw: unknown): ThinkTime | undefined {
  if (typeof raw === 'string' || raw === 0) {
    const seconds = c.duration(path, raw);
    return seconds === undefined ? undefined : { dist: 'constant', seconds };
  }
  const o = c.object(path, raw, ['dist', 'seconds', 'min', 'max', 'mean', 'sd']);
  if (!o) return undefined;
  const dist = c.oneOf([...path, 'dist'], o.dist, THINK_DISTS);
  const d = (key: string, required: boolean): number | undefined => {
    if (o[key] === undefined) {
      if (required) c.add(path, `missing required key "${key}"`, { expected: 'a duration like 3s' });
      return undefined;
    }
    return c.duration([...path, key], o[key]);
  };
  switch (dist) {
    case 'constant': {
      const seconds = d('seconds', true);
      return seconds === undefined ? undefined : { dist, seconds };
    }
    case 'uniform': {
      const min = d('min', true);
      const max = d('max', true);
      if (min === undefined || max === undefined) return undefined;
      if (max < min) {
        c.add([...path, 'max'], 'is below min', { expected: 'max ≥ min' });
        return undefined;
      }
      return { dist, min, max };
    }
    case 'exponential': {
      const mean = d('mean', true);
      const max = d('max', false);
      return mean === undefined ? undefined : { dist, mean, ...(max !== undefined ? { max } : {}) };
    }
    case 'normal': {
      const mean = d('mean', true);
      const sd = d('sd', true);
      const min = d('min', false);
      const max = d('max', false);
      if (mean === undefined || sd === undefined) return undefined;
      return {
        dist,
        mean,
        sd,
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
      };
    }
    default:
      return undefined;
  }
}

function parseCheck(c: Checker, path: DocPath, raw: unknown): StepCheck | undefined {
  const o = c.object(path, raw, ['status', 'exists', 'equals']);
  if (!o) return undefined;
  const check: StepCheck = {};
  if (o.status !== undefined) {
    const list = Array.isArray(o.status) ? o.status : [o.status];
    check.status = [];
    list.forEach((s, i) => {
      const p = Array.isArray(o.status) ? [...path, 'status', i] : [...path, 'status'];
      const n = c.number(p, s, { integer: true, min: 100, max: 599 });
      if (n !== undefined) check.status?.push(n);
    });
  }
  if (o.exists !== undefined) {
    const list = c.array([...path, 'exists'], o.exists) ?? [];
    check.exists = [];
    list.forEach((s, i) => {
      const jp = c.string([...path, 'exists', i], s);
      if (jp !== undefined && checkJsonPath(c, [...path, 'exists', i], jp)) check.exists?.push(jp);
    });
  }
  if (o.equals !== undefined) {
    const eq = c.object([...path, 'equals'], o.equals);
    if (eq) {
      check.equals = {};
      for (const [k, v] of Object.entries(eq)) {
        if (!checkJsonPath(c, [...path, 'equals', k], k)) continue;
        if (v !== null && !['string', 'number', 'boolean'].includes(typeof v)) {
          c.add([...path, 'equals', k], `is ${Array.isArray(v) ? 'a list' : typeof v}`, {
            expected: 'a string, number, boolean or null',
          });
          continue;
        }
        check.equals[k] = v as string | number | boolean | null;
      }
    }
  }
  return check;
}

function checkJsonPath(c: Checker, path: DocPath, jp: string): boolean {
  const r = compileJsonPath(jp);
  if ('path' in r) return true;
  c.add(path, `"${jp}" is not a supported JSON path: ${r.problem.why} at position ${r.problem.at}`, {
    expected: JSON_PATH_EXAMPLE,
  });
  return false;
}

function parseGraphql(c: Checker, path: DocPath, raw: unknown): GraphqlRequest | undefined {
  const o = c.object(path, raw, ['query', 'variables', 'operationName']);
  if (!o) return undefined;
  const qRaw = c.required(path, o, 'query', 'a GraphQL query string');
  const query = qRaw === undefined ? undefined : c.string([...path, 'query'], qRaw);
  const variables = o.variables === undefined ? undefined : c.object([...path, 'variables'], o.variables);
  const operationName =
    o.operationName === undefined ? undefined : c.string([...path, 'operationName'], o.operationName);
  if (query === undefined) return undefined;
  return {
    query,
    ...(variables ? { variables } : {}),
    ...(operationName !== undefined ? { operationName } : {}),
  };
}

const STEP_KEYS = [
  'name',
  'method',
  'path',
  'operation',
  'headers',
  'body',
  'graphql',
  'extract',
  'check',
  'think',
  'tags',
] as const;

function parseStep(c: Checker, path: DocPath, raw: unknown, known: Set<string>): JourneyStep | undefined {
  const o = c.object(path, raw, STEP_KEYS);
  if (!o) return undefined;
  const nameRaw = c.required(path, o, 'name', 'a step name like view-product');
  const name = nameRaw === undefined ? undefined : c.string([...path, 'name'], nameRaw);
  const graphql = o.graphql === undefined ? undefined : parseGraphql(c, [...path, 'graphql'], o.graphql);
  const methodRaw = o.method ?? (o.graphql !== undefined ? 'POST' : undefined);
  if (methodRaw === undefined)
    c.add(path, 'missing required key "method"', { expected: HTTP_METHODS.join(', ') });
  const method = methodRaw === undefined ? undefined : c.oneOf([...path, 'method'], methodRaw, HTTP_METHODS);
  const pRaw = o.path ?? (o.graphql !== undefined ? '/graphql' : undefined);
  if (pRaw === undefined)
    c.add(path, 'missing required key "path"', { expected: 'a path like /api/products/{{productId}}' });
  const p = pRaw === undefined ? undefined : c.string([...path, 'path'], pRaw);
  if (p !== undefined && !p.startsWith('/')) {
    c.add([...path, 'path'], `"${p}" does not start with /`, { expected: 'a path like /api/products' });
  }
  if (o.body !== undefined && o.graphql !== undefined) {
    c.add([...path, 'body'], 'a step has either a body or a graphql request, not both', {
      hint: 'remove one of them',
    });
  }
  const operation = o.operation === undefined ? undefined : c.string([...path, 'operation'], o.operation);
  const headers = o.headers === undefined ? undefined : stringRecord(c, [...path, 'headers'], o.headers);
  const tags = o.tags === undefined ? undefined : stringRecord(c, [...path, 'tags'], o.tags);
  const check = o.check === undefined ? undefined : parseCheck(c, [...path, 'check'], o.check);
  const think = o.think === undefined ? undefined : parseThink(c, [...path, 'think'], o.think);
  // Every {{var}} must be known by now: built-ins, data bindings, or extracted by an earlier step.
  for (const [key, value] of [
    ['path', p],
    ['headers', headers],
    ['body', o.body],
    ['graphql', graphql?.variables],
  ] as const) {
    for (const v of templateVars(value)) {
      if (!known.has(v)) {
        const guess = didYouMean(v, [...known]);
        c.add([...path, key], `uses {{${v}}}, which is not defined before this step`, {
          expected: `one of ${[...known].join(', ')}`,
          hint: guess
            ? `did you mean {{${guess}}}?`
            : "bind it under the journey's data:, or extract it in an earlier step",
        });
      }
    }
  }
  let extract: Record<string, string> | undefined;
  if (o.extract !== undefined) {
    const e = stringRecord(c, [...path, 'extract'], o.extract);
    if (e) {
      extract = {};
      for (const [k, jp] of Object.entries(e)) {
        if (checkJsonPath(c, [...path, 'extract', k], jp)) {
          extract[k] = jp;
          known.add(k);
        }
      }
    }
  }
  if (name === undefined || method === undefined || p === undefined) return undefined;
  const step: JourneyStep = { name, method, path: p };
  if (operation !== undefined) step.operation = operation;
  if (headers) step.headers = headers;
  if (o.body !== undefined) step.body = o.body;
  if (graphql) step.graphql = graphql;
  if (extract) step.extract = extract;
  if (check) step.check = check;
  if (think) step.think = think;
  if (tags) step.tags = tags;
  return step;
}

function parseAuth(
  c: Checker,
  path: DocPath,
  raw: unknown,
  baseDir: string,
  env: Record<string, string | undefined>,
): AuthSpec | undefined {
  const o = c.object(path, raw, ['header', 'prefix', 'fromEnv', 'fromFile']);
  if (!o) return undefined;
  const hRaw = c.required(path, o, 'header', 'a header name like Authorization');
  const header = hRaw === undefined ? undefined : c.string([...path, 'header'], hRaw);
  const prefix = o.prefix === undefined ? undefined : c.string([...path, 'prefix'], o.prefix);
  const fromEnv = o.fromEnv === undefined ? undefined : c.string([...path, 'fromEnv'], o.fromEnv);
  const fromFile = o.fromFile === undefined ? undefined : c.string([...path, 'fromFile'], o.fromFile);
  if ((fromEnv === undefined) === (fromFile === undefined)) {
    c.add(path, 'needs exactly one of fromEnv or fromFile', {
      hint: 'secrets are never written in a profile; name the environment variable or file holding it',
    });
    return undefined;
  }
  if (fromEnv !== undefined && env[fromEnv] === undefined) {
    c.add([...path, 'fromEnv'], `environment variable ${fromEnv} is not set`, {
      hint: `export ${fromEnv}=... before running`,
    });
  }
  let file: string | undefined;
  if (fromFile !== undefined) {
    file = resolve(baseDir, fromFile);
    if (!existsSync(file))
      c.add([...path, 'fromFile'], `file ${fromFile} does not exist`, {
        hint: 'paths are relative to the profile file',
      });
  }
  if (header === undefined) return undefined;
  return {
    header,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(fromEnv !== undefined ? { fromEnv } : {}),
    ...(file !== undefined ? { fromFile: file } : {}),
  };
}

/** Parses one journey definition; `pools` are the pool names it may bind. */
export function parseJourney(
  c: Checker,
  path: DocPath,
  name: string,
  raw: unknown,
  pools: readonly string[],
  baseDir: string,
  env: Record<string, string | undefined> = process.env,
): Journey | undefined {
  const o = c.object(path, raw, ['steps', 'data', 'auth', 'description']);
  if (!o) return undefined;
  const known = new Set<string>(BUILTIN_TEMPLATE_VARS);
  let data: Record<string, DataBinding> | undefined;
  if (o.data !== undefined) {
    const d = c.object([...path, 'data'], o.data);
    if (d) {
      data = {};
      for (const [v, b] of Object.entries(d)) {
        const bp = [...path, 'data', v];
        const bo = typeof b === 'string' ? { pool: b } : c.object(bp, b, ['pool', 'field', 'pick']);
        if (!bo) continue;
        const pool = c.string([...bp, 'pool'], bo.pool);
        if (pool !== undefined && !pools.includes(pool)) {
          const guess = didYouMean(pool, pools);
          c.add([...bp, 'pool'], `unknown data pool "${pool}"`, {
            expected: `one of ${pools.join(', ')}`,
            hint: guess ? `did you mean "${guess}"?` : 'declare it under pools: with a CSV or JSON file',
          });
        }
        const field = bo.field === undefined ? undefined : c.string([...bp, 'field'], bo.field);
        const pick =
          bo.pick === undefined ? undefined : c.oneOf([...bp, 'pick'], bo.pick, ['random', 'sequential']);
        if (pool === undefined) continue;
        data[v] = {
          pool,
          ...(field !== undefined ? { field } : {}),
          ...(pick !== undefined ? { pick } : {}),
        };
        known.add(v);
      }
    }
  }
  const auth = o.auth === undefined ? undefined : parseAuth(c, [...path, 'auth'], o.auth, baseDir, env);
  const stepsRaw = c.required(path, o, 'steps', 'a list of HTTP steps');
  const list = stepsRaw === undefined ? undefined : c.array([...path, 'steps'], stepsRaw);
  if (list && list.length === 0) c.add([...path, 'steps'], 'is empty', { expected: 'at least one step' });
  const steps: JourneyStep[] = [];
  const names = new Set<string>();
  list?.forEach((s, i) => {
    const step = parseStep(c, [...path, 'steps', i], s, known);
    if (!step) return;
    if (names.has(step.name)) {
      c.add([...path, 'steps', i, 'name'], `step name "${step.name}" is used twice`, {
        hint: 'step names are metric tags; make them unique within the journey',
      });
    }
    names.add(step.name);
    steps.push(step);
  });
  if (!list || steps.length !== list.length || list.length === 0) return undefined;
  return {
    name,
    steps,
    ...(data ? { data } : {}),
    ...(auth ? { auth } : {}),
    requestsPerIteration: steps.length,
  };
}

/** Parses a `journeys:` mapping (the built-in library uses the same form). */
export function parseJourneys(
  c: Checker,
  path: DocPath,
  raw: unknown,
  pools: readonly string[],
  baseDir: string,
  env?: Record<string, string | undefined>,
): Record<string, Journey> {
  const out: Record<string, Journey> = {};
  const o = c.object(path, raw);
  if (!o) return out;
  for (const [name, j] of Object.entries(o)) {
    if (!NAME_RE.test(name)) {
      c.add([...path, name], `journey name "${name}" is not kebab-case`, { expected: 'like add-to-cart' });
    }
    const journey = parseJourney(c, [...path, name], name, j, pools, baseDir, env);
    if (journey) out[name] = journey;
  }
  return out;
}

function parseShape(c: Checker, raw: unknown, eventSeconds: number): ShapeSpec[] {
  const list = c.array(['shape'], raw);
  if (!list) return [];
  const specs: ShapeSpec[] = [];
  list.forEach((item, i) => {
    const o = c.object(['shape', i], item);
    if (!o) return;
    const keys = Object.keys(o);
    if (keys.length !== 1) {
      c.add(['shape', i], `has ${keys.length} keys`, {
        expected: `exactly one block: ${SHAPE_TYPES.join(', ')}`,
        hint: 'write each block as its own list item: "- burst: {...}"',
      });
      return;
    }
    const type = keys[0] as string;
    if (!(type in shapeBlocks)) {
      const guess = didYouMean(type, SHAPE_TYPES);
      c.add(['shape', i, type], `unknown building block "${type}"`, {
        expected: `one of ${SHAPE_TYPES.join(', ')}`,
        hint: guess ? `did you mean "${guess}"?` : undefined,
      });
      return;
    }
    const block = shapeBlocks[type as ShapeType] as ShapeBlock<unknown>;
    const path = ['shape', i, type];
    const body = c.object(path, o[type] ?? {}, ['op', ...block.keys]);
    if (!body) return;
    const op: ShapeOp | undefined =
      body.op === undefined ? block.ops[0] : c.oneOf([...path, 'op'], body.op, block.ops);
    const settings = block.parse(c, path, body, { eventSeconds });
    if (op === undefined || settings === undefined) return;
    specs.push({ type, op, path, settings });
  });
  if (!specs.some((s) => s.type === 'baseline') && !c.problems.some((p) => p.path?.startsWith('shape'))) {
    c.add(['shape'], 'has no baseline block', {
      expected: 'a "- baseline: {level: 1}" item',
      hint: 'the baseline is the unit every other block is relative to, and what --baseline-rps maps to',
    });
  }
  return specs;
}

/** Expands a share spec (number or repeating points) into a function over the event. */
function parseShare(
  c: Checker,
  path: DocPath,
  raw: unknown,
  eventSeconds: number,
): PiecewiseLinear | undefined {
  if (typeof raw === 'number') {
    const v = c.number(path, raw, { min: 0, max: 1 });
    return v === undefined ? undefined : { times: [0], values: [v] };
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    // A share is a number or a mapping: say both, and turn a percentage into the fraction it means.
    const pct = typeof raw === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(raw) : null;
    c.add(
      path,
      `is ${typeof raw === 'string' ? `"${raw}"` : raw === null ? 'null' : Array.isArray(raw) ? 'a list' : `a ${typeof raw}`}`,
      {
        expected: 'a fraction from 0 to 1 (e.g. 0.35), or {points: [{at, value}], repeat?}',
        ...(pct ? { hint: `write ${Number(pct[1]) / 100} for ${pct[1]}%` } : {}),
      },
    );
    return undefined;
  }
  const o = c.object(path, raw, ['points', 'repeat']);
  if (!o) return undefined;
  const repeat = o.repeat === undefined ? undefined : c.duration([...path, 'repeat'], o.repeat);
  const pRaw = c.required(path, o, 'points', 'a list of {at, value}');
  const list = pRaw === undefined ? undefined : c.array([...path, 'points'], pRaw);
  if (!list) return undefined;
  const pts: [number, number][] = [];
  let ok = list.length > 0;
  if (list.length === 0) c.add([...path, 'points'], 'is empty', { expected: 'at least one point' });
  list.forEach((item, i) => {
    const p = [...path, 'points', i];
    const po = c.object(p, item, ['at', 'value']);
    if (!po) {
      ok = false;
      return;
    }
    const at = c.duration([...p, 'at'], po.at);
    const value = c.number([...p, 'value'], po.value, { min: 0, max: 1 });
    if (at === undefined || value === undefined) {
      ok = false;
      return;
    }
    const prev = pts[pts.length - 1];
    if (prev && at <= prev[0]) {
      c.add([...p, 'at'], 'is not after the previous point', { expected: 'points in increasing time' });
      ok = false;
    }
    const limit = repeat ?? eventSeconds;
    if (at > limit) {
      c.add([...p, 'at'], `is after ${repeat !== undefined ? 'the repeat period' : 'the event'}`, {
        expected: `a time ≤ ${limit}s`,
      });
      ok = false;
    }
    pts.push([at, value]);
  });
  if (repeat !== undefined && (repeat < 60 || eventSeconds / repeat > 10_000)) {
    c.add([...path, 'repeat'], `is ${repeat}s`, {
      expected: 'at least 1m and at most 10,000 repeats over the event',
    });
    return undefined;
  }
  if (!ok) return undefined;
  if (repeat === undefined) return fromPoints(pts);
  const out: [number, number][] = [];
  const cycles = Math.ceil(eventSeconds / repeat) + 1;
  for (let k = -1; k <= cycles; k++) for (const [t, v] of pts) out.push([k * repeat + t, v]);
  return fromPoints(out.filter(([t]) => t >= -repeat && t <= eventSeconds + repeat));
}

function parseChannels(
  c: Checker,
  raw: unknown,
  eventSeconds: number,
  journeys: Record<string, Journey>,
): ChannelModel[] {
  const o = c.object(['channels'], raw);
  if (!o) return [];
  const channels: ChannelModel[] = [];
  const names = Object.keys(journeys);
  for (const [name, ch] of Object.entries(o)) {
    const path = ['channels', name];
    if (!NAME_RE.test(name))
      c.add(path, `channel name "${name}" is not kebab-case`, { expected: 'like mobile-app' });
    const co = c.object(path, ch, ['share', 'journeys']);
    if (!co) continue;
    const sRaw = c.required(path, co, 'share', 'a share of requests in [0, 1], or {points, repeat}');
    const share = sRaw === undefined ? undefined : parseShare(c, [...path, 'share'], sRaw, eventSeconds);
    const jRaw = c.required(path, co, 'journeys', 'a mapping of journey name to weight');
    const jo = jRaw === undefined ? undefined : c.object([...path, 'journeys'], jRaw);
    const mix: Record<string, number> = {};
    if (jo) {
      for (const [j, w] of Object.entries(jo)) {
        const weight = c.number([...path, 'journeys', j], w, { min: 0 });
        if (!(j in journeys)) {
          const guess = didYouMean(j, names);
          c.add([...path, 'journeys', j], `unknown journey "${j}"`, {
            expected: `a built-in or defined journey: ${names.join(', ')}`,
            hint: guess ? `did you mean "${guess}"?` : 'define it under journeys:',
          });
          continue;
        }
        if (weight !== undefined) mix[j] = weight;
      }
      if (
        Object.keys(jo).length > 0 &&
        Object.values(mix).every((w) => w === 0) &&
        Object.keys(mix).length > 0
      ) {
        c.add([...path, 'journeys'], 'every weight is 0', { expected: 'at least one weight > 0' });
      }
      if (Object.keys(jo).length === 0)
        c.add([...path, 'journeys'], 'is empty', { expected: 'at least one journey' });
    }
    if (share) channels.push({ name, share, journeys: mix });
  }
  if (Object.keys(o).length === 0) c.add(['channels'], 'is empty', { expected: 'at least one channel' });
  // Shares are piecewise linear, so their sum is too: checking at every breakpoint checks every instant.
  if (channels.length === Object.keys(o).length && channels.length > 0) {
    const grid = unionTimes([[0, eventSeconds], ...channels.map((ch) => ch.share.times)]).filter(
      (t) => t >= 0 && t <= eventSeconds,
    );
    for (const t of grid) {
      let sum = 0;
      for (const ch of channels) sum += evaluateShare(ch.share, t);
      if (Math.abs(sum - 1) > SHARE_TOLERANCE) {
        c.add(['channels'], `channel shares sum to ${round(sum, 4)} at event time ${round(t, 3)}s`, {
          expected: `shares summing to 1 (within ${SHARE_TOLERANCE * 100}%) at every instant`,
          hint: 'adjust the shares so that they add up to 1 at every point',
        });
        break;
      }
    }
  }
  return channels;
}

function evaluateShare(f: PiecewiseLinear, t: number): number {
  // Local import-free evaluation to keep the parser independent of compile order.
  const { times, values } = f;
  if (t <= (times[0] as number)) return values[0] as number;
  for (let i = 1; i < times.length; i++) {
    const t1 = times[i] as number;
    if (t <= t1) {
      const t0 = times[i - 1] as number;
      const v0 = values[i - 1] as number;
      return v0 + (((values[i] as number) - v0) * (t - t0)) / (t1 - t0);
    }
  }
  return values[values.length - 1] as number;
}

function round(x: number, d: number): number {
  const f = 10 ** d;
  return Math.round(x * f) / f;
}

function parseStringList(c: Checker, path: DocPath, raw: unknown): string[] {
  if (raw === undefined) return [];
  const list = c.array(path, raw) ?? [];
  const out: string[] = [];
  list.forEach((s, i) => {
    const v = c.string([...path, i], s);
    if (v !== undefined) out.push(v);
  });
  return out;
}

/**
 * A binding to a user pool whose rows are objects must name one of their columns with `field:`;
 * otherwise every request would carry an empty value (or a whole row) and still be counted as load.
 */
function checkBindingFields(
  c: Checker,
  journeys: Record<string, Journey>,
  poolCols: ReadonlyMap<string, string[] | null>,
): void {
  for (const [jn, j] of Object.entries(journeys)) {
    for (const [v, b] of Object.entries(j.data ?? {})) {
      const cols = poolCols.get(b.pool);
      if (!cols) continue;
      const bp = ['journeys', jn, 'data', v];
      if (b.field === undefined) {
        c.add(bp, `pool "${b.pool}" has rows with columns (${cols.join(', ')}); the binding names none`, {
          expected: `field: one of ${cols.join(', ')}`,
          hint: `write { pool: ${b.pool}, field: ${cols[0] ?? 'COLUMN'} }`,
        });
      } else if (!cols.includes(b.field)) {
        const guess = didYouMean(b.field, cols);
        c.add([...bp, 'field'], `pool "${b.pool}" has no column "${b.field}"`, {
          expected: `one of ${cols.join(', ')}`,
          hint: guess ? `did you mean "${guess}"?` : 'check the header row of the pool file',
        });
      }
    }
  }
}

/** Window names a profile's bursts create (`window: true`), in order; compile-time names, known statically. */
function burstWindows(specs: ShapeSpec[], eventSeconds: number): PlanWindow[] {
  const out: PlanWindow[] = [];
  specs.forEach((s, i) => {
    const block = shapeBlocks[s.type as ShapeType] as ShapeBlock<unknown>;
    const r = block.compile(s.settings, eventSeconds, createRng(i + 1));
    out.push(...(r.windows ?? []));
  });
  return out;
}

/**
 * Parses a profile source into a model; throws one PeakdayError (exit 2) listing every problem.
 * `baseDir` is where relative data and auth files resolve from (the profile's directory). The
 * sections are checked in the file's order by one collector, so the problems read top to bottom.
 */
export function parseProfile(src: YamlSource, opts: ParseOptions = {}): ProfileModel {
  const c = createChecker(src, 'profile-invalid', 'profile');
  const env = opts.env ?? process.env;
  const baseDir = dirname(resolve(src.file));
  const root = c.object([], src.data ?? null, TOP_KEYS);
  if (!root) {
    c.throwIfAny();
    throw new Error('unreachable');
  }
  const name = parseName(c, root);
  const description =
    root.description === undefined ? '' : (c.string(['description'], root.description) ?? '');
  const eventSeconds = parseEventSeconds(c, root);
  // An unusable event length must not hide the file's other problems: the rest is checked against
  // the longest event allowed (so nothing is reported that the real length would not also reject),
  // and the checks that only make sense against the real length are skipped.
  const eventKnown = eventSeconds !== undefined;
  const E = eventSeconds ?? MAX_EVENT_SECONDS;
  const local = parseLocal(c, root, E);
  const { pools, declaredPools, poolCols } = parsePools(c, root, baseDir);
  const poolNames = [...BUILTIN_POOL_NAMES, ...declaredPools];

  const shapeRaw = c.required([], root, 'shape', 'a list of building blocks');
  const shape = shapeRaw === undefined ? [] : parseShape(c, shapeRaw, E);

  const own =
    root.journeys === undefined ? {} : parseJourneys(c, ['journeys'], root.journeys, poolNames, baseDir, env);
  checkBindingFields(c, own, poolCols);
  const journeys: Record<string, Journey> = { ...(opts.builtinJourneys ?? {}), ...own };
  const chRaw = c.required([], root, 'channels', 'a mapping of channel name to {share, journeys}');
  const channels = chRaw === undefined ? [] : parseChannels(c, chRaw, E, journeys);
  const used = new Set(channels.flatMap((ch) => Object.keys(ch.journeys)));
  const usedJourneys = Object.fromEntries(Object.entries(journeys).filter(([j]) => used.has(j)));

  const windows = parseWindows(c, root, E);
  const shapeOk = !c.problems.some((p) => p.path?.startsWith('shape'));
  const windowNames = checkWindowNames(c, shapeOk ? [...windows, ...burstWindows(shape, E)] : windows);
  const rehearsal = parseStringList(c, ['rehearsal'], root.rehearsal);
  checkRehearsal(c, rehearsal, windowNames, shapeOk);
  if (eventKnown && rehearsal.length === 0 && E / local.durationSeconds > REHEARSAL_SCALE) {
    c.add(
      [],
      `the event (${E}s) is too long to play whole in ${local.durationSeconds}s at ≤ ${REHEARSAL_SCALE}x`,
      {
        expected: 'a rehearsal: key naming the windows a rehearsal plays live',
        hint: 'add rehearsal: [doors-open] (and declare the window), or lengthen local.duration',
      },
    );
  }

  const target = parseTarget(c, root);
  const sources = parseStringList(c, ['sources'], root.sources);
  const assumptions = parseStringList(c, ['assumptions'], root.assumptions);
  c.throwIfAny();
  return {
    name: name as string,
    description,
    eventSeconds: E,
    shape,
    channels,
    journeys: usedJourneys,
    windows,
    rehearsal,
    local,
    pools,
    ...(target ? { target } : {}),
    sources,
    assumptions,
  };
}

/** The profile's sections as YAML gave them (keys already checked against TOP_KEYS). */
type ProfileRoot = Record<string, unknown>;

/** `name:`, required and kebab-case. */
function parseName(c: Checker, root: ProfileRoot): string | undefined {
  const nameRaw = c.required([], root, 'name', 'a kebab-case profile name');
  const name = nameRaw === undefined ? undefined : c.string(['name'], nameRaw);
  if (name !== undefined && !NAME_RE.test(name))
    c.add(['name'], `"${name}" is not kebab-case`, { expected: 'like prime-day' });
  return name;
}

/** `event.duration:` in seconds, required, between 1 s and a month; undefined when unusable. */
function parseEventSeconds(c: Checker, root: ProfileRoot): number | undefined {
  const eventRaw = c.required([], root, 'event', '{duration: 48h}');
  const event = eventRaw === undefined ? undefined : c.object(['event'], eventRaw, ['duration']);
  const durRaw = event
    ? c.required(['event'], event, 'duration', 'the real event length, e.g. 48h')
    : undefined;
  const eventSeconds = durRaw === undefined ? undefined : c.duration(['event', 'duration'], durRaw);
  if (eventSeconds !== undefined && (eventSeconds < 1 || eventSeconds > MAX_EVENT_SECONDS)) {
    c.add(['event', 'duration'], `is ${eventSeconds}s`, { expected: 'between 1s and 31d' });
    return undefined;
  }
  return eventSeconds;
}

/** `local:`, the local rehearsal's defaults: exactly one of peakRps or baselineRps, and a duration. */
function parseLocal(c: Checker, root: ProfileRoot, E: number): LocalDefaults {
  const local: LocalDefaults = { durationSeconds: Math.min(E, 180) };
  const localRaw = c.required([], root, 'local', '{peakRps: N, duration: 3m}');
  const lo =
    localRaw === undefined
      ? undefined
      : c.object(['local'], localRaw, ['peakRps', 'baselineRps', 'duration']);
  if (lo) {
    if (lo.peakRps !== undefined)
      local.peakRps = c.number(['local', 'peakRps'], lo.peakRps, { exclusiveMin: 0, max: ABSOLUTE_MAX_RPS });
    if (lo.baselineRps !== undefined)
      local.baselineRps = c.number(['local', 'baselineRps'], lo.baselineRps, {
        exclusiveMin: 0,
        max: ABSOLUTE_MAX_RPS,
      });
    if ((lo.peakRps === undefined) === (lo.baselineRps === undefined)) {
      c.add(['local'], 'needs exactly one of peakRps or baselineRps', {
        hint: 'size it for the local reference stack on a 2-core machine: tens to a few hundred requests/s at peak',
      });
    }
    if (lo.duration !== undefined) {
      const d = c.duration(['local', 'duration'], lo.duration);
      if (d !== undefined && d > 0) local.durationSeconds = d;
      else if (d !== undefined) c.add(['local', 'duration'], 'must be longer than 0s');
    }
  }
  return local;
}

/**
 * `pools:`, the user's data files, each read now so a pool `run` could not use is reported by
 * validate, located in both files. Returns the usable pools, every declared name (even one whose
 * file is unusable: a binding to it is not "unknown"), and each readable pool's columns (null: its
 * values are not objects).
 */
function parsePools(
  c: Checker,
  root: ProfileRoot,
  baseDir: string,
): { pools: UserPoolModel[]; declaredPools: string[]; poolCols: Map<string, string[] | null> } {
  const pools: UserPoolModel[] = [];
  const declaredPools: string[] = [];
  const poolCols = new Map<string, string[] | null>();
  if (root.pools === undefined) return { pools, declaredPools, poolCols };
  const po = c.object(['pools'], root.pools);
  for (const [pn, pv] of Object.entries(po ?? {})) {
    const path = ['pools', pn];
    if ((BUILTIN_POOL_NAMES as readonly string[]).includes(pn)) {
      c.add(path, `"${pn}" is a built-in pool`, { hint: 'choose another name' });
      continue;
    }
    declaredPools.push(pn);
    const pvo = c.object(path, pv, ['file']);
    if (!pvo) continue;
    const f = c.string([...path, 'file'], pvo.file);
    if (f === undefined) continue;
    const ext = extname(f).toLowerCase();
    if (ext !== '.csv' && ext !== '.json') {
      c.add([...path, 'file'], `"${f}" is neither .csv nor .json`, { expected: 'a .csv or .json file' });
      continue;
    }
    const file = resolve(baseDir, f);
    if (!existsSync(file)) {
      c.add([...path, 'file'], `data file ${f} does not exist`, {
        hint: 'paths are relative to the profile file',
      });
      continue;
    }
    const pool: UserPoolModel = { name: pn, file, format: ext === '.csv' ? 'csv' : 'json' };
    const read = readUserPool(pool);
    if (read.problem) {
      c.add([...path, 'file'], read.problem.message, {
        ...(read.problem.expected ? { expected: read.problem.expected } : {}),
        ...(read.problem.hint ? { hint: read.problem.hint } : {}),
      });
      continue;
    }
    poolCols.set(pn, poolColumns(read.values ?? []));
    pools.push(pool);
  }
  return { pools, declaredPools, poolCols };
}

/** `windows:`, each a start before its end, inside the event. */
function parseWindows(c: Checker, root: ProfileRoot, E: number): PlanWindow[] {
  const windows: PlanWindow[] = [];
  if (root.windows === undefined) return windows;
  const wo = c.object(['windows'], root.windows);
  for (const [wn, wv] of Object.entries(wo ?? {})) {
    const path = ['windows', wn];
    const w = c.object(path, wv, ['start', 'end']);
    if (!w) continue;
    const start = c.duration([...path, 'start'], w.start);
    const end = c.duration([...path, 'end'], w.end);
    if (start === undefined || end === undefined) continue;
    if (end <= start) {
      c.add([...path, 'end'], 'is not after start', { expected: 'end > start' });
      continue;
    }
    if (start < 0 || end > E + 1e-9) {
      c.add(path, `window ${wn} (${start}s–${end}s) is outside the event (0s–${E}s)`, {
        hint: 'windows must lie within event.duration',
      });
      continue;
    }
    windows.push({ name: wn, start, end });
  }
  return windows;
}

/** Every window name once, whether from `windows:` or a burst's `window: true`; returns the names. */
function checkWindowNames(c: Checker, allWindows: readonly PlanWindow[]): Set<string> {
  const seen = new Set<string>();
  for (const w of allWindows) {
    if (seen.has(w.name))
      c.add(
        ['windows'],
        `window name "${w.name}" is defined twice (by windows: or a burst with window: true)`,
        {
          hint: 'rename one',
        },
      );
    seen.add(w.name);
  }
  return seen;
}

/** `rehearsal:` names known windows (not judged when the shape is broken: its bursts' windows are unknown). */
function checkRehearsal(
  c: Checker,
  rehearsal: readonly string[],
  seen: ReadonlySet<string>,
  shapeOk: boolean,
): void {
  rehearsal.forEach((r, i) => {
    if (!seen.has(r) && shapeOk) {
      const guess = didYouMean(r, [...seen]);
      c.add(['rehearsal', i], `unknown window "${r}"`, {
        expected: seen.size > 0 ? `one of ${[...seen].join(', ')}` : 'a window declared under windows:',
        hint: guess ? `did you mean "${guess}"?` : undefined,
      });
    }
  });
}

/** `target.baseUrl:`, an http(s) URL when given. */
function parseTarget(c: Checker, root: ProfileRoot): { baseUrl: string } | undefined {
  if (root.target === undefined) return undefined;
  const to = c.object(['target'], root.target, ['baseUrl']);
  const url = to ? c.string(['target', 'baseUrl'], to.baseUrl) : undefined;
  if (url === undefined) return undefined;
  if (!/^https?:\/\/[^/\s]+/.test(url)) {
    c.add(['target', 'baseUrl'], `"${url}" is not an http(s) URL`, {
      expected: 'like http://127.0.0.1:8080',
    });
    return undefined;
  }
  return { baseUrl: url };
}
