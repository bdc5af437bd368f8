import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KNOWN, writeKnownScenario } from '../reports/testing/known-scenario.ts';
import { runCli } from './cli-helper.ts';

const root = mkdtempSync(join(tmpdir(), 'peakday-report-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('peakday report', () => {
  it('writes HTML, Markdown with PNG charts, report.json and a summary into <run-dir>/report', async () => {
    const dir = writeKnownScenario(join(root, 'ok'));
    const r = await runCli(['report', dir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = join(dir, 'report');
    for (const f of ['report.html', 'report.md', 'report.json', 'summary.txt', 'charts/timeline.png'])
      expect(existsSync(join(out, f)), f).toBe(true);
    expect(r.stdout).toContain(join(out, 'report.html'));
    expect(r.stdout).toContain(`Hot partition: key ${KNOWN.hotKey}`);
    const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(
      json.findings.find((f: { id: string }) => f.id === `scale-out-lag/cart@${KNOWN.stepAt}`).value,
    ).toBe(KNOWN.lagSeconds);
    const png = readFileSync(join(out, 'charts/timeline.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
  });

  it('honours --out and prints the paths as JSON with --json', async () => {
    const dir = writeKnownScenario(join(root, 'json'));
    const out = join(root, 'elsewhere');
    const r = await runCli(['report', dir, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.reportDir).toBe(out);
    expect(j.files.html[0]).toBe(join(out, 'report.html'));
    expect(j.partial).toBe(false);
    expect(existsSync(join(dir, 'report'))).toBe(false);
  });

  it('marks a partial run partial and still reports', async () => {
    const dir = writeKnownScenario(join(root, 'partial'), { noSummary: true, eventEnd: 4000 });
    const r = await runCli(['report', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('PARTIAL');
    expect(readFileSync(join(dir, 'report', 'report.html'), 'utf8')).toContain('class="banner partial"');
  });

  it.each([
    ['meta.json is missing', 'meta.json', null, 'meta.json is missing'],
    [
      'a series line is corrupt',
      'series.ndjson',
      '{"t":1}\n{"t":2,"dt":1,"channel":"web","journey":"x","step":null}\n',
      'series.ndjson',
    ],
  ])('exits 2 and names the file when %s', async (_name, file, append, expected) => {
    const dir = writeKnownScenario(join(root, `bad-${file}`));
    if (append === null) rmSync(join(dir, file));
    else appendFileSync(join(dir, file), append);
    const r = await runCli(['report', dir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(expected);
    expect(r.stderr).not.toContain('    at ');
    if (file === 'series.ndjson') expect(r.stderr).toMatch(/series\.ndjson:\d+/);
  });

  it('exits 2 for an unknown pricing override in peakday.config.yaml', async () => {
    const dir = writeKnownScenario(join(root, 'cfg-run'));
    const cwd = join(root, 'cfg');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(cwd, { recursive: true });
    writeFileSync(join(cwd, 'peakday.config.yaml'), 'pricing:\n  overrides:\n    fargate.cpu: 1\n');
    const r = await runCli(['report', dir], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('pricing.overrides.fargate.cpu');
  });
});
