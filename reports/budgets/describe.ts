/**
 * Shared wording for every budgets renderer (terminal, Markdown, JUnit, JSON), so a verdict reads
 * the same wherever it is shown.
 */
import { formatDuration } from '../../core/duration.ts';
import { formatBudgetValue } from '../../scenarios/budgets/budget.ts';
import { describeScope } from '../../scenarios/budgets/parse-budgets.ts';
import type { BudgetResult, GateResult, Verdict } from './evaluate.ts';

/** The observed whole-run value, or a dash. */
export function describeObserved(r: BudgetResult): string {
  if (r.observed === null) return '-';
  return `${formatBudgetValue(r.budget, r.observed)}${r.simulated ? ' (sim)' : ''}`;
}

/** The worst window and when it was, in event time from the run's start (and wall offset). */
export function describeWorst(r: BudgetResult, eventStart: number): string {
  if (r.budget.windowSeconds === null) return 'whole run';
  if (!r.worst) return '-';
  const from = formatDuration(Math.max(0, r.worst.from - eventStart));
  const to = formatDuration(Math.max(0, r.worst.to - eventStart));
  return `${formatBudgetValue(r.budget, r.worst.value)} at ${from}–${to} (wall +${formatDuration(r.worst.wall)})`;
}

/** The budget as a one-liner: `latency p95 < 2s [channel=web] per 1m`. */
export function describeBudget(r: BudgetResult): string {
  const b = r.budget;
  const scope = describeScope(b.scope);
  const window = b.windowSeconds === null ? '' : ` per ${formatDuration(b.windowSeconds)}`;
  return `${b.name}${scope && b.form === 'native' && !b.name.includes(scope) ? ` [${scope}]` : ''}${window}`;
}

/** Verdict label for humans. */
export function verdictLabel(v: Verdict): string {
  return v === 'pass' ? 'PASS' : v === 'fail' ? 'FAIL' : 'INCONCLUSIVE';
}

/** The gate's one-line summary. */
export function describeGate(g: GateResult): string {
  const { pass, fail, inconclusive } = g.counts;
  const run = `${g.run.id} (${g.run.mode}, ${g.run.driver}${g.run.valid ? '' : ', INVALID'})`;
  return `${verdictLabel(g.verdict)}: ${pass} passed, ${fail} failed, ${inconclusive} inconclusive of ${g.results.length} budgets on run ${run} (exit ${g.exitCode})`;
}

/** Everything said about a result beyond its verdict: reason, regression, notes. */
export function describeDetails(r: BudgetResult): string[] {
  const out = [r.reason];
  if (r.regression) out.push(`baseline: ${r.regression.reason}`);
  out.push(...r.notes);
  return out;
}
