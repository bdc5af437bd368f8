/**
 * Test helpers: a minimal run directory (meta.json + one series record) for a live run that started
 * at a given wall time, so telemetry tests can align data to it without running load.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_FILES, RUN_FORMAT_VERSION, type RunMeta, type SeriesRecord } from '../core/run-format.ts';

/** Writes a run directory; `series: false` leaves series.ndjson empty (a run without load data). */
export function writeTestRun(opts: {
  startedAtMs: number;
  timeScale: number;
  eventStart: number;
  eventEnd: number;
  target?: string;
  series?: boolean;
  options?: Record<string, unknown>;
}): string {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-run-'));
  mkdirSync(dir, { recursive: true });
  const wallSeconds = (opts.eventEnd - opts.eventStart) / opts.timeScale;
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: 'test-run',
    mode: 'live',
    driver: 'builtin',
    tool: { name: 'peakday', version: '0.0.0' },
    profile: { name: 'flash-sale', hash: 'x' },
    options: opts.options ?? {},
    target: opts.target ?? 'http://127.0.0.1:1',
    timeScale: opts.timeScale,
    eventStart: opts.eventStart,
    eventEnd: opts.eventEnd,
    seed: 1,
    startedAt: new Date(opts.startedAtMs).toISOString(),
    endedAt: new Date(opts.startedAtMs + wallSeconds * 1000).toISOString(),
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: true, sendLatency: true },
    notes: [],
  };
  writeFileSync(join(dir, RUN_FILES.meta), JSON.stringify(meta));
  const record: SeriesRecord = {
    t: opts.eventStart,
    wall: 0,
    dt: 1,
    channel: 'web',
    journey: 'browse',
    step: null,
    started: 1,
  };
  writeFileSync(join(dir, RUN_FILES.series), opts.series === false ? '' : `${JSON.stringify(record)}\n`);
  return dir;
}
