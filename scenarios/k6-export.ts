/**
 * Exports a compiled plan as a k6 script, so teams that already run k6 (or a k6 fleet, see infra/)
 * can play the exact peak shape peakday compiled. One `ramping-arrival-rate` scenario per plan
 * scenario; its stages follow the plan's piecewise-linear rates.
 *
 * Exactness: k6 stage targets are integers per `timeUnit`, so a rate of 0.3 iterations/s cannot be
 * written with `timeUnit: '1s'`. For each scenario we pick the smallest `timeUnit` from
 * TIME_UNITS whose rounding keeps the stages' integral within 0.1% of the plan's iterations (the
 * contract is 1%; a warning says when even the largest unit cannot). Stage durations are wall time:
 * event span / timeScale, rounded on a cumulative millisecond grid so the total is exact.
 *
 * VUs follow Little's law: concurrency = arrival rate × iteration duration, where an iteration lasts
 * its requests × an assumed response time (ASSUMED_RESPONSE_SECONDS, overridable) plus its mean
 * think times in wall seconds. `maxVUs` is the plan's concurrency cap (the engine's equivalent).
 *
 * The script is data-driven: the journeys are a JSON constant (JSON paths pre-compiled) played by
 * peakday's k6 runtime (scenarios/k6-runtime.ts: templates, per-iteration cookie jar, auth, checks,
 * tags, think times), which esbuild bundles into the script at export time together with the
 * JSON-path and CSV readers the rest of peakday uses. The script is plain JavaScript (k6 v0.45+, no
 * `?.`/`??`, no top-level await) or, with `typescript: true`, TypeScript whose own code type-checks
 * against @types/k6 (the bundled runtime is one `@ts-ignore` line: it is type-checked here). Secrets
 * are never written into the script (auth comes from `__ENV` or a file at run time).
 */
import { createRequire } from 'node:module';
import { join, resolve as resolvePath } from 'node:path';
import { PeakdayError } from '../core/errors.ts';
import { parseJsonPath } from '../core/json-path.ts';
import { type Catalog, createCatalog } from './catalog.ts';
import { builtinPools } from './data-pools.ts';
import type { Journey, JourneyStep, ThinkTime } from './journey.ts';
import type { Plan, PlanScenario } from './plan.ts';

/** Options of `exportK6Script`; see the interface in the developers' brief. */
export interface K6ExportOptions {
  /** Default target; the script reads `__ENV.PEAKDAY_BASE_URL` first, so one script serves many targets. */
  baseUrl: string;
  /** Emit TypeScript (type-checks against @types/k6) instead of plain JavaScript. */
  typescript?: boolean;
  /** k6 thresholds, copied into `options.thresholds` (e.g. `{'http_req_duration{channel:web}': ['p(95)<500']}`). */
  thresholds?: Record<
    string,
    (string | { threshold: string; abortOnFail: boolean; delayAbortEval?: string })[]
  >;
  /**
   * The script is one for a runner that splits it into this many segments itself (the k6-operator's
   * `parallelism`): VUs are multiplied by it, as for a segment of that many (k6 divides them).
   */
  segmentCount?: number;
  /** 1-based segment (`--segment i/N`), mapped to k6's executionSegment/executionSegmentSequence. */
  segment?: { index: number; count: number };
  /** Values of user data pools by name (CSV rows, JSON values); built-in pools come from the catalog. */
  pools?: Record<string, readonly unknown[]>;
  /**
   * User data pools the script loads at init from files beside it instead of carrying their values:
   * `file` is the path relative to the script (k6's `open()` resolves it from the script's
   * directory), read once into a SharedArray shared by all VUs. The k6 driver copies the profile's
   * pool files there (engine/k6/driver.ts). Takes precedence over `pools` for the same name.
   */
  poolFiles?: Record<string, { file: string; format: 'csv' | 'json' }>;
  /** Assumed mean response time per request for the VU estimate (default ASSUMED_RESPONSE_SECONDS). */
  responseSeconds?: number;
}

/** The script and what the export could not represent exactly. */
export interface K6ExportResult {
  script: string;
  warnings: string[];
}

