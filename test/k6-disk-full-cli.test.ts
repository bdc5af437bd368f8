/**
 * A full disk under the k6 driver, through the real CLI and a real k6 (K6_BIN): k6 itself logs its
 * failed writes and plays on, so the driver reads its log, stops it, and ends the run as the embedded
 * engine does (test/run-failures-cli.test.ts): exit 98, meta.json says why with the path and the
 * cause, what was written stays readable, and report/gate work on it (issue "Nothing lost, nothing
 * misleading", defect 1). A file-size limit (`ulimit -f`) stands in for the full disk: it fails the
 * same writes with EFBIG where mounting a small file system needs privileges tests do not have.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNdjsonLines } from '../core/run-directory.ts';
import { runCli } from './cli-helper.ts';

const K6_BIN = process.env.K6_BIN;

describe.runIf(K6_BIN)('a full disk under the k6 driver (real k6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-full-'));
  const profile = join(dir, 'tiny.yaml');
  const budgets = join(dir, 'budgets.yaml');
  let server: Server;
  let target = '';

  beforeAll(async () => {
    server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ id: 'p1', price: { amount: 1, currency: 'USD' }, items: [] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    writeFileSync(budgets, 'version: 1\nbudgets:\n  - metric: latency_send\n    threshold: p95 < 2s\n');
    writeFileSync(
      profile,
      'name: tiny\nevent:\n  duration: 10m\nlocal:\n  peakRps: 40\n  duration: 20s\nshape:\n  - baseline: { level: 1 }\nchannels:\n  web:\n    share: 1\n    journeys: { product-page: 1 }\n',
    );
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  it('stops k6, keeps what was written readable, says why in meta.json, and report/gate still work', async () => {
    const out = join(dir, 'run');
    // 64 KiB per file: the script, plan and meta fit; k6's JSON output reaches the limit within a second.
    const run = await runCli(
      [
        'run',
        profile,
        '--driver',
        'k6',
        '--k6-bin',
        K6_BIN as string,
        '--target',
        target,
        '--circuit-breaker',
        'off',
        '--out',
        out,
      ],
      { fileSizeLimitKiB: 64, timeoutMs: 60_000 },
    );
    expect(run.code, run.stderr).toBe(98);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(run.stderr).not.toContain('internal error');
    expect(run.stderr).toContain(`stopped: cannot write ${join(out, 'k6-out.ndjson')}: file too large`);
    expect(run.stderr).toContain('(EFBIG)');
    expect(run.stdout).toContain('ended: error (partial)');
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.endReason).toBe('error');
    expect(meta.endDetail).toContain(join(out, 'k6-out.ndjson'));
    expect(meta.endDetail).toContain('EFBIG');
    expect(meta.valid).toBe(false);
    // k6 was stopped: it did not play the 20 s planned (it logged "interrupted iterations").
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).durationSeconds).toBeLessThan(10);
    expect(readFileSync(join(out, 'k6-console.txt'), 'utf8')).toMatch(/\d+ interrupted iterations/);
    let records = 0;
    for await (const _ of readNdjsonLines(join(out, 'series.ndjson'))) records++;
    expect(records).toBeGreaterThan(0);

    const report = await runCli(['report', out, '--out', join(dir, 'report')]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toContain('PARTIAL RUN: ');
    expect(report.stdout).toContain('INVALID RUN: ');
    expect(report.stdout).toContain('the run directory could not be written');
    const gate = await runCli(['gate', out, '--budgets', budgets]);
    expect(gate.code, gate.stderr).toBe(98);
    expect(gate.stdout).toContain('INCONCLUSIVE');
  }, 120_000);
});
