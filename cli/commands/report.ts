/**
 * `peakday report <run-dir> [--out DIR] [--json]`: reads a run directory, builds the report model
 * (findings, recommendations, cost) and writes every renderer's output into <run-dir>/report/
 * (or --out), then prints the paths and a short summary. Thin: the work is in reports/.
 */
import type { Command } from 'commander';

interface ReportFlags {
  out?: string;
  json?: boolean;
  region?: string;
  budgets?: string;
}

/** Registers `peakday report`. */
export function register(program: Command): void {
  program
    .command('report')
    .description(
      'write the capacity, findings and cost report of a run (HTML, Markdown + PNG, JSON, summary)',
    )
    .argument('<run-dir>', 'run directory written by `peakday run`, `simulate` or `rehearse`')
    .option('--out <dir>', 'where to write the report (default: <run-dir>/report)')
    .option(
      '--region <region>',
      'pricing region (default: pricing.region in peakday.config.yaml, else us-east-1)',
    )
    .option(
      '--budgets <file>',
      "budgets file for breach minutes (default: the run's profile's default budgets)",
    )
    .option('--json', 'print the written paths and the summary as JSON')
    .action(async (runDir: string, flags: ReportFlags) => {
      const [{ join, resolve }, { readConfig }, { generateReport }, { createOutput }] = await Promise.all([
        import('node:path'),
        import('../../core/config.ts'),
        import('../../reports/generate.ts'),
        import('../output.ts'),
      ]);
      const config = readConfig();
      // An --out that cannot be a directory is refused before the run is read.
      if (flags.out !== undefined)
        (await import('../../core/output-path.ts')).prepareOutputDir(flags.out, '--out');
      const outDir = resolve(flags.out ?? join(runDir, 'report'));
      const result = await generateReport(runDir, {
        outDir,
        config,
        ...(flags.region ? { region: flags.region } : {}),
        ...(flags.budgets ? { budgetsFile: flags.budgets } : {}),
        now: new Date().toISOString(),
      });
      const o = createOutput();
      if (flags.json) {
        o.json({
          reportDir: outDir,
          files: result.files,
          valid: result.report.run.valid,
          partial: result.report.run.partial,
          findings: result.report.findings.length,
          summary: result.summary,
        });
        return;
      }
      for (const line of result.summary) o.out(line);
      o.out();
      o.out(o.bold('report written:'));
      o.out(`  html      ${result.files.html?.[0] ?? ''}`);
      o.out(`  markdown  ${result.files.markdown?.find((f) => f.endsWith('.md')) ?? ''}`);
      o.out(`  json      ${result.files.json?.[0] ?? ''}`);
      o.out(`  summary   ${result.files.terminal?.[0] ?? ''}`);
    });
}
