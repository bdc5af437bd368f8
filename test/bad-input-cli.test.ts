/**
 * Bad input gets a clear, complete and true answer through the real CLI: every problem of a file at
 * once, data pools checked before any load, documented size and rate limits, and messages that say
 * what is true (issue "Nothing lost, nothing misleading", defects 2, 3, 8, 9, 10, 11).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli-helper.ts';

const dir = mkdtempSync(join(tmpdir(), 'peakday-bad-input-'));
const write = (name: string, text: string | Buffer): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const noStack = (stderr: string) => expect(stderr).not.toMatch(/\n\s+at /);

const poolProfile = (journeys: string, pools: string) => `name: pool-bind
event:
  duration: 20m
local:
  peakRps: 5
  duration: 40s
shape:
  - baseline: { level: 1 }
channels:
  web:
    share: 1
    journeys: { mine: 1 }
journeys:
${journeys}
pools:
${pools}
`;

describe('every problem at once', () => {
  it('an invalid event.duration does not hide the other problems of the file', async () => {
    const file = write(
      'many.yaml',
      `name: bad-one
event:
  duration: 48x
local:
  peakRps: -5
  duration: 40s
shape:
  - baseline: { level: 1 }
channels:
  web:
    share: 1
    journeys: { browse: 1, nosuch: 1 }
windows:
  opening: { start: 0s, end: 5q }
`,
    );
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('4 problems found');
    for (const at of [
      '3:13: event.duration',
      '5:12: local.peakRps',
      'journeys.nosuch',
      'windows.opening.end',
    ])
      expect(r.stderr).toContain(at);
    noStack(r.stderr);
  });

  it('a bad budget metric does not hide a unit-less threshold', async () => {
    const budgets = write('b.yaml', 'version: 1\nbudgets:\n  - metric: latnecy\n    threshold: p95 < 500\n');
    // Budgets are read before any load is sent; port 9 is never contacted.
    const r = await runCli(['run', 'ci-smoke', '--target', 'http://127.0.0.1:9', '--budgets', budgets]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('2 problems found');
    expect(r.stderr).toMatch(new RegExp(`${esc(budgets)}:3:13: budgets\\[0\\]\\.metric`));
    expect(r.stderr).toMatch(
      new RegExp(`${esc(budgets)}:4:16: budgets\\[0\\]\\.threshold: latency limit "500" has no unit`),
    );
  });
});

describe('data pools are checked by validate', () => {
  it('a binding to a CSV column that does not exist is reported with its position (not sent as an empty id)', async () => {
    write('products.csv', 'idx\n1\n2\n');
    const file = write(
      'field.yaml',
      poolProfile(
        '  mine:\n    data: { id: { pool: products, field: id } }\n    steps: [{ name: a, method: GET, path: "/api/products/{{id}}" }]',
        '  products: { file: products.csv }',
      ),
    );
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `${esc(file)}:15:42: journeys\\.mine\\.data\\.id\\.field: pool "products" has no column "id" \\(expected one of idx\\)`,
      ),
    );
    expect(r.stderr).toContain('did you mean "idx"?');
  });

  it('a CSV pool with only a header is reported at the pool and at the CSV line where rows should start', async () => {
    const csv = write('header-only.csv', 'id\n');
    const file = write(
      'header.yaml',
      poolProfile(
        '  mine:\n    data: { id: { pool: products, field: id } }\n    steps: [{ name: a, method: GET, path: "/api/products/{{id}}" }]',
        '  products: { file: header-only.csv }',
      ),
    );
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      `${file}:18:21: pools.products.file: data file ${csv}:2:1: has a header but no rows`,
    );
  });

  it('a declared pool whose file is missing is reported once, as missing, not also as an unknown pool', async () => {
    const file = write(
      'missing.yaml',
      poolProfile(
        '  mine:\n    data: { id: { pool: gone, field: id } }\n    steps: [{ name: a, method: GET, path: "/api/products/{{id}}" }]',
        '  gone: { file: nothere.csv }',
      ),
    );
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('1 problem found');
    expect(r.stderr).toContain('data file nothere.csv does not exist');
    expect(r.stderr).not.toContain('unknown data pool');
  });
});

describe('limits', () => {
  it('a binary file is refused without being echoed back', async () => {
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) % 256;
    const file = write('binary.yaml', bytes);
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('is not a text file (binary content)');
    expect(r.stderr.length).toBeLessThan(600);
  });

  it('a file over the input size limit is refused before parsing', async () => {
    const file = write('huge.yaml', `a: [${'1,'.repeat(2_200_000)}1]\n`);
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('input files are limited to 4 MiB');
    expect(r.stderr.length).toBeLessThan(600);
  });

  it('thousands of problems print at most 50, each message cut to one line', async () => {
    const lines = ['name: many-keys'];
    for (let i = 0; i < 3000; i++) lines.push(`k${i}: "${'x'.repeat(400)}\\nsecond line"`);
    const file = write('keys.yaml', `${lines.join('\n')}\n`);
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/… and \d+ more problems \(the first 50 are shown\)/);
    expect(r.stderr.length).toBeLessThan(50 * 900);
  });

  it('a rate of 1e20 in a profile is refused with its position', async () => {
    const text = readFileSync(join(import.meta.dirname, '../scenarios/profiles/ci-smoke.yaml'), 'utf8');
    const file = write('fast.yaml', text.replace('peakRps: 15', 'peakRps: 99999999999999999999'));
    const r = await runCli(['profile', 'show', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`${esc(file)}:\\d+:\\d+: local\\.peakRps: is 100000000000000000000`));
  });

  it('a live rate above 20,000/s needs --max-rps, which raises the limit deliberately', async () => {
    const r = await runCli(['profile', 'show', 'ci-smoke', '--peak-rps', '50000']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[rate-too-high]');
    expect(r.stderr).toContain('--max-rps');
    const raised = await runCli(['profile', 'show', 'ci-smoke', '--peak-rps', '50000', '--max-rps', '60000']);
    expect(raised.code, raised.stderr).toBe(0);
  });

  it('a config default above the live limit is refused unless limits.maxRps raises it', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'peakday-cfg-'));
    writeFileSync(join(cwd, 'peakday.config.yaml'), 'defaults:\n  peakRps: 100000\n');
    const r = await runCli(['profile', 'show', 'ci-smoke'], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      'peakday.config.yaml:2:12: defaults.peakRps: is 100000 requests/s, above the live limit of 20000',
    );
    writeFileSync(
      join(cwd, 'peakday.config.yaml'),
      'limits: { maxRps: 100000 }\ndefaults:\n  peakRps: 100000\n',
    );
    const raised = await runCli(['profile', 'show', 'ci-smoke'], { cwd });
    expect(raised.code, raised.stderr).toBe(0);
  });
});

describe('messages say what is true', () => {
  it('an empty profile says the file is empty, at line 1', async () => {
    const file = write('empty.yaml', '# nothing yet\n');
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${file}:1:1: the file is empty`);
    expect(r.stderr).not.toContain('is null');
  });

  it('share: 35% says a number is allowed and what to write', async () => {
    const text = readFileSync(join(import.meta.dirname, '../scenarios/profiles/ci-smoke.yaml'), 'utf8');
    const file = write('pct.yaml', text.replace('share: 0.4', 'share: 35%'));
    const r = await runCli(['profile', 'validate', file]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('channels.web.share: is "35%" (expected a fraction from 0 to 1');
    expect(r.stderr).toContain('write 0.35 for 35%');
  });

  it('export-k6 says so when the script aims load at a host that is not loopback', async () => {
    const away = await runCli([
      'profile',
      'export-k6',
      'ci-smoke',
      '--base-url',
      'https://shop.example.com',
      '--out',
      join(dir, 'away.js'),
    ]);
    expect(away.code, away.stderr).toBe(0);
    expect(away.stderr).toContain(
      'warning: the script sends load to shop.example.com, which is not loopback',
    );
    const home = await runCli([
      'profile',
      'export-k6',
      'ci-smoke',
      '--base-url',
      'http://127.0.0.1:8080',
      '--out',
      join(dir, 'home.js'),
    ]);
    expect(home.code, home.stderr).toBe(0);
    expect(home.stderr).not.toContain('not loopback');
  });

  it('report on a missing run points at runs that exist, not at a command that does not', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'peakday-runs-'));
    const r = await runCli(['report', 'runs/nonexistent'], { cwd });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toContain('peakday runs');
    expect(r.stderr).toContain('peakday run');
  });
});
