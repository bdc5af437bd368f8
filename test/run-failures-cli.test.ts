/**
 * A run that cannot go as planned ends with the truth, through the real CLI: a full disk stops the
 * load and leaves a readable, partial run directory; output paths are checked before any load; a
 * stack whose clock cannot follow the plan is refused; failed requests are named at the end
 * (issue "Nothing lost, nothing misleading", defects 1, 4, 5, 7, 11).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNdjsonLines } from '../core/run-directory.ts';
import { readAutogroupsEnabled } from '../engine/health.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';
import { type Stack, startStack } from '../reference-stack/orchestrator/stack.ts';
import { deadPort, PEAKDAY_BIN, runCli } from './cli-helper.ts';

const dir = mkdtempSync(join(tmpdir(), 'peakday-run-failures-'));
let server: Server;
let target = '';
/** Every path the target was asked for. */
const paths: string[] = [];

/** One channel, one journey: a small plan, so a small file-size limit is reached by the series. */
const TINY = join(dir, 'tiny.yaml');
const BUDGETS = join(dir, 'budgets.yaml');

beforeAll(async () => {
  server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ id: 'p1', price: { amount: 1, currency: 'USD' }, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  writeFileSync(BUDGETS, 'version: 1\nbudgets:\n  - metric: latency\n    threshold: p95 < 2s\n');
  writeFileSync(
    TINY,
    'name: tiny\nevent:\n  duration: 10m\nlocal:\n  peakRps: 40\n  duration: 30s\nshape:\n  - baseline: { level: 1 }\nchannels:\n  web:\n    share: 1\n    journeys: { product-page: 1 }\n',
  );
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('a full disk mid-run', () => {
  it('stops the load, keeps what was written readable, says why in meta.json, and report/gate still work', async () => {
    const out = join(dir, 'full');
    // 6 KiB per file: plan.json and meta.json fit, series.ndjson reaches the limit after a few seconds.
    const r = await runCli(['run', TINY, '--target', target, '--circuit-breaker', 'off', '--out', out], {
      fileSizeLimitKiB: 6,
    });
    expect(r.code, r.stderr).toBe(98);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr).not.toContain('internal error');
    expect(r.stderr).toContain(`stopped: cannot write ${join(out, 'series.ndjson')}: file too large`);
    expect(r.stderr).toContain('(EFBIG)');
    expect(r.stdout).toContain('ended: error (partial)');
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
    expect(meta.endReason).toBe('error');
    expect(meta.endDetail).toContain('EFBIG');
    expect(meta.valid).toBe(false);
    // The load stopped: far fewer seconds than the 30 planned were played.
    expect(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).durationSeconds).toBeLessThan(25);
    let records = 0;
    for await (const _ of readNdjsonLines(join(out, 'series.ndjson'))) records++;
    expect(records).toBeGreaterThan(0);

    const report = await runCli(['report', out, '--out', join(dir, 'full-report')]);
    expect(report.code, report.stderr).toBe(0);
    expect(report.stdout).toMatch(/PARTIAL/);
    // Each banner says its level once, and a target that is not a peakday stack is not a "monolith".
    expect(report.stdout).toContain('INVALID RUN: ');
    expect(report.stdout).not.toContain('INVALID: INVALID RUN');
    expect(report.stdout).toContain('PARTIAL RUN: ');
    expect(report.stdout).not.toContain('PARTIAL: PARTIAL RUN');
    expect(report.stdout).toContain('topology unknown (not a peakday stack)');
    expect(report.stdout).not.toContain('monolith');
    const gate = await runCli(['gate', out, '--budgets', BUDGETS]);
    expect(gate.code, gate.stderr).toBe(98);
    expect(gate.stdout).toContain('INCONCLUSIVE');
  });
});

