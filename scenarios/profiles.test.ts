import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readYamlSource } from '../core/yaml-source.ts';
import { compilePlan, planRequestRate } from './compile.ts';
import type { HttpMethod } from './journey.ts';
import { builtinJourneys, listProfiles, loadProfile } from './profile.ts';
import { parseProfile } from './profile-parser.ts';
import { evaluate } from './rate-function.ts';

/** The reference stack's API (common.md): operation id → method and path pattern. */
const API: Record<string, [HttpMethod, RegExp]> = {
  getHealth: ['GET', /^\/health$/],
  listCategories: ['GET', /^\/api\/categories$/],
  listProducts: ['GET', /^\/api\/products(\?.*)?$/],
  getProduct: ['GET', /^\/api\/products\/\{\{\w+\}\}(\?.*)?$/],
  search: ['GET', /^\/api\/search\?.*q=/],
  listDeals: ['GET', /^\/api\/deals$/],
  createCart: ['POST', /^\/api\/carts$/],
  getCart: ['GET', /^\/api\/carts\/\{\{\w+\}\}$/],
  addCartItem: ['POST', /^\/api\/carts\/\{\{\w+\}\}\/items$/],
  removeCartItem: ['DELETE', /^\/api\/carts\/\{\{\w+\}\}\/items\/\{\{\w+\}\}$/],
  checkout: ['POST', /^\/api\/checkout$/],
  getOrder: ['GET', /^\/api\/orders\/\{\{\w+\}\}$/],
  listCustomerOrders: ['GET', /^\/api\/customers\/\{\{\w+\}\}\/orders(\?.*)?$/],
  reorder: ['POST', /^\/api\/orders\/\{\{\w+\}\}\/reorder$/],
  listStores: ['GET', /^\/api\/stores(\?.*)?$/],
  getStoreInventory: ['GET', /^\/api\/stores\/\{\{\w+\}\}\/inventory\/\{\{\w+\}\}$/],
  graphql: ['POST', /^\/graphql$/],
  getHomePage: ['GET', /^\/$/],
  getCategoryPage: ['GET', /^\/c\/\{\{\w+\}\}(\?.*)?$/],
  getProductPage: ['GET', /^\/p\/\{\{\w+\}\}$/],
  getCartPage: ['GET', /^\/cart$/],
};

const profiles = listProfiles().map((p) => p.name);

