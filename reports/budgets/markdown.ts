/**
 * The gate as Markdown, for `--markdown` and for `$GITHUB_STEP_SUMMARY` (appended when set, so the
 * verdicts show on the workflow run's summary page).
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

const icon = { pass: '✅', fail: '❌', inconclusive: '⚠️' } as const;

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Renders the gate result as a Markdown section. */
export function renderGateMarkdown(g: GateResult, eventStart: number): string {
  const lines = [`### peakday gate: ${icon[g.verdict]} ${verdictLabel(g.verdict)}`, '', describeGate(g), ''];
  if (!g.run.valid)
    lines.push(`> **Invalid run:** ${g.run.invalidReasons.join('; ') || 'no reason recorded'}`, '');
  lines.push('| budget | observed | verdict | worst window (when) | why |', '|---|---|---|---|---|');
  for (const r of g.results) {
    lines.push(
      `| ${cell(describeBudget(r))} | ${cell(describeObserved(r))} | ${icon[r.verdict]} ${verdictLabel(r.verdict)} | ${cell(describeWorst(r, eventStart))} | ${cell(describeDetails(r).join('; '))} |`,
    );
  }
  lines.push('');
  return lines.join('\n');
}
