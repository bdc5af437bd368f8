/**
 * The run-directory output: subscribes to the engine and appends every second's series records and
 * health record as they are emitted (so the directory is never more than a second behind, and a
 * killed process leaves everything up to its last second), feeding the summary accumulator with their counts as it goes
 * (the engine adds its whole-run histograms at the end: engine/run.ts).
 */
import { join } from 'node:path';
import type { RunDirectoryWriter } from '../../core/run-directory.ts';
import { RUN_FILES } from '../../core/run-format.ts';
import type { EngineSubscriber, SecondReport } from '../engine.ts';
import { createSummaryAccumulator, type SummaryAccumulator } from '../summary.ts';

/**
 * A subscriber that writes the run directory; `summary` accumulates what it wrote. A failed append
 * (full disk, file-size limit, I/O error) is never thrown into the engine: writing stops, the error
 * is kept in `writeError` and `onWriteError` is called once so the caller stops the load; what was
 * appended before stays readable (at most a torn last line, which readers skip).
 */
export function createRunWriterOutput(
  writer: RunDirectoryWriter,
  options: { onWriteError?: (error: RunWriteError) => void } = {},
): EngineSubscriber & { summary: SummaryAccumulator; writeError: RunWriteError | null } {
  const summary = createSummaryAccumulator();
  const out = {
    summary,
    writeError: null as RunWriteError | null,
    onSecond(report: SecondReport) {
      if (out.writeError) return;
      let file: string = RUN_FILES.series;
      try {
        writer.appendSeries(report.records);
        // The summary counts what the series holds.
        for (const r of report.records) summary.addCounts(r);
        file = RUN_FILES.engine;
        writer.appendEngine([report.health]);
      } catch (e) {
        out.writeError = { file: join(writer.dir, file), error: e as NodeJS.ErrnoException };
        options.onWriteError?.(out.writeError);
      }
    },
  };
  return out;
}

/** A write to the run directory that failed: the file and the file-system error. */
export interface RunWriteError {
  file: string;
  error: NodeJS.ErrnoException;
}
