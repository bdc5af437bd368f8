import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { k6SummaryCount, standInK6 } from '../engine/k6/stand-in.ts';
import { createTestPlan, getJourney, startTestServer, type TestServer } from '../engine/test-support.ts';
import { runCli, startCli } from './cli-helper.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

/** Requests the load sent (the stack handshake's GET /_peakday/info is not load). */
function loadRequests(s: TestServer): number {
  return s.received.requests.filter((r) => !r.url.startsWith('/_peakday/')).length;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'peakday-run-cli-'));
}

function planFile(dir: string, rate: number, seconds: number): string {
  const file = join(dir, 'plan.json');
  writeFileSync(
    file,
    JSON.stringify(createTestPlan([{ journey: getJourney('browse', ['/a']), rate }], seconds)),
  );
  return file;
}

describe('peakday run', () => {
  it('plays a built-in profile against a local server and writes a documented run directory', async () => {
    const s = await startTestServer();
    servers.push(s);
    const dir = tmp();
    const r = await runCli([
      'run',
      'ci-smoke',
      '--target',
      s.url,
      '--duration',
      '3s',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.endReason).toBe('completed');
    expect(run.meta.profile.name).toBe('ci-smoke');
    expect(run.summary?.iterations.planned).toBeGreaterThan(0);
    expect(run.summary?.requests.total).toBe(loadRequests(s));
    for (const f of ['meta.json', 'plan.json', 'series.ndjson', 'engine.ndjson', 'summary.json'])
      expect(existsSync(join(dir, 'run', f))).toBe(true);
    expect(r.stdout).toMatch(/run directory: /);
    expect(r.stdout).toMatch(/valid: /i);
  });

  it('stops at the circuit breaker with exit 97 and records why', async () => {
    const s = await startTestServer((_q, res) => {
      res.statusCode = 500;
      res.end('{}');
    });
    servers.push(s);
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 30, 30),
      '--target',
      s.url,
      '--circuit-breaker',
      '0.5:2',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.code).toBe(97);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.endReason).toBe('circuit-breaker');
    expect(run.summary?.partial).toBe(true);
    expect(r.stderr).toMatch(/circuit breaker/);
  });

  it('stops a dead target at 2 requests a second within 5 s, exit 97, naming the cause', async () => {
    // A port nothing listens on: bound, then closed.
    const gone = await startTestServer();
    const port = new URL(gone.url).port;
    await gone.close();
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 2, 30),
      '--target',
      `http://127.0.0.1:${port}`,
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.code).toBe(97);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.endReason).toBe('circuit-breaker');
    expect(run.meta.endDetail).toContain(`connection refused on 127.0.0.1:${port}: is the target running?`);
    expect(r.stderr).toContain(`connection refused on 127.0.0.1:${port}`);
    // Tripped on the 5th wall second of failures (the default 0.5:5), not later.
    const walls: number[] = [];
    for await (const rec of run.series()) walls.push(rec.wall);
    expect(Math.max(...walls)).toBeLessThanOrEqual(5);
    expect(run.summary?.requests.errors.refused).toBeGreaterThanOrEqual(10);
  });

  it('plays a plan on 2 engine workers and writes one run directory', async () => {
    const s = await startTestServer();
    servers.push(s);
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 40, 3),
      '--target',
      s.url,
      '--workers',
      '2',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/on 2 engine workers/);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.options.workers).toBe(2);
    expect(run.meta.notes.join('\n')).toMatch(/ran on 2 worker threads/);
    expect(run.summary?.iterations.started).toBe(run.summary?.iterations.planned);
    expect(run.summary?.requests.total).toBe(loadRequests(s));
  });

  it('plays a closed loop with --closed-loop, its virtual users split across workers', async () => {
    const s = await startTestServer();
    servers.push(s);
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 1, 2),
      '--target',
      s.url,
      '--closed-loop',
      '3',
      '--workers',
      '2',
      '--no-stack-handshake',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/closed loop of 3 virtual users per scenario/);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.options.closedLoopVus).toBe(3);
    expect(run.meta.notes.join('\n')).toMatch(/closed loop: 3 virtual users/);
    // One iteration per response, with no schedule: far more than the plan's 2 arrivals.
    expect(run.summary?.iterations.started).toBeGreaterThan(20);
    // Every request the server counted (its kept list stops at 10,000; the count does not).
    expect(run.summary?.requests.total).toBe(s.received.count);
    expect(run.summary?.schedulerLag).toBeNull();
    const bad = await runCli(['run', '--plan', planFile(dir, 1, 2), '--target', s.url, '--closed-loop', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--closed-loop.*"0" is not a whole number of virtual users/);
  });

  it('leaves a complete partial run and exits 130 on SIGINT', async () => {
    const s = await startTestServer();
    servers.push(s);
    const dir = tmp();
    const out = join(dir, 'run');
    const cli = startCli(['run', '--plan', planFile(dir, 20, 60), '--target', s.url, '--out', out], {
      timeoutMs: 60_000,
    });
    // Wait until the run has flushed at least one second, then interrupt it.
    while (
      !(existsSync(join(out, 'series.ndjson')) && readFileSync(join(out, 'series.ndjson'), 'utf8').length > 0)
    )
      await new Promise((r) => setTimeout(r, 100));
    const at = Date.now();
    cli.child.kill('SIGINT');
    const { code } = await cli.result;
    expect(code).toBe(130);
    expect(Date.now() - at).toBeLessThan(15_000);
    const run = readRun(out);
    expect(run.meta.endReason).toBe('interrupted');
    expect(run.summary?.partial).toBe(true);
    expect(run.summary?.iterations.planned).toBe(1200);
    expect(run.summary?.iterations.started).toBeLessThan(1200);
    expect(run.summary?.requests.total).toBe(loadRequests(s));
  });

  it('stops when a budget with abortOnFail is breached, exit 99', async () => {
    const s = await startTestServer((_q, res) => setTimeout(() => res.end('{}'), 30));
    servers.push(s);
    const dir = tmp();
    const budgets = join(dir, 'budgets.yaml');
    writeFileSync(
      budgets,
      'budgets:\n  - metric: latency\n    threshold: p95 < 5ms\n    minSamples: 20\n    abortOnFail: true\n',
    );
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 30, 30),
      '--target',
      s.url,
      '--budgets',
      budgets,
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(99);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.endReason).toBe('budget-abort');
    expect(run.summary?.durationSeconds).toBeLessThan(20);
  });

  it('refuses a non-loopback target unless allowed, before sending anything', async () => {
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 1, 1),
      '--target',
      'http://shop.example.com',
      '--out',
      join(dir, 'run'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/refusing to send load to shop.example.com/);
    expect(r.stderr).toMatch(/--allow-host shop.example.com/);
    expect(existsSync(join(dir, 'run'))).toBe(false);
  });

  it('reports every bad flag at once', async () => {
    const r = await runCli([
      'run',
      'ci-smoke',
      '--target',
      'http://127.0.0.1:1',
      '--driver',
      'jmeter',
      '--timeout',
      'soon',
      '--connections',
      '0',
      '--scheduler',
      'fast',
      '--spin-above',
      '-5',
      '--preconnect',
      'many',
      '--warm-up',
      '2h',
      '--workers',
      '0',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/8 problems/);
    expect(r.stderr).toMatch(/--workers.*"0" is not a whole number from 1 to 64, or auto/);
    expect(r.stderr).toMatch(/--driver/);
    expect(r.stderr).toMatch(/--timeout/);
    expect(r.stderr).toMatch(/--connections/);
    expect(r.stderr).toMatch(/--scheduler.*"fast" is not a scheduler/);
    expect(r.stderr).toMatch(/--spin-above/);
    expect(r.stderr).toMatch(/--preconnect/);
    expect(r.stderr).toMatch(/--warm-up.*at most 60 s/);
  });

  it('runs k6 through --k6-bin and writes the same run directory', async () => {
    const dir = tmp();
    const k6 = standInK6(dir);
    const r = await runCli(
      [
        'run',
        '--plan',
        planFile(dir, 1, 3),
        '--target',
        'http://127.0.0.1:18090',
        '--driver',
        'k6',
        '--k6-bin',
        k6,
        '--no-stack-handshake',
        '--out',
        join(dir, 'run'),
      ],
      { env: { STANDIN_FIXTURE: 'channels', STANDIN_ARGS: join(dir, 'args.json'), STANDIN_EXIT: '99' } },
    );
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const run = readRun(join(dir, 'run'));
    expect(run.meta.driver).toBe('k6');
    // Every request of the replayed k6 run, as k6's own summary counts them.
    expect(run.summary?.requests.total).toBe(k6SummaryCount('channels', 'http_reqs'));
    expect(run.summary?.latency.intended).toBeNull();
    expect(r.stdout).toMatch(/note: driver k6: latency is measured from the actual send/);
  });

  it('says how to install k6 when --driver k6 cannot find it', async () => {
    const dir = tmp();
    const r = await runCli([
      'run',
      '--plan',
      planFile(dir, 1, 1),
      '--target',
      'http://127.0.0.1:1',
      '--driver',
      'k6',
      '--k6-bin',
      join(dir, 'no-k6'),
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/install k6/);
  });
});

describe('peakday merge', () => {
  it('merges the segments of a split run into the whole', async () => {
    const s = await startTestServer();
    servers.push(s);
    const dir = tmp();
    const plan = planFile(dir, 40, 2);
    for (const seg of ['1/2', '2/2']) {
      const r = await runCli([
        'run',
        '--plan',
        plan,
        '--target',
        s.url,
        '--segment',
        seg,
        '--out',
        join(dir, seg.replace('/', 'of')),
      ]);
      expect(r.code).toBe(0);
    }
    const m = await runCli([
      'merge',
      join(dir, '1of2'),
      join(dir, '2of2'),
      '--out',
      join(dir, 'all'),
      '--json',
    ]);
    expect(m.code).toBe(0);
    const merged = JSON.parse(m.stdout);
    expect(merged.summary.iterations.planned).toBe(80);
    expect(merged.summary.iterations.started).toBe(80);
    expect(merged.summary.requests.total).toBe(loadRequests(s));
    expect(readRun(join(dir, 'all')).meta.driver).toBe('merge');
  });
});
