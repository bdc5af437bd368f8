/**
 * `peakday stack up --store dynamodb --aws-endpoint URL` end to end through the real CLI: dynalite
 * runs in this test process on 127.0.0.1 (an ephemeral port), the stack's replicas are real
 * processes keeping their carts, stock, orders and events in its tables; a checkout goes through the
 * API, `stack verify` checks the invariants on the tables, and bad flags or a dead endpoint exit
 * with their documented codes.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localTableNames, openDynamoStore } from '../reference-stack/store/dynamodb.ts';
import { runCli } from './cli-helper.ts';
import { startDynalite } from './dynalite-helper.ts';

const env = { PEAKDAY_STACK_WORKER: undefined };
const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peakday-stack-ddb-'));
  dirs.push(d);
  return d;
}

afterAll(async () => {
  for (const d of dirs.splice(0)) {
    if (existsSync(join(d, '.peakday', 'stack.json'))) await runCli(['stack', 'down'], { cwd: d, env });
    rmSync(d, { recursive: true, force: true });
  }
});

async function json(url: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('peakday stack up --store dynamodb', () => {
  it('runs the monolith on DynamoDB tables it creates, checks out, and verifies the invariants there', {
    timeout: 300_000,
  }, async () => {
    const dynalite = await startDynalite();
    const dir = freshDir();
    try {
      const up = await runCli(
        [
          'stack',
          'up',
          '--detach',
          '--arch',
          'monolith',
          '--warm',
          '0',
          '--port',
          '0',
          '--json',
          '--store',
          'dynamodb',
          '--aws-endpoint',
          dynalite.endpoint,
          '--table-prefix',
          'cli-e2e',
        ],
        { cwd: dir, env, timeoutMs: 280_000 },
      );
      expect(up.stderr).not.toMatch(/NodeVersionSupportWarning|\n\s+at /);
      expect(up.code).toBe(0);
      const state = JSON.parse(up.stdout) as { url: string; dynamodb?: { tables: Record<string, string> } };
      expect(state.dynamodb?.tables.orders).toBe('cli-e2e-orders');

      const products = await json(`${state.url}/api/products?page=1&limit=1`);
      const product = (products.body.items as { id: string; sku: string }[])[0]!;
      const cart = await json(`${state.url}/api/carts`, 'POST', { channel: 'web' });
      const cartId = cart.body.id as string;
      expect(
        (await json(`${state.url}/api/carts/${cartId}/items`, 'POST', { sku: product.sku, quantity: 1 }))
          .status,
      ).toBe(200);
      const checkout = await json(
        `${state.url}/api/checkout`,
        'POST',
        { cartId, paymentToken: 'tok_ok' },
        { 'idempotency-key': 'cli-e2e-1' },
      );
      expect(checkout.status).toBe(201);
      const orderId = checkout.body.orderId as string;

      // The order is in the DynamoDB table, not in a SQLite file.
      const store = await openDynamoStore({
        endpoint: dynalite.endpoint,
        region: 'us-east-1',
        tables: localTableNames('cli-e2e'),
      });
      try {
        expect((await store.get('orders', { orderId }))?.status).toBe('confirmed');
      } finally {
        store.close();
      }

      // Events are delivered after commit; verify once the outbox has drained.
      let report: { ok: boolean; checks: { name: string; ok: boolean; count: number }[] } | undefined;
      for (let i = 0; i < 100; i++) {
        const v = await runCli(['stack', 'verify', '--json'], { cwd: dir, env });
        report = JSON.parse(v.stdout) as typeof report;
        if (report?.ok) break;
        await new Promise((r) => setTimeout(r, 300));
      }
      expect(report?.checks.filter((c) => !c.ok)).toEqual([]);
      expect(report?.checks.find((c) => c.name === 'orders-exactly-once')?.count).toBe(1);
      const down = await runCli(['stack', 'down'], { cwd: dir, env });
      expect(down.code).toBe(0);
    } finally {
      await dynalite.stop();
    }
  });

  it('refuses --store dynamodb without an endpoint (exit 2) and a dead endpoint (exit 7), starting nothing', {
    timeout: 120_000,
  }, async () => {
    const dir = freshDir();
    const bad = await runCli(['stack', 'up', '--store', 'dynamodb', '--port', '0'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--aws-endpoint.*required with --store dynamodb/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
    const stray = await runCli(['stack', 'up', '--aws-endpoint', 'http://127.0.0.1:1', '--port', '0'], {
      cwd: dir,
      env,
    });
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/--aws-endpoint.*only with --store dynamodb/);

    // A port that was free a moment ago: nothing answers there.
    const port = await new Promise<number>((resolve) => {
      const srv = createServer();
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as { port: number }).port;
        srv.close(() => resolve(p));
      });
    });
    const dead = await runCli(
      [
        'stack',
        'up',
        '--arch',
        'monolith',
        '--port',
        '0',
        '--store',
        'dynamodb',
        '--aws-endpoint',
        `http://127.0.0.1:${port}`,
      ],
      { cwd: dir, env, timeoutMs: 110_000 },
    );
    expect(dead.stderr).toMatch(/stack-store-unreachable|did not create the stack's tables/);
    expect(dead.stderr).not.toMatch(/\n\s+at /);
    expect(dead.code).toBe(7);
    expect(existsSync(join(dir, '.peakday', 'stack.json'))).toBe(false);
  });
});
