/**
 * Writes a simulation into a run directory in the documented format (docs/run-directory.md), so
 * `report` and `gate` read it exactly as they read a live run; plus `simulation.json`, the
 * simulator's own findings and model inputs (docs/simulation.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunDirectory, createRunId } from '../core/run-directory.ts';
import { RUN_FILES, RUN_FORMAT_VERSION, type RunMeta } from '../core/run-format.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { SimulationResult } from './simulate.ts';

/** The extra file a simulated run carries. */
export const SIMULATION_FILE = 'simulation.json';

/**
 * Writes `result` for `plan` into `dir`; returns the meta.json it wrote. `seriesText`: its series
 * already rendered as NDJSON, in chunks of text or UTF-8 bytes (each record's `JSON.stringify` and a
 * newline, in order: the bytes the records would be written as), written instead of `result.series`
 * — a run simulated on a worker thread crosses without its records (workflows/compare-series.ts).
 */
export function writeSimulationRun(
  dir: string,
  plan: Plan,
  result: SimulationResult,
  options: Record<string, unknown>,
  startedAt: Date,
  seriesText?: readonly (string | Uint8Array)[],
): RunMeta {
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: dir.split('/').filter(Boolean).pop() ?? createRunId(plan.profile.name),
    mode: 'simulated',
    driver: 'simulator',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: {
      name: plan.profile.name,
      hash: plan.profile.hash,
      ...(plan.profile.file ? { file: plan.profile.file } : {}),
    },
    // Every simulated run says where each service's capacity per task came from: a caller that
    // resolved it (simulate, compare) writes its `capacity`; a replay of a live run (simulate
    // --validate, a rehearsal's replays) gets the replay's own, from the findings.
    options: 'capacity' in options ? options : { ...options, capacity: replayCapacity(result) },
    timeScale: plan.timeScale,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    ...(plan.window ? { window: plan.window } : {}),
    seed: plan.seed,
    startedAt: startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    notes: [
      `simulated (${result.findings.arch}): latency is estimated by the queueing model of docs/simulation.md, at ${result.findings.resolutionSeconds}-s resolution; intended-start and send-time latency are the same estimate`,
      capacityNote(result.findings.services),
    ],
  };
  const w = createRunDirectory(dir, { meta, plan });
  if (seriesText) for (const text of seriesText) w.appendSeriesText(text);
  else {
    const chunk = 5000;
    for (let i = 0; i < result.series.length; i += chunk) w.appendSeries(result.series.slice(i, i + chunk));
  }
  writeFileSync(
    join(dir, RUN_FILES.timeline),
    // The edge's records (CloudFront's metrics per period) follow the services', as `collect` writes them.
    [...result.timeline, ...(result.edge ?? [])].map((r) => JSON.stringify(r)).join('\n') + '\n',
  );
  writeFileSync(join(dir, RUN_FILES.activities), `${JSON.stringify(result.activities, null, 1)}\n`);
  writeFileSync(join(dir, SIMULATION_FILE), `${JSON.stringify(result.findings, null, 2)}\n`);
  w.writeSummary(result.summary);
  return meta;
}

/**
 * meta.json's `options.capacity` for a run whose caller did not resolve capacity sources (a replay of
 * a live run): per service its provenance (`measured` in the live run, or the model table's
 * `model-input`), efficiency and source, as simulation.json's findings have them.
 */
export function replayCapacity(result: SimulationResult): Record<string, unknown> {
  return {
    mode: 'replay',
    services: Object.fromEntries(
      Object.entries(result.findings.services).map(([s, v]) => [
        s,
        { provenance: v.capacityProvenance, efficiency: v.efficiency, source: v.capacitySource },
      ]),
    ),
  };
}

/**
 * The banner line that says where each service's capacity per task came from: measured (with the
 * efficiency against the model and the source), or the model table (with why no measurement was used),
 * so a reader of a simulated run never takes a model input for a measurement.
 */
export function capacityNote(services: SimulationResult['findings']['services']): string {
  const bySource = new Map<string, string[]>();
  for (const [s, v] of Object.entries(services)) {
    const label = v.capacityProvenance === 'measured' ? `${s} measured (×${v.efficiency})` : s;
    const key = `${v.capacityProvenance}\u0000${v.capacitySource}`;
    bySource.set(key, [...(bySource.get(key) ?? []), label]);
  }
  // Measured first: that is what a reader of a calibrated run looks for.
  const sorted = [...bySource].sort(
    ([a], [b]) => Number(b.startsWith('measured')) - Number(a.startsWith('measured')),
  );
  const parts = sorted.map(([key, names]) => {
    const [prov, source] = key.split('\u0000') as [string, string];
    return prov === 'measured'
      ? `${names.join(', ')} (${source})`
      : `${names.join(', ')}: ${prov} (${source})`;
  });
  return `capacity per task: ${parts.join('; ')}`;
}
