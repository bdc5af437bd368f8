/**
 * A k6 that fails for its own reasons, through the real CLI and a real k6 (K6_BIN): not "internal
 * error" (exit 1) but what its exit code means (engine/k6/exit-codes.ts, docs/errors.md). The script
 * case: a compiled plan whose journey needs a secret the environment does not hold, played with
 * `run --plan` (a plan file is not re-validated against the environment as a profile is), so the
 * exported script throws at start and k6 exits 107. The options case: a K6_* variable k6 cannot
 * read (k6 exit 104).
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlan, getJourney, startTestServer, type TestServer } from '../engine/test-support.ts';
import { deadPort, runCli } from './cli-helper.ts';

const K6_BIN = process.env.K6_BIN;
const SECRET = 'PEAKDAY_EXIT_CODE_TEST_TOKEN';

describe.runIf(K6_BIN)("k6's own failures through peakday run --driver k6 (real k6)", () => {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-exit-'));
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('a script that throws at start (k6 exit 107): exit 2, k6-script-error, no load sent', async () => {
    const journey = {
      ...getJourney('browse', ['/a']),
      auth: { header: 'Authorization', prefix: 'Bearer ', fromEnv: SECRET },
    };
    const plan = join(dir, 'plan.json');
    writeFileSync(plan, JSON.stringify(createTestPlan([{ journey, rate: 5 }], 5)));
    const out = join(dir, 'run');
    const r = await runCli(
      [
        'run',
        '--plan',
        plan,
        '--driver',
        'k6',
        '--k6-bin',
        K6_BIN as string,
        '--target',
        server.url,
        '--no-stack-handshake',
        '--out',
        out,
      ],
      { env: { [SECRET]: undefined }, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).toContain('error[k6-script-error]');
    expect(r.stderr).toContain('k6 exit 107');
    // What k6 printed is kept, and names the missing secret.
    expect(readFileSync(join(out, 'k6-console.txt'), 'utf8')).toContain(`set environment variable ${SECRET}`);
    expect(existsSync(join(out, 'meta.json'))).toBe(true);
    expect(server.received.requests.filter((q) => q.url === '/a')).toEqual([]);
  }, 90_000);

  it('options k6 rejects (a bad K6_DURATION in the environment, k6 exit 104): exit 2, k6-config-invalid', async () => {
    const plan = join(dir, 'plan-ok.json');
    writeFileSync(
      plan,
      JSON.stringify(createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 5 }], 5)),
    );
    const out = join(dir, 'run-config');
    const r = await runCli(
      [
        'run',
        '--plan',
        plan,
        '--driver',
        'k6',
        '--k6-bin',
        K6_BIN as string,
        '--target',
        server.url,
        '--no-stack-handshake',
        '--out',
        out,
      ],
      { env: { K6_DURATION: 'bogus' }, timeoutMs: 60_000 },
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[k6-config-invalid]');
    expect(r.stderr).toContain('k6 exit 104');
    expect(readFileSync(join(out, 'k6-console.txt'), 'utf8')).toContain('K6_DURATION');
  }, 90_000);

  it('a target that is not there: the circuit breaker stops k6 as it stops the engine (exit 97)', async () => {
    const port = await deadPort();
    const out = join(dir, 'dead');
    const started = Date.now();
    const r = await runCli(
      [
        'run',
        'ci-smoke',
        '--driver',
        'k6',
        '--k6-bin',
        K6_BIN as string,
        '--target',
        `http://127.0.0.1:${port}`,
        '--out',
        out,
      ],
      { timeoutMs: 120_000 },
    );
    expect(r.code, r.stderr).toBe(97);
    expect(r.stderr).toMatch(
      /stopped: circuit breaker: connection refused on 127\.0\.0\.1:\d+: is the target running\?/,
    );
    // The plan is 40 s; the breaker needs 5 s of refusals and k6's points 5 s past them.
    expect(Date.now() - started).toBeLessThan(35_000);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as {
      endReason: string;
      endDetail: string;
    };
    expect(meta.endReason).toBe('circuit-breaker');
    expect(meta.endDetail).toMatch(/connection refused/);
    // The last line names the refusals, not k6's failed checks on requests that got no answer.
    expect(r.stderr.trim().split('\n').pop()).toMatch(/mostly: connection refused on 127\.0\.0\.1:\d+/);
  }, 150_000);
});