/**
 * Assumed mean response time of one request, only used to size VUs (Little's law). An assumption:
 * the local reference stack answers in tens of milliseconds; a quarter second leaves headroom for a
 * loaded target. Override with `responseSeconds`.
 */
export const ASSUMED_RESPONSE_SECONDS = 0.25;

/** Headroom on the Little's-law VU estimate for `preAllocatedVUs` (an assumption; k6 adds VUs up to maxVUs). */
export const VU_HEADROOM = 1.2;

/** Candidate k6 time units, smallest first (seconds). */
export const TIME_UNITS = [
  ['1s', 1],
  ['10s', 10],
  ['1m', 60],
  ['10m', 600],
  ['1h', 3600],
  ['6h', 21600],
  ['24h', 86400],
] as const;

/** Relative integral error we aim for when choosing a time unit (the brief's bound is 1%). */
const TARGET_ERROR = 0.001;
const CONTRACT_ERROR = 0.01;

/** One k6 stage: ramp linearly to `target` (per timeUnit) over `durationMs` of wall time. */
export interface K6Stage {
  target: number;
  durationMs: number;
}

/** The stages of one scenario as k6 will play them, with the integral they imply. */
export interface K6StagePlan {
  timeUnit: string;
  timeUnitSeconds: number;
  startRate: number;
  stages: K6Stage[];
  /** Iterations the stages imply (∫ rate dt over the stages). */
  iterations: number;
  /** |iterations − plan iterations| / plan iterations (0 when the plan has none). */
  relativeError: number;
}

/**
 * Converts one scenario's rate function into k6 stages: picks the time unit, rounds targets, lays
 * stage boundaries on a cumulative millisecond grid and merges stages that continue the same line.
 */
export function computeK6Stages(scenario: PlanScenario, timeScale: number): K6StagePlan {
  let best: K6StagePlan | undefined;
  for (const [unit, seconds] of TIME_UNITS) {
    const candidate = stagesFor(scenario, timeScale, unit, seconds);
    if (!best || candidate.relativeError < best.relativeError) best = candidate;
    if (candidate.relativeError <= TARGET_ERROR) return candidate;
  }
  return best as K6StagePlan;
}

function stagesFor(
  scenario: PlanScenario,
  timeScale: number,
  unit: string,
  unitSeconds: number,
): K6StagePlan {
  const { times, rates } = scenario;
  const t0 = times[0] ?? 0;
  const boundaryMs = times.map((t) => Math.round(((t - t0) / timeScale) * 1000));
  const targets = rates.map((r) => Math.max(0, Math.round(r * unitSeconds)));
  const raw: K6Stage[] = [];
  for (let i = 1; i < times.length; i++) {
    raw.push({
      target: targets[i] as number,
      durationMs: (boundaryMs[i] as number) - (boundaryMs[i - 1] as number),
    });
  }
  const startRate = targets[0] ?? 0;
  const stages = mergeCollinear(startRate, raw);
  let from = startRate;
  let integral = 0;
  for (const s of stages) {
    integral += ((from + s.target) / 2) * (s.durationMs / 1000 / unitSeconds);
    from = s.target;
  }
  const planned = scenario.iterations;
  const relativeError = planned > 0 ? Math.abs(integral - planned) / planned : integral > 0 ? 1 : 0;
  return {
    timeUnit: unit,
    timeUnitSeconds: unitSeconds,
    startRate,
    stages,
    iterations: integral,
    relativeError,
  };
}

/** Merges consecutive stages that lie on one line (same slope), which k6 plays identically. */
function mergeCollinear(startRate: number, stages: K6Stage[]): K6Stage[] {
  const out: K6Stage[] = [];
  let prevTarget = startRate;
  for (const s of stages) {
    const last = out[out.length - 1];
    if (last && last.durationMs > 0 && s.durationMs > 0) {
      const before = out.length >= 2 ? (out[out.length - 2] as K6Stage).target : startRate;
      const slopeA = (last.target - before) / last.durationMs;
      const slopeB = (s.target - last.target) / s.durationMs;
      if (Math.abs(slopeA - slopeB) <= 1e-12 * Math.max(1, Math.abs(slopeA))) {
        last.target = s.target;
        last.durationMs += s.durationMs;
        prevTarget = s.target;
        continue;
      }
    }
    if (s.durationMs === 0 && s.target === prevTarget) continue;
    out.push({ ...s });
    prevTarget = s.target;
  }
  return out;
}

