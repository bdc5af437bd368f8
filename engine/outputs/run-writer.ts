/**
 * The run-directory output: subscribes to the engine and appends every second's series records and
 * health record as they are emitted (so the directory is never more than a second behind, and a
 * killed process leaves everything up to its last second), feeding the summary accumulator with their counts as it goes
 * (the engine adds its whole-run histograms at the end: engine/run.ts).
 */
import type { RunDirectoryWriter } from '../../core/run-directory.ts';
import type { EngineSubscriber } from '../engine.ts';
import { createSummaryAccumulator, type SummaryAccumulator } from '../summary.ts';

/** A subscriber that writes the run directory; `summary` accumulates what it wrote. */
export function createRunWriterOutput(
  writer: RunDirectoryWriter,
): EngineSubscriber & { summary: SummaryAccumulator } {
  const summary = createSummaryAccumulator();
  return {
    summary,
    onSecond(report) {
      writer.appendSeries(report.records);
      writer.appendEngine([report.health]);
      for (const r of report.records) summary.addCounts(r);
    },
  };
}
