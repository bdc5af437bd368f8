/**
 * A worker started the way ECS starts a task (no parent, its AWS configuration in the variables
 * infra/reference-stack/stack.ts passes: PEAKDAY_TABLE_<NAME>, AWS_REGION, with PEAKDAY_AWS_ENDPOINT
 * pointing the clients at dynalite started in this test): two monolith tasks share carts, stock and
 * orders through the tables, the catalog table is filled once, and a worker without the variables
 * keeps SQLite and never loads the AWS SDK.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDynamoStore } from '../reference-stack/store/dynamodb.ts';
import { TABLE_NAMES, tableEnvVar } from '../reference-stack/store/dynamodb-tables.ts';
import { WORKER_ENV, type WorkerConfig } from '../reference-stack/worker-protocol.ts';
import { createCatalog } from '../scenarios/catalog.ts';
import { startDynalite, type TestDynamo } from './dynalite-helper.ts';

const WORKER = fileURLToPath(new URL('../reference-stack/worker.ts', import.meta.url));
const RECORDER = pathToFileURL(fileURLToPath(new URL('./module-recorder.ts', import.meta.url))).href;
const PRODUCTS = 300;

const dirs: string[] = [];
const children: ChildProcess[] = [];
let dynalite: TestDynamo;

beforeAll(async () => {
  dynalite = await startDynalite();
}, 60_000);
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await dynalite?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The environment without any AWS or peakday variable of the host running the tests. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(AWS_|PEAKDAY_)/.test(k)) env[k] = v;
  return env;
}

interface Task {
  url: string;
  modulesFile: string;
  stderr: () => string;
  stop(): Promise<number | null>;
}

/** Starts reference-stack/worker.ts as ECS would (the monolith's PEAKDAY_WORKER, no IPC). */
async function startTask(extraEnv: Record<string, string>): Promise<Task> {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-aws-task-'));
  dirs.push(dir);
  const config: WorkerConfig = {
    arch: 'monolith',
    service: 'monolith',
    port: 0,
    host: '127.0.0.1',
    dataDir: join(dir, 'data'),
    peers: {},
    taskSize: { vcpu: 1, memoryGb: 2 },
    timeScale: 1,
    eventStart: 0,
    capacity: { disabled: true },
    domain: { catalogProducts: PRODUCTS, paymentMedianMs: 5, paymentSigma: 0.2, paymentFailureRate: 0 },
  };
  const modulesFile = join(dir, 'modules.json');
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', RECORDER, WORKER], {
    env: {
      ...cleanEnv(),
      ...extraEnv,
      [WORKER_ENV]: JSON.stringify(config),
      PEAKDAY_TEST_MODULES_OUT: modulesFile,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  // 'close': after the exit and the end of its output, so a failing task's stderr is whole.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the task did not listen in 90 s: ${err}`)), 90_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the task exited ${code} before listening: ${err}`));
    });
  });
  return {
    url,
    modulesFile,
    stderr: () => err,
    stop: async () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

async function call(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const loaded = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as string[];
const awsSdk = (paths: string[]) => paths.filter((p) => /[\\/]@aws-sdk[\\/]/.test(p));

describe('a worker on ECS', () => {
  it('takes its tables from PEAKDAY_TABLE_<NAME> and AWS_REGION: two tasks share carts, stock and orders, and the catalog table is filled once', {
    timeout: 240_000,
  }, async () => {
    const tables = dynalite.config.tables;
    const env: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      PEAKDAY_AWS_ENDPOINT: dynalite.endpoint,
    };
    for (const t of TABLE_NAMES) env[tableEnvVar(t)] = tables[t]!;
    // Two tasks starting at once, as ECS starts a service's desired count.
    const [a, b] = await Promise.all([startTask(env), startTask(env)]);

    const products = await call(`${a.url}/api/products?page=1&limit=1`);
    const product = (products.body.items as { sku: string }[])[0]!;
    // A cart created on one task is found and changed on the other.
    const cart = await call(`${a.url}/api/carts`, 'POST', { channel: 'web' });
    expect(cart.status).toBe(201);
    const cartId = cart.body.id as string;
    expect(
      (await call(`${b.url}/api/carts/${cartId}/items`, 'POST', { sku: product.sku, quantity: 2 })).status,
    ).toBe(200);
    const seen = await call(`${a.url}/api/carts/${cartId}`);
    expect(seen.body.items).toEqual([expect.objectContaining({ sku: product.sku, quantity: 2 })]);
    // One order for one key, whichever task the retry lands on.
    const key = { 'idempotency-key': 'aws-task-1' };
    const first = await call(`${b.url}/api/checkout`, 'POST', { cartId, paymentToken: 'tok_ok' }, key);
    expect(first.status).toBe(201);
    const retry = await call(`${a.url}/api/checkout`, 'POST', { cartId, paymentToken: 'tok_ok' }, key);
    expect(retry.body.orderId).toBe(first.body.orderId);

    const store = await openDynamoStore(dynalite.config);
    try {
      expect((await store.get('orders', { orderId: String(first.body.orderId) }))?.status).toBe('confirmed');
      const stock = await store.get('stock', { sku: product.sku, location: 'online' });
      expect(stock?.sold).toBe(2);
      // The catalog table holds every product once, by id and by category (the byCategory index).
      const catalog = createCatalog({ seed: 1, products: PRODUCTS });
      const items = (await store.scan('catalog')).filter((i) => !String(i.productId).startsWith('#'));
      expect(items).toHaveLength(PRODUCTS);
      const cat = catalog.categories[0]!;
      const listed = await store.query('catalog', 'category = :c', {
        index: 'byCategory',
        values: { ':c': cat.id },
      });
      expect(listed).toHaveLength(cat.productCount);
      expect(await store.get('catalog', { productId: `#seeded#1/${PRODUCTS}` })).toMatchObject({
        seedState: 'done',
      });
    } finally {
      store.close();
    }

    expect(await a.stop()).toBe(0);
    expect(await b.stop()).toBe(0);
    expect(a.stderr()).not.toMatch(/NodeVersionSupportWarning|\n\s+at /);
    // The recorder can see the SDK when it is loaded (so its silence below means something).
    expect(awsSdk(loaded(a.modulesFile)).some((p) => p.includes('client-dynamodb'))).toBe(true);
  });

  it('without the variables keeps SQLite and never loads an @aws-sdk module', {
    timeout: 120_000,
  }, async () => {
    const task = await startTask({});
    const products = await call(`${task.url}/api/products?page=1&limit=1`);
    expect(products.status).toBe(200);
    const cart = await call(`${task.url}/api/carts`, 'POST', { channel: 'web' });
    expect(cart.status).toBe(201);
    expect(await task.stop()).toBe(0);
    expect(existsSync(task.modulesFile)).toBe(true);
    const paths = loaded(task.modulesFile);
    // The recorder saw the CommonJS packages the task did load (its SQLite driver).
    expect(paths.some((p) => p.includes('better-sqlite3'))).toBe(true);
    expect(awsSdk(paths)).toEqual([]);
  });

  it('refuses tables without a region before it listens, naming the variables', {
    timeout: 60_000,
  }, async () => {
    await expect(startTask({ PEAKDAY_TABLE_CARTS: 'carts-t' })).rejects.toThrow(
      /exited 1 before listening: .*PEAKDAY_TABLE_CARTS is set but AWS_REGION is not/s,
    );
  });
});
