import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '../core/errors.ts';
import { compilePlan } from './compile.ts';
import { parseCsv } from './data-pools.ts';
import type { Journey } from './journey.ts';
import {
  ASSUMED_RESPONSE_SECONDS,
  computeK6Stages,
  estimateVus,
  exportK6Script,
  formatK6Duration,
  k6RuntimeBundle,
  toPoolSpec,
  VU_HEADROOM,
} from './k6-export.ts';
import { PLAN_FORMAT_VERSION, type Plan, type PlanScenario } from './plan.ts';
import { listProfiles, loadProfile } from './profile.ts';

const ROOT = join(import.meta.dirname, '..');
const tmpRoot = join(ROOT, 'node_modules', '.cache');
mkdirSync(tmpRoot, { recursive: true });
const tmp = mkdtempSync(join(tmpRoot, 'k6-export-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Exact integral of a piecewise-linear rate over event time, in iterations (wall = event / scale). */
function integral(times: number[], rates: number[], timeScale: number): number {
  let sum = 0;
  for (let i = 1; i < times.length; i++) {
    sum +=
      (((rates[i - 1] ?? 0) + (rates[i] ?? 0)) / 2) * (((times[i] ?? 0) - (times[i - 1] ?? 0)) / timeScale);
  }
  return sum;
}

function scenario(
  id: string,
  times: number[],
  rates: number[],
  timeScale: number,
  extra: Partial<PlanScenario> = {},
): PlanScenario {
  const [channel = 'web', journey = 'browse'] = id.split('/');
  return {
    id,
    channel,
    journey,
    requestsPerIteration: 3,
    times,
    rates,
    iterations: integral(times, rates, timeScale),
    maxConcurrency: 500,
    ...extra,
  };
}

const browse: Journey = {
  name: 'browse',
  requestsPerIteration: 3,
  data: { category: { pool: 'categories' }, productId: { pool: 'productIds' } },
  steps: [
    {
      name: 'list',
      method: 'GET',
      path: '/api/products?category={{category}}&channel={{channel}}',
      extract: { firstId: '$.items[0].id' },
      check: { status: [200], exists: ['$.items[0].id'] },
      think: { dist: 'constant', seconds: 30 },
    },
    {
      name: 'product',
      method: 'GET',
      path: '/api/products/{{firstId}}',
      think: { dist: 'uniform', min: 20, max: 40 },
    },
    { name: 'random-product', method: 'GET', path: '/api/products/{{productId}}' },
  ],
};

const checkout: Journey = {
  name: 'checkout',
  requestsPerIteration: 3,
  data: { sku: { pool: 'hotSkus' } },
  auth: { header: 'Authorization', prefix: 'Bearer ', fromEnv: 'PEAKDAY_TEST_TOKEN' },
  steps: [
    {
      name: 'cart',
      method: 'POST',
      path: '/api/carts',
      body: { channel: '{{channel}}' },
      extract: { cartId: '$.id' },
      check: { status: [201] },
    },
    {
      name: 'add',
      method: 'POST',
      path: '/api/carts/{{cartId}}/items',
      body: { sku: '{{sku}}', quantity: 1 },
      check: { status: [200], equals: { '$.items[0].sku': 'SKU-000001' } },
    },
    {
      name: 'pay',
      method: 'POST',
      path: '/api/checkout',
      headers: { 'Idempotency-Key': '{{uuid}}' },
      body: { cartId: '{{cartId}}', paymentToken: 'tok_visa' },
      check: { status: [201] },
      think: { dist: 'exponential', mean: 10, max: 60 },
    },
  ],
};

const mobile: Journey = {
  name: 'product-page',
  requestsPerIteration: 1,
  data: { productId: { pool: 'productIds' } },
  steps: [
    {
      name: 'product',
      method: 'POST',
      path: '/graphql',
      graphql: {
        query: 'query P($id: ID!) { product(id: $id) { id price { amount } } }',
        variables: { id: '{{productId}}' },
      },
      extract: { price: '$.data.product.price.amount' },
    },
  ],
};

function makePlan(scenarios: PlanScenario[], timeScale: number, extra: Partial<Plan> = {}): Plan {
  const times = scenarios.flatMap((s) => s.times);
  const eventStart = Math.min(...times);
  const eventEnd = Math.max(...times);
  const iterations = scenarios.reduce((a, s) => a + s.iterations, 0);
  return {
    formatVersion: PLAN_FORMAT_VERSION,
    profile: { name: 'test', hash: 'abc123', eventSeconds: eventEnd - eventStart },
    seed: 7,
    eventStart,
    eventEnd,
    timeScale,
    durationSeconds: (eventEnd - eventStart) / timeScale,
    baselineRps: 1,
    peakRps: 10,
    arrivals: 'even',
    scenarios,
    journeys: { browse, checkout, 'product-page': mobile },
    windows: [],
    bursts: [],
    iterations,
    requests: scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
    ...extra,
  };
}

/** A noisy, bursty rate with many breakpoints (a doors-open surge and spikes). */
function bumpy(n: number, base: number, seed: number): { times: number[]; rates: number[] } {
  const times: number[] = [];
  const rates: number[] = [];
  let x = seed;
  for (let i = 0; i <= n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const noise = 0.8 + 0.4 * (x / 2147483648);
    const surge = i > n / 3 && i < n / 2 ? 10 : 1;
    times.push(i * 37);
    rates.push(base * surge * noise);
  }
  return { times, rates };
}

describe('k6 stages from a plan', () => {
  const cases: [string, number[], number[], number][] = [
    ['a tiny steady rate (0.05/s over a minute)', [0, 3600], [0.05, 0.05], 60],
    ['a ramp from zero to 0.7/s', [0, 600], [0, 0.7], 10],
    ['a doors-open surge to 10x', [0, 600, 660, 1800], [2, 2, 20, 20], 60],
    ['a noisy rate with 400 breakpoints', ...(Object.values(bumpy(400, 3.3, 1)) as [number[], number[]]), 60],
    ['a high rate', [0, 60], [812.4, 1200.6], 1],
    ['sub-second stages at a high time scale', [0, 10, 20, 35, 100], [1, 5, 2, 9, 1], 120],
  ];

  it.each(cases)(
    'keeps integer targets and the integral within 1%% for %s',
    (_name, times, rates, timeScale) => {
      const s = scenario('web/browse', times, rates, timeScale);
      const st = computeK6Stages(s, timeScale);
      expect(Number.isInteger(st.startRate)).toBe(true);
      for (const stage of st.stages) {
        expect(Number.isInteger(stage.target)).toBe(true);
        expect(stage.target).toBeGreaterThanOrEqual(0);
        expect(Number.isInteger(stage.durationMs)).toBe(true);
      }
      expect(Math.abs(st.iterations - s.iterations) / s.iterations).toBeLessThan(0.01);
      expect(st.relativeError).toBeLessThan(0.01);
      // The stages span the played range in wall time, to the millisecond.
      const totalMs = st.stages.reduce((a, x) => a + x.durationMs, 0);
      const last = times[times.length - 1] as number;
      expect(totalMs).toBe(Math.round(((last - (times[0] as number)) / timeScale) * 1000));
    },
  );

  it('uses a longer time unit for small rates and 1s for large ones', () => {
    expect(
      computeK6Stages(scenario('a/b', [0, 3600], [0.05, 0.05], 60), 60).timeUnitSeconds,
    ).toBeGreaterThanOrEqual(60);
    expect(computeK6Stages(scenario('a/b', [0, 60], [500, 500], 1), 1).timeUnit).toBe('1s');
  });

  it('merges stages on one line and keeps jumps', () => {
    const st = computeK6Stages(scenario('a/b', [0, 10, 20, 30, 40], [1, 2, 3, 3, 3], 1), 1);
    expect(st.stages.map((s) => [s.target, s.durationMs])).toEqual([
      [3 * (st.timeUnitSeconds / 1), 20_000],
      [3 * (st.timeUnitSeconds / 1), 20_000],
    ]);
  });

  it.each([
    [90_000, '1m30s'],
    [3_600_000, '1h'],
    [250, '250ms'],
    [1500, '1.5s'],
    [90_061_000, '25h1m1s'],
    [0, '0s'],
  ])('formats %i ms as the k6 duration %s', (ms, text) => {
    expect(formatK6Duration(ms)).toBe(text);
  });
});

describe("VUs by Little's law", () => {
  it('sizes preAllocatedVUs from peak rate × iteration duration and caps maxVUs at the plan', () => {
    // 10 it/s at peak; 3 requests × 0.25 s + (30 + 30) event s of think / 60 = 1.75 s per iteration.
    const s = scenario('web/browse', [0, 60, 120], [2, 10, 2], 60, { maxConcurrency: 100 });
    const v = estimateVus(s, browse, 60);
    const iterationSeconds = 3 * ASSUMED_RESPONSE_SECONDS + 60 / 60;
    expect(v.iterationSeconds).toBeCloseTo(iterationSeconds, 9);
    expect(v.littleVus).toBeCloseTo(10 * iterationSeconds, 9);
    expect(v.preAllocatedVUs).toBe(Math.ceil(10 * iterationSeconds * VU_HEADROOM));
    expect(v.maxVUs).toBe(100);
  });

  it('never pre-allocates more than the cap and warns that k6 will drop iterations', () => {
    const s = scenario('web/browse', [0, 600], [400, 400], 1, { maxConcurrency: 50 });
    const v = estimateVus(s, browse, 1);
    expect(v.preAllocatedVUs).toBe(50);
    const { warnings } = exportK6Script(makePlan([s], 1), { baseUrl: 'http://127.0.0.1:8080' });
    expect(warnings.join('\n')).toMatch(/maxVUs is the plan's cap 50/);
  });
});

describe('the exported script', () => {
  const web = scenario('web/browse', [0, 600, 660, 1800], [2, 2, 20, 20], 60);
  const pay = scenario('web/checkout', [0, 1800], [0.2, 0.4], 60);
  const app = scenario('mobile-app/product-page', [0, 1800], [1, 1], 60);
  const plan = makePlan([web, pay, app], 60);

  it('has one ramping-arrival-rate scenario per plan scenario with channel and journey tags', () => {
    const { script } = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:8080' });
    const options = readOptions(script);
    expect(Object.keys(options.scenarios)).toEqual(['web_browse', 'web_checkout', 'mobile_app_product_page']);
    for (const [name, sc] of Object.entries(options.scenarios)) {
      expect(sc.executor).toBe('ramping-arrival-rate');
      expect(sc.exec).toBe(name);
      expect(script).toContain(`export function ${name}()`);
    }
    expect(options.scenarios.web_checkout?.tags).toEqual({ channel: 'web', journey: 'checkout' });
  });

  it('carries none of the error catalog (the runtime reads compiled paths; it never throws a PeakdayError)', () => {
    const catalog = Object.entries(ERROR_CATALOG).flatMap(([code, e]) => [code, e.meaning]);
    for (const typescript of [false, true]) {
      const { script } = exportK6Script(plan, { baseUrl: 'http://x', typescript });
      expect(catalog.filter((text) => script.includes(text))).toEqual([]);
    }
  });

  it('starts a scenario whose rate function begins later at that wall offset', () => {
    const late = scenario('web/checkout', [600, 1800], [1, 1], 60);
    const options = readOptions(exportK6Script(makePlan([web, late], 60), { baseUrl: 'http://x' }).script);
    expect((options.scenarios.web_checkout as unknown as { startTime?: string }).startTime).toBe('10s');
    expect((options.scenarios.web_browse as unknown as { startTime?: string }).startTime).toBeUndefined();
  });

  it('copies thresholds and maps a 1-based segment onto execution segments', () => {
    const thresholds = { 'http_req_duration{channel:web}': ['p(95)<500'], http_req_failed: ['rate<0.01'] };
    const { script } = exportK6Script(plan, {
      baseUrl: 'http://x',
      thresholds,
      segment: { index: 2, count: 4 },
    });
    const options = readOptions(script);
    expect(options.thresholds).toEqual(thresholds);
    expect(options.executionSegment).toBe('1/4:2/4');
    expect(options.executionSegmentSequence).toBe('0,1/4,2/4,3/4,1');
    const first = readOptions(
      exportK6Script(plan, { baseUrl: 'http://x', segment: { index: 1, count: 2 } }).script,
    );
    expect(first.executionSegment).toBe('0:1/2');
  });

  it.each([[{ index: 0, count: 4 }], [{ index: 5, count: 4 }]])('rejects the segment %j', (segment) => {
    expect(() => exportK6Script(plan, { baseUrl: 'http://x', segment })).toThrow(/segment/);
  });

  it('takes auth from the environment and never writes the secret', () => {
    process.env.PEAKDAY_TEST_TOKEN = 'super-secret-value';
    const { script } = exportK6Script(plan, { baseUrl: 'http://x' });
    expect(script).toContain('__ENV["PEAKDAY_TEST_TOKEN"]');
    expect(script).not.toContain('super-secret-value');
    delete process.env.PEAKDAY_TEST_TOKEN;
  });

  it('reads a file secret with open() at init, by absolute path, without its content', () => {
    const withFile: Journey = { ...checkout, auth: { header: 'X-Api-Key', fromFile: 'secrets/api-key.txt' } };
    const { script } = exportK6Script(
      { ...plan, journeys: { ...plan.journeys, checkout: withFile } },
      { baseUrl: 'http://x' },
    );
    expect(script).toContain(`open(${JSON.stringify(join(process.cwd(), 'secrets/api-key.txt'))}).trim()`);
    expect(script).toContain('set file secrets/api-key.txt');
  });

  it('writes catalog id pools as compact ranges and warns about Poisson arrivals', () => {
    const { script, warnings } = exportK6Script({ ...plan, arrivals: 'poisson' }, { baseUrl: 'http://x' });
    expect(script).toContain('"productIds": {"kind":"range","prefix":"p-","from":1,"to":10000,"width":6}');
    expect(script.length).toBeLessThan(60_000);
    expect(warnings.join('\n')).toMatch(/Poisson/);
  });

  it('refuses a pool it has no values for and a plan without traffic', () => {
    const j: Journey = { ...browse, data: { x: { pool: 'my-users' } } };
    expect(() =>
      exportK6Script({ ...plan, journeys: { ...plan.journeys, browse: j } }, { baseUrl: 'http://x' }),
    ).toThrow(/my-users/);
    const idle = scenario('web/browse', [0, 60], [0, 0], 1);
    expect(() => exportK6Script(makePlan([idle], 1), { baseUrl: 'http://x' })).toThrow(
      /no scenario with traffic/,
    );
  });

  it('is plain JavaScript that node can parse', () => {
    const { script } = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:8080' });
    const file = join(tmp, 'script.mjs');
    writeFileSync(file, script);
    expect(() => execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' })).not.toThrow();
    expect(script).not.toMatch(/\?\.|\?\?|^\s*await /m);
  });

  it('fails the type-check when the script is wrong (the check can fail)', () => {
    expect(typeCheck({ bad: "import http from 'k6/http';\nhttp.get(42);\n" }, 'bad')).toMatch(/error TS/);
  }, 60_000);
});

/** Type-checks a TypeScript script against @types/k6 in its own strict project; returns tsc's output. */
function typeCheck(scripts: Record<string, string>, name: string): string {
  const dir = join(tmp, `ts-${name}`);
  mkdirSync(dir, { recursive: true });
  for (const [file, script] of Object.entries(scripts)) writeFileSync(join(dir, `${file}.ts`), script);
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2020',
        module: 'ES2020',
        moduleResolution: 'bundler',
        lib: ['ES2020'],
        strict: true,
        noEmit: true,
        types: ['k6'],
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      files: Object.keys(scripts).map((f) => `${f}.ts`),
    }),
  );
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(dir, 'tsconfig.json')],
      {
        stdio: 'pipe',
        cwd: dir,
      },
    );
    return '';
  } catch (e) {
    return String((e as { stdout?: Buffer }).stdout ?? e);
  }
}

