/**
 * `peakday import k6 <output> [--summary F] [--script F] [--out DIR]`: any k6 run as a run directory
 * that collect, report and gate read (engine/k6/import.ts, docs/bring-your-own.md). Thin: the flags;
 * workflows/import.ts does the rest.
 */
import type { Command } from 'commander';
import type { ImportK6Flags } from '../../workflows/import.ts';

/** Registers `peakday import`. */
export function register(program: Command): void {
  const cmd = program
    .command('import')
    .description('bring a load run made elsewhere into a run directory (collect, report and gate read it)');
  cmd
    .command('k6')
    .description(
      'import a k6 run: its --out json (plain or gzip) or --out csv output, optionally its --summary-export and script',
    )
    .argument('<output>', "k6's --out json=FILE or --out csv=FILE output (.gz accepted)")
    .option(
      '--summary <file>',
      "k6's --summary-export file: its counts are checked, its thresholds become budgets",
    )
    .option(
      '--script <file>',
      'the k6 script: its options.thresholds become budgets when no summary has them',
    )
    .option('--out <dir>', 'run directory to write (default: runs/<id>)')
    .option('--channel-tag <tag>', 'k6 tag that names the channel (fallback: the scenario)', 'channel')
    .option(
      '--journey-tag <tag>',
      'k6 tag that names the journey (fallback: the scenario), e.g. group',
      'journey',
    )
    .option('--step-tag <tag>', 'k6 tag that names the step (fallback: the request name)', 'step')
    .option('--json', 'print the result as JSON')
    .action(async (output: string, flags: ImportK6Flags) => {
      const { executeImportK6 } = await import('../../workflows/import.ts');
      await executeImportK6(output, flags);
    });
}
