/**
 * Compiles a journey (scenarios/journey.ts) once per run into what the hot path needs: templates
 * split into parts, constant bodies pre-encoded, JSON paths parsed, checks as sets, the auth header
 * read once from the environment or a file (and kept only in memory: it is never written out),
 * data pickers seeded per scenario, think-time samplers in wall seconds.
 */
import { readFileSync } from 'node:fs';
import { PeakdayError } from '../core/errors.ts';
import { type JsonPath, parseJsonPath } from '../core/json-path.ts';
import type { Rng } from '../core/rng.ts';
import { createPicker, type PickStride, type PoolValues } from '../scenarios/data-pools.ts';
import type { Journey, ThinkTime } from '../scenarios/journey.ts';
import { type CompiledTemplate, compileJsonBody, compileTemplate } from './templates.ts';

/** One step, ready to render and send. */
export interface CompiledStep {
  name: string;
  method: string;
  path: CompiledTemplate;
  headers: [string, CompiledTemplate][];
  body: CompiledTemplate | null;
  extract: [string, JsonPath][];
  acceptStatus: Set<number> | null;
  hasCheck: boolean;
  exists: JsonPath[];
  equals: [JsonPath, unknown][];
  /** The headers as one reusable object when none is a template; else null. */
  staticHeaders: Record<string, string> | null;
  /** Whether the response body (and cookies) must be kept. */
  wantBody: boolean;
  /** Think time after the step, in wall ms (already divided by the time scale); null for none. */
  think: (() => number) | null;
}

/** A journey ready to run. */
export interface CompiledJourney {
  name: string;
  steps: CompiledStep[];
  /** Variables drawn per iteration from data pools. */
  pickers: [string, () => string][];
  /** `[header, value]` with the secret, or null. */
  auth: [string, string] | null;
  /** Whether any step uses cookies, extraction or variables (else iterations skip the variable map). */
  stateful: boolean;
}

const thinkSamplers = {
  constant: (t, _rng) => () => t.seconds,
  uniform: (t, rng) => () => t.min + rng.next() * (t.max - t.min),
  exponential: (t, rng) => () => Math.min(rng.exponential(t.mean), t.max ?? Number.POSITIVE_INFINITY),
  normal: (t, rng) => () =>
    Math.min(Math.max(rng.normal(t.mean, t.sd), t.min ?? 0), t.max ?? Number.POSITIVE_INFINITY),
} satisfies {
  [K in ThinkTime['dist']]: (t: Extract<ThinkTime, { dist: K }>, rng: Rng) => () => number;
};

function thinkSampler(t: ThinkTime, rng: Rng, timeScale: number): () => number {
  const f = (thinkSamplers[t.dist] as (t: ThinkTime, rng: Rng) => () => number)(t, rng);
  return () => (Math.max(0, f()) / timeScale) * 1000;
}

/** Reads the auth secret; a missing variable or file is a PeakdayError naming it (never its value). */
export function readAuthSecret(
  journey: Journey,
  env: NodeJS.ProcessEnv = process.env,
): [string, string] | null {
  const a = journey.auth;
  if (!a) return null;
  let secret: string | undefined;
  if (a.fromEnv !== undefined) {
    secret = env[a.fromEnv];
    if (secret === undefined || secret === '') {
      throw new PeakdayError(
        'auth-missing',
        `journey ${journey.name} needs the environment variable ${a.fromEnv}`,
        {
          hint: `export ${a.fromEnv}=... before the run (its value is sent as the ${a.header} header and never written to the run directory)`,
        },
      );
    }
  } else if (a.fromFile !== undefined) {
    try {
      secret = readFileSync(a.fromFile, 'utf8').trim();
    } catch {
      throw new PeakdayError(
        'auth-missing',
        `journey ${journey.name} cannot read its secret file ${a.fromFile}`,
        {
          hint: 'check the path in the journey `auth.fromFile`',
        },
      );
    }
  }
  return [a.header.toLowerCase(), `${a.prefix ?? ''}${secret ?? ''}`];
}

/**
 * Compiles one journey for a scenario. `pools` supplies data bindings (built-ins plus user pools);
 * `sequentialStride` is a segment's share of sequential pools (scenarios/data-pools.ts createPicker).
 */
export function compileJourney(
  journey: Journey,
  opts: {
    rng: Rng;
    timeScale: number;
    pools: () => Record<string, PoolValues>;
    env?: NodeJS.ProcessEnv;
    sequentialStride?: PickStride;
  },
): CompiledJourney {
  const pickers: [string, () => string][] = [];
  for (const [name, binding] of Object.entries(journey.data ?? {})) {
    const values = opts.pools()[binding.pool];
    if (!values || values.length === 0) {
      throw new PeakdayError(
        'data-pool-missing',
        `journey ${journey.name} binds ${name} to unknown pool ${binding.pool}`,
        {
          hint: 'use a built-in pool (productIds, skus, hotSkus, categories, storeIds, searchTerms, customerIds) or declare it',
        },
      );
    }
    pickers.push([name, createPicker(values, binding, opts.rng.fork(`data:${name}`), opts.sequentialStride)]);
  }
  let stateful = pickers.length > 0;
  const steps = journey.steps.map((s): CompiledStep => {
    const path = compileTemplate(s.path, undefined, encodeURIComponent);
    const headers: [string, CompiledTemplate][] = Object.entries(s.headers ?? {}).map(([k, v]) => [
      k.toLowerCase(),
      compileTemplate(v),
    ]);
    let body: CompiledTemplate | null = null;
    if (s.graphql) {
      body = compileJsonBody({
        query: s.graphql.query,
        variables: s.graphql.variables ?? {},
        ...(s.graphql.operationName ? { operationName: s.graphql.operationName } : {}),
      });
    } else if (s.body !== undefined) body = compileJsonBody(s.body);
    if (body !== null && !headers.some(([k]) => k === 'content-type'))
      headers.push(['content-type', { constant: 'application/json' }]);
    const extract = Object.entries(s.extract ?? {}).map(
      ([k, p]) => [k, parseJsonPath(p)] as [string, JsonPath],
    );
    const exists = (s.check?.exists ?? []).map(parseJsonPath);
    const equals = Object.entries(s.check?.equals ?? {}).map(
      ([p, v]) => [parseJsonPath(p), v] as [JsonPath, unknown],
    );
    if (extract.length > 0) stateful = true;
    if ('render' in path || headers.some(([, t]) => 'render' in t) || (body && 'render' in body))
      stateful = true;
    return {
      name: s.name,
      method: s.method,
      path,
      headers,
      body,
      extract,
      staticHeaders: headers.every(([, t]) => 'constant' in t)
        ? Object.fromEntries(headers.map(([k, t]) => [k, 'constant' in t ? t.constant : '']))
        : null,
      acceptStatus: s.check?.status ? new Set(s.check.status) : null,
      hasCheck: s.check !== undefined || extract.length > 0,
      exists,
      equals,
      wantBody: extract.length > 0 || exists.length > 0 || equals.length > 0 || journey.steps.length > 1,
      think: s.think ? thinkSampler(s.think, opts.rng.fork(`think:${s.name}`), opts.timeScale) : null,
    };
  });
  return {
    name: journey.name,
    steps,
    pickers,
    auth: readAuthSecret(journey, opts.env),
    stateful: stateful || steps.length > 1,
  };
}
