import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseBudgetsText } from '../../scenarios/budgets/parse-budgets.ts';
import { constructRun } from '../../scenarios/budgets/testing.ts';
import { evaluateBudgets, type GateResult } from './evaluate.ts';
import { renderGateJunit } from './junit.ts';
import { renderGateMarkdown } from './markdown.ts';
import { renderGateTable } from './terminal-table.ts';

const XSD = fileURLToPath(new URL('./fixtures/junit.xsd', import.meta.url));

/** A gate with one pass, one windowed failure and one inconclusive budget, with awkward characters. */
function mixedGate(): GateResult {
  const set = parseBudgetsText(
    [
      'budgets:',
      '  - name: "web <pages> & \'quotes\'"',
      '    metric: latency',
      '    threshold: p95 < 2s',
      '  - name: errors per minute',
      '    metric: error_rate',
      '    threshold: rate < 20%',
      '    window: 1m',
      '  - name: tail',
      '    metric: latency',
      '    threshold: p99.99 < 2s',
    ].join('\n'),
    'budgets.yaml',
  );
  const run = constructRun(300, (t) => [{ requests: 100, failed: t >= 240 ? 100 : 0 }]);
  return evaluateBudgets(set.budgets, run);
}

function xmllint(xml: string): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-junit-'));
  const file = join(dir, 'out.xml');
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8' });
  return { status: r.status, stderr: r.stderr };
}

describe('JUnit XML', () => {
  it('has one testcase per budget and validates against the JUnit schema', () => {
    const g = mixedGate();
    expect(g.counts).toEqual({ pass: 1, fail: 1, inconclusive: 1 });
    const xml = renderGateJunit(g, 0, { timestamp: '2026-11-25T01:00:00Z' });
    const r = xmllint(xml);
    expect(r.stderr).toMatch(/validates/);
    expect(r.status).toBe(0);
    expect(xml.match(/<testcase /g)).toHaveLength(3);
    expect(xml).toContain('<failure message="rate &lt; 20%: breached in');
    expect(xml).toContain('<skipped message="inconclusive: ');
    expect(xml).toContain('web &lt;pages&gt; &amp; &apos;quotes&apos;');
  });

  it('is rejected by the schema when a testcase lacks its name (the check can fail)', () => {
    const xml = renderGateJunit(mixedGate(), 0).replace(/<testcase name="[^"]*"/, '<testcase');
    expect(xmllint(xml).status).not.toBe(0);
  });
});

describe('Markdown and the terminal table', () => {
  it('shows each budget with its verdict and the worst window and when', () => {
    const g = mixedGate();
    const md = renderGateMarkdown(g, 0);
    expect(md).toMatch(/^### peakday gate: ❌ FAIL/);
    expect(md).toMatch(/\| errors per minute per 1m \| 20% \| ❌ FAIL \| 100% at 4m–5m \(wall \+4m\) \|/);
    const table = renderGateTable(g, 0).join('\n');
    expect(table).toMatch(/budget\s+observed\s+verdict\s+worst window \(when\)/);
    expect(table).toMatch(/errors per minute per 1m\s+20%\s+FAIL\s+100% at 4m–5m/);
    expect(table).toMatch(/INCONCLUSIVE/);
    expect(table).toMatch(/FAIL: 1 passed, 1 failed, 1 inconclusive of 3 budgets .* \(exit 99\)/);
  });
});

describe('the gate summary of an invalid run', () => {
  it('says why the run is invalid even when every budget is inconclusive for its own reason', () => {
    const set = parseBudgetsText(
      [
        'budgets:',
        '  - name: p95',
        '    metric: latency',
        '    threshold: p95 < 2s',
        '    minSamples: 1000',
      ].join('\n'),
      'budgets.yaml',
    );
    const reason = 'k6 fell behind its schedule: it never started 111 of the plan’s 300 iterations';
    const run = constructRun(10, () => [{ requests: 10, failed: 0 }], {
      valid: false,
      invalidReasons: [reason],
    });
    const g = evaluateBudgets(set.budgets, run);
    expect(g.counts).toEqual({ pass: 0, fail: 0, inconclusive: 1 });
    // The budget's own reason is its sample count, not the run's validity.
    expect(g.results[0]?.reason).not.toContain('invalid');
    expect(renderGateTable(g, 0).join('\n')).toContain(`the run is invalid (${reason})`);
    expect(renderGateMarkdown(g, 0)).toContain(`**Invalid run:** ${reason}`);
    const valid = evaluateBudgets(
      set.budgets,
      constructRun(10, () => [{ requests: 10, failed: 0 }]),
    );
    expect(renderGateTable(valid, 0).join('\n')).not.toContain('the run is invalid');
  });
});