describe('the built-in profiles exported to k6', () => {
  const unitPlan = makePlan(
    [
      scenario('web/browse', [0, 600, 660, 1800], [2, 2, 20, 20], 60),
      scenario('web/checkout', [0, 1800], [0.2, 0.4], 60),
      scenario('mobile-app/product-page', [0, 1800], [1, 1], 60),
    ],
    60,
  );

  it.each(listProfiles().map((p) => [p.name]))(
    '%s exports within 1%% per scenario as parseable JavaScript',
    (name) => {
      const plan = compilePlan(loadProfile(name), {});
      for (const s of plan.scenarios) {
        const st = computeK6Stages(s, plan.timeScale);
        expect(st.relativeError, s.id).toBeLessThan(0.01);
      }
      const { script, warnings } = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:8080' });
      expect(warnings).toEqual([]);
      const file = join(tmp, `${name}.mjs`);
      writeFileSync(file, script);
      expect(() => execFileSync(process.execPath, ['--check', file], { stdio: 'pipe' })).not.toThrow();
    },
  );

  it('type-checks with --ts: ci-smoke (every channel and journey, GraphQL) and a plan with auth and thresholds', () => {
    const smoke = exportK6Script(compilePlan(loadProfile('ci-smoke'), {}), {
      baseUrl: 'http://127.0.0.1:8080',
      typescript: true,
    }).script;
    expect(smoke).toContain('/graphql');
    const unit = exportK6Script(unitPlan, {
      baseUrl: 'http://127.0.0.1:8080',
      typescript: true,
      thresholds: { checks: ['rate>0.99'] },
      segment: { index: 1, count: 2 },
    }).script;
    expect(unit).toContain('__ENV["PEAKDAY_TEST_TOKEN"]');
    expect(typeCheck({ smoke, unit }, 'profiles')).toBe('');
  }, 60_000);
});

