import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import type { RunMeta } from '../core/run-format.ts';
import { constructRun, type SecondSpec } from '../scenarios/budgets/testing.ts';
import { type CliOptions, runCli as runCliRaw } from './cli-helper.ts';

/** Runs the CLI without the caller's $GITHUB_STEP_SUMMARY, so tests never write to a real CI summary. */
const runCli = (args: string[], opts: CliOptions = {}) =>
  runCliRaw(args, { ...opts, env: { GITHUB_STEP_SUMMARY: '', ...opts.env } });

const root = mkdtempSync(join(tmpdir(), 'peakday-gate-'));

/** Writes a constructed run directory (meta.json + series.ndjson) and returns its path. */
function runDir(
  name: string,
  seconds: number,
  spec: (t: number) => SecondSpec[],
  meta: Partial<RunMeta> = {},
): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const run = constructRun(seconds, spec, { id: name, ...meta });
  writeFileSync(join(dir, 'meta.json'), JSON.stringify(run.meta));
  writeFileSync(join(dir, 'series.ndjson'), `${run.records.map((r) => JSON.stringify(r)).join('\n')}\n`);
  return dir;
}

function file(name: string, text: string): string {
  const f = join(root, name);
  writeFileSync(f, text);
  return f;
}

const budgets = file(
  'budgets.yaml',
  'budgets:\n  - name: web p95\n    channel: web\n    metric: latency\n    threshold: p95 < 500ms\n    window: 1m\n  - metric: error_rate\n    threshold: rate < 1%\n',
);

/** Noisy latency around `ms` (lognormal), seeded, so baselines have honest run-to-run noise. */
function noisy(seed: number, ms: number): (t: number) => SecondSpec[] {
  const rng = createRng(seed);
  return () => {
    const level = ms * Math.exp(rng.normal(0, 0.15));
    const latency: [number, number][] = [];
    for (let i = 0; i < 50; i++) latency.push([level * Math.exp(rng.normal(0, 0.4)), 1]);
    return [{ channel: 'web', requests: 50, latency }];
  };
}

const healthy = runDir('healthy', 300, noisy(1, 100));

describe('peakday gate (end to end on constructed run directories)', () => {
  it('exits 0 when every budget holds and prints the table', async () => {
    const r = await runCli(['gate', healthy, '--budgets', budgets]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/budget\s+observed\s+verdict\s+worst window \(when\)/);
    expect(r.stdout).toMatch(/web p95 \[channel=web\] per 1m\s+\S+ms\s+PASS/);
  });

  it('exits 99 on a breach and writes JUnit, Markdown and the step summary', async () => {
    const slow = runDir('slow-end', 300, (t) => [
      { channel: 'web', requests: 50, latency: [[t >= 240 ? 900 : 100, 50]] },
    ]);
    const junit = join(root, 'out.xml');
    const md = join(root, 'out.md');
    const summary = file('step-summary.md', '# earlier step\n');
    const r = await runCli(['gate', slow, '--budgets', budgets, '--junit', junit, '--markdown', md], {
      env: { GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.code).toBe(99);
    // the earliest of the worst windows: [184 s, 244 s) is the first holding more than 5% slow samples.
    expect(r.stdout).toMatch(/FAIL\s+900\.1ms at 3m4s–4m4s \(wall \+3m4s\)/);
    expect(r.stdout).toMatch(/breached in 57 of 241 windows/);
    expect(readFileSync(junit, 'utf8').match(/<testcase /g)).toHaveLength(2);
    expect(readFileSync(md, 'utf8')).toMatch(/❌ FAIL/);
    const appended = readFileSync(summary, 'utf8');
    expect(appended.startsWith('# earlier step\n')).toBe(true);
    expect(appended).toMatch(/### peakday gate/);
  });

  it('exits 98 when the data is too thin for a verdict', async () => {
    const thin = runDir('thin', 20, () => [{ channel: 'web', requests: 2 }]);
    const r = await runCli(['gate', thin, '--budgets', budgets]);
    expect(r.code).toBe(98);
    expect(r.stdout).toMatch(/fewer than the minimum/);
  });

  it('exits 98 for an invalid run that would otherwise pass', async () => {
    const invalid = runDir('invalid', 120, () => [{ channel: 'web', requests: 50 }], {
      valid: false,
      invalidReasons: ['scheduler lag p99 250 ms > 50 ms'],
    });
    const r = await runCli(['gate', invalid, '--budgets', budgets]);
    expect(r.code).toBe(98);
    expect(r.stdout).toMatch(/the run is invalid \(scheduler lag/);
  });

  it('exits 2 with every problem located for a bad budgets file, without a stack trace', async () => {
    const bad = file(
      'bad.yaml',
      'budgets:\n  - metric: latncy\n    threshold: p95 < 2s\n  - metric: latency\n    threshold: p95 < 500\n',
    );
    const r = await runCli(['gate', healthy, '--budgets', bad]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml:2:\d+: budgets\[0\]\.metric: is "latncy"/);
    expect(r.stderr).toMatch(/bad\.yaml:5:\d+: budgets\[1\]\.threshold: latency limit "500" has no unit/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a directory that is not a run', async () => {
    const r = await runCli(['gate', root, '--budgets', budgets]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a run directory/);
  });

  it('gates a k6 thresholds file as it is, and judges k6 runs’ intended-start budgets on send time, saying so', async () => {
    const k6 = file(
      'k6.json',
      JSON.stringify({
        thresholds: { 'http_req_duration{channel:web}': ['p(95)<500'], peakday_latency: ['p(95)<500'] },
      }),
    );
    const k6run = runDir('k6run', 120, () => [{ channel: 'web', requests: 50 }], {
      driver: 'k6',
      capabilities: { intendedStartLatency: false, sendLatency: true },
    });
    const r = await runCli(['gate', k6run, '--budgets', k6, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as {
      results: { metric: string; verdict: string; reason: string; notes: string[] }[];
    };
    expect(out.results.map((x) => [x.metric, x.verdict])).toEqual([
      ['http_req_duration', 'pass'],
      ['peakday_latency', 'pass'],
    ]);
    expect(out.results[1]?.notes.join()).toMatch(/judged on send-time latency/);
  });

  it('fails a real 20% regression against a baseline but not the baseline against itself', async () => {
    const p95only = file('p95.yaml', 'budgets:\n  - metric: latency\n    threshold: p95 < 2s\n');
    const slower = runDir('slower', 300, noisy(2, 120));
    const regressed = await runCli([
      'gate',
      slower,
      '--budgets',
      p95only,
      '--baseline',
      healthy,
      '--max-regression',
      '10%',
    ]);
    expect(regressed.code).toBe(99);
    expect(regressed.stdout).toMatch(
      /baseline: regressed \d+\.\d% .* beyond the allowed 10\.0% and the noise/,
    );
    const same = runDir('healthy-again', 300, noisy(3, 100));
    const ok = await runCli(['gate', same, '--budgets', p95only, '--baseline', healthy]);
    expect(ok.code).toBe(0);
  });

  it("uses the profile's default budgets when --budgets is not given", async () => {
    const smoke = runDir('smoke', 40, () => [{ channel: 'web', requests: 50 }], {
      profile: { name: 'ci-smoke', hash: '0' },
    });
    const r = await runCli(['gate', smoke, '--json']);
    const out = JSON.parse(r.stdout) as { budgetsFile: string; results: unknown[] };
    expect(out.budgetsFile).toMatch(/scenarios\/budgets\/ci-smoke\.yaml$/);
    expect(out.results.length).toBe(8);
  });
});
