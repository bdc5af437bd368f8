/**
 * Reads what the gate needs from a run directory (meta, every series record, the k6 metric records
 * an imported k6 run has, the run's length) through the engine's reader (core/run-directory.ts). The
 * I/O edge of the budgets module.
 */
import { join } from 'node:path';
import { readNdjsonLines, readRun, readTimeline } from '../../core/run-directory.ts';
import { type MetricRecord, RUN_FILES, type RunMeta, type SeriesRecord } from '../../core/run-format.ts';
import type { RunInput } from './evaluate.ts';

/** A run read for gating. */
export interface GateRun extends RunInput {
  dir: string;
  meta: RunMeta;
}

/**
 * Reads a run directory's meta and series (and its k6 metric records, only those named in `metrics`
 * when given; its timeline when `timeline`); a missing or foreign directory is exit 2.
 */
export async function readGateRun(
  dir: string,
  metrics?: ReadonlySet<string>,
  timeline = false,
): Promise<GateRun> {
  const run = readRun(dir);
  const records: SeriesRecord[] = [];
  for await (const r of run.series()) records.push(r);
  const out: GateRun = { dir, meta: run.meta, records };
  if (run.summary) out.durationSeconds = run.summary.durationSeconds;
  // Only when a budget names a timeline metric: a gate on load budgets does not read telemetry.
  if (timeline) out.timeline = run.has(RUN_FILES.timeline) ? readTimeline(dir) : null;
  if (run.has(RUN_FILES.metrics)) {
    const list: MetricRecord[] = [];
    for await (const { value } of readNdjsonLines(join(dir, RUN_FILES.metrics))) {
      const m = value as MetricRecord;
      if (!metrics || metrics.has(m.metric)) list.push(m);
    }
    out.metrics = list;
  }
  return out;
}
