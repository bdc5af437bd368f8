/**
 * A k6 that falls behind its schedule, through the real CLI and a real k6 (K6_BIN). k6's
 * arrival-rate loop starts each iteration when it is due, or at once when it is behind, and returns
 * when the scenario's time is up: what it had not reached is neither started nor counted in
 * `dropped_iterations`. The benchmark found it so (bench/cli-section.ts, 20,000/s on 2 cores: a
 * CPU-bound k6 started 26.41% of the plan, and the run said "valid, dropped 0"). Here a k6 that gets
 * no CPU at all over the end of its schedule (a wrapper stops it with SIGSTOP once its first progress
 * line shows it playing, and lets it go on after the schedule's end) is that generator at its
 * extreme, without a test burning both cores: the run must be invalid, say how many iterations never
 * started, and `peakday gate` must exit 98 on it. The same plan on an unpaused k6 stays valid.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPlan, getJourney, startTestServer, type TestServer } from '../engine/test-support.ts';
import { runCli } from './cli-helper.ts';

const K6_BIN = process.env.K6_BIN;

/** Seconds k6 is stopped for once it has played its first second: past the 3-s schedule's end. */
const PAUSE_SECONDS = 4;

/**
 * A `k6` that runs the real one, passes its output on, and stops it (SIGSTOP) when it prints its
 * first progress line from one second of play on ("running (01.0s)"), for PAUSE_SECONDS.
 */
function pausingK6(dir: string, real: string): string {
  const file = join(dir, 'k6-pausing');
  writeFileSync(
    file,
    `#!/usr/bin/env node
const { spawn } = require('node:child_process');
const child = spawn(${JSON.stringify(real)}, process.argv.slice(2), { stdio: ['ignore', 'pipe', 'pipe'] });
let paused = false;
let seen = '';
const watch = (d) => {
  if (paused) return;
  seen += d.toString();
  // k6's progress line: "running (01.0s), …" (v0.48), "running (0m01.0s), …" (v1).
  const played = [...seen.matchAll(/running \\((?:(\\d+)m)?(\\d+(?:\\.\\d+)?)s\\)/g)].some(
    (m) => 60 * Number(m[1] ?? 0) + Number(m[2]) >= 1,
  );
  if (!played) return;
  paused = true;
  child.kill('SIGSTOP');
  setTimeout(() => child.kill('SIGCONT'), ${PAUSE_SECONDS * 1000});
};
child.stdout.on('data', (d) => { process.stdout.write(d); watch(d); });
child.stderr.on('data', (d) => { process.stderr.write(d); watch(d); });
child.on('close', (code) => process.exit(code ?? 1));
`,
  );
  chmodSync(file, 0o755);
  return file;
}

describe.runIf(K6_BIN)('a k6 that falls behind its schedule (real k6)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-k6-behind-'));
  const planFile = join(dir, 'plan.json');
  const budgets = join(dir, 'budgets.yaml');
  const rate = 100;
  const seconds = 3;
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
    writeFileSync(
      planFile,
      JSON.stringify(
        createTestPlan([{ journey: getJourney('get', ['/']), rate, maxConcurrency: 50 }], seconds),
      ),
    );
    writeFileSync(budgets, 'version: 1\nbudgets:\n  - metric: latency_send\n    threshold: p95 < 2s\n');
  });

  afterAll(async () => {
    await server.close();
  });

  const run = (out: string, k6: string) =>
    runCli(
      [
        'run',
        '--plan',
        planFile,
        '--driver',
        'k6',
        '--k6-bin',
        k6,
        '--target',
        server.url,
        '--no-stack-handshake',
        '--json',
        '--out',
        out,
      ],
      { timeoutMs: 60_000 },
    );

  it('marks a run invalid when k6 never started part of the plan, and says how much', async () => {
    const before = server.received.count;
    const out = join(dir, 'paused');
    const r = await run(out, pausingK6(dir, K6_BIN as string));
    expect(r.code, r.stderr).toBe(0);
    const { summary, meta } = JSON.parse(r.stdout);
    const planned = rate * seconds;
    expect(summary.iterations.planned).toBe(planned);
    // What k6 sent arrived, and it is far less than the plan.
    expect(summary.requests.total).toBe(server.received.count - before);
    expect(summary.iterations.completed).toBeLessThan(0.8 * planned);
    // k6's own last progress line: its complete and interrupted iterations.
    const progress = [
      ...readFileSync(join(out, 'k6-console.txt'), 'utf8').matchAll(/(\d+) complete and (\d+) interrupted/g),
    ].pop();
    expect(progress).toBeDefined();
    const interrupted = Number(progress?.[2]);
    expect(Number(progress?.[1])).toBe(summary.iterations.completed);
    const missing = planned - summary.iterations.completed - summary.iterations.dropped - interrupted;
    expect(missing).toBeGreaterThan(0.2 * planned);
    expect(summary.valid).toBe(false);
    expect(meta.valid).toBe(false);
    expect(summary.invalidReasons).toContainEqual(
      expect.stringContaining(
        `k6 fell behind its schedule: it never started ${missing} of the plan's ${planned}`,
      ),
    );
    expect(meta.notes.join('\n')).toContain(
      `${missing} of the plan's ${planned} iterations were neither started nor dropped`,
    );
    const gate = await runCli(['gate', out, '--budgets', budgets]);
    expect(gate.code, gate.stdout + gate.stderr).toBe(98);
    // Among the reasons (a paused k6 may also drop iterations before reaching its cap, a reason of its
    // own listed first): the iterations it never started.
    expect(gate.stdout).toMatch(/the run is invalid \([^\n]*k6 fell behind its schedule: it never started/);
  });

  it('does not count a k6 that played the whole plan as behind', async () => {
    const out = join(dir, 'whole');
    const r = await run(out, K6_BIN as string);
    expect(r.code, r.stderr).toBe(0);
    const { summary } = JSON.parse(r.stdout);
    expect(summary.invalidReasons.join('\n')).not.toMatch(/never started/);
    expect(summary.iterations.completed + summary.iterations.dropped).toBeGreaterThanOrEqual(
      0.99 * summary.iterations.planned,
    );
  });
});
