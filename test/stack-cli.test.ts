/**
 * End-to-end tests of `peakday stack up|status|down` through the real CLI: real processes on 127.0.0.1,
 * and the process tree compared before and after (every process whose working directory is the
 * test's own directory, read from /proc), so no test leaves a process behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PEAKDAY_BIN, runCli } from './cli-helper.ts';

// Replicas run the orchestrator's protocol test worker unless the domain worker is asked for, so these
// tests exercise the orchestration (processes, supervision, state) rather than the commerce domain.
const WORKER =
  process.env.PEAKDAY_STACK_WORKER ??
  new URL('../reference-stack/orchestrator/test-worker.ts', import.meta.url).pathname;
const env = { PEAKDAY_STACK_WORKER: WORKER };

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peakday-stack-cli-'));
  dirs.push(d);
  return d;
}

/** Pids of every live process whose working directory is `dir`. */
function processesIn(dir: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) !== dir) continue;
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z') continue;
      out.push(Number(name));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
}

async function until<T>(
  what: string,
  f: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 20_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface StateJson {
  pid: number;
  url: string;
  port: number;
  arch: string;
  mode: string;
  expiresAt?: string;
}

async function upDetached(dir: string, args: string[] = []): Promise<StateJson> {
  const r = await runCli(['stack', 'up', '--detach', '--port', '0', '--json', ...args], {
    cwd: dir,
    env,
    timeoutMs: 110_000,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as StateJson;
}

const foreground: ChildProcess[] = [];

afterEach(async () => {
  for (const d of dirs) {
    if (existsSync(join(d, '.peakday', 'stack.json'))) await runCli(['stack', 'down'], { cwd: d, env });
    for (const pid of processesIn(d)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const c of foreground.splice(0)) c.kill('SIGKILL');
});

afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('peakday stack (detached)', () => {
  it('starts a headless stack, reports it, and leaves no process after down', {
    timeout: 150_000,
  }, async () => {
    const dir = freshDir();
    expect(processesIn(dir)).toEqual([]);
    const state = await upDetached(dir);
    expect(state).toMatchObject({ arch: 'headless', mode: 'detached' });
    expect(readFileSync(join(dir, '.peakday', 'stack.pid'), 'utf8').trim()).toBe(String(state.pid));

    const health = await fetch(`${state.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', service: 'gateway', arch: 'headless' });

    const st = await runCli(['stack', 'status', '--json'], { cwd: dir, env });
    expect(st.code).toBe(0);
    const status = JSON.parse(st.stdout) as {
      running: boolean;
      status: {
        healthy: boolean;
        services: { name: string; desired: number; running: number; healthy: number; url: string }[];
      };
    };
    expect(status.running).toBe(true);
    expect(status.status.healthy).toBe(true);
    const names = status.status.services.map((s) => s.name);
    expect(names).toEqual([
      'bus',
      'catalog',
      'search',
      'pricing',
      'cart',
      'inventory',
      'orders',
      'checkout',
      'gateway',
      'storefront',
    ]);
    for (const s of status.status.services) expect(s.healthy).toBe(s.desired);
    // supervisor + 19 replicas at least (warm processes come on top)
    expect(processesIn(dir).length).toBeGreaterThanOrEqual(20);
    // The public port is the edge: pages go to the storefront, the API to the gateway.
    const home = await fetch(`${state.url}/p/p-000001`);
    expect(home.headers.get('x-cache')).toBe('Miss from peakday-edge');
    expect(await home.json()).toMatchObject({ service: 'storefront', path: '/p/p-000001' });
    const api = await fetch(`${state.url}/api/deals`);
    expect(await api.json()).toMatchObject({ service: 'gateway', path: '/api/deals' });

    const text = await runCli(['stack', 'status'], { cwd: dir, env });
    expect(text.stdout).toContain('gateway');
    expect(text.stdout).toContain(state.url);

    const down = await runCli(['stack', 'down'], { cwd: dir, env });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('stopped the headless stack');
    await until('no process left', () => processesIn(dir).length === 0, 5_000);
    expect(existsSync(join(dir, '.peakday', 'stack.json'))).toBe(false);
  });

  it('refuses a second stack in the same directory with exit 2', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    await upDetached(dir, ['--arch', 'monolith', '--warm', '0']);
    const again = await runCli(['stack', 'up', '--detach', '--arch', 'monolith', '--port', '0'], {
      cwd: dir,
      env,
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('stack-already-running');
    expect(again.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes every replica down with a supervisor killed by SIGKILL', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    const state = await upDetached(dir, ['--arch', 'monolith', '--warm', '0']);
    expect(processesIn(dir).length).toBeGreaterThanOrEqual(3);
    process.kill(state.pid, 'SIGKILL');
    await until('every replica gone', () => processesIn(dir).length === 0, 10_000);
    const st = await runCli(['stack', 'status'], { cwd: dir, env });
    expect(st.code).toBe(2);
    expect(st.stdout).toContain('stale');
  });

  it('stops on its own when its time-to-live runs out', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    const state = await upDetached(dir, ['--arch', 'monolith', '--warm', '0', '--ttl', '2s']);
    expect(state.expiresAt).toBeDefined();
    await until(
      'the stack gone',
      () => processesIn(dir).length === 0 && !existsSync(join(dir, '.peakday', 'stack.json')),
      20_000,
    );
    expect(readFileSync(join(dir, '.peakday', 'supervisor.log'), 'utf8')).toContain(
      'time-to-live of 2s reached',
    );
  });
});

describe('peakday stack (foreground)', () => {
  function upForeground(dir: string): ChildProcess {
    const child = spawn(
      process.execPath,
      [PEAKDAY_BIN, 'stack', 'up', '--arch', 'monolith', '--warm', '0', '--port', '0'],
      {
        cwd: dir,
        env: { ...process.env, ...env, NO_COLOR: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    foreground.push(child);
    return child;
  }

  it('runs until `stack down` and then exits 0 with no process left', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    const child = upForeground(dir);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the stack up', () => stdout.includes('Ctrl-C to stop'), 100_000);
    const down = await runCli(['stack', 'down'], { cwd: dir, env });
    expect(down.code).toBe(0);
    expect(await exited).toBe(0);
    await until('no process left', () => processesIn(dir).length === 0, 5_000);
  });

  it('stops on Ctrl-C (SIGINT) with exit 130 and no process left', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    const child = upForeground(dir);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the stack up', () => stdout.includes('Ctrl-C to stop'), 100_000);
    child.kill('SIGINT');
    expect(await exited).toBe(130);
    await until('no process left', () => processesIn(dir).length === 0, 5_000);
  });

  it('takes every replica down when the CLI itself is killed', { timeout: 120_000 }, async () => {
    const dir = freshDir();
    const child = upForeground(dir);
    await until('the stack up', () => existsSync(join(dir, '.peakday', 'stack.json')), 100_000);
    expect(processesIn(dir).length).toBeGreaterThanOrEqual(3);
    child.kill('SIGKILL');
    await until('every replica gone', () => processesIn(dir).length === 0, 10_000);
  });
});

describe('peakday stack (bad input and no stack)', () => {
  it('reports every bad flag at once with exit 2 and no stack trace', async () => {
    const dir = freshDir();
    const r = await runCli(['stack', 'up', '--arch', 'mainframe', '--port', '99999', '--ttl', 'soon'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('3 problems');
    expect(r.stderr).toContain('mainframe');
    expect(r.stderr).toContain('--port');
    expect(r.stderr).toContain('--ttl');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(processesIn(dir)).toEqual([]);
  });

  it('reports a bad scaling file with file:line:column before starting anything', async () => {
    const dir = freshDir();
    writeFileSync(
      join(dir, 'scaling.yaml'),
      'version: 1\ncluster: x\nservices:\n  monolith:\n    maxCapacity: lots\n',
    );
    const r = await runCli(['stack', 'up', '--arch', 'monolith', '--scaling', 'scaling.yaml'], {
      cwd: dir,
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('scaling.yaml:5:18');
    expect(r.stderr).toContain('services.monolith.maxCapacity');
    expect(processesIn(dir)).toEqual([]);
    expect(existsSync(join(dir, '.peakday', 'stack.json'))).toBe(false);
  });

  it('leaves no data directory behind when the stack fails to start (port in use)', {
    timeout: 60_000,
  }, async () => {
    const dir = freshDir();
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    try {
      const port = String((busy.address() as AddressInfo).port);
      const r = await runCli(
        ['stack', 'up', '--detach', '--arch', 'monolith', '--warm', '0', '--port', port],
        {
          cwd: dir,
          env,
        },
      );
      expect(r.code, r.stderr).toBe(2);
      expect(existsSync(join(dir, '.peakday', 'stack-data'))).toBe(false);
      await until('no process left', () => processesIn(dir).length === 0, 10_000);
    } finally {
      await new Promise((r) => busy.close(r));
    }
  });

  it.each([
    [
      'a replica killed by a signal (as by the out-of-memory killer): the machine, exit 8',
      "process.kill(process.pid, 'SIGKILL');\n",
      'stack-start-resources',
      8,
    ],
    [
      'a replica that crashes as it starts: a bug, exit 1',
      "throw new Error('boom');\n",
      'stack-start-failed',
      1,
    ],
  ])(
    'a stack that cannot start, by whose failure it was: %s',
    { timeout: 60_000 },
    async (_name, source, code, exit) => {
      const dir = freshDir();
      const worker = join(dir, 'worker.mjs');
      writeFileSync(worker, source);
      const r = await runCli(
        ['stack', 'up', '--detach', '--arch', 'monolith', '--warm', '0', '--port', '0'],
        {
          cwd: dir,
          env: { PEAKDAY_STACK_WORKER: worker },
        },
      );
      expect(r.code, r.stderr).toBe(exit);
      expect(r.stderr).toContain(`error[${code}]`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      await until('no process left', () => processesIn(dir).length === 0, 10_000);
    },
  );

  it('says no stack runs: status exits 2 (not "a bug"), down exits 0', async () => {
    const dir = freshDir();
    const st = await runCli(['stack', 'status', '--json'], { cwd: dir, env });
    expect(st.code).toBe(2);
    expect(JSON.parse(st.stdout)).toEqual({ running: false, reason: 'none' });
    const down = await runCli(['stack', 'down'], { cwd: dir, env });
    expect(down.code).toBe(0);
    expect(down.stdout).toContain('no stack is running here');
  });
});

describe('peakday stack with the commerce domain', () => {
  const domainEnv = { PEAKDAY_STACK_WORKER: undefined };

  it('serves the API, passes verify on a fresh stack, and stops cleanly (monolith)', {
    timeout: 200_000,
  }, async () => {
    const dir = freshDir();
    const up = await runCli(
      ['stack', 'up', '--detach', '--arch', 'monolith', '--warm', '0', '--port', '0', '--json'],
      {
        cwd: dir,
        env: domainEnv,
        timeoutMs: 190_000,
      },
    );
    expect(up.code).toBe(0);
    const state = JSON.parse(up.stdout) as StateJson;
    const cats = await fetch(`${state.url}/api/categories`);
    expect(cats.status).toBe(200);
    expect(((await cats.json()) as { items: unknown[] }).items.length).toBeGreaterThan(0);
    const verify = await runCli(['stack', 'verify', '--json'], { cwd: dir, env: domainEnv });
    const report = JSON.parse(verify.stdout) as { ok: boolean; checks: { name: string; ok: boolean }[] };
    expect(report.checks.map((c) => c.name)).toContain('no-oversell');
    // Nothing sold yet: every invariant holds on a fresh stack.
    expect(report.checks.filter((c) => !c.ok)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(verify.code).toBe(0);
    const down = await runCli(['stack', 'down'], { cwd: dir, env: domainEnv });
    expect(down.code).toBe(0);
    await until('no process left', () => processesIn(dir).length === 0, 10_000);
  });
});
