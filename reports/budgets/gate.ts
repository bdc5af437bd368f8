/**
 * The gate: reads a run (and optionally a baseline), evaluates its budgets, compares with the
 * baseline, and writes JUnit / Markdown / $GITHUB_STEP_SUMMARY. `cli/commands/gate.ts` is a thin shell
 * over `runGate`; `applyBaseline` is the pure part that folds regressions into verdicts.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { PeakdayError } from '../../core/errors.ts';
import { checkOutputFile, describeFsError } from '../../core/output-path.ts';
import type { BudgetSet } from '../../scenarios/budgets/budget.ts';
import { loadBudgetsForProfile } from '../../scenarios/budgets/defaults.ts';
import { parseFraction } from '../../scenarios/budgets/expression.ts';
import { createHistogramCache, type HistogramCache } from '../../scenarios/budgets/slices.ts';
import { evaluateBudgets, type GateResult, type RunInput, summarizeGate } from './evaluate.ts';
import { renderGateJunit } from './junit.ts';
import { renderGateMarkdown } from './markdown.ts';
import { type GateRun, readGateRun } from './read-gate-run.ts';
import { compareToBaseline } from './regression.ts';

/** What the gate command was asked to do. */
export interface GateOptions {
  runDir: string;
  budgets?: string;
  baseline?: string;
  /** As written: `10%` or `0.1`. */
  maxRegression?: string;
  junit?: string;
  markdown?: string;
  /** `$GITHUB_STEP_SUMMARY`, passed in by the CLI. */
  stepSummary?: string;
  now?: Date;
}

/** What the gate produced. */
export interface GateOutcome {
  gate: GateResult;
  run: GateRun;
  budgets: BudgetSet;
  baseline?: GateRun;
  written: string[];
  /** Files that could not be written (the verdict stands; the CLI prints it first, then these). */
  writeErrors: { file: string; error: string }[];
}

/** Default allowed regression against a baseline (an assumption; `--max-regression` overrides). */
export const DEFAULT_MAX_REGRESSION = 0.1;

/** Parses `--max-regression` (`10%` or `0.1`); anything else is exit 2. */
export function parseMaxRegression(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MAX_REGRESSION;
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(text.trim());
  const v = pct ? Number(pct[1]) / 100 : parseFraction(text.trim()).ok ? Number(text) : Number.NaN;
  if (!Number.isFinite(v) || v < 0) {
    throw new PeakdayError('invalid-flag', `--max-regression ${text} is not a percentage`, {
      hint: 'write --max-regression 10% (or 0.1)',
    });
  }
  return v;
}

/** Folds baseline comparisons into each budget's verdict (pure). A regression failure fails the budget. */
export function applyBaseline(
  gate: GateResult,
  candidate: RunInput,
  baseline: RunInput,
  maxRegression: number,
  caches: { candidate: HistogramCache; baseline: HistogramCache } = {
    candidate: createHistogramCache(),
    baseline: createHistogramCache(),
  },
): GateResult {
  const results = gate.results.map((r) => {
    const regression = compareToBaseline(r.budget, candidate, baseline, { maxRegression }, caches);
    if (!regression) return r;
    const verdict = regression.verdict === 'fail' ? 'fail' : r.verdict;
    return { ...r, regression, verdict };
  });
  return summarizeGate(candidate, results);
}

/** Runs the gate end to end (I/O edge). */
export async function runGate(opts: GateOptions): Promise<GateOutcome> {
  const maxRegression = parseMaxRegression(opts.maxRegression);
  // Output paths are checked before any work: a bad one is exit 2 naming it, not a lost verdict.
  if (opts.junit) checkOutputFile(opts.junit, '--junit');
  if (opts.markdown) checkOutputFile(opts.markdown, '--markdown');
  const { readRun } = await import('../../core/run-directory.ts');
  const budgets = loadBudgetsForProfile(readRun(opts.runDir).meta.profile.name, opts.budgets, opts.runDir);
  const k6Metrics = new Set(budgets.budgets.filter((x) => x.metric === 'k6_metric').map((x) => x.metricName));
  const run = await readGateRun(
    opts.runDir,
    k6Metrics,
    budgets.budgets.some((x) => x.metric === 'timeline'),
  );
  const cache = createHistogramCache();
  let gate = evaluateBudgets(budgets.budgets, run, cache);
  let baseline: GateRun | undefined;
  if (opts.baseline !== undefined) {
    baseline = await readGateRun(opts.baseline);
    gate = applyBaseline(gate, run, baseline, maxRegression, {
      candidate: cache,
      baseline: createHistogramCache(),
    });
  }
  const written: string[] = [];
  const writeErrors: { file: string; error: string }[] = [];
  const tryWrite = (file: string, write: () => void) => {
    try {
      write();
      written.push(file);
    } catch (e) {
      writeErrors.push({ file, error: describeFsError(e) });
    }
  };
  const eventStart = run.meta.eventStart;
  if (opts.junit) {
    const xml = renderGateJunit(gate, eventStart, {
      timestamp: (opts.now ?? new Date()).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    tryWrite(opts.junit, () => writeFileSync(opts.junit as string, xml));
  }
  const md = opts.markdown || opts.stepSummary ? renderGateMarkdown(gate, eventStart) : '';
  if (opts.markdown) tryWrite(opts.markdown, () => writeFileSync(opts.markdown as string, md));
  if (opts.stepSummary)
    tryWrite(opts.stepSummary, () => appendFileSync(opts.stepSummary as string, `${md}\n`));
  return { gate, run, budgets, baseline, written, writeErrors };
}
