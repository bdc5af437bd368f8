/**
 * The gate's terminal table: budget, observed (whole run), verdict, worst window and when; the
 * reasons follow under the table so the columns stay narrow.
 */

import {
  describeBudget,
  describeDetails,
  describeGate,
  describeObserved,
  describeWorst,
  verdictLabel,
} from './describe.ts';
import type { GateResult } from './evaluate.ts';

/** Colours the verdict column; identity functions when colour is off. */
export interface TableColors {
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
}

const plain: TableColors = { red: (s) => s, green: (s) => s, yellow: (s) => s, bold: (s) => s };

/** Renders the gate result as lines of text. */
export function renderGateTable(g: GateResult, eventStart: number, colors: TableColors = plain): string[] {
  const head = ['budget', 'observed', 'verdict', 'worst window (when)'];
  const rows = g.results.map((r) => [
    describeBudget(r),
    describeObserved(r),
    verdictLabel(r.verdict),
    describeWorst(r, eventStart),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
  const pad = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd();
  const color = (v: string, text: string) =>
    v === 'PASS' ? colors.green(text) : v === 'FAIL' ? colors.red(text) : colors.yellow(text);
  const lines = [colors.bold(pad(head)), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows) {
    const text = pad(row);
    const v = row[2] as string;
    const start = (widths[0] as number) + (widths[1] as number) + 4;
    lines.push(
      text.slice(0, start) +
        color(v, v.padEnd(widths[2] as number)) +
        text.slice(start + (widths[2] as number)),
    );
  }
  lines.push('');
  g.results.forEach((r, i) => {
    const [first, ...rest] = describeDetails(r);
    lines.push(`${i + 1}. ${r.budget.id}: ${first}`);
    for (const d of rest) lines.push(`   ${d}`);
  });
  lines.push('', describeGate(g));
  // Why the run is invalid, whatever each budget gave as its own reason (one short of samples says only
  // that), so a pipeline's log tells what to fix; the Markdown summary says it too.
  if (!g.run.valid)
    lines.push(`the run is invalid (${g.run.invalidReasons.join('; ') || 'no reason recorded'})`);
  return lines;
}
