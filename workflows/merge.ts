/**
 * The merge workflow, the body of `peakday merge`: the run directories of a split run (`--segment i/N`
 * on N load generators) merged into one by engine/merge.ts (sums, exact histogram merges, series
 * aligned by event time). A typed request, so the CLI's flag strings stop at cli/.
 */
import { PeakdayError } from '../core/errors.ts';
import type { RunMeta, RunSummary } from '../core/run-format.ts';
import { untilAborted } from './abortable.ts';
import { silentSink, type WorkflowSink } from './sink.ts';

/** What `peakday merge` is asked to do. */
export interface MergeRequest {
  /** The segments' run directories. */
  inputs: readonly string[];
  /** The merged run directory to write (not one of the inputs). */
  out: string;
  /** Progress lines (the CLI's sink writes them to stderr); default: none. */
  sink?: WorkflowSink;
  /**
   * Ctrl-C: stops waiting at once (exit 130, workflows/abortable.ts) and stops mergeRuns between
   * records; the inputs are only read, a merged directory already begun has no summary.json.
   */
  signal?: AbortSignal;
}

/** The merged run: its meta and summary, and what made it partial. */
export interface MergeOutcome {
  dir: string;
  meta: RunMeta;
  summary: RunSummary;
  /** Segments of the split that no input covers ("2/4"). */
  missingSegments: string[];
  /** Inputs whose run did not finish. */
  unfinished: string[];
}

/** Merges the inputs into `out` (exit 2 for inputs that are not distinct segments of one plan). */
export async function mergeWorkflow(req: MergeRequest): Promise<MergeOutcome> {
  const sink = req.sink ?? silentSink;
  const interrupted = () =>
    new PeakdayError('merge-interrupted', `merge was interrupted: ${req.out} is not a finished merge`, {
      hint: 'merge again',
    });
  return untilAborted(req.signal, interrupted, async () => {
    const { mergeRuns } = await import('../engine/merge.ts');
    sink.log(`merging ${req.inputs.length} runs into ${req.out}`);
    const merged = await mergeRuns(req.inputs, req.out, {}, req.signal);
    return { dir: req.out, ...merged };
  });
}
