/**
 * The engine's own HTTP/1.1 connection (engine/http1-connection.ts) over TLS: `peakday run` against an
 * HTTPS target on 127.0.0.1 with a certificate made here (openssl, trusted through
 * NODE_EXTRA_CA_CERTS as a user trusts a private CA), keep-alive across requests, checks passing,
 * every request counted on both sides. Deployed stacks with a certificate ARN are HTTPS.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';
import { runCli } from './cli-helper.ts';

const dir = mkdtempSync(join(tmpdir(), 'peakday-https-'));
const key = join(dir, 'key.pem');
const cert = join(dir, 'cert.pem');
let server: Server;
let url = '';
let requests = 0;
const sockets = new Set<unknown>();

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    if (!req.url?.startsWith('/_peakday/')) requests++;
    res.setHeader('content-type', 'application/json');
    res.end('{"id":"p-000001","price":{"amount":19.99,"currency":"USD"}}');
  });
  server.on('secureConnection', (s) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('peakday run against an HTTPS target', () => {
  it('plays the plan over TLS with kept-alive connections, every request answered and counted', async () => {
    const plan = join(dir, 'plan.json');
    writeFileSync(
      plan,
      JSON.stringify(createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 40 }], 3)),
    );
    const out = join(dir, 'run');
    const r = await runCli(['run', '--plan', plan, '--target', url, '--out', out], {
      env: { NODE_EXTRA_CA_CERTS: cert },
    });
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code).toBe(0);
    const run = readRun(out);
    expect(run.meta.endReason).toBe('completed');
    const total = run.summary?.requests.total ?? 0;
    expect(total).toBeGreaterThanOrEqual(100);
    expect(run.summary?.requests.failed).toBe(0);
    expect(requests).toBe(total);
    // Keep-alive: far fewer TLS handshakes than requests.
    expect(sockets.size).toBeLessThan(total / 4);
  });

  it('stops at the circuit breaker when the certificate is not trusted (exit 97), and names TLS', async () => {
    const plan = join(dir, 'plan2.json');
    writeFileSync(
      plan,
      JSON.stringify(createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 10 }], 15)),
    );
    const out = join(dir, 'run2');
    const before = requests;
    const r = await runCli(['run', '--plan', plan, '--target', url, '--out', out], {
      env: { NODE_EXTRA_CA_CERTS: undefined },
    });
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(requests).toBe(before);
    expect(r.code).toBe(97);
    expect(r.stdout + r.stderr).toMatch(/TLS .*NODE_EXTRA_CA_CERTS/);
    const run = readRun(out);
    expect(run.meta.endReason).toBe('circuit-breaker');
    expect(run.summary?.requests.total ?? 0).toBeGreaterThan(0);
    expect(run.summary?.requests.failed).toBe(run.summary?.requests.total);
  });
});
