import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCsv } from '../../scenarios/data-pools.ts';
import type { Journey } from '../../scenarios/journey.ts';
import { exportK6Script } from '../../scenarios/k6-export.ts';
import { createTestPlan } from '../test-support.ts';
import { runK6 } from './driver.ts';
import { standInK6 } from './stand-in.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CSV = 'id,name\nc-001,"Ada, Countess"\nc-002,"Quote ""Q"""\n\nc-003,Lin\n';
const JSON_POOL = [{ code: 'SAVE10' }, { code: 'FREESHIP' }];

const journey: Journey = {
  name: 'loyal',
  steps: [
    {
      name: 'account',
      method: 'GET',
      path: '/api/customers/{{shopper}}?coupon={{coupon}}',
    },
  ],
  requestsPerIteration: 1,
  data: {
    shopper: { pool: 'shoppers', field: 'id' },
    coupon: { pool: 'coupons', field: 'code', pick: 'sequential' },
  },
};

function poolDir(): { dir: string; userPools: { name: string; file: string; format: 'csv' | 'json' }[] } {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-pools-'));
  writeFileSync(join(dir, 'shoppers.csv'), CSV);
  writeFileSync(join(dir, 'coupons.json'), JSON.stringify(JSON_POOL));
  return {
    dir,
    userPools: [
      { name: 'shoppers', file: join(dir, 'shoppers.csv'), format: 'csv' },
      { name: 'coupons', file: join(dir, 'coupons.json'), format: 'json' },
      { name: 'unused', file: join(dir, 'missing.csv'), format: 'csv' },
    ],
  };
}

/**
 * Runs an exported plain-JS script's init code and one iteration the way k6 would, with k6's
 * modules stubbed: `open()` reads relative to the script's directory (k6's InitContext.Open joins
 * relative paths with the script's directory), SharedArray calls its function once.
 */
