import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helper.ts';

const tmp = mkdtempSync(join(tmpdir(), 'peakday-profile-cli-'));

describe('peakday profile (end to end)', () => {
  it('lists the built-in profiles as JSON', async () => {
    const r = await runCli(['profile', 'list', '--json']);
    expect(r.code).toBe(0);
    const names = (JSON.parse(r.stdout) as { name: string }[]).map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'prime-day',
        'prime-day-4d',
        'black-friday',
        'flash-sale',
        'product-drop',
        'ci-smoke',
        'soak',
      ]),
    );
  });

  it('validates a built-in profile', async () => {
    const r = await runCli(['profile', 'validate', 'prime-day']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok: prime-day');
  });

  it('shows a plan as JSON with the documented keys and rates that follow the flags', async () => {
    const r = await runCli([
      'profile',
      'show',
      'flash-sale',
      '--duration',
      '3m',
      '--peak-rps',
      '90',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const key of [
      'name',
      'eventSeconds',
      'durationSeconds',
      'timeScale',
      'baselineRps',
      'peakRps',
      'peakToBaseline',
      'iterations',
      'requests',
      'channels',
    ])
      expect(j).toHaveProperty(key);
    expect(j.name).toBe('flash-sale');
    expect(j.eventSeconds).toBe(3600);
    expect(j.durationSeconds).toBe(180);
    expect(j.timeScale).toBeCloseTo(20, 9);
    expect(j.peakRps).toBeCloseTo(90, 9);
    expect(j.peakToBaseline as number).toBeGreaterThan(9.5);
    const shares = Object.values(j.channels as Record<string, number>);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('shows a readable summary with bursts, windows, channels and a sparkline', async () => {
    const r = await runCli(['profile', 'show', 'prime-day', '--no-color']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/playing window doors-open/);
    expect(r.stdout).toMatch(/rehearsal\s+doors-open/);
    expect(r.stdout).toMatch(/doors-open \(doors-open\) 0s–2h50m 10x/);
    expect(r.stdout).toMatch(/mobile-app\s+\d+\.\d% of requests/);
    expect(r.stdout).toMatch(/[▁▂▃▄▅▆▇█]{60}/);
  });

  it('reports every problem in a bad profile with file:line:column and exits 2 without a stack trace', async () => {
    const file = join(tmp, 'bad.yaml');
    writeFileSync(
      file,
      [
        'name: bad-one',
        'event: { duration: 1h }',
        'local: { peakRps: -3 }',
        'shape:',
        '  - baseline: { level: 1 }',
        '  - burst: { name: x, at: 2h, plateau: 1m, multiplier: 10 }',
        'channels:',
        '  web: { share: 0.5, journeys: { brows: 1 } }',
      ].join('\n'),
    );
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:3:`);
    expect(r.stderr).toContain('local.peakRps');
    expect(r.stderr).toContain('shape[1].burst.at');
    expect(r.stderr).toContain('did you mean "browse"?');
    expect(r.stderr).toContain('channel shares sum to 0.5');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it.each([
    [['profile', 'show', 'flash-sale', '--peak-rps', '10', '--baseline-rps', '1'], 'mutually exclusive'],
    [['profile', 'show', 'flash-sale', '--window', 'nope'], 'unknown window'],
    [['profile', 'show', 'no-such-profile'], 'no built-in profile'],
    [['profile', 'show', 'flash-sale', '--duration', 'soon'], '--duration'],
  ])('rejects %j with exit 2', async (args, text) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(text);
  });

  it('plots the whole event to a PNG', async () => {
    const out = join(tmp, 'rate.png');
    const r = await runCli([
      'profile',
      'plot',
      'product-drop',
      '--out',
      out,
      '--width',
      '800',
      '--height',
      '400',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const png = readFileSync(out);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBe(800);
    expect(png.readUInt32BE(20)).toBe(400);
  });

  it('exports a k6 script with ramping-arrival-rate scenarios for every channel and journey', async () => {
    const out = join(tmp, 'script.js');
    const r = await runCli([
      'profile',
      'export-k6',
      'ci-smoke',
      '--base-url',
      'http://127.0.0.1:8080',
      '--out',
      out,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const script = readFileSync(out, 'utf8');
    expect(script).toContain('ramping-arrival-rate');
    for (const id of [
      'web/browse',
      'mobile-app/app-checkout',
      'pos/store-lookup',
      'voice/reorder',
      'social/product-page',
    ])
      expect(script).toContain(id.split('/')[1] as string);
    const bad = await runCli(['profile', 'export-k6', 'ci-smoke', '--base-url', 'ftp://x', '--out', out]);
    expect(bad.code).toBe(2);
  });
});

describe('peakday profile export-k6 --budgets', () => {
  it('writes the budgets as k6 thresholds and warns that k6 measures from send time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-k6b-'));
    const out = join(dir, 'script.js');
    const r = await runCli([
      'profile',
      'export-k6',
      'flash-sale',
      '--base-url',
      'http://127.0.0.1:8080',
      '--out',
      out,
      '--budgets',
      'scenarios/budgets/flash-sale.yaml',
    ]);
    expect(r.code).toBe(0);
    const script = readFileSync(out, 'utf8');
    expect(script).toMatch(/"http_req_duration\{channel:web\}": \[\s*"p\(95\)<2000"/);
    expect(r.stderr).toMatch(/send time/);
  });

  it('rejects a broken budgets file with its location (exit 2)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-k6b-'));
    const budgets = join(dir, 'b.yaml');
    writeFileSync(budgets, 'version: 1\nbudgets:\n  - name: x\n    metric: latency\n    threshold: p95 <\n');
    const r = await runCli([
      'profile',
      'export-k6',
      'ci-smoke',
      '--base-url',
      'http://127.0.0.1:8080',
      '--out',
      join(dir, 's.js'),
      '--budgets',
      budgets,
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${budgets}:5`);
  });
});
