/**
 * Cancellation for workflows that wait on a stage (collect reads a telemetry source, merge reads run
 * directories, import reads a k6 output): the workflow stops waiting at once when the signal fires
 * and rejects with its own `*-interrupted` error (exit 130). Collect and merge also hand the signal
 * to their stage, which aborts its requests in flight and stops between records, so a library caller
 * (not only the CLI, which exits) gets the work stopped. Collect writes only at its very end, so its
 * run directory is left as it was; a merge interrupted after it began writing leaves a merged
 * directory without summary.json, which every reader reports as a run that did not finish.
 */
import type { PeakdayError } from '../core/errors.ts';

/**
 * `work()` raced against `signal`: never started when the signal already fired, abandoned (rejecting
 * with `interrupted()`) when it fires first.
 */
export async function untilAborted<T>(
  signal: AbortSignal | undefined,
  interrupted: () => PeakdayError,
  work: () => Promise<T>,
): Promise<T> {
  if (signal?.aborted) throw interrupted();
  if (!signal) return work();
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work(), aborted]);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