function runLikeK6(script: string, scriptDir: string) {
  const urls: string[] = [];
  const body = script
    .replace(/^import .*$/gm, '')
    .replace(/^export const options/m, 'const options')
    .replace(/^export function /gm, 'function ');
  const fns = [...script.matchAll(/^export function (\w+)\(/gm)].map((m) => m[1] as string);
  const k6 = {
    open: (f: string) => readFileSync(join(scriptDir, f), 'utf8'),
    SharedArray: function SharedArray(_name: string, fn: () => unknown[]) {
      return fn();
    },
    http: {
      request: (_m: string, url: string) => {
        urls.push(url);
        return { status: 200, body: '{}', headers: {}, timings: {}, json: () => ({}) };
      },
      CookieJar: function CookieJar() {},
    },
    check: () => true,
    randomSeed: () => undefined,
    sleep: () => undefined,
    exec: { vu: { idInTest: 1 }, scenario: { iterationInTest: 0 } },
    __ENV: {},
  };
  const run = new Function(
    ...Object.keys(k6),
    `${body}\nreturn { POOLS, run: function () { ${fns.map((f) => `${f}();`).join(' ')} } };`,
  )(...Object.values(k6)) as { POOLS: Record<string, { values: unknown[] }>; run: () => void };
  return { POOLS: run.POOLS, iterate: run.run, urls };
}

describe('user data pools with the k6 driver', () => {
  it('copies the bound pool files beside the script, which loads them into SharedArrays with open()', async () => {
    const { userPools } = poolDir();
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-k6-run-'));
    const plan = createTestPlan([{ journey, rate: 10 }], 3);
    const r = await runK6({
      plan,
      target: new URL('http://127.0.0.1:18090'),
      outDir: join(tmp, 'run'),
      options: { driver: 'k6' },
      k6Bin: standInK6(tmp),
      noHandshake: true,
      userPools,
      env: { ...process.env, STANDIN_FIXTURE: 'channels', STANDIN_ARGS: join(tmp, 'args.json') },
    });
    expect(readFileSync(join(r.dir, 'k6-data', 'shoppers.csv'), 'utf8')).toBe(CSV);
    expect(JSON.parse(readFileSync(join(r.dir, 'k6-data', 'coupons.json'), 'utf8'))).toEqual(JSON_POOL);
    const script = readFileSync(join(r.dir, 'k6-script.js'), 'utf8');
    expect(script).toContain(
      'new SharedArray("pool:shoppers", function () { return parseCsv(open("k6-data/shoppers.csv")); })',
    );
    expect(script).toContain(
      'new SharedArray("pool:coupons", function () { return JSON.parse(open("k6-data/coupons.json")); })',
    );
    expect(script).not.toContain('Ada, Countess');

    const k6 = runLikeK6(script, r.dir);
    // The script reads the files as the embedded engine does (same CSV grammar).
    expect(k6.POOLS.shoppers?.values).toEqual(parseCsv(CSV));
    expect(k6.POOLS.shoppers?.values).toHaveLength(3);
    expect(k6.POOLS.coupons?.values).toEqual(JSON_POOL);
    k6.iterate();
    expect(k6.urls).toHaveLength(1);
    expect(k6.urls[0]).toMatch(/\/api\/customers\/c-00[123]\?coupon=(SAVE10|FREESHIP)$/);
  });

  it('refuses a bound pool file it cannot copy, naming the pool', async () => {
    const { dir, userPools } = poolDir();
    const broken = userPools.map((p) => (p.name === 'shoppers' ? { ...p, file: join(dir, 'gone.csv') } : p));
    const tmp = mkdtempSync(join(tmpdir(), 'peakday-k6-run-'));
    await expect(
      runK6({
        plan: createTestPlan([{ journey, rate: 10 }], 3),
        target: new URL('http://127.0.0.1:18090'),
        outDir: join(tmp, 'run'),
        options: {},
        k6Bin: standInK6(tmp),
        noHandshake: true,
        userPools: broken,
        env: { ...process.env, STANDIN_FIXTURE: 'channels', STANDIN_ARGS: join(tmp, 'args.json') },
      }),
    ).rejects.toMatchObject({ code: 'data-pool-invalid', message: expect.stringMatching(/shoppers/) });
  });

  const poolFiles = {
    shoppers: { file: 'k6-data/shoppers.csv', format: 'csv' as const },
    coupons: { file: 'k6-data/coupons.json', format: 'json' as const },
  };

  it('exports plain JavaScript without APIs newer than k6 v0.45', () => {
    const plan = createTestPlan([{ journey, rate: 10 }], 3);
    const { script } = exportK6Script(plan, { baseUrl: 'http://127.0.0.1:8080', poolFiles });
    const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-js-'));
    writeFileSync(join(dir, 'script.mjs'), script);
    expect(() => execFileSync(process.execPath, ['--check', join(dir, 'script.mjs')])).not.toThrow();
    // k6 v0.45's JavaScript runtime (goja) predates these; the modules are all in v0.45.
    expect(script).not.toMatch(/\?\.|\?\?|^\s*await |import\.meta|k6\/experimental|k6\/secrets/m);
    const modules = [...script.matchAll(/from '([^']+)'/g)].map((m) => m[1]);
    expect(new Set(modules)).toEqual(new Set(['k6/http', 'k6', 'k6/execution', 'k6/data']));
  });

  it('exports TypeScript that type-checks against @types/k6', () => {
    const plan = createTestPlan([{ journey, rate: 10 }], 3);
    const { script } = exportK6Script(plan, {
      baseUrl: 'http://127.0.0.1:8080',
      poolFiles,
      typescript: true,
    });
    expect(script).toContain('parseCsv(open("k6-data/shoppers.csv"))');
    const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-ts-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'script.ts'), script);
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
        files: ['script.ts'],
      }),
    );
    let out = '';
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
        stdio: 'pipe',
        cwd: dir,
      });
    } catch (e) {
      out = String((e as { stdout?: Buffer }).stdout ?? e);
    }
    expect(out).toBe('');
  }, 60_000);
});
