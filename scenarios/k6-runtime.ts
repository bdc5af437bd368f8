/**
 * The runtime of every exported k6 script (scenarios/k6-export.ts): it plays the plan's journeys —
 * data picks, `{{name}}` templates, a cookie jar per iteration, auth headers, checks, extraction
 * into the next step, tags, think times scaled to wall time. Real, type-checked code: the exporter
 * bundles this module with esbuild into each script at export time, with the JSON-path reader
 * (core/json-path-reader.ts) and the CSV reader (scenarios/csv.ts) the rest of peakday uses, so k6 and the
 * embedded engine read a path or a pool file with the same code.
 *
 * Constraints, because k6 runs it: ES2017 once bundled (k6 v0.45's goja; esbuild lowers `?.`/`??`),
 * no Node built-ins, no top-level state shared between VUs (each VU runs its own copy). k6's modules
 * are passed in ({@link K6Modules}), so the module imports nothing from k6 and is tested in Node.
 */
import { type JsonPath, readJsonPath } from '../core/json-path-reader.ts';
import { parseCsv } from './csv.ts';

export { parseCsv };

/** A think time as the plan holds it (scenarios/journey.ts ThinkTime), in event seconds. */
export interface K6Think {
  dist: string;
  seconds?: number;
  min?: number;
  max?: number;
  mean?: number;
  sd?: number;
}

/** One step as the exporter writes it into the script (JSON paths pre-compiled). */
export interface K6StepDef {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  graphql?: { query: string; variables?: Record<string, unknown>; operationName?: string };
  extract?: [string, JsonPath][];
  status?: number[];
  exists?: [string, JsonPath][];
  equals?: [string, JsonPath, unknown][];
  think?: K6Think;
  tags?: Record<string, string>;
  needsBody: boolean;
}

/** One journey as the exporter writes it into the script. */
export interface K6JourneyDef {
  name: string;
  steps: K6StepDef[];
  data: Record<string, { pool: string; field?: string; pick: string }>;
  auth?: { header: string; prefix: string };
}

/** A data pool in the script: an id range, or values (a SharedArray for large or file pools). */
export type K6Pool =
  | { kind: 'range'; prefix: string; from: number; to: number; width: number }
  | { kind: 'list'; values: ArrayLike<unknown> };

/** A response, as much of k6's `http.RefinedResponse` as the runtime reads. */
export interface K6Response {
  status: number;
  json(): unknown;
}

/** The parts of k6's modules the runtime calls (`k6`, `k6/http`, `k6/execution`). */
export interface K6Modules {
  http: {
    request(
      method: string,
      url: string,
      body: string | null,
      params: {
        headers: Record<string, string>;
        tags: Record<string, string>;
        jar: unknown;
        responseType: 'text' | 'none';
      },
    ): K6Response;
    CookieJar: new () => unknown;
  };
  check(value: K6Response, sets: Record<string, () => boolean>, tags: Record<string, string>): boolean;
  randomSeed(seed: number): void;
  sleep(seconds: number): void;
  exec: { vu: { idInTest: number }; scenario: { iterationInTest: number } };
}

/** What the script knows about its plan. */
export interface K6RuntimeConfig {
  baseUrl: string;
  /** Event seconds per wall second: think times in the profile are event time. */
  timeScale: number;
  /** The plan's seed; each VU seeds Math.random from it and its id on its first iteration. */
  seed: number;
  pools: Record<string, K6Pool>;
  journeys: Record<string, K6JourneyDef>;
  /** Auth secrets per journey, read by the script's init code from `__ENV` or a file. */
  secrets: Record<string, string>;
}

/** The runtime of one VU. */
export interface K6Runtime {
  /** One iteration: a fresh cookie jar, data picks, then the steps with their think times. */
  runJourney(name: string, channel: string): void;
}

type Vars = Record<string, unknown>;

const WHOLE_TEMPLATE = /^\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}$/;
const TEMPLATE = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

function poolSize(p: K6Pool): number {
  return p.kind === 'range' ? p.to - p.from + 1 : p.values.length;
}

function poolAt(p: K6Pool, i: number): unknown {
  if (p.kind === 'range') return p.prefix + String(p.from + i).padStart(p.width, '0');
  return p.values[i];
}