describe('output paths are checked before any load', () => {
  const file = join(dir, 'a-file');
  const run = join(dir, 'small');
  beforeAll(async () => {
    writeFileSync(file, 'x');
    const ok = await runCli(['run', TINY, '--target', target, '--duration', '2s', '--out', run]);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it.each([
    [['run', 'ci-smoke', '--target', 'http://127.0.0.1:9', '--out', file], 'is a file, not a directory'],
    [
      ['run', 'ci-smoke', '--target', 'http://127.0.0.1:9', '--out', '/proc/peakday-x'],
      'does not exist (ENOENT)',
    ],
    [['gate', 'runs/none', '--junit', '/missing-dir/j.xml'], 'its directory /missing-dir does not exist'],
    [['gate', 'runs/none', '--markdown', tmpdir()], 'is a directory'],
  ])('peakday %j exits 2 naming the path and the cause', async (args, cause) => {
    const r = await runCli(args, { timeoutMs: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[output-path-invalid]');
    expect(r.stderr).toContain(cause);
  });

  it('report --out a file exits 2 naming it', async () => {
    const r = await runCli(['report', run, '--out', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`--out ${file}: is a file, not a directory`);
  });

  it('gate prints its verdict even when a file cannot be written, and says which', async () => {
    // /dev/full accepts the open and fails the write with a real ENOSPC.
    const r = await runCli(['gate', run, '--budgets', BUDGETS, '--junit', '/dev/full']);
    expect(r.stdout).toMatch(/PASSED|FAILED|INCONCLUSIVE/);
    expect(r.stderr).toContain('could not write /dev/full: no space left on device (ENOSPC)');
    expect([2, 98, 99]).toContain(r.code);
  });
});

describe('the end of a run names what failed', () => {
  it('a closed port never ends on "completed" alone: the last line names connection refused', async () => {
    const port = await deadPort();
    const r = await runCli([
      'run',
      TINY,
      '--target',
      `http://127.0.0.1:${port}`,
      '--duration',
      '2s',
      '--circuit-breaker',
      'off',
      '--out',
      join(dir, 'dead'),
    ]);
    const last = r.stderr.trim().split('\n').pop() ?? '';
    expect(last).toMatch(
      /^failed requests: \d+ of \d+ requests failed, mostly: connection refused on 127\.0\.0\.1:\d+: is the target running\?/,
    );
  });

  it('the header plans the same whole iterations the summary counts', async () => {
    // ci-smoke in 2 s: the plan's integral is 6 iterations, its whole arrivals 4.
    const r = await runCli([
      'run',
      'ci-smoke',
      '--target',
      target,
      '--duration',
      '2s',
      '--out',
      join(dir, 'count'),
    ]);
    expect(r.code, r.stderr).toBe(0);
    const header = /(\d+) iterations planned/.exec(r.stderr)?.[1];
    const summary = /iterations: planned (\d+)/.exec(r.stdout)?.[1];
    expect(header).toBeDefined();
    expect(header).toBe(summary);
  });
});

describe('a load generator out of file descriptors', () => {
  // A target that holds every request 2 s: at 3,000/s the iterations in flight need far more
  // sockets than an open-file limit of 256 allows.
  let slow: Server;
  let url = '';
  beforeAll(async () => {
    slow = createServer((_req, res) => setTimeout(() => res.end('{}'), 2000));
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  });
  const plan = join(dir, 'many-sockets.json');
  /** `peakday run` of the plan against the slow target, under an open-file limit of 256. */
  const runUnder256Files = (args: string[]) => {
    writeFileSync(
      plan,
      JSON.stringify(
        createTestPlan([{ journey: getJourney('get', ['/']), rate: 3000, maxConcurrency: 400 }], 5),
      ),
    );
    return spawnSync(
      'bash',
      [
        '-c',
        'ulimit -n 256 && exec "$0" "$@"',
        process.execPath,
        PEAKDAY_BIN,
        'run',
        '--plan',
        plan,
        '--target',
        url,
        '--no-stack-handshake',
        ...args,
      ],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
    );
  };
  for (const workers of ['1', '2'])
    it(`stops at once, blames itself and not the target, keeps its seconds (exit 8; ${workers} worker(s))`, () => {
      const out = join(dir, `emfile-${workers}`);
      const r = runUnder256Files(['--workers', workers, '--out', out]);
      expect(r.status, r.stderr).toBe(8);
      expect(r.stderr).not.toMatch(/\n\s+at |internal error/);
      expect(r.stderr).toMatch(
        /stopped: (worker \d: )?the load generator failed, not the target: this process reached its open-file limit \(ulimit -n\).*raise the limit \(ulimit -n: 256, hard limit/,
      );
      // Its requests that failed for it are not put on the target.
      expect(r.stderr).not.toMatch(/failed requests:/);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
        endReason: string;
        valid: boolean;
        invalidReasons: string[];
      };
      expect(summary.endReason).toBe('error');
      expect(summary.valid).toBe(false);
      expect(summary.invalidReasons.join('\n')).toMatch(/the load generator failed, not the target/);
      // Its seconds were written (the files it appends to were open before the sockets took the rest).
      expect(readFileSync(join(out, 'series.ndjson'), 'utf8').trim().split('\n').length).toBeGreaterThan(0);
      expect(readFileSync(join(out, 'engine.ndjson'), 'utf8').trim()).not.toBe('');
    });

  it('stops before its clock when the connections it opens first exceed the limit (exit 8, nothing sent)', () => {
    const out = join(dir, 'emfile-preconnect');
    // A closed loop of 400 virtual users opens its 400 connections before the clock starts.
    const r = runUnder256Files(['--closed-loop', '400', '--out', out]);
    expect(r.status, r.stderr).toBe(8);
    expect(r.stderr).toMatch(
      /stopped: the load generator failed, not the target: this process reached its open-file limit.*while opening 400 connections before the clock started \(\d+ opened; nothing was sent\)/,
    );
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      endReason: string;
      valid: boolean;
      iterations: { started: number };
    };
    expect(summary.endReason).toBe('error');
    expect(summary.valid).toBe(false);
    expect(summary.iterations.started).toBe(0);
  });
});

const autogroups = readAutogroupsEnabled();

describe('a load generator started at lowered priority', () => {
  // A session of its own (setsid) niced as `echo 19 > /proc/$$/autogroup` does to a shell: never
  // this test's own session.
  it.runIf(autogroups)('says so before the load and in the notes', async () => {
    const out = join(dir, 'niced');
    const child = spawn(
      'setsid',
      [
        'sh',
        '-c',
        'echo 19 > /proc/self/autogroup && exec "$0" "$@"',
        process.execPath,
        PEAKDAY_BIN,
        'run',
        TINY,
        '--target',
        target,
        '--duration',
        '2s',
        '--out',
        out,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' }, timeout: 60_000 },
    );
    let stderr = '';
    child.stdout.resume();
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    const warning =
      "the load generator runs at lowered CPU priority: its session's (autogroup) niceness is 19, so other work on this host comes before it";
    expect(stderr).toContain(`warning: ${warning}`);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as { notes: string[] };
    expect(meta.notes.some((n) => n.startsWith(warning))).toBe(true);
  });
});

describe('a template that resolves to an empty value', () => {
  it('is not sent: it is a failed request of its own kind, named at the end', async () => {
    writeFileSync(join(dir, 'ids.csv'), 'id,name\n,empty id\nP-1,one\n,empty again\nP-2,two\n');
    const profile = join(dir, 'empty-values.yaml');
    writeFileSync(
      profile,
      'name: empty-values\nevent:\n  duration: 10m\nlocal:\n  peakRps: 10\n  duration: 30s\nshape:\n  - baseline: { level: 1 }\nchannels:\n  web:\n    share: 1\n    journeys: { by-id: 1 }\njourneys:\n  by-id:\n    data: { id: { pool: ids, field: id, pick: sequential } }\n    steps: [{ name: get, method: GET, path: "/api/products/{{id}}" }]\npools:\n  ids: { file: ids.csv }\n',
    );
    const out = join(dir, 'empty-values');
    paths.length = 0;
    const r = await runCli(['run', profile, '--target', target, '--duration', '3s', '--out', out]);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.requests.errors.emptyValue, r.stderr).toBeGreaterThan(0);
    expect(summary.requests.failed).toBeGreaterThanOrEqual(summary.requests.errors.emptyValue);
    expect(paths.filter((p) => p.startsWith('/api/products/P-')).length).toBeGreaterThan(0);
    expect(paths).not.toContain('/api/products/');
    expect(r.stderr.trim().split('\n').pop()).toContain('not sent (empty template value)');
  });
});

describe('a peakday stack whose clock cannot follow the plan', () => {
  let stack: Stack;
  const stackDir = mkdtempSync(join(tmpdir(), 'peakday-stack-clock-'));
  beforeAll(async () => {
    stack = await startStack({
      arch: 'monolith',
      port: 0,
      dataDir: stackDir,
      workerModule: fileURLToPath(new URL('../reference-stack/orchestrator/test-worker.ts', import.meta.url)),
      warmPoolSize: 1,
      services: [
        {
          name: 'monolith',
          taskSize: { vcpu: 0.5, memoryGb: 1 },
          minTasks: 1,
          scalable: false,
          public: true,
        },
      ],
    });
  });
  afterAll(async () => {
    await stack?.stop();
  });

  it('is refused before any load (exit 2) with the limit and a duration that fits', async () => {
    const out = join(dir, 'too-fast');
    const r = await runCli(['run', 'ci-smoke', '--target', stack.url, '--duration', '5s', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[time-scale-too-high]');
    expect(r.stderr).toContain('at most 60x');
    expect(r.stderr).toContain('--duration 20s');
    expect(r.stderr).toContain('--no-stack-handshake');
    expect(existsSync(out)).toBe(false);
  });
});
