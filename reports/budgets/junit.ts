/**
 * The gate as JUnit XML: one testsuite per gate, one testcase per budget. A breach is a `<failure>`,
 * an inconclusive budget is `<skipped>` with its reason (no verdict; the gate still exits 98), and
 * the evidence goes to `<system-out>`. Validated against reports/budgets/fixtures/junit.xsd in tests.
 */

import { describeBudget, describeDetails, describeObserved, describeWorst } from './describe.ts';
import type { GateResult } from './evaluate.ts';

/** Escapes text for XML attribute and element content (and drops characters XML 1.0 forbids). */
export function escapeXml(s: string): string {
  return s
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Renders the gate result as a JUnit XML document. */
export function renderGateJunit(
  g: GateResult,
  eventStart: number,
  opts: { timestamp?: string } = {},
): string {
  const x = escapeXml;
  const suite = `peakday budgets (${g.run.id})`;
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="peakday gate" tests="${g.results.length}" failures="${g.counts.fail}" errors="0" skipped="${g.counts.inconclusive}">`,
    `  <testsuite name="${x(suite)}" tests="${g.results.length}" failures="${g.counts.fail}" errors="0" skipped="${g.counts.inconclusive}"${opts.timestamp ? ` timestamp="${x(opts.timestamp)}"` : ''}>`,
    '    <properties>',
    `      <property name="run" value="${x(g.run.id)}"/>`,
    `      <property name="mode" value="${x(g.run.mode)}"/>`,
    `      <property name="driver" value="${x(g.run.driver)}"/>`,
    `      <property name="valid" value="${g.run.valid}"/>`,
    `      <property name="verdict" value="${g.verdict}"/>`,
    '    </properties>',
  ];
  for (const r of g.results) {
    const src = r.budget.source;
    const attrs = `name="${x(describeBudget(r))}" classname="${x(`peakday.budgets.${r.budget.id}`)}" file="${x(src.file)}"${src.line ? ` line="${src.line}"` : ''}`;
    out.push(`    <testcase ${attrs}>`);
    const details = describeDetails(r);
    if (r.verdict === 'fail') {
      out.push(
        `      <failure message="${x(details[0] ?? '')}" type="budget-breached">${x(details.join('\n'))}</failure>`,
      );
    } else if (r.verdict === 'inconclusive') {
      out.push(`      <skipped message="${x(`inconclusive: ${details[0] ?? ''}`)}"/>`);
    }
    out.push(
      `      <system-out>${x([`observed: ${describeObserved(r)}`, `worst: ${describeWorst(r, eventStart)}`, `samples: ${r.samples}`, ...details].join('\n'))}</system-out>`,
    );
    out.push('    </testcase>');
  }
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}