/** Mean of a think-time distribution in event seconds (an exponential's cap is ignored: an upper bound). */
export function meanThinkSeconds(think: ThinkTime | undefined): number {
  if (!think) return 0;
  const means = {
    constant: (t: ThinkTime & { dist: 'constant' }) => t.seconds,
    uniform: (t: ThinkTime & { dist: 'uniform' }) => (t.min + t.max) / 2,
    exponential: (t: ThinkTime & { dist: 'exponential' }) => t.mean,
    normal: (t: ThinkTime & { dist: 'normal' }) => Math.max(t.min ?? 0, t.mean),
  } satisfies { [K in ThinkTime['dist']]: (t: ThinkTime & { dist: K }) => number };
  return (means[think.dist] as (t: ThinkTime) => number)(think);
}

/** The exact integral of a scenario's piecewise-linear rate function: its iterations in wall seconds. */
export function rateIntegral(scenario: PlanScenario, timeScale: number): number {
  let sum = 0;
  for (let i = 1; i < scenario.times.length; i++) {
    const dt = ((scenario.times[i] as number) - (scenario.times[i - 1] as number)) / timeScale;
    sum += (((scenario.rates[i] as number) + (scenario.rates[i - 1] as number)) / 2) * dt;
  }
  return sum;
}

/** VUs for one scenario by Little's law: peak rate × iteration wall duration, with headroom. */
export function estimateVus(
  scenario: PlanScenario,
  journey: Journey | undefined,
  timeScale: number,
  responseSeconds = ASSUMED_RESPONSE_SECONDS,
): { preAllocatedVUs: number; maxVUs: number; littleVus: number; iterationSeconds: number } {
  const steps = journey?.steps ?? [];
  const thinkEvent = steps.reduce((a, s) => a + meanThinkSeconds(s.think), 0);
  const iterationSeconds = scenario.requestsPerIteration * responseSeconds + thinkEvent / timeScale;
  const peak = Math.max(0, ...scenario.rates);
  const littleVus = peak * iterationSeconds;
  const cap =
    Number.isFinite(scenario.maxConcurrency) && scenario.maxConcurrency > 0
      ? scenario.maxConcurrency
      : Infinity;
  const wanted = Math.max(1, Math.ceil(littleVus * VU_HEADROOM));
  const maxVUs = Number.isFinite(cap)
    ? Math.max(1, Math.floor(cap))
    : Math.max(wanted, Math.ceil(littleVus * 3));
  return { preAllocatedVUs: Math.min(wanted, maxVUs), maxVUs, littleVus, iterationSeconds };
}

/** Formats milliseconds as a k6 (Go) duration: `1h2m3s`, `1m30.5s`, `250ms`. No `d` unit (Go has none). */
export function formatK6Duration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  return `${h > 0 ? `${h}h` : ''}${m > 0 ? `${m}m` : ''}${s > 0 || (h === 0 && m === 0) ? `${s}s` : ''}`;
}

/** A k6 scenario / exported function name for a plan scenario (k6 allows [A-Za-z0-9_-]; JS needs an identifier). */
function identifierFor(id: string, taken: Set<string>): string {
  let base = id.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '') || 'scenario';
  if (/^[0-9]/.test(base)) base = `s_${base}`;
  let name = base;
  for (let i = 2; taken.has(name) || RESERVED.has(name); i++) name = `${base}_${i}`;
  taken.add(name);
  return name;
}

const RESERVED = new Set(['options', 'setup', 'teardown', 'default', 'handleSummary', 'runJourney']);

