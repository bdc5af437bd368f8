/**
 * `peakday gate <run-dir>`: judge a run against latency budgets (and optionally a baseline run) and
 * exit 0 (all hold), 99 (a budget breached, as k6), 98 (no verdict possible) or 2 (bad input).
 * Thin: reports/budgets/gate.ts does the work.
 */
import type { Command } from 'commander';

interface GateFlags {
  budgets?: string;
  baseline?: string;
  maxRegression?: string;
  junit?: string;
  markdown?: string;
  json?: boolean;
}

/** Registers `peakday gate`. */
export function register(program: Command): void {
  program
    .command('gate <run-dir>')
    .description('judge a run against latency budgets: exit 0 pass, 99 breached, 98 no verdict, 2 bad input')
    .option(
      '--budgets <file>',
      "budgets file (native or k6 thresholds; docs/budgets.md); default: the profile's",
    )
    .option('--baseline <run-dir>', 'also fail on latency regressions against this run')
    .option('--max-regression <pct>', 'allowed regression against the baseline, beyond noise', '10%')
    .option('--junit <file>', 'write JUnit XML (one testcase per budget)')
    .option('--markdown <file>', 'write Markdown (also appended to $GITHUB_STEP_SUMMARY when set)')
    .option('--json', 'print the result as JSON')
    .action(async (runDir: string, flags: GateFlags) => {
      const [{ runGate }, { renderGateTable }, { createOutput }, { formatStat }] = await Promise.all([
        import('../../reports/budgets/gate.ts'),
        import('../../reports/budgets/terminal-table.ts'),
        import('../output.ts'),
        import('../../scenarios/budgets/budget.ts'),
      ]);
      const out = createOutput();
      const outcome = await runGate({
        runDir,
        budgets: flags.budgets,
        baseline: flags.baseline,
        maxRegression: flags.maxRegression,
        junit: flags.junit,
        markdown: flags.markdown,
        stepSummary: process.env.GITHUB_STEP_SUMMARY || undefined,
      });
      const { gate } = outcome;
      if (flags.json) {
        out.json({
          verdict: gate.verdict,
          exitCode: gate.exitCode,
          counts: gate.counts,
          run: gate.run,
          budgetsFile: outcome.budgets.file,
          baseline: outcome.baseline?.dir ?? null,
          results: gate.results.map((r) => ({
            id: r.budget.id,
            name: r.budget.name,
            form: r.budget.form,
            metric: r.budget.metricName,
            stat: formatStat(r.budget.stat),
            op: r.budget.op,
            limit: r.budget.limit,
            scope: r.budget.scope,
            window: r.budget.windowSeconds,
            verdict: r.verdict,
            observed: r.observed,
            samples: r.samples,
            simulated: r.simulated,
            worst: r.worst,
            windows: r.windows,
            reason: r.reason,
            notes: r.notes,
            regression: r.regression ?? null,
            source: r.budget.source,
          })),
        });
      } else {
        out.out(`budgets: ${outcome.budgets.file}`);
        for (const line of renderGateTable(gate, outcome.run.meta.eventStart, out)) out.out(line);
        for (const f of outcome.written) out.err(`wrote ${f}`);
      }
      // The verdict is printed first; a file that could not be written is said after it, and turns
      // a pass into exit 2 (the CI step's artefact is missing) without hiding a breach (99) or 98.
      for (const w of outcome.writeErrors) out.err(`error: could not write ${w.file}: ${w.error}`);
      process.exitCode = outcome.writeErrors.length > 0 && gate.exitCode === 0 ? 2 : gate.exitCode;
    });
}
