import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunMeta } from '../core/run-format.ts';
import { runCli } from './cli-helper.ts';

// A loopback target that fails every request, so an abortOnFail error budget must stop the run.
const server = createServer((_req, res) => {
  res.writeHead(500, { 'content-type': 'application/json' });
  res.end('{"error":{"code":"down","message":"always failing"}}');
});
let target = '';

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

describe('peakday run --budgets with abortOnFail', () => {
  it('stops the load as soon as the budget is breached, exit 99, and records why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-abort-'));
    const budgets = join(dir, 'budgets.yaml');
    writeFileSync(
      budgets,
      'budgets:\n  - name: errors stop the run\n    metric: error_rate\n    threshold: rate < 50%\n    minSamples: 5\n    abortOnFail: true\n',
    );
    const out = join(dir, 'run');
    const r = await runCli(
      [
        'run',
        'ci-smoke',
        '--target',
        target,
        '--budgets',
        budgets,
        '--circuit-breaker',
        'off',
        '--no-stack-handshake',
        '--out',
        out,
      ],
      { timeoutMs: 90_000 },
    );
    expect(r.code).toBe(99);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as RunMeta;
    expect(meta.endReason).toBe('budget-abort');
    expect(meta.endDetail).toMatch(
      /budget "errors stop the run" breached \(abortOnFail\): rate < 50%, observed 100%/,
    );
    // ci-smoke plans 40 wall seconds; the budget stops it long before the end.
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      partial: boolean;
      durationSeconds: number;
    };
    expect(summary.partial).toBe(true);
    expect(summary.durationSeconds).toBeLessThan(30);
  });
});