function lookup(vars: Vars, name: string): unknown {
  if (name in vars) return vars[name];
  let cur: unknown = vars;
  for (const part of name.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** Renders `{{name}}` templates; a string that is one whole template keeps the value's type. */
export function render(s: string, vars: Vars, encode: boolean): unknown {
  const whole = encode ? null : WHOLE_TEMPLATE.exec(s);
  if (whole) {
    const v = lookup(vars, whole[1] as string);
    return v === undefined ? '' : v;
  }
  return s.replace(TEMPLATE, (_m: string, name: string) => {
    const v = lookup(vars, name);
    const text = v === undefined || v === null ? '' : String(v);
    return encode ? encodeURIComponent(text) : text;
  });
}

function renderDeep(x: unknown, vars: Vars): unknown {
  if (typeof x === 'string') return render(x, vars, false);
  if (Array.isArray(x)) return x.map((y) => renderDeep(y, vars));
  if (x !== null && typeof x === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(x)) out[k] = renderDeep((x as Record<string, unknown>)[k], vars);
    return out;
  }
  return x;
}

function uuid(): string {
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

/** A think time in event seconds, drawn from its distribution. */
export function drawThink(t: K6Think): number {
  let s = 0;
  if (t.dist === 'constant') s = t.seconds || 0;
  else if (t.dist === 'uniform') s = (t.min || 0) + Math.random() * ((t.max || 0) - (t.min || 0));
  else if (t.dist === 'exponential') s = -(t.mean || 0) * Math.log(1 - Math.random());
  else if (t.dist === 'normal') {
    const u = 1 - Math.random();
    s = (t.mean || 0) + (t.sd || 0) * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * Math.random());
  }
  if (t.min !== undefined && t.dist !== 'uniform') s = Math.max(t.min, s);
  if (t.max !== undefined) s = Math.min(t.max, s);
  return s;
}

/** The runtime of one VU over k6's modules and the script's plan data. */
export function createRuntime(k6: K6Modules, config: K6RuntimeConfig): K6Runtime {
  const sequentialCounters: Record<string, number> = {};
  let seeded = false;

  function bind(j: K6JourneyDef, vars: Vars): void {
    for (const name of Object.keys(j.data)) {
      const b = j.data[name] as K6JourneyDef['data'][string];
      const pool = config.pools[b.pool] as K6Pool;
      const n = poolSize(pool);
      let k: number;
      if (b.pick === 'sequential') {
        const key = `${j.name}/${name}`;
        const last = sequentialCounters[key];
        k = last === undefined ? (k6.exec.vu.idInTest * 7919) % n : (last + 1) % n;
        sequentialCounters[key] = k;
      } else k = Math.floor(Math.random() * n);
      const v = poolAt(pool, k);
      vars[name] =
        b.field && v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[b.field] : v;
    }
  }

  /** Sends one step; returns false when the journey cannot go on (a failed extraction). */
  function step(j: K6JourneyDef, s: K6StepDef, vars: Vars, jar: unknown, channel: string): boolean {
    const url = config.baseUrl + String(render(s.path, vars, true));
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.headers || {})) headers[k] = String(render(v, vars, false));
    let payload: string | null = null;
    if (s.graphql) {
      payload = JSON.stringify({
        query: s.graphql.query,
        variables: renderDeep(s.graphql.variables || {}, vars),
        operationName: s.graphql.operationName,
      });
      headers['Content-Type'] = 'application/json';
    } else if (s.body !== undefined) {
      payload = JSON.stringify(renderDeep(s.body, vars));
      headers['Content-Type'] = 'application/json';
    }
    if (j.auth) headers[j.auth.header] = j.auth.prefix + config.secrets[j.name];
    const tags: Record<string, string> = { channel, journey: j.name, step: s.name, name: s.path };
    for (const [k, v] of Object.entries(s.tags || {})) tags[k] = v;
    const res = k6.http.request(s.method, url, payload, {
      headers,
      tags,
      jar,
      responseType: s.needsBody ? 'text' : 'none',
    });
    let body: unknown;
    if (s.needsBody) {
      try {
        body = res.json();
      } catch {
        body = undefined;
      }
    }
    const checkTags = { channel, journey: j.name, step: s.name };
    const checks: Record<string, () => boolean> = {};
    const statuses = s.status;
    checks[`${s.name} status`] = () =>
      statuses ? statuses.indexOf(res.status) >= 0 : res.status >= 200 && res.status < 400;
    if (s.graphql)
      checks[`${s.name} has no GraphQL errors`] = () =>
        body !== undefined && body !== null && !(body as Record<string, unknown>).errors;
    for (const e of s.exists || [])
      checks[`${s.name} has ${e[0]}`] = () => readJsonPath(body, e[1]) !== undefined;
    for (const e of s.equals || [])
      checks[`${s.name} ${e[0]} == ${JSON.stringify(e[2])}`] = () => readJsonPath(body, e[1]) === e[2];
    k6.check(res, checks, checkTags);
    for (const [name, path] of s.extract || []) {
      const v = readJsonPath(body, path);
      if (v === undefined) {
        k6.check(res, { [`${s.name} extracts ${name}`]: () => false }, checkTags);
        return false;
      }
      vars[name] = v;
    }
    return true;
  }

  return {
    runJourney(name, channel) {
      if (!seeded) {
        k6.randomSeed(config.seed + k6.exec.vu.idInTest * 7919);
        seeded = true;
      }
      const j = config.journeys[name] as K6JourneyDef;
      const jar = new k6.http.CookieJar();
      const vars: Vars = {
        iteration: k6.exec.scenario.iterationInTest,
        vu: k6.exec.vu.idInTest,
        channel,
        uuid: uuid(),
      };
      bind(j, vars);
      for (const s of j.steps) {
        if (!step(j, s, vars, jar, channel)) return;
        if (s.think) {
          const seconds = drawThink(s.think);
          if (seconds > 0) k6.sleep(seconds / config.timeScale);
        }
      }
    },
  };
}
