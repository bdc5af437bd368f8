/**
 * Creating, appending to and reading a run directory (`runs/<id>/`, format in core/run-format.ts,
 * documented in docs/run-directory.md). Writers append whole NDJSON lines synchronously so that a
 * process killed at any moment leaves a directory that `readRun` can read: every line but possibly
 * a torn last one is complete, and a missing `summary.json` means the run never finished.
 */
import {
  appendFileSync,
  closeSync,
  createReadStream,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Plan } from '../scenarios/plan.ts';
import { PeakdayError } from './errors.ts';
import {
  type EngineHealthRecord,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type ScalingActivity,
  type SeriesRecord,
  type TimelineRecord,
} from './run-format.ts';

/** Appends to and finalises one run directory. */
export interface RunDirectoryWriter {
  dir: string;
  /** Rewrites meta.json atomically (write + rename). */
  writeMeta(meta: RunMeta): void;
  writeSummary(summary: RunSummary): void;
  /** Appends series records as NDJSON lines, synchronously (durable against a killed process). */
  appendSeries(records: readonly SeriesRecord[]): void;
  appendEngine(records: readonly EngineHealthRecord[]): void;
  /** Writes any other file into the directory (k6 script, raw outputs). */
  writeFile(name: string, content: string): void;
}

/** A run id sortable by time: `20261125-012233-web-rush` style, plus a short random suffix. */
export function createRunId(profileName: string, now: Date = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  const safe = profileName.replace(/[^a-zA-Z0-9_-]+/g, '-').slice(0, 40) || 'run';
  return `${stamp}-${safe}-${Math.random().toString(36).slice(2, 6)}`;
}

function writeAtomic(file: string, content: string): void {
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, file);
}

/**
 * Creates `dir` (which must not already hold a run) and writes meta.json and plan.json.
 * Series and engine files are created empty so readers always find them.
 */
export function createRunDirectory(dir: string, init: { meta: RunMeta; plan: Plan }): RunDirectoryWriter {
  if (existsSync(join(dir, RUN_FILES.meta))) {
    throw new PeakdayError('run-dir-exists', `${dir} already holds a run`, {
      hint: 'choose another --out directory or remove the old run',
    });
  }
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, RUN_FILES.plan), `${JSON.stringify(init.plan)}\n`);
  writeAtomic(join(dir, RUN_FILES.meta), `${JSON.stringify(init.meta, null, 2)}\n`);
  const seriesFd = openSync(join(dir, RUN_FILES.series), 'a');
  closeSync(seriesFd);
  const engineFd = openSync(join(dir, RUN_FILES.engine), 'a');
  closeSync(engineFd);
  const append = (name: string, items: readonly unknown[]) => {
    if (items.length === 0) return;
    let text = '';
    for (const r of items) text += `${JSON.stringify(r)}\n`;
    appendFileSync(join(dir, name), text);
  };
  return {
    dir,
    writeMeta: (meta) => writeAtomic(join(dir, RUN_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`),
    writeSummary: (summary) =>
      writeAtomic(join(dir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`),
    appendSeries: (records) => append(RUN_FILES.series, records),
    appendEngine: (records) => append(RUN_FILES.engine, records),
    writeFile: (name, content) => writeAtomic(join(dir, name), content),
  };
}

/** A run directory as read back: metadata, plan and summary eagerly, series lazily. */
export interface RunReader {
  dir: string;
  meta: RunMeta;
  plan: Plan | null;
  /** Null when the run never finished (killed process); `meta.endReason` is then `running`. */
  summary: RunSummary | null;
  /** Series records in file order; a torn last line (killed writer) is skipped. */
  series(): AsyncIterable<SeriesRecord>;
  engine(): AsyncIterable<EngineHealthRecord>;
  /** Whether an optional file exists (timeline, activities, calibration). */
  has(name: string): boolean;
}

function readJson<T>(file: string, what: string): T {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (e) {
    throw new PeakdayError('run-dir-invalid', `cannot read ${what} ${file}: ${(e as Error).message}`, {
      hint: 'is this a peakday run directory (docs/run-directory.md)?',
    });
  }
}

async function* readNdjson<T>(file: string): AsyncIterable<T> {
  if (!existsSync(file)) return;
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  for await (const line of rl) {
    if (line.length === 0) continue;
    try {
      yield JSON.parse(line) as T;
    } catch {
      // A torn last line from a killed writer; every complete line before it is kept.
    }
  }
}

/** Reads a run directory; throws a PeakdayError (exit 2) when it is not one or its version is newer. */
export function readRun(dir: string): RunReader {
  const metaFile = join(dir, RUN_FILES.meta);
  if (!existsSync(metaFile)) {
    throw new PeakdayError('run-dir-invalid', `${dir} is not a run directory (no ${RUN_FILES.meta})`, {
      hint: 'pass a directory written by `peakday run`, `peakday simulate` or `peakday merge`',
    });
  }
  const meta = readJson<RunMeta>(metaFile, 'run metadata');
  if (meta.formatVersion > RUN_FORMAT_VERSION) {
    throw new PeakdayError(
      'run-format-newer',
      `${dir} has run format ${meta.formatVersion}; this peakday reads up to ${RUN_FORMAT_VERSION}`,
      { hint: 'upgrade peakday' },
    );
  }
  const planFile = join(dir, RUN_FILES.plan);
  const summaryFile = join(dir, RUN_FILES.summary);
  return {
    dir,
    meta,
    plan: existsSync(planFile) ? readJson<Plan>(planFile, 'plan') : null,
    summary: existsSync(summaryFile) ? readJson<RunSummary>(summaryFile, 'summary') : null,
    series: () => readNdjson<SeriesRecord>(join(dir, RUN_FILES.series)),
    engine: () => readNdjson<EngineHealthRecord>(join(dir, RUN_FILES.engine)),
    has: (name) => existsSync(join(dir, name)),
  };
}

/** Lists run directories under a runs folder, newest first by id. */
export function listRuns(runsDir: string): string[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(runsDir, d.name, RUN_FILES.meta)))
    .map((d) => join(runsDir, d.name))
    .sort()
    .reverse();
}

function readNdjsonSync<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  const out: T[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim().length === 0) continue;
    try {
      out.push(JSON.parse(line) as T);
    } catch {
      // A torn last line from a killed writer; every complete line before it is kept.
    }
  }
  return out;
}

/** The run's timeline (`collect` or the simulator); empty when it has none. */
export function readTimeline(dir: string): TimelineRecord[] {
  return readNdjsonSync<TimelineRecord>(join(dir, RUN_FILES.timeline));
}

/** The run's scaling activities; empty when it has none. */
export function readActivities(dir: string): ScalingActivity[] {
  const file = join(dir, RUN_FILES.activities);
  return existsSync(file) ? readJson<ScalingActivity[]>(file, 'scaling activities') : [];
}
