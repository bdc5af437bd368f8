/**
 * `collect`: reads a run directory, asks one telemetry source for the run's timeline and scaling
 * activities, and writes them into the run directory (docs/run-directory.md):
 *
 *   timeline.ndjson          TimelineRecord per service per period, by event time
 *   scaling-activities.json  ScalingActivity[] (DescribeScalingActivities shape + eventTime)
 *   telemetry.json           TelemetryInfo: source, when, partial, notes
 *
 * The I/O shell around the sources; the command in cli/commands/collect.ts is a thin wrapper.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PeakdayError } from '../core/errors.ts';
import { readRun } from '../core/run-directory.ts';
import { RUN_FILES } from '../core/run-format.ts';
import { type EmulationSummary, summariseEmulation } from './emulation.ts';
import { type TelemetrySourceName, telemetrySources } from './sources/index.ts';
import type { CollectOptions, CollectResult } from './sources/source.ts';
import { runWindow } from './timeline.ts';

/** What telemetry.json holds. */
export interface TelemetryInfo {
  source: TelemetrySourceName;
  collectedAt: string;
  partial: boolean;
  notes: string[];
  records: number;
  services: string[];
  activities: number;
  /**
   * Whether the local stack's emulation held (telemetry/emulation.ts): the share of service-periods
   * where the host gave the emulated tasks their capacity, the worst periods, and what that means.
   * Absent for sources that do not report it (CloudWatch).
   */
  emulation?: EmulationSummary;
}

/** Collects a run's telemetry from `source` and writes it into the run directory. */
export async function collectTelemetry(
  runDir: string,
  source: TelemetrySourceName,
  options: CollectOptions = {},
): Promise<{ info: TelemetryInfo; result: CollectResult }> {
  const run = readRun(runDir);
  const meta = run.meta;
  if (meta.mode === 'simulated') {
    throw new PeakdayError(
      'run-simulated',
      `${runDir} is a simulated run: its timeline comes from the simulator`,
      {
        hint: 'collect telemetry for live runs (`peakday run`) only',
      },
    );
  }
  if (!Number.isFinite(Date.parse(meta.startedAt))) {
    throw new PeakdayError(
      'run-not-started',
      `${runDir}: meta.json has no valid startedAt, so the run cannot be aligned`,
      {
        hint: 'collect after `peakday run` has started and written its metadata',
      },
    );
  }
  let hasLoad = false;
  for await (const _ of run.series()) {
    hasLoad = true;
    break;
  }
  if (!hasLoad) {
    throw new PeakdayError(
      'run-no-load-data',
      `${runDir} has no load data (${RUN_FILES.series} is empty or missing)`,
      {
        hint: 'the run sent nothing to correlate telemetry with; run the load again (`peakday run`) and collect afterwards',
      },
    );
  }
  const result = await telemetrySources[source].collect(
    { dir: runDir, meta, window: runWindow(meta) },
    options,
  );
  const text = result.timeline.map((r) => JSON.stringify(r)).join('\n');
  writeFileSync(join(runDir, RUN_FILES.timeline), text.length > 0 ? `${text}\n` : '');
  writeFileSync(join(runDir, RUN_FILES.activities), `${JSON.stringify(result.activities, null, 2)}\n`);
  const info: TelemetryInfo = {
    source,
    collectedAt: new Date().toISOString(),
    partial: result.partial,
    notes: result.notes,
    records: result.timeline.length,
    services: [...new Set(result.timeline.map((r) => r.service))].sort(),
    activities: result.activities.length,
  };
  const emulation = summariseEmulation(result.timeline);
  if (emulation) info.emulation = emulation;
  writeFileSync(join(runDir, RUN_FILES.telemetry), `${JSON.stringify(info, null, 2)}\n`);
  return { info, result };
}
