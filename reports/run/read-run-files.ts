/**
 * Reads a run directory for reporting: validates the files the report rests on and names the file and
 * what is wrong when one is missing or corrupt (PeakdayError, exit 2). A run that did not finish
 * (no summary.json, `partial: true`, or a truncated last series line) is read as *partial*, never
 * rejected. NDJSON files are read with core/run-directory.ts `readNdjsonLines`, the one strict reader
 * of run files (a bad line is an error naming file:line; only a torn *last* series line is
 * tolerated). It follows core/run-format.ts and streams series.ndjson through {@link createLoadAggregator}.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type CalibrationFile, checkCalibrationFile } from '../../core/calibration-file.ts';
import { type ErrorCode, PeakdayError, type Problem } from '../../core/errors.ts';
import { listRuns, readNdjsonLines } from '../../core/run-directory.ts';
import {
  type EdgeTimelineRecord,
  isEdgeRecord,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type ScalingActivity,
  type TimelineRecord,
} from '../../core/run-format.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { createLoadAggregator, type LoadSeries } from './load-series.ts';

/** Everything a report needs from one run directory. */
export interface RunForReport {
  dir: string;
  meta: RunMeta;
  plan: Plan | null;
  summary: RunSummary | null;
  load: LoadSeries;
  timeline: TimelineRecord[];
  /** The edge's records of timeline.ndjson (CloudFront's metrics per period); empty without an edge. */
  edge?: EdgeTimelineRecord[];
  activities: ScalingActivity[];
  calibration: CalibrationFile | null;
  /**
   * What collect said (telemetry.json): its notes, the services it discovered (task size, CPU
   * architecture, launch type) and how many records it found; null when the run was never collected.
   */
  telemetry: CollectedTelemetry | null;
  /** True when the run did not play its whole plan or its files are incomplete. */
  partial: boolean;
  /** Why it is partial, and other things the reader noticed. */
  notes: string[];
}

const problem = (file: string, message: string, extra: Partial<Problem> = {}): Problem => ({
  file,
  message,
  ...extra,
});

function fail(code: ErrorCode, message: string, problems: Problem[], hint: string): never {
  throw new PeakdayError(code, message, { problems, hint });
}

function readJson(dir: string, name: string): unknown {
  const file = join(dir, name);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    fail(
      'run-file-unreadable',
      `cannot read ${file}`,
      [problem(file, (e as Error).message)],
      'check permissions',
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(
      'run-file-corrupt',
      `${file} is not valid JSON`,
      [problem(file, (e as Error).message, { expected: 'a JSON document as written by peakday' })],
      'the file was truncated or edited; re-run, or restore it from the run that wrote it',
    );
  }
}

type FieldType = 'string' | 'number' | 'boolean' | 'array' | 'object';

function checkFields(file: string, obj: unknown, fields: Record<string, FieldType>, what: string): Problem[] {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
    return [problem(file, `${what} must be a JSON object`, { expected: 'an object' })];
  const o = obj as Record<string, unknown>;
  const out: Problem[] = [];
  for (const [k, type] of Object.entries(fields)) {
    const v = o[k];
    const ok =
      type === 'array'
        ? Array.isArray(v)
        : type === 'object'
          ? v !== null && typeof v === 'object' && !Array.isArray(v)
          : typeof v === type && (type !== 'number' || Number.isFinite(v));
    if (!ok)
      out.push(
        problem(file, v === undefined ? `missing field ${k}` : `field ${k} has the wrong type`, {
          path: k,
          expected: type,
        }),
      );
  }
  return out;
}

/** Names the newest runs beside a missing one, so the hint points at something that exists. */
function runNotFoundHint(dir: string): string {
  const parent = dirname(dir);
  const near = listRuns(parent).slice(0, 3);
  if (near.length > 0) return `the newest runs in ${parent}: ${near.join(', ')}`;
  return 'pass a directory written by `peakday run`, `peakday simulate` or `peakday merge` (by default runs/<id>/)';
}