/** How a pool is written into the script: an id range (compact) or a list of values. */
type PoolSpec =
  | { kind: 'range'; prefix: string; from: number; to: number; width: number }
  | { kind: 'list'; values: readonly unknown[] };

/**
 * Writes a pool compactly: values that are exactly `prefix` + consecutive zero-padded numbers (the
 * catalog's ids: `p-000001`..., `SKU-000001`...) become a range the script expands; others a list.
 */
export function toPoolSpec(values: readonly unknown[]): PoolSpec {
  const first = values[0];
  const m = typeof first === 'string' ? /^(.*?)(\d+)$/.exec(first) : null;
  if (m && values.length > 1) {
    const prefix = m[1] as string;
    const width = (m[2] as string).length;
    const from = Number(m[2]);
    const isRange = values.every((v, i) => v === prefix + String(from + i).padStart(width, '0'));
    if (isRange) return { kind: 'range', prefix, from, to: from + values.length - 1, width };
  }
  return { kind: 'list', values };
}

/** Pools with more values than this go into a k6 SharedArray (one copy for all VUs). */
const SHARED_ARRAY_THRESHOLD = 200;

interface ScriptStep {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  graphql?: { query: string; variables?: Record<string, unknown>; operationName?: string };
  extract?: [string, (string | number)[]][];
  status?: number[];
  exists?: [string, (string | number)[]][];
  equals?: [string, (string | number)[], unknown][];
  think?: ThinkTime;
  tags?: Record<string, string>;
  needsBody: boolean;
}

interface ScriptJourney {
  name: string;
  steps: ScriptStep[];
  data: Record<string, { pool: string; field?: string; pick: 'random' | 'sequential' }>;
  auth?: { header: string; prefix: string };
}

const segmentsOf = (path: string): (string | number)[] => parseJsonPath(path);

function scriptStep(step: JourneyStep): ScriptStep {
  const extract = Object.entries(step.extract ?? {}).map(
    ([v, p]) => [v, segmentsOf(p)] as [string, (string | number)[]],
  );
  const exists = (step.check?.exists ?? []).map((p) => [p, segmentsOf(p)] as [string, (string | number)[]]);
  const equals = Object.entries(step.check?.equals ?? {}).map(
    ([p, v]) => [p, segmentsOf(p), v] as [string, (string | number)[], unknown],
  );
  const out: ScriptStep = {
    name: step.name,
    method: step.method,
    path: step.path,
    needsBody: extract.length > 0 || exists.length > 0 || equals.length > 0 || step.graphql !== undefined,
  };
  if (step.headers && Object.keys(step.headers).length > 0) out.headers = step.headers;
  if (step.body !== undefined) out.body = step.body;
  if (step.graphql) out.graphql = step.graphql;
  if (extract.length > 0) out.extract = extract;
  if (step.check?.status) out.status = step.check.status;
  if (exists.length > 0) out.exists = exists;
  if (equals.length > 0) out.equals = equals;
  if (step.think) out.think = step.think;
  if (step.tags && Object.keys(step.tags).length > 0) out.tags = step.tags;
  return out;
}

/**
 * Generates the k6 script for a plan. Pure apart from reading nothing: the catalog is generated
 * (seeded) for built-in pools, user pools come in `opts.pools`. Throws a PeakdayError (exit 2) for
 * input k6 cannot express (no scenario with traffic, a bad segment, a pool without values).
 */
