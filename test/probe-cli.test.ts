/**
 * End-to-end tests of `peakday probe` through the real CLI: a short real probe against the local
 * monolith stack (two small steps, a few seconds each, on 127.0.0.1), then the calibration it wrote is
 * read back by the simulator's reader and used by `peakday simulate --calibration`. Live numbers
 * depend on a shared, loaded host, so the assertions are on structure and sanity, not on exact
 * capacities. Bad flags exit 2 before anything starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCalibrationFile } from '../core/calibration-file.ts';
import { statePaths } from '../reference-stack/orchestrator/state.ts';
import type { ProbeCalibrationFile } from '../simulation/probe.ts';
import { deadPort, PEAKDAY_BIN, processesMentioning, REPO_ROOT, runCli } from './cli-helper.ts';

const dirs: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'peakday-probe-cli-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('peakday probe on the local monolith', () => {
  it('plays the steps with replicas pinned, writes a calibration the simulator reads, and stops the stack', async () => {
    const dir = freshDir();
    const out = join(dir, 'probe');
    const r = await runCli(
      [
        'probe',
        '--arch',
        'monolith',
        '--steps',
        '4,12',
        '--hold',
        '3s',
        '--settle',
        '1s',
        '--warmup',
        '2s',
        '--budgets',
        join(REPO_ROOT, 'scenarios/budgets/ci-smoke.yaml'),
        '--out',
        out,
        '--json',
      ],
      { cwd: dir, timeoutMs: 170_000 },
    );
    expect(r.stderr).toMatch(/starting the monolith reference stack/);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout) as { dir: string; calibration: ProbeCalibrationFile };
    expect(printed.dir).toBe(out);

    // The file on disk is the printed one, and the simulator's reader accepts its directory.
    const onDisk = JSON.parse(readFileSync(join(out, 'calibration.json'), 'utf8')) as ProbeCalibrationFile;
    expect(onDisk).toEqual(printed.calibration);
    const read = readCalibrationFile(out);
    expect(read.kind).toBe('peakday-calibration');
    expect(read.arch).toBe('monolith');

    const p = onDisk.probe;
    expect(p.replicasPinnedBy).toBe('peakday');
    expect(p.replicas).toBe(2);
    // ci-smoke's budgets: every request p95 under 2 s (its scoped and p99 budgets are not the knee's).
    expect(p.criteria.p95Ms).toBe(2000);
    expect(p.budgetSource).toMatch(/ci-smoke\.yaml/);
    expect(p.steps.length).toBeGreaterThanOrEqual(1);
    expect(p.steps.map((s) => s.offeredRps)).toEqual([4, 12].slice(0, p.steps.length));
    for (const s of p.steps) {
      expect(existsSync(join(s.dir as string, 'summary.json'))).toBe(true);
      expect(s.achievedRps).toBeGreaterThan(0);
      // p95 and throughput of the settled seconds, with the whole step's kept beside them.
      expect(s.p95WholeStepMs).not.toBeUndefined();
      expect(s.achievedWholeStepRps).toBeGreaterThan(0);
      expect(s.errorRate).toBeGreaterThanOrEqual(0);
      expect(s.errorRate).toBeLessThanOrEqual(1);
      // The stack reported the monolith with the pinned task count.
      expect(s.services.monolith?.tasks).toBe(2);
    }
    // The knee is found, or it is said plainly that it was not reached or lies below the steps.
    if (p.knee.index === null) expect(p.notes.join('\n')).toMatch(/no step passed/);
    else {
      expect(p.steps[p.knee.index]?.passed).toBe(true);
      if (!p.knee.reached) expect(p.notes.join('\n')).toMatch(/every step passed/);
      expect(p.knee.bottleneck).toBe('monolith');
    }
    // Every measured service has a positive, finite capacity and efficiency; a missing one is explained.
    const m = onDisk.services.monolith;
    if (m) {
      expect(Number.isFinite(m.capacityRpsPerTask) && m.capacityRpsPerTask > 0).toBe(true);
      expect(Number.isFinite(m.efficiency) && m.efficiency > 0).toBe(true);
      expect(m.provenance).toBe('measured');
      expect(m.modelCapacityRpsPerTask).toBeGreaterThan(0);
    } else expect(p.notes.join('\n')).toMatch(/monolith: no settled period/);

    // The stack is gone: no state file left in the probe directory.
    expect(existsSync(statePaths(out).state)).toBe(false);

    // simulate --calibration takes the probe directory.
    const sim = await runCli(
      [
        'simulate',
        'ci-smoke',
        '--arch',
        'monolith',
        '--calibration',
        out,
        '--out',
        join(dir, 'sim'),
        '--json',
      ],
      { cwd: dir },
    );
    expect(sim.code, sim.stderr).toBe(0);
  }, 180_000);
});

describe('peakday probe on Ctrl-C', () => {
  it('stops the step and the stack, leaves no process, writes what it measured and exits 130', async () => {
    const dir = freshDir();
    const out = join(dir, 'probe');
    const child = spawn(
      process.execPath,
      [
        PEAKDAY_BIN,
        'probe',
        '--arch',
        'monolith',
        '--steps',
        '4,8',
        '--hold',
        '20s',
        '--warmup',
        '0s',
        '--out',
        out,
      ],
      { cwd: dir, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    const stepStarted = new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('step 1/2')) resolve();
      });
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const killer = setTimeout(() => child.kill('SIGKILL'), 150_000);
    await stepStarted;
    await new Promise((r) => setTimeout(r, 1500));
    child.kill('SIGINT');
    const code = await exited;
    clearTimeout(killer);
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/stopping: interrupted/);
    expect(processesMentioning(`replica-${child.pid}-`)).toEqual([]);
    expect(existsSync(statePaths(out).state)).toBe(false);
    const c = readCalibrationFile(out) as ProbeCalibrationFile;
    expect(c.probe.steps).toEqual([]);
    expect(c.probe.notes.join('\n')).toMatch(/step 1 \(4 req\/s\) was interrupted/);
  }, 180_000);
});

describe('peakday probe against a target that is not there', () => {
  /** `peakday probe` against a closed port, `extra` after the target and steps. */
  async function probeDeadPort(extra: string[]) {
    const dir = freshDir();
    const out = join(dir, 'probe');
    const port = await deadPort();
    const r = await runCli(
      ['probe', '--target', `http://127.0.0.1:${port}`, '--steps', '10,20', ...extra, '--out', out],
      { cwd: dir, timeoutMs: 60_000 },
    );
    return { r, out, port };
  }

  it('stops after the warm-up with exit 97, names the cause, writes no calibration and keeps what was sent', async () => {
    const { r, out, port } = await probeDeadPort([]);
    expect(r.code, r.stderr).toBe(97);
    expect(r.stderr).toMatch(
      new RegExp(
        `error\\[probe-target-failing\\]: the probe stopped before it measured a step: every request failed without an answer \\(\\d+ refused, 0 other transport errors on 127\\.0\\.0\\.1:${port}\\): is the target running\\?`,
      ),
    );
    expect(r.stderr).toMatch(/hint: start the target/);
    expect(r.stderr).not.toMatch(/step 1\/2/);
    expect(existsSync(join(out, 'calibration.json'))).toBe(false);
    expect(existsSync(join(out, 'warmup', 'summary.json'))).toBe(true);
  }, 90_000);

  it('without a warm-up, the first step’s circuit breaker stops it (5 s of refused connections)', async () => {
    const { r, out } = await probeDeadPort(['--hold', '8s', '--warmup', '0s']);
    expect(r.code, r.stderr).toBe(97);
    expect(r.stderr).toMatch(
      /circuit breaker: connection refused on 127\.0\.0\.1:\d+: is the target running\?/,
    );
    expect(r.stderr).not.toMatch(/step 2\/2/);
    expect(existsSync(join(out, 'calibration.json'))).toBe(false);
    expect(existsSync(join(out, 'step-01', 'summary.json'))).toBe(true);
  }, 90_000);

  it('keeps the steps measured before the target went away, says so, and exits 97', async () => {
    const dir = freshDir();
    const out = join(dir, 'probe');
    // Answers until the first step has had its requests, then stops listening.
    let served = 0;
    const sockets = new Set<Socket>();
    const server = createServer((_req, res) => {
      served++;
      res.setHeader('content-type', 'application/json');
      res.end('{}');
      if (served === 20) {
        server.close();
        for (const s of sockets) s.destroy();
      }
    });
    server.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const r = await runCli(
        [
          'probe',
          '--target',
          `http://127.0.0.1:${port}`,
          '--journey',
          'browse',
          '--steps',
          '5,10',
          '--hold',
          '4s',
          '--warmup',
          '0s',
          '--out',
          out,
        ],
        { cwd: dir, timeoutMs: 60_000 },
      );
      expect(r.code, r.stderr).toBe(97);
      const c = readCalibrationFile(out) as ProbeCalibrationFile;
      expect(c.probe.steps).toHaveLength(1);
      expect(c.probe.notes.join('\n')).toMatch(
        /step 2 \(10 req\/s\) was stopped: every request failed without an answer/,
      );
      expect(c.probe.notes.join('\n')).toMatch(/the target stopped answering after 1 step\(s\)/);
    } finally {
      server.close();
    }
  }, 90_000);
});