/** Options of {@link readRunForReport}. */
export interface ReadRunOptions {
  /** Stop collecting problems after this many (default 20). */
  maxProblems?: number;
}

/**
 * Reads and checks `dir`. Required: meta.json, series.ndjson; plan.json, summary.json, timeline,
 * activities and calibration are optional (their absence is noted). Every problem names its file
 * (and line for NDJSON).
 */
export async function readRunForReport(dir: string, options: ReadRunOptions = {}): Promise<RunForReport> {
  const maxProblems = options.maxProblems ?? 20;
  if (!existsSync(dir))
    fail(
      'run-not-found',
      `run directory ${dir} does not exist`,
      [problem(dir, 'no such directory')],
      runNotFoundHint(dir),
    );
  const metaFile = join(dir, RUN_FILES.meta);
  if (!existsSync(metaFile))
    fail(
      'run-file-missing',
      `${metaFile} is missing`,
      [problem(metaFile, 'meta.json is required: it says what ran and whether the run is valid')],
      `${dir} is not a peakday run directory, or the run was deleted while starting`,
    );
  const meta = readJson(dir, RUN_FILES.meta) as RunMeta;
  if (
    typeof (meta as { formatVersion?: unknown }).formatVersion === 'number' &&
    meta.formatVersion > RUN_FORMAT_VERSION
  )
    fail(
      'run-format-newer',
      `${metaFile} has run format ${meta.formatVersion}; this peakday reads up to ${RUN_FORMAT_VERSION}`,
      [
        problem(metaFile, `formatVersion ${meta.formatVersion}`, {
          path: 'formatVersion',
          expected: `<= ${RUN_FORMAT_VERSION}`,
        }),
      ],
      'upgrade peakday',
    );
  const metaProblems = checkFields(
    metaFile,
    meta,
    {
      id: 'string',
      mode: 'string',
      eventStart: 'number',
      eventEnd: 'number',
      timeScale: 'number',
      valid: 'boolean',
      endReason: 'string',
      invalidReasons: 'array',
    },
    'meta.json',
  );
  if (metaProblems.length > 0)
    fail(
      'run-file-corrupt',
      `${metaFile} is not a valid run meta file`,
      metaProblems,
      'see docs/run-directory.md',
    );
  if (!(meta.timeScale > 0))
    fail(
      'run-file-corrupt',
      `${metaFile}: timeScale must be > 0`,
      [problem(metaFile, `timeScale is ${meta.timeScale}`, { path: 'timeScale', expected: 'a number > 0' })],
      'see docs/run-directory.md',
    );

  let plan: Plan | null = null;
  if (existsSync(join(dir, RUN_FILES.plan))) plan = readJson(dir, RUN_FILES.plan) as Plan;

  let summary: RunSummary | null = null;
  const summaryFile = join(dir, RUN_FILES.summary);
  if (existsSync(summaryFile)) {
    summary = readJson(dir, RUN_FILES.summary) as RunSummary;
    const sp = checkFields(summaryFile, summary, { partial: 'boolean', valid: 'boolean' }, 'summary.json');
    if (sp.length > 0)
      fail('run-file-corrupt', `${summaryFile} is not a valid run summary`, sp, 'see docs/run-directory.md');
  }

  const seriesFile = join(dir, RUN_FILES.series);
  if (!existsSync(seriesFile))
    fail(
      'run-file-missing',
      `${seriesFile} is missing`,
      [problem(seriesFile, 'series.ndjson is required: it holds the load the run applied')],
      'the run did not start sending load; re-run it',
    );
  const agg = createLoadAggregator(meta.timeScale);
  let tornSeriesLine: number | undefined;
  const checkSeries = (value: unknown): Omit<Problem, 'file' | 'line'>[] => {
    const r = value as Record<string, unknown>;
    if (r === null || typeof r !== 'object')
      return [{ message: 'record is not an object', expected: 'a SeriesRecord (core/run-format.ts)' }];
    const bad =
      ['t', 'dt'].find((k) => typeof r[k] !== 'number') ??
      ['channel', 'journey'].find((k) => typeof r[k] !== 'string');
    if (bad)
      return [
        { message: `record has no valid ${bad}`, path: bad, expected: 'a SeriesRecord (core/run-format.ts)' },
      ];
    if (r.step !== null && typeof r.step !== 'string')
      return [{ message: 'record has no valid step', path: 'step', expected: 'a string or null' }];
    return [];
  };
  for await (const { line, value } of readNdjsonLines(seriesFile, {
    check: checkSeries,
    maxProblems,
    expected: 'one SeriesRecord per line',
    onTornLastLine: (n) => {
      // A truncated final line is what an interrupted writer leaves: tolerated, and the run is partial.
      tornSeriesLine = n;
    },
  })) {
    try {
      agg.add(value as never);
    } catch (e) {
      fail(
        'run-file-corrupt',
        `${seriesFile}:${line}: cannot decode record`,
        [problem(seriesFile, `cannot decode record: ${(e as Error).message}`, { line, path: 'latency' })],
        'the file was edited or corrupted; re-run',
      );
    }
  }
  const load = agg.finish();

  let timeline: TimelineRecord[] | null = null;
  const edge: EdgeTimelineRecord[] = [];
  const tlFile = join(dir, RUN_FILES.timeline);
  if (existsSync(tlFile)) {
    timeline = [];
    for await (const { value } of readNdjsonLines(tlFile, {
      check: (value) =>
        isEdgeRecord(value as { kind?: unknown })
          ? checkFields(tlFile, value, { t: 'number', period: 'number', Requests: 'number' }, 'edge record')
          : checkFields(
              tlFile,
              value,
              { t: 'number', period: 'number', service: 'string', running: 'number', desired: 'number' },
              'timeline record',
            ),
      tolerateTornLastLine: false,
      maxProblems,
      expected: 'one TimelineRecord per line',
      hint: 'collect it again (`peakday collect`)',
    }))
      if (isEdgeRecord(value as { kind?: unknown })) edge.push(value as EdgeTimelineRecord);
      else timeline.push(value as TimelineRecord);
  }

  let activities: ScalingActivity[] = [];
  const actFile = join(dir, RUN_FILES.activities);
  if (existsSync(actFile)) {
    const a = readJson(dir, RUN_FILES.activities);
    if (!Array.isArray(a))
      fail(
        'run-file-corrupt',
        `${actFile} is not an array`,
        [problem(actFile, 'expected an array of ScalingActivity', { expected: 'array' })],
        'collect it again',
      );
    const ap: Problem[] = [];
    a.forEach((x, i) => {
      for (const p of checkFields(
        actFile,
        x,
        { ResourceId: 'string', eventTime: 'number', StatusCode: 'string' },
        'scaling activity',
      ))
        ap.push({ ...p, path: `[${i}].${p.path ?? ''}` });
    });
    if (ap.length > 0)
      fail('run-file-corrupt', `${actFile} has bad activities`, ap.slice(0, maxProblems), 'collect it again');
    activities = a as ScalingActivity[];
  }

  let calibration: CalibrationFile | null = null;
  const calFile = join(dir, RUN_FILES.calibration);
  if (existsSync(calFile)) {
    const raw = readJson(dir, RUN_FILES.calibration);
    const cp = checkCalibrationFile(raw, calFile);
    if (cp.length > 0)
      fail('run-file-corrupt', `${calFile} is not a valid calibration`, cp, 'run `peakday probe` again');
    calibration = raw as CalibrationFile;
  }

  let telemetry: CollectedTelemetry | null = null;
  const telFile = join(dir, RUN_FILES.telemetry);
  if (existsSync(telFile)) {
    const raw = readJson(dir, RUN_FILES.telemetry) as Partial<CollectedTelemetry> | null;
    telemetry = {
      source: typeof raw?.source === 'string' ? raw.source : 'unknown',
      notes: Array.isArray(raw?.notes) ? raw.notes.filter((n): n is string => typeof n === 'string') : [],
      records: typeof raw?.records === 'number' ? raw.records : (timeline ?? []).length,
      partial: raw?.partial === true,
      discovered: Array.isArray(raw?.discovered) ? raw.discovered : [],
    };
  }

  return assembleRunForReport({
    dir,
    meta,
    plan,
    summary,
    load,
    timeline,
    edge,
    activities,
    calibration,
    telemetry,
    ...(tornSeriesLine !== undefined ? { tornSeriesLine } : {}),
  });
}