export function exportK6Script(plan: Plan, opts: K6ExportOptions): K6ExportResult {
  const warnings: string[] = [];
  const ts = opts.typescript === true;
  const T = (annotation: string): string => (ts ? annotation : '');
  const segment = resolveSegment(plan, opts);
  if (plan.arrivals === 'poisson') {
    warnings.push(
      "k6's arrival-rate executors space arrivals evenly; the plan's Poisson arrivals are played at the same rates, evenly spaced",
    );
  }

  const taken = new Set<string>();
  const scenarios: Record<string, unknown> = {};
  const execs: { fn: string; journey: string; channel: string }[] = [];
  const usedJourneys = new Set<string>();
  // Every segment's script must be the same script (k6 stripes one schedule across segments), so
  // a segment plan's scenarios are exported as the whole plan's: iterations are the rate function's
  // exact integral again (segmentPlan replaced them with the segment's count), and each scenario's
  // VUs are multiplied by the segment count, since k6 gives each segment its share of them: every
  // generator then has the cap a single generator has (as `--segment` does with the embedded engine).
  const vuFactor = segment ? segment.count : (opts.segmentCount ?? 1);
  const wholeScenarios = plan.segment
    ? plan.scenarios.map((s) => ({ ...s, iterations: rateIntegral(s, plan.timeScale) }))
    : plan.scenarios;
  for (const s of wholeScenarios) {
    if (!(s.iterations > 0) || Math.max(0, ...s.rates) <= 0) {
      warnings.push(`scenario ${s.id} has no traffic in the played range; left out of the script`);
      continue;
    }
    const journey = plan.journeys[s.journey];
    if (!journey) {
      throw new PeakdayError(
        'k6-export-invalid',
        `scenario ${s.id} names journey "${s.journey}", which the plan lacks`,
        {
          hint: 'recompile the plan from its profile',
        },
      );
    }
    usedJourneys.add(s.journey);
    const st = computeK6Stages(s, plan.timeScale);
    if (st.relativeError > CONTRACT_ERROR) {
      warnings.push(
        `scenario ${s.id}: k6 stages integrate to ${st.iterations.toFixed(1)} iterations vs the plan's ${s.iterations.toFixed(1)} (${(st.relativeError * 100).toFixed(2)}%)`,
      );
    }
    const vus = estimateVus(s, journey, plan.timeScale, opts.responseSeconds);
    if (vus.littleVus > vus.maxVUs) {
      warnings.push(
        `scenario ${s.id}: Little's law needs ~${Math.ceil(vus.littleVus)} VUs at peak but maxVUs is the plan's cap ${vus.maxVUs}; k6 will drop iterations (dropped_iterations)`,
      );
    }
    if (st.stages.length > 2000) {
      warnings.push(
        `scenario ${s.id} has ${st.stages.length} stages; k6 handles them but the script is large`,
      );
    }
    const fn = identifierFor(s.id, taken);
    execs.push({ fn, journey: s.journey, channel: s.channel });
    // A scenario whose rate function starts after the played range does starts that much later.
    const startMs = Math.round((((s.times[0] ?? plan.eventStart) - plan.eventStart) / plan.timeScale) * 1000);
    scenarios[fn] = {
      executor: 'ramping-arrival-rate',
      ...(startMs > 0 ? { startTime: formatK6Duration(startMs) } : {}),
      exec: fn,
      startRate: st.startRate,
      timeUnit: st.timeUnit,
      preAllocatedVUs: vus.preAllocatedVUs * vuFactor,
      maxVUs: vus.maxVUs * vuFactor,
      stages: st.stages.map((x) => ({ target: x.target, duration: formatK6Duration(x.durationMs) })),
      gracefulStop: '30s',
      tags: { channel: s.channel, journey: s.journey },
    };
  }
  if (execs.length === 0) {
    throw new PeakdayError('k6-export-empty', 'the plan has no scenario with traffic to export', {
      hint: 'pick a window or duration in which the profile sends traffic',
    });
  }

  // Journeys and the pools they bind.
  const journeys: Record<string, ScriptJourney> = {};
  const authLines: string[] = [];
  const poolNames = new Set<string>();
  for (const name of usedJourneys) {
    const j = plan.journeys[name] as Journey;
    const data: ScriptJourney['data'] = {};
    for (const [v, b] of Object.entries(j.data ?? {})) {
      data[v] = { pool: b.pool, pick: b.pick ?? 'random', ...(b.field ? { field: b.field } : {}) };
      poolNames.add(b.pool);
    }
    journeys[name] = { name, steps: j.steps.map(scriptStep), data };
    if (j.auth) {
      journeys[name].auth = { header: j.auth.header, prefix: j.auth.prefix ?? '' };
      const source = j.auth.fromEnv
        ? `__ENV[${JSON.stringify(j.auth.fromEnv)}]`
        : j.auth.fromFile
          ? `open(${JSON.stringify(resolvePath(j.auth.fromFile))}).trim()`
          : undefined;
      if (!source) {
        throw new PeakdayError(
          'k6-export-invalid',
          `journey ${name}: auth has neither fromEnv nor fromFile`,
          {},
        );
      }
      const what = j.auth.fromEnv ? `environment variable ${j.auth.fromEnv}` : `file ${j.auth.fromFile}`;
      authLines.push(
        `SECRETS[${JSON.stringify(name)}] = ${source};`,
        `if (!SECRETS[${JSON.stringify(name)}]) throw new Error(${JSON.stringify(`peakday: journey ${name} needs its auth secret: set ${what}`)});`,
      );
    }
  }
  let catalog: Catalog | undefined;
  const pools: string[] = [];
  let csvPools = false;
  for (const name of [...poolNames].sort()) {
    const fromFile = opts.poolFiles?.[name];
    if (fromFile) {
      csvPools ||= fromFile.format === 'csv';
      pools.push(`  ${JSON.stringify(name)}: ${poolFileLiteral(name, fromFile, T)},`);
      continue;
    }
    let values: readonly unknown[] | undefined = opts.pools?.[name];
    if (!values && name in builtinPools) {
      catalog ??= createCatalog();
      values = builtinPools[name as keyof typeof builtinPools](catalog);
    }
    if (!values) {
      throw new PeakdayError(
        'k6-export-pool-missing',
        `data pool "${name}" has no values to put in the script`,
        {
          hint: `pass the user pool's values in opts.pools, or use a built-in pool: ${Object.keys(builtinPools).join(', ')}`,
        },
      );
    }
    const spec = toPoolSpec(values);
    if (spec.kind === 'list' && spec.values.length === 0) {
      throw new PeakdayError('k6-export-pool-missing', `data pool "${name}" is empty`, {});
    }
    pools.push(`  ${JSON.stringify(name)}: ${poolLiteral(name, spec, T)},`);
  }

  const options: Record<string, unknown> = { scenarios };
  if (opts.thresholds && Object.keys(opts.thresholds).length > 0) options.thresholds = opts.thresholds;
  if (segment) {
    const { index, count } = segment;
    const frac = (k: number) => (k === 0 ? '0' : k === count ? '1' : `${k}/${count}`);
    options.executionSegment = `${frac(index - 1)}:${frac(index)}`;
    options.executionSegmentSequence = Array.from({ length: count + 1 }, (_, k) => frac(k)).join(',');
  }

  const header = [
    `// Generated by peakday from profile "${plan.profile.name}" (hash ${plan.profile.hash}), seed ${plan.seed}.`,
    `// Event ${plan.eventStart}s..${plan.eventEnd}s${plan.window ? ` (window ${plan.window})` : ''} played in ${formatK6Duration(Math.round(plan.durationSeconds * 1000))} at ${plan.timeScale}x;`,
    `// ${plan.iterations.toFixed(0)} iterations, ${plan.requests.toFixed(0)} requests planned. Regenerate with \`peakday profile export-k6\`; do not edit.`,
    `// Run: k6 run${ts ? ' (k6 v1.0+ runs TypeScript directly)' : ''} -e PEAKDAY_BASE_URL=${opts.baseUrl} <this file>`,
    ...(ts ? ['// Type-check: tsc --noEmit --strict --types k6 (needs @types/k6)'] : []),
  ];

  const lines = [
    ...header,
    `import http from 'k6/http';`,
    `import { check, randomSeed, sleep } from 'k6';`,
    `import exec from 'k6/execution';`,
    `import { SharedArray } from 'k6/data';`,
    ...(ts ? [`import type { Options } from 'k6/options';`] : []),
    '',
    ...(ts ? [TS_TYPES, ''] : []),
    `const BASE_URL${T(': string')} = (__ENV.PEAKDAY_BASE_URL || ${JSON.stringify(opts.baseUrl)}).replace(/\\/+$/, '');`,
    `/** Event seconds per wall second: think times in the profile are event time. */`,
    `const TIME_SCALE${T(': number')} = ${plan.timeScale};`,
    `/** The plan's seed; each VU seeds Math.random from it and its id on its first iteration. */`,
    `const SEED${T(': number')} = ${plan.seed >>> 0};`,
    '',
    `export const options${T(': Options')} = ${formatOptions(options)};`,
    '',
    `// peakday's k6 runtime: scenarios/k6-runtime.ts with core/json-path.ts and scenarios/csv.ts, bundled at export time.`,
    ...(ts
      ? [
          "// @ts-ignore -- bundled JavaScript on one line; type-checked as TypeScript in peakday's repository",
          k6RuntimeBundle(true),
          `const PEAKDAY: PeakdayRuntime = ${RUNTIME_GLOBAL};`,
        ]
      : [k6RuntimeBundle(), `const PEAKDAY = ${RUNTIME_GLOBAL};`]),
    ...(csvPools ? [`const parseCsv = PEAKDAY.parseCsv;`] : []),
    '',
    `const POOLS${T(': Record<string, Pool>')} = {`,
    ...pools,
    '};',
    '',
    `const JOURNEYS${T(': Record<string, JourneyDef>')} = ${JSON.stringify(journeys, null, 2)};`,
    '',
    `const SECRETS${T(': Record<string, string>')} = {};`,
    ...authLines,
    '',
    `const RUNTIME = PEAKDAY.createRuntime(`,
    `  { http: http, check: check, randomSeed: randomSeed, sleep: sleep, exec: exec },`,
    `  { baseUrl: BASE_URL, timeScale: TIME_SCALE, seed: SEED, pools: POOLS, journeys: JOURNEYS, secrets: SECRETS },`,
    `);`,
    '',
    `/** One iteration of a journey on a channel (the runtime's runJourney). */`,
    `function runJourney(name${T(': string')}, channel${T(': string')})${T(': void')} {`,
    `  RUNTIME.runJourney(name, channel);`,
    '}',
    '',
    ...execs.flatMap((e) => [
      `export function ${e.fn}()${T(': void')} {`,
      `  runJourney(${JSON.stringify(e.journey)}, ${JSON.stringify(e.channel)});`,
      '}',
    ]),
    '',
  ];
  return { script: lines.join('\n'), warnings };
}

