/**
 * `peakday merge <dir>... --out DIR`: merges the run directories of a split run (`--segment i/N`
 * on N load generators) into one (workflows/merge.ts, engine/merge.ts): sums, exact histogram merges, series aligned by
 * event time. Inputs that are not distinct segments of one plan are refused (exit 2); a missing
 * segment or an unfinished input makes the merged run partial and is named.
 */
import type { Command } from 'commander';

/** Registers `peakday merge`. */
export function register(program: Command): void {
  program
    .command('merge')
    .description(
      'merge the run directories of a split run into one (exact histogram merge, aligned by event time)',
    )
    .argument('<dirs...>', 'run directories to merge')
    .requiredOption('--out <dir>', 'merged run directory to write')
    .option('--json', 'print the merged summary as JSON')
    .action(async (dirs: string[], flags: { out: string; json?: boolean }) => {
      const [{ mergeWorkflow }, { createOutput }, { createCliSink }, { withInterrupt }] = await Promise.all([
        import('../../workflows/merge.ts'),
        import('../output.ts'),
        import('../sink.ts'),
        import('../signals.ts'),
      ]);
      const out = createOutput();
      const sink = createCliSink(out, { summary: 'none' });
      const { summary, meta, missingSegments, unfinished } = await withInterrupt((signal) =>
        mergeWorkflow({ inputs: dirs, out: flags.out, sink, signal }),
      );
      if (flags.json) return out.json({ dir: flags.out, meta, summary, missingSegments, unfinished });
      out.out(`merged ${dirs.length} runs into ${flags.out}${summary.partial ? ' (partial)' : ''}`);
      if (missingSegments.length > 0) out.out(`missing segments: ${missingSegments.join(', ')}`);
      for (const u of unfinished) out.out(`unfinished input: ${u}`);
      out.out(
        `iterations: planned ${summary.iterations.planned}, started ${summary.iterations.started}, dropped ${summary.iterations.dropped}; requests ${summary.requests.total}, failed ${summary.requests.failed}`,
      );
      const l = summary.latency.intended?.overall ?? summary.latency.send?.overall;
      if (l) out.out(`latency p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms`);
      out.out(summary.valid ? 'valid: yes' : `VALID: NO — ${summary.invalidReasons.join('; ')}`);
    });
}