/** A run's parts as read (or as held in memory), for {@link assembleRunForReport}. */
export interface RunParts {
  dir: string;
  meta: RunMeta;
  /** Null: no plan.json. */
  plan: Plan | null;
  /** Null: no summary.json (the run never finished). */
  summary: RunSummary | null;
  load: LoadSeries;
  /** Null: no timeline.ndjson. */
  timeline: TimelineRecord[] | null;
  edge: EdgeTimelineRecord[];
  activities: ScalingActivity[];
  calibration: CalibrationFile | null;
  telemetry: CollectedTelemetry | null;
  /** The series' last line, truncated (an interrupted writer), by its number. */
  tornSeriesLine?: number;
}

/**
 * What a report reads of a run, from its parts: whether it is partial and the reader's notes (a
 * missing plan, summary or timeline, a run that did not play its plan, a torn or empty series), as
 * {@link readRunForReport} says them. Also for a run still in memory whose files were just written
 * (`compare` reports the configurations it simulated without reading their series back).
 */
export function assembleRunForReport(parts: RunParts): RunForReport {
  const { meta, plan, summary, load, timeline } = parts;
  const notes: string[] = [];
  let partial = false;
  if (!plan) notes.push('plan.json is missing: planned rates are not shown');
  if (summary) {
    if (summary.partial) {
      partial = true;
      notes.push(`the run did not play its whole plan (ended: ${summary.endReason})`);
    }
  } else {
    partial = true;
    notes.push('summary.json is missing: the run did not finish (report is partial)');
  }
  if (meta.endReason !== 'completed' && !partial) {
    partial = true;
    notes.push(`the run ended with ${meta.endReason}${meta.endDetail ? `: ${meta.endDetail}` : ''}`);
  }
  if (parts.tornSeriesLine !== undefined) {
    partial = true;
    notes.push(
      `series.ndjson line ${parts.tornSeriesLine} is truncated (the run was interrupted while writing)`,
    );
  }
  if (load.records === 0) {
    partial = true;
    notes.push('series.ndjson is empty: no load was recorded');
  }
  if (timeline) {
    if (timeline.some((r) => r.partial))
      notes.push('the timeline is partial (some metrics were not collected)');
  } else
    notes.push(
      'timeline.ndjson is missing: no task counts, CPU or scaling correlation (run `peakday collect`)',
    );
  return {
    dir: parts.dir,
    meta,
    plan,
    summary,
    load,
    timeline: timeline ?? [],
    edge: parts.edge,
    activities: parts.activities,
    calibration: parts.calibration,
    telemetry: parts.telemetry,
    partial,
    notes,
  };
}

/** The parts of telemetry.json (telemetry/collect.ts TelemetryInfo) the report reads. */
export interface CollectedTelemetry {
  source: string;
  notes: string[];
  records: number;
  partial: boolean;
  discovered: {
    name: string;
    vcpu?: number;
    memoryGb?: number;
    cpuArchitecture?: string;
    launchType?: string;
    capacityProvider?: string;
  }[];
}