/** Pretty JSON with one line per stage, so a scenario with many stages stays readable. */
function formatOptions(options: Record<string, unknown>): string {
  return JSON.stringify(options, null, 2).replace(
    /\{\s*"target": (\d+),\s*"duration": ("[^"]*")\s*\}/g,
    '{ "target": $1, "duration": $2 }',
  );
}

function resolveSegment(plan: Plan, opts: K6ExportOptions): { index: number; count: number } | undefined {
  const seg = opts.segment ?? plan.segment;
  if (
    opts.segment &&
    plan.segment &&
    (opts.segment.index !== plan.segment.index || opts.segment.count !== plan.segment.count)
  ) {
    throw new PeakdayError(
      'segment-invalid',
      `the plan is segment ${plan.segment.index}/${plan.segment.count} but segment ${opts.segment.index}/${opts.segment.count} was asked for`,
      { hint: 'export the whole plan and pass the segment once' },
    );
  }
  if (!seg) return undefined;
  if (
    !Number.isInteger(seg.index) ||
    !Number.isInteger(seg.count) ||
    seg.count < 1 ||
    seg.index < 1 ||
    seg.index > seg.count
  ) {
    throw new PeakdayError('segment-invalid', `segment ${seg.index}/${seg.count} is not i/N with 1 ≤ i ≤ N`, {
      hint: 'e.g. --segment 1/4 on the first of four load generators',
    });
  }
  return seg.count === 1 ? undefined : seg;
}

function poolLiteral(name: string, spec: PoolSpec, T: (a: string) => string): string {
  if (spec.kind === 'range') return JSON.stringify(spec);
  if (spec.values.length > SHARED_ARRAY_THRESHOLD) {
    return `{ kind: 'list', values: new SharedArray${T('<unknown>')}(${JSON.stringify(`pool:${name}`)}, function ()${T(': unknown[]')} { return ${JSON.stringify(spec.values)}; }) }`;
  }
  return JSON.stringify(spec);
}

/** A pool read at init from a file beside the script into a SharedArray (one copy for all VUs). */
function poolFileLiteral(
  name: string,
  spec: { file: string; format: 'csv' | 'json' },
  T: (a: string) => string,
): string {
  const read = `open(${JSON.stringify(spec.file)})`;
  const load = spec.format === 'csv' ? `parseCsv(${read})` : `JSON.parse(${read})${T(' as unknown[]')}`;
  return `{ kind: 'list', values: new SharedArray${T('<unknown>')}(${JSON.stringify(`pool:${name}`)}, function ()${T(': unknown[]')} { return ${load}; }) }`;
}

/** The global name the bundled runtime is bound to in the script. */
const RUNTIME_GLOBAL = 'PEAKDAY_RUNTIME';

const bundles: { plain?: string; minified?: string } = {};

/**
 * The k6 runtime (scenarios/k6-runtime.ts, with core/json-path-reader.ts and scenarios/csv.ts), bundled by
 * esbuild into one ES2017 script that binds `PEAKDAY_RUNTIME` (k6 v0.45's goja: `?.` and `??`
 * lowered); `minified` puts it on one line, which a TypeScript script marks `@ts-ignore` (it was
 * type-checked as TypeScript here). Built once per process; esbuild is loaded only when a script
 * is exported.
 */
export function k6RuntimeBundle(minified = false): string {
  const key = minified ? 'minified' : 'plain';
  const cached = bundles[key];
  if (cached !== undefined) return cached;
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const out = buildSync({
    entryPoints: [join(import.meta.dirname, 'k6-runtime.ts')],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: RUNTIME_GLOBAL,
    platform: 'neutral',
    target: 'es2017',
    charset: 'utf8',
    legalComments: 'none',
    // Whitespace and names only: minifying syntax would turn '\n' into a template literal with a real
    // line break, and the TypeScript script's @ts-ignore covers one line.
    minifyWhitespace: minified,
    minifyIdentifiers: minified,
    logLevel: 'silent',
  });
  // A k6 script is an ES module, strict already: esbuild's "use strict" prologue would only sit mid-file.
  const text = (out.outputFiles[0]?.text ?? '').replace(/^"use strict";\n?/, '').trimEnd();
  bundles[key] = text;
  return text;
}

/** The types the TypeScript script gives its plan data and the bundled runtime. */
const TS_TYPES = `type PathSegment = string | number;
interface Think { dist: string; seconds?: number; min?: number; max?: number; mean?: number; sd?: number }
interface StepDef {
  name: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: unknown;
  graphql?: { query: string; variables?: Record<string, unknown>; operationName?: string };
  extract?: [string, PathSegment[]][];
  status?: number[];
  exists?: [string, PathSegment[]][];
  equals?: [string, PathSegment[], unknown][];
  think?: Think;
  tags?: Record<string, string>;
  needsBody: boolean;
}
interface JourneyDef {
  name: string;
  steps: StepDef[];
  data: Record<string, { pool: string; field?: string; pick: string }>;
  auth?: { header: string; prefix: string };
}
type Pool =
  | { kind: 'range'; prefix: string; from: number; to: number; width: number }
  | { kind: 'list'; values: ArrayLike<unknown> };
/** peakday's k6 runtime (scenarios/k6-runtime.ts in peakday's repository), bundled below. */
interface PeakdayRuntime {
  createRuntime(
    k6: { http: typeof http; check: typeof check; randomSeed: typeof randomSeed; sleep: typeof sleep; exec: typeof exec },
    config: {
      baseUrl: string;
      timeScale: number;
      seed: number;
      pools: Record<string, Pool>;
      journeys: Record<string, JourneyDef>;
      secrets: Record<string, string>;
    },
  ): { runJourney(name: string, channel: string): void };
  parseCsv(text: string): Record<string, string>[];
}`;