const K6_STUBS: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'k6',
    type: 'module',
    exports: {
      '.': './index.js',
      './http': './http.js',
      './execution': './execution.js',
      './data': './data.js',
    },
  }),
  'index.js': `export function check(value, sets, tags) {
  for (const [name, fn] of Object.entries(sets)) globalThis.__k6.checks.push({ name, ok: fn(value), tags });
  return true;
}
export function sleep(s) { globalThis.__k6.sleeps.push(s); }
export function randomSeed(n) { globalThis.__k6.seeds.push(n); }`,
  'http.js': `let jars = 0;
export class CookieJar { constructor() { this.id = ++jars; } }
export function request(method, url, body, params) {
  const r = globalThis.__k6respond(method, url, body);
  globalThis.__k6.requests.push({ method, url, body, params });
  return { status: r.status, body: JSON.stringify(r.body), json() { return r.body; } };
}
export default { request, CookieJar };`,
  'execution.js': `let n = 0;
export default { scenario: { get iterationInTest() { return n++; } }, vu: { idInTest: 1 } };`,
  'data.js': `export class SharedArray { constructor(name, fn) { return fn(); } }`,
};

const RUNNER = `globalThis.__k6 = { requests: [], checks: [], sleeps: [], seeds: [] };
globalThis.__ENV = JSON.parse(process.argv[3]);
globalThis.__VU = 1;
globalThis.open = () => { throw new Error('no files'); };
const broken = process.argv[4] === 'broken';
globalThis.__k6respond = (method, url, body) => {
  const path = url.replace(/^http:\\/\\/[^/]+/, '');
  if (method === 'GET' && path.startsWith('/api/products?')) return { status: 200, body: broken ? {} : { items: [{ id: 'p-000042' }] } };
  if (method === 'GET' && path.startsWith('/api/products/')) return { status: 200, body: { id: path.split('/')[3] } };
  if (method === 'POST' && path === '/api/carts') return { status: 201, body: { id: 'cart 9', items: [] } };
  if (method === 'POST' && path.endsWith('/items')) return { status: 200, body: { id: 'cart 9', items: [{ sku: JSON.parse(body).sku }] } };
  if (method === 'POST' && path === '/api/checkout') return { status: 201, body: { orderId: 'o-1' } };
  if (method === 'POST' && path === '/graphql') return { status: 200, body: { data: { product: { id: 'p-1', price: { amount: 9.99 } } } } };
  return { status: 404, body: { error: { code: 'not-found', message: path } } };
};
const script = await import(process.argv[2]);
for (const fn of process.argv[5].split(',')) script[fn]();
process.stdout.write(JSON.stringify(globalThis.__k6));`;

