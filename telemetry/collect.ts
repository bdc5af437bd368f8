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
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PeakdayError } from '../core/errors.ts';
import { createRunDirectory, readRun } from '../core/run-directory.ts';
import { RUN_FILES, RUN_FORMAT_VERSION, type RunMeta } from '../core/run-format.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import { type EmulationSummary, summariseEmulation } from './emulation.ts';
import { type TelemetrySourceName, telemetrySources } from './sources/index.ts';
import {
  type CollectOptions,
  type CollectResult,
  collectInterrupted,
  type DiscoveredService,
} from './sources/source.ts';
import { runWindow } from './timeline.ts';

/** What telemetry.json holds. */
export interface TelemetryInfo {
  source: TelemetrySourceName;
  collectedAt: string;
  partial: boolean;
  notes: string[];
  /** Timeline records with data. */
  records: number;
  /** Records of periods a service reported no datapoint in (kept in the timeline, `noData`). */
  periodsWithoutData?: number;
  services: string[];
  activities: number;
  /** Periods of the edge's metrics in the timeline (its `service: "edge"` records), when it has an edge. */
  edgePeriods?: number;
  /**
   * Whether the local stack's emulation held (telemetry/emulation.ts): the share of service-periods
   * where the host gave the emulated tasks their capacity, the worst periods, and what that means.
   * Absent for sources that do not report it (CloudWatch).
   */
  emulation?: EmulationSummary;
  /** The services as discovered (CloudWatch): task size, CPU architecture, launch type, what was read. */
  discovered?: DiscoveredService[];
  /** The wall-clock range read (ISO 8601). */
  window?: { from: string; to: string };
}

/** A wall-clock range to collect (epoch ms), from `--from/--to`. */
export interface CollectWindow {
  fromMs: number;
  toMs: number;
}

/**
 * The run directory of a metrics window with no load run (`collect --from --to` without a run): meta
 * carries the window (`driver: "none"`, the event clock is the wall clock from `--from`), series are
 * empty, and report/gate say there is no load to judge.
 */
export function createWindowRunDirectory(
  dir: string,
  window: CollectWindow,
  options: Record<string, unknown>,
): void {
  const seconds = Math.max(1, Math.round((window.toMs - window.fromMs) / 1000));
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: basename(dir),
    mode: 'live',
    driver: 'none',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: { name: 'metrics-window', hash: '0000000000000000' },
    options: { collected: true, ...options },
    timeScale: 1,
    eventStart: 0,
    eventEnd: seconds,
    seed: 0,
    startedAt: new Date(window.fromMs).toISOString(),
    endedAt: new Date(window.toMs).toISOString(),
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: false, sendLatency: false },
    notes: [
      `a window of the system's metrics (${new Date(window.fromMs).toISOString()} to ${new Date(window.toMs).toISOString()}) with no load run: the event clock is the wall clock from the window's start; import a load run (peakday import k6) into the directory first to judge it`,
    ],
  };
  createRunDirectory(dir, { meta, plan: null }).close();
}

/**
 * Collects a run's telemetry from `source` and writes it into the run directory. With a `window`
 * (`--from/--to`): a directory without a run gets one for the window (createWindowRunDirectory); a
 * run's directory is read over the window, on the run's clock. `options.signal` (Ctrl-C) aborts the
 * source's requests and waits; the timeline files are written only by a collect that was not
 * interrupted, so an interrupted one leaves the run directory as it was.
 */
export async function collectTelemetry(
  runDir: string,
  source: TelemetrySourceName,
  options: CollectOptions = {},
  window?: CollectWindow,
): Promise<{ info: TelemetryInfo; result: CollectResult }> {
  if (window && !(window.toMs > window.fromMs)) {
    throw new PeakdayError(
      'invalid-flag',
      `--to (${new Date(window.toMs).toISOString()}) is not after --from (${new Date(window.fromMs).toISOString()})`,
      { hint: 'give --from the earlier time, e.g. --from -3h --to now' },
    );
  }
  if (window && !existsSync(join(runDir, RUN_FILES.meta))) {
    createWindowRunDirectory(runDir, window, {
      source,
      ...(options.cluster ? { cluster: options.cluster } : {}),
    });
  }
  const run = readRun(runDir);
  const meta = run.meta;
  if (meta.mode === 'simulated') {
    throw new PeakdayError(
      'run-simulated',
      `${runDir} is a simulated run: its timeline comes from the simulator`,
      {
        hint: 'collect into a live run (peakday run, peakday import k6), or a new directory with --from/--to',
      },
    );
  }
  if (!Number.isFinite(Date.parse(meta.startedAt))) {
    throw new PeakdayError(
      'run-not-started',
      `${runDir}: meta.json has no valid startedAt, so the run cannot be aligned`,
      {
        hint: 'collect after the run has started, or pass --from and --to for a window',
      },
    );
  }
  if (meta.driver !== 'none' && !window) {
    let hasLoad = false;
    for await (const _ of run.series()) {
      hasLoad = true;
      break;
    }
    if (!hasLoad) {
      throw new PeakdayError(
        'run-no-load-data',
        `${runDir} has no load data (${RUN_FILES.series} is empty or missing), so it has no window to read`,
        {
          hint: 'pass --from and --to to read a window anyway, or import the load run first (peakday import k6)',
        },
      );
    }
  }
  const runWin = runWindow(meta);
  const ctxWindow = window ? { ...runWin, fromMs: window.fromMs, toMs: window.toMs } : runWin;
  const result = await telemetrySources[source].collect({ dir: runDir, meta, window: ctxWindow }, options);
  // Interrupted while the source answered its last request: the run directory stays as it was.
  if (options.signal?.aborted) throw collectInterrupted(`${source} collect (nothing written)`);
  // The edge's records (CloudFront's metrics per period) follow the services' in the same file.
  const text = [...result.timeline, ...(result.edge ?? [])].map((r) => JSON.stringify(r)).join('\n');
  writeFileSync(join(runDir, RUN_FILES.timeline), text.length > 0 ? `${text}\n` : '');
  writeFileSync(join(runDir, RUN_FILES.activities), `${JSON.stringify(result.activities, null, 2)}\n`);
  const info: TelemetryInfo = {
    source,
    collectedAt: new Date().toISOString(),
    partial: result.partial,
    notes: result.notes,
    // Records with data; a period a service reported nothing in is kept in the timeline (noData),
    // counted apart.
    records: result.timeline.filter((r) => !r.noData).length,
    ...(result.timeline.some((r) => r.noData)
      ? { periodsWithoutData: result.timeline.filter((r) => r.noData).length }
      : {}),
    services: [...new Set(result.timeline.filter((r) => !r.noData).map((r) => r.service))].sort(),
    activities: result.activities.length,
    ...(result.edge && result.edge.length > 0 ? { edgePeriods: result.edge.length } : {}),
    window: {
      from: new Date(ctxWindow.fromMs ?? ctxWindow.startedAtMs).toISOString(),
      to: new Date(ctxWindow.toMs ?? ctxWindow.endedAtMs).toISOString(),
    },
  };
  if (result.discovered) info.discovered = result.discovered;
  const emulation = summariseEmulation(result.timeline);
  if (emulation) info.emulation = emulation;
  writeFileSync(join(runDir, RUN_FILES.telemetry), `${JSON.stringify(info, null, 2)}\n`);
  return { info, result };
}
