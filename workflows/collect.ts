/**
 * The collect workflow, the body of `peakday collect`: a live run's scaling metrics and activities
 * read back from a telemetry source (the local stack, or CloudWatch and Application Auto Scaling) and
 * written into its run directory as the timeline (telemetry/collect.ts). A typed request, so the CLI's
 * flag strings stop at cli/; rehearse and probe call the same telemetry/collect.ts step directly.
 */
import { PeakdayError } from '../core/errors.ts';
import type { CollectWindow, TelemetryInfo } from '../telemetry/collect.ts';
import type { TelemetrySourceName } from '../telemetry/sources/index.ts';
import type { CollectOptions } from '../telemetry/sources/source.ts';
import { untilAborted } from './abortable.ts';
import { silentSink, type WorkflowSink } from './sink.ts';

/** What `peakday collect` is asked to do, flags parsed. */
export interface CollectRequest {
  runDir: string;
  source: TelemetrySourceName;
  /** Where and what to collect (stack directory, region, cluster, services, tag, period). */
  options: CollectOptions;
  /** A time window to collect into a new run directory instead of a run's own time range. */
  window?: CollectWindow;
  /** Progress lines (the CLI's sink writes them to stderr); default: none. */
  sink?: WorkflowSink;
  /**
   * Ctrl-C: stops waiting for the source at once (exit 130, workflows/abortable.ts) and aborts the
   * source's requests in flight (the AWS SDK's abortSignal); nothing is written, the run is kept.
   */
  signal?: AbortSignal;
}

/** Collects the run's timeline into its directory; returns what was written (telemetry.json). */
export async function collectWorkflow(req: CollectRequest): Promise<TelemetryInfo> {
  const sink = req.sink ?? silentSink;
  const interrupted = () =>
    new PeakdayError('collect-interrupted', `collect was interrupted: ${req.runDir} is as it was`, {
      hint: 'collect again: the source still holds the data',
    });
  return untilAborted(req.signal, interrupted, async () => {
    const { collectTelemetry } = await import('../telemetry/collect.ts');
    sink.log(`collecting ${req.source} telemetry into ${req.runDir}`);
    const options = req.signal ? { ...req.options, signal: req.signal } : req.options;
    const { info } = await collectTelemetry(req.runDir, req.source, options, req.window);
    return info;
  });
}