describe('peakday probe rejects bad input before starting anything', () => {
  const cases: { name: string; args: string[]; message: RegExp }[] = [
    {
      name: 'an unknown topology',
      args: ['--arch', 'mainframe'],
      message: /--arch: "mainframe" is not a topology/,
    },
    { name: 'steps that do not rise', args: ['--steps', '10,5'], message: /--steps: rates must rise/ },
    {
      name: 'a step that is not a number',
      args: ['--steps', '10,ten'],
      message: /--steps: "ten" is not a positive number/,
    },
    {
      name: 'an unknown journey',
      args: ['--journey', 'teleport'],
      message: /--journey: "teleport" is not a built-in journey/,
    },
    {
      name: 'a service the topology lacks',
      args: ['--arch', 'monolith', '--service', 'pricing'],
      message: /--service: "pricing" is not a service of the monolith topology/,
    },
    {
      name: 'zero replicas',
      args: ['--replicas', '0'],
      message: /--replicas: "0" is not a positive whole number/,
    },
    { name: 'a non-loopback target', args: ['--target', 'http://example.com'], message: /example\.com/ },
  ];
  for (const c of cases)
    it(`exits 2 for ${c.name}`, async () => {
      const dir = freshDir();
      const r = await runCli(['probe', ...c.args, '--out', join(dir, 'p')], { cwd: dir, timeoutMs: 60_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(dir, 'p', 'calibration.json'))).toBe(false);
    });
});