describe('built-in profiles', () => {
  it('include every profile the issue asks for', () => {
    expect(profiles).toEqual(
      expect.arrayContaining([
        'prime-day',
        'prime-day-4d',
        'black-friday',
        'flash-sale',
        'product-drop',
        'ci-smoke',
        'soak',
      ]),
    );
  });

  it.each(profiles)('%s compiles at its local defaults within the live limits of a 2-core stack', (name) => {
    const p = loadProfile(name);
    const plan = compilePlan(p, {});
    expect(plan.timeScale).toBeLessThanOrEqual(60);
    expect(plan.peakRps).toBeGreaterThanOrEqual(10);
    expect(plan.peakRps).toBeLessThanOrEqual(400);
    expect(plan.durationSeconds).toBeLessThanOrEqual(3600);
    expect(p.model.sources.length + p.model.assumptions.length).toBeGreaterThan(0);
    for (const s of p.model.sources) expect(s).toContain('docs/sources.md');
  });

  it.each(profiles)(
    '%s holds its channel shares within 0.1%% at every sampled instant of the whole event',
    (name) => {
      const p = loadProfile(name);
      const plan = compilePlan(p, { whole: true });
      const E = p.model.eventSeconds;
      for (let i = 0; i <= 500; i++) {
        const t = (E * i) / 500 + (i % 7) * 0.37;
        if (t > E) continue;
        const total = planRequestRate(plan, t);
        if (total === 0) continue;
        const declared = p.model.channels.map((c) => evaluate(c.share, t));
        const sum = declared.reduce((a, b) => a + b, 0);
        p.model.channels.forEach((c, ci) => {
          const rate = plan.scenarios
            .filter((s) => s.channel === c.name)
            .reduce(
              (acc, s) => acc + evaluate({ times: s.times, values: s.rates }, t) * s.requestsPerIteration,
              0,
            );
          expect(Math.abs(rate / total - (declared[ci] as number) / sum)).toBeLessThan(0.001);
        });
      }
    },
  );

  it('ci-smoke plays every channel and every built-in journey at least once in at most 60 s', () => {
    const plan = compilePlan(loadProfile('ci-smoke'), {});
    expect(plan.durationSeconds).toBeLessThanOrEqual(60);
    expect(new Set(plan.scenarios.map((s) => s.channel))).toEqual(
      new Set(['web', 'mobile-app', 'pos', 'voice', 'social']),
    );
    expect(new Set(plan.scenarios.map((s) => s.journey))).toEqual(new Set(Object.keys(builtinJourneys())));
    for (const s of plan.scenarios) expect(s.iterations, s.id).toBeGreaterThanOrEqual(1);
  });

  it.each([
    ['prime-day', 172800, 'doors-open', 10],
    ['prime-day', 172800, 'lightning-deal-1', 10],
    ['prime-day-4d', 345600, 'doors-open', 10],
    ['flash-sale', 3600, 'sale-opens', 10],
    ['product-drop', 1800, 'drop', 50],
    ['black-friday', 345600, 'doors-open', 12],
  ])('%s lasts %d event seconds and its %s burst is %dx', (name, seconds, burst, multiplier) => {
    const plan = compilePlan(loadProfile(name), { whole: true });
    expect(plan.profile.eventSeconds).toBe(seconds);
    expect(plan.bursts.find((b) => b.name === burst)?.multiplier).toBe(multiplier);
  });

  it('flash-sale reaches 10x within 60 s of the sale opening', () => {
    const plan = compilePlan(loadProfile('flash-sale'), { whole: true });
    const b = plan.bursts[0];
    if (!b) throw new Error('no burst');
    expect(b.peakStart - b.start).toBeLessThanOrEqual(60);
  });

  it('prime-day drifts to mobile in the evening', () => {
    const p = loadProfile('prime-day');
    const mobile = p.model.channels.find((c) => c.name === 'mobile-app');
    if (!mobile) throw new Error('no mobile-app channel');
    expect(evaluate(mobile.share, 19 * 3600)).toBeGreaterThan(evaluate(mobile.share, 12 * 3600));
    expect(evaluate(mobile.share, 43 * 3600)).toBeGreaterThan(evaluate(mobile.share, 36 * 3600));
  });

  it('web and social journeys request pages; the mobile app keeps GraphQL; POS and voice call the REST API', () => {
    for (const p of profiles) {
      const model = loadProfile(p).model;
      for (const c of model.channels) {
        const channel = c.name;
        const steps = Object.keys(c.journeys).flatMap((j) => model.journeys[j]?.steps ?? []);
        const pages = steps.filter((s) => s.operation?.endsWith('Page')).length;
        const where = `${p}/${channel}`;
        if (channel === 'web' || channel === 'social') expect(pages, where).toBeGreaterThan(0);
        else expect(pages, where).toBe(0);
        if (channel === 'mobile-app')
          expect(
            steps.every((s) => s.operation === 'graphql'),
            where,
          ).toBe(true);
      }
    }
  });

  it('every built-in journey step uses the reference API exactly, with its operation id', () => {
    const journeys = { ...builtinJourneys(), ...loadProfile('product-drop').model.journeys };
    for (const [name, j] of Object.entries(journeys)) {
      for (const step of j.steps) {
        const where = `${name}/${step.name}`;
        expect(step.operation, where).toBeDefined();
        const api = API[step.operation as string];
        expect(api, where).toBeDefined();
        expect(step.method, where).toBe(api?.[0]);
        expect(step.path, where).toMatch(api?.[1] as RegExp);
        if (step.operation === 'graphql') expect(step.graphql?.query, where).toBeTruthy();
      }
    }
  });
});

describe('docs/profiles.md', () => {
  it('has a full example that validates and compiles', () => {
    const doc = readFileSync(new URL('../docs/profiles.md', import.meta.url), 'utf8');
    const start = doc.indexOf('```yaml\n') + 8;
    const text = doc.slice(start, doc.indexOf('```', start));
    const dir = mkdtempSync(join(tmpdir(), 'peakday-docs-'));
    writeFileSync(join(dir, 'my-launch.yaml'), text);
    writeFileSync(join(dir, 'accounts.csv'), 'id,name\na1,Alice\n');
    const model = parseProfile(readYamlSource(join(dir, 'my-launch.yaml')), {
      builtinJourneys: builtinJourneys(),
      env: { PARTNER_TOKEN: 'x' },
    });
    const plan = compilePlan({ model, file: 'my-launch.yaml', builtin: false, hash: 'doc' }, {});
    expect(model.shape.map((s) => s.type)).toEqual([
      'baseline',
      'diurnal',
      'trend',
      'burst',
      'schedule',
      'pause',
      'noise',
    ]);
    expect(plan.scenarios.map((s) => s.channel)).toContain('partner-api');
  });
});
