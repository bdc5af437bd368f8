/**
 * A reported configuration's series as its run directory and its report read them, rendered where
 * the run was simulated: the NDJSON text of series.ndjson (each record's `JSON.stringify` and a
 * newline, in UTF-8: the bytes `writeSimulationRun` writes for the records) and the load a report aggregates
 * from that file (reports/run/load-series.ts, fed the same records in the same order). A worker
 * thread sends these instead of a 48-hour run's 92,160 records (workflows/compare-worker.ts): the
 * main thread, which writes the four configurations' runs and reports while the threads simulate,
 * then neither copies the records in, nor keeps them through its young generation's scavenges, nor
 * reads series.ndjson back for the report.
 */

import type { RunMeta, SeriesRecord } from '../core/run-format.ts';
import { createLoadAggregator, type LoadSeries } from '../reports/run/load-series.ts';
import { assembleRunForReport, type RunForReport } from '../reports/run/read-run-files.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { SimulationResult } from '../simulation/simulate.ts';

/** A run's series, rendered (see the module comment). */
export interface RenderedSeries {
  /**
   * series.ndjson's bytes (its text in UTF-8) in chunks of {@link SERIES_CHUNK} records (concatenated,
   * the file). Bytes, each chunk in an ArrayBuffer of its own: they cross threads transferred, not
   * copied (a 48-h run's 30–40 MB of text took 0.2–0.4 s to post as strings, and as long to read).
   */
  text: Uint8Array[];
  /** What a report reads of the series (`readRunForReport`'s `load`). */
  load: LoadSeries;
}

/** Records per chunk of rendered text (as `writeSimulationRun` appends them). */
export const SERIES_CHUNK = 5000;

/** Renders `series` (a run of `timeScale`) as its file's text, `chunk` records a piece, and its report's load. */
export function renderSeries(
  series: readonly SeriesRecord[],
  timeScale: number,
  chunk = SERIES_CHUNK,
): RenderedSeries {
  const agg = createLoadAggregator(timeScale);
  const utf8 = new TextEncoder();
  const text: Uint8Array[] = [];
  for (let i = 0; i < series.length; i += chunk) {
    let piece = '';
    const end = Math.min(series.length, i + chunk);
    for (let j = i; j < end; j++) {
      const r = series[j] as SeriesRecord;
      piece += `${JSON.stringify(r)}\n`;
      agg.add(r);
    }
    text.push(utf8.encode(piece));
  }
  return { text, load: agg.finish() };
}

/** A value as it reads back from the JSON it was written as. */
function asWritten<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * The run a report reads from the directory `writeSimulationRun` has just written (`meta`: the
 * meta.json it returned), from memory: meta, plan, summary, timeline and activities as they read
 * back from their files, the series' load rendered ({@link renderSeries}); no calibration and no
 * telemetry (a simulated run has neither file).
 */
export function reportRunOf(
  dir: string,
  plan: Plan,
  result: SimulationResult,
  meta: RunMeta,
  load: LoadSeries,
): RunForReport {
  return assembleRunForReport({
    dir,
    meta: asWritten(meta),
    plan: asWritten(plan),
    summary: asWritten(result.summary),
    load,
    timeline: asWritten(result.timeline),
    edge: asWritten(result.edge ?? []),
    activities: asWritten(result.activities),
    calibration: null,
    telemetry: null,
  });
}