interface K6Log {
  requests: {
    method: string;
    url: string;
    body: string | null;
    params: { headers: Record<string, string>; tags: Record<string, string>; jar: unknown };
  }[];
  checks: { name: string; ok: boolean; tags: Record<string, string> }[];
  sleeps: number[];
  seeds: number[];
}

/** Runs exported functions of a generated script in node against stub k6 modules and a fake API. */
function runWithStubs(script: string, fns: string[], env: Record<string, string>, mode = 'ok'): K6Log {
  const dir = join(tmp, 'run');
  const k6 = join(dir, 'node_modules', 'k6');
  mkdirSync(k6, { recursive: true });
  for (const [file, text] of Object.entries(K6_STUBS)) writeFileSync(join(k6, file), text);
  writeFileSync(join(dir, 'runner.mjs'), RUNNER);
  const file = join(dir, `script-${fns.join('-')}-${mode}.mjs`);
  writeFileSync(file, script);
  const out = execFileSync(
    process.execPath,
    [join(dir, 'runner.mjs'), file, JSON.stringify(env), mode, fns.join(',')],
    {
      cwd: dir,
      stdio: 'pipe',
    },
  );
  return JSON.parse(String(out)) as K6Log;
}

describe('the exported script at run time (stub k6 modules, fake API)', () => {
  const plan = makePlan(
    [
      scenario('web/browse', [0, 600], [1, 1], 60),
      scenario('social/checkout', [0, 600], [1, 1], 60),
      scenario('mobile-app/product-page', [0, 600], [1, 1], 60),
    ],
    60,
  );
  const { script } = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:9' });
  const ENV = { PEAKDAY_TEST_TOKEN: 'tok-123' };

  it('browses with data picks, extraction into the next path, tags and scaled think times', () => {
    const log = runWithStubs(script, ['web_browse'], ENV);
    const urls = log.requests.map((r) => r.url);
    expect(urls[0]).toMatch(/^http:\/\/127\.0\.0\.1:9\/api\/products\?category=[a-z-]+&channel=web$/);
    expect(urls[1]).toBe('http://127.0.0.1:9/api/products/p-000042');
    expect(urls[2]).toMatch(/\/api\/products\/p-\d{6}$/);
    expect(log.requests[1]?.params.tags).toEqual({
      channel: 'web',
      journey: 'browse',
      step: 'product',
      name: '/api/products/{{firstId}}',
    });
    expect(log.sleeps[0]).toBeCloseTo(30 / 60, 9);
    expect(log.sleeps[1]).toBeGreaterThanOrEqual(20 / 60);
    expect(log.sleeps[1]).toBeLessThanOrEqual(40 / 60);
    expect(log.checks.filter((c) => !c.ok)).toEqual([]);
    expect(log.checks.map((c) => c.name)).toContain('list has $.items[0].id');
    // Math.random is seeded once per VU from the plan's seed (7) and the VU id (1).
    expect(log.seeds).toEqual([7 + 1 * 7919]);
  });

  it('checks out with the auth header from __ENV, templated bodies, one cookie jar per iteration', () => {
    const log = runWithStubs(script, ['social_checkout', 'social_checkout'], {
      PEAKDAY_TEST_TOKEN: 'tok-123',
    });
    expect(log.requests).toHaveLength(6);
    const [cart, add, pay] = log.requests;
    expect(cart?.params.headers.Authorization).toBe('Bearer tok-123');
    expect(JSON.parse(cart?.body ?? '')).toEqual({ channel: 'social' });
    expect(add?.url).toBe('http://127.0.0.1:9/api/carts/cart%209/items');
    const addBody = JSON.parse(add?.body ?? '');
    expect(addBody.sku).toMatch(/^SKU-\d{6}$/);
    expect(addBody.quantity).toBe(1);
    expect(JSON.parse(pay?.body ?? '')).toEqual({ cartId: 'cart 9', paymentToken: 'tok_visa' });
    expect(pay?.params.headers['Idempotency-Key']).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(log.requests[4]?.params.headers['Idempotency-Key']).not.toBe(
      pay?.params.headers['Idempotency-Key'],
    );
    // The `equals` check compares with the data pick, which is rarely SKU-000001: it can fail, and is reported.
    expect(log.checks.some((c) => c.name === 'add $.items[0].sku == "SKU-000001"')).toBe(true);
    expect(log.checks.find((c) => c.name === 'cart status')?.tags).toEqual({
      channel: 'social',
      journey: 'checkout',
      step: 'cart',
    });
  });

  it('sends GraphQL steps with rendered variables and checks for GraphQL errors', () => {
    const log = runWithStubs(script, ['mobile_app_product_page'], ENV);
    const body = JSON.parse(log.requests[0]?.body ?? '');
    expect(body.query).toContain('product(id: $id)');
    expect(body.variables.id).toMatch(/^p-\d{6}$/);
    expect(log.checks.find((c) => c.name === 'product has no GraphQL errors')?.ok).toBe(true);
  });

  it('stops the iteration when an extraction fails and reports it as a failed check', () => {
    const log = runWithStubs(script, ['web_browse'], ENV, 'broken');
    expect(log.requests).toHaveLength(1);
    expect(log.checks.find((c) => c.name === 'list extracts firstId')?.ok).toBe(false);
  });

  it('draws user pools (objects through a field) sequentially, each iteration the next row', () => {
    const lookup: Journey = {
      name: 'lookup',
      requestsPerIteration: 1,
      data: { customerId: { pool: 'vip', field: 'id', pick: 'sequential' } },
      steps: [{ name: 'orders', method: 'GET', path: '/api/customers/{{customerId}}/orders?limit=1' }],
    };
    const vipPlan = makePlan([scenario('voice/lookup', [0, 600], [1, 1], 60)], 60, { journeys: { lookup } });
    const rows = Array.from({ length: 300 }, (_, i) => ({ id: `vip-${i}`, tier: 'gold' }));
    const vip = exportK6Script(vipPlan, { baseUrl: 'http://127.0.0.1:9', pools: { vip: rows } }).script;
    expect(vip).toContain('new SharedArray("pool:vip"');
    const log = runWithStubs(vip, ['voice_lookup', 'voice_lookup', 'voice_lookup'], {});
    const ids = log.requests.map((r) => /customers\/([^/]+)\//.exec(r.url)?.[1]);
    const start = Number(ids[0]?.slice(4));
    expect(ids).toEqual([0, 1, 2].map((k) => `vip-${(start + k) % 300}`));
  });

  it.each([
    [['SKU-000001', 'SKU-000002', 'SKU-000003'], { kind: 'range', prefix: 'SKU-', from: 1, to: 3, width: 6 }],
    [['store-009', 'store-010'], { kind: 'range', prefix: 'store-', from: 9, to: 10, width: 3 }],
    [['SKU-000001', 'SKU-000003'], { kind: 'list', values: ['SKU-000001', 'SKU-000003'] }],
    [['a', 'b'], { kind: 'list', values: ['a', 'b'] }],
  ])('writes the pool %j compactly when it is an id range', (values, spec) => {
    expect(toPoolSpec(values)).toEqual(spec);
  });

  it('refuses to start without the auth secret', () => {
    expect(() => runWithStubs(script, ['web_browse'], ENV)).not.toThrow();
    // k6 runs the init code of the whole script, so a missing secret stops every scenario.
    expect(() => runWithStubs(script, ['web_browse'], {}, 'noenv')).toThrow(/PEAKDAY_TEST_TOKEN/);
  });
});

/** Evaluates the `options` object literal of a generated script (it is JSON). */
function readOptions(script: string): {
  scenarios: Record<
    string,
    { executor: string; exec: string; tags: Record<string, string>; stages: unknown[] }
  >;
  thresholds?: Record<string, string[]>;
  executionSegment?: string;
  executionSegmentSequence?: string;
} {
  const m = /export const options(?:: Options)? = (\{[\s\S]*?\n\});/.exec(script);
  if (!m) throw new Error('no options in script');
  return JSON.parse(m[1] as string);
}

describe("the exported script's CSV reader", () => {
  it('is the bundled scenarios/csv.ts: reads every input as the embedded engine does', () => {
    const k6ParseCsv = new Function(
      `${k6RuntimeBundle()}\nreturn PEAKDAY_RUNTIME.parseCsv;`,
    )() as typeof parseCsv;
    const inputs = [
      'id,name\nc-001,Ada\nc-002,Grace\n',
      'id,name\r\nc-001,Ada\r\nc-002,Grace',
      'id, name \n"c-001","Ada, Countess of Lovelace"\n',
      'id,quote\nq1,"she said ""hi"""\nq2,""\n',
      'id,note\n1,"two\nlines"\n\n\n2,last',
      'a,b,c\n1\n1,2,3,4\n',
      'only-header\n',
      '',
      '\uFEFFid,ünïcödé\n1,✓\n',
      'id,empty\n,\n"",x\n',
    ];
    for (const text of inputs) expect(k6ParseCsv(text), JSON.stringify(text)).toEqual(parseCsv(text));
  });
});
