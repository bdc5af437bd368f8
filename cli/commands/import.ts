/**
 * `peakday import k6 <output> [--summary F] [--script F] [--out DIR]`: any k6 run as a run directory
 * that collect, report and gate read (engine/k6/import.ts, docs/bring-your-own.md). Thin: the flags and
 * the printing; workflows/import.ts does the work.
 */
import type { Command } from 'commander';
import { createFlagChecker } from '../flags.ts';

interface ImportK6Flags {
  summary?: string;
  script?: string;
  out?: string;
  channelTag: string;
  journeyTag: string;
  stepTag: string;
  json?: boolean;
}

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
      const [{ importK6Workflow }, { createOutput }, { createCliSink }, { withInterrupt }, { readConfig }] =
        await Promise.all([
          import('../../workflows/import.ts'),
          import('../output.ts'),
          import('../sink.ts'),
          import('../signals.ts'),
          import('../../core/config.ts'),
        ]);
      // The flags become a typed request here; every problem at once (exit 2).
      const f = createFlagChecker('import k6');
      const tag = (flag: string, raw: string) => {
        if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(raw)) return raw;
        f.add({
          path: flag,
          message: `"${raw}" is not a k6 tag name`,
          expected: 'e.g. channel, group, name',
        });
        return raw;
      };
      const mapping = {
        channel: tag('--channel-tag', flags.channelTag),
        journey: tag('--journey-tag', flags.journeyTag),
        step: tag('--step-tag', flags.stepTag),
      };
      for (const [flag, file] of [
        ['<output>', output],
        ['--summary', flags.summary],
        ['--script', flags.script],
        ['--out', flags.out],
      ] as const)
        if (file !== undefined && file.trim() === '')
          f.add({ path: flag, message: 'is empty', expected: 'a path' });
      f.done();
      const out = createOutput();
      const sink = createCliSink(out, { summary: 'none' });
      const r = await withInterrupt((signal) =>
        importK6Workflow({
          output,
          ...(flags.summary !== undefined ? { summary: flags.summary } : {}),
          ...(flags.script !== undefined ? { script: flags.script } : {}),
          ...(flags.out !== undefined ? { out: flags.out } : {}),
          runsDir: readConfig().runsDir,
          mapping,
          sink,
          signal,
        }),
      );
      if (flags.json) {
        out.json({
          dir: r.dir,
          startedAt: r.meta.startedAt,
          endedAt: r.meta.endedAt,
          format: r.info.format,
          gzip: r.info.gzip,
          summary: r.summary,
          budgetsFrom: r.budgetsFrom,
          budgets: r.budgets,
          checks: r.checks,
          metrics: r.metricNames,
          notes: r.meta.notes,
        });
        return;
      }
      const s = r.summary;
      out.out(`${out.bold('imported')} ${output} into ${r.dir}`);
      out.out(`  window: ${r.meta.startedAt} to ${r.meta.endedAt} (${s.durationSeconds} s)`);
      out.out(
        `  iterations: ${s.iterations.completed} completed, ${s.iterations.dropped} dropped; requests ${s.requests.total}, failed ${s.requests.failed}`,
      );
      const l = s.latency.send?.overall;
      if (l) out.out(`  http_req_duration: p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms (send time)`);
      if (r.checks.length > 0) {
        const off = r.checks.filter((c) => c.k6 !== c.peakday);
        out.out(
          off.length === 0
            ? `  counts match k6's summary (${r.checks.map((c) => c.metric).join(', ')})`
            : out.yellow(
                `  counts differ from k6's summary: ${off.map((c) => `${c.metric} ${c.k6} vs ${c.peakday}`).join('; ')}`,
              ),
        );
      }
      out.out(
        r.budgetsFrom
          ? `  budgets: ${r.budgets} thresholds from the ${r.budgetsFrom} (gate uses them by default)`
          : '  budgets: none (the run had no thresholds; pass --budgets to gate)',
      );
      if (r.metricNames.length > 0) out.out(`  metrics kept per second: ${r.metricNames.join(', ')}`);
      for (const n of r.meta.notes) out.out(out.dim(`  note: ${n}`));
      out.out(
        `next: peakday collect ${r.dir} --source cloudwatch --cluster <name>; peakday report ${r.dir}; peakday gate ${r.dir}`,
      );
    });
}
