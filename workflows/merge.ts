/**
 * The merge workflow, the body of `peakday merge`: the run directories of a split run (`--segment i/N`
 * on N load generators) merged into one by engine/merge.ts (sums, exact histogram merges, series
 * aligned by event time). A typed request, so the CLI's flag strings stop at cli/.
 */
import type { RunMeta, RunSummary } from '../core/run-format.ts';

/** What `peakday merge` is asked to do. */
export interface MergeRequest {
  /** The segments' run directories. */
  inputs: readonly string[];
  /** The merged run directory to write (not one of the inputs). */
  out: string;
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
  const { mergeRuns } = await import('../engine/merge.ts');
  const merged = await mergeRuns(req.inputs, req.out);
  return { dir: req.out, ...merged };
}
