/**
 * Creating, appending to and reading a run directory (`runs/<id>/`, format in core/run-format.ts,
 * documented in docs/run-directory.md). Writers append whole NDJSON lines synchronously so that a
 * process killed at any moment leaves a directory that `readRun` can read: every line but possibly
 * a torn last one is complete, and a missing `summary.json` means the run never finished.
 */
import {
  closeSync,
  createReadStream,
  existsSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Plan } from '../scenarios/plan.ts';
import { PeakdayError, type Problem } from './errors.ts';
import { describeFsError } from './output-path.ts';
import {
  type EdgeTimelineRecord,
  type EngineHealthRecord,
  isEdgeRecord,
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
  /**
   * Appends series records already rendered as NDJSON (each record's `JSON.stringify` and a newline,
   * as text or its UTF-8 bytes: the very bytes {@link appendSeries} writes): a caller whose records
   * live on another thread sends their text, not the records.
   */
  appendSeriesText(text: string | Uint8Array): void;
  appendEngine(records: readonly EngineHealthRecord[]): void;
  /** Appends NDJSON lines to any other file of the directory (metrics.ndjson). */
  appendLines(name: string, records: readonly unknown[]): void;
  /** Writes any other file into the directory (k6 script, raw outputs). */
  writeFile(name: string, content: string): void;
  /**
   * Closes the files it appends to (writeSummary does too); idempotent. For a run that ends without
   * a summary (it threw), so a long-lived process does not keep their descriptors.
   */
  close(): void;
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
  try {
    writeFileSync(tmp, content);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  renameSync(tmp, file);
}

/**
 * Rewrites meta.json: atomically when the disk allows; on a full disk (or a file-size limit) in
 * place, which reuses the blocks the old meta.json holds, so a run that filled its disk can still
 * say why it ended.
 */
function writeMetaFile(file: string, content: string): void {
  try {
    writeAtomic(file, content);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOSPC' && code !== 'EDQUOT' && code !== 'EFBIG') throw e;
    const fd = openSync(file, 'r+');
    try {
      // Only when the new text fits in the blocks already allocated: a write that ran out of space
      // half-way would leave a meta.json that is neither the old one nor the new one.
      if (fstatSync(fd).blocks * 512 < Buffer.byteLength(content)) throw e;
      writeSync(fd, content, 0, 'utf8');
      ftruncateSync(fd, Buffer.byteLength(content));
    } finally {
      closeSync(fd);
    }
  }
}

/**
 * Creates the run directory, plays into it, and lets go of the files it appends to however the play
 * ends: a run that throws before its summary does not keep their descriptors.
 */
export async function withRunDirectory<T>(
  dir: string,
  init: { meta: RunMeta; plan: Plan | null },
  play: (writer: RunDirectoryWriter) => Promise<T>,
): Promise<T> {
  const writer = createRunDirectory(dir, init);
  try {
    return await play(writer);
  } finally {
    writer.close();
  }
}

/**
 * Creates `dir` (which must not already hold a run) and writes meta.json and plan.json (none for a
 * run peakday did not plan: an imported k6 run). Series and engine files are created empty so
 * readers always find them.
 */
export function createRunDirectory(
  dir: string,
  init: { meta: RunMeta; plan: Plan | null },
): RunDirectoryWriter {
  if (existsSync(join(dir, RUN_FILES.meta))) {
    throw new PeakdayError('run-dir-exists', `${dir} already holds a run`, {
      hint: 'choose another --out directory or remove the old run',
    });
  }
  let file = dir;
  // The files a run appends to stay open until its summary is written: a run whose load used every
  // file descriptor the process may open (EMFILE) can still append its seconds, where opening the
  // file for each append failed and lost them. Closed before the summary (which needs one).
  const fds = new Map<string, number>();
  const closeAppended = () => {
    for (const fd of fds.values()) closeSync(fd);
    fds.clear();
  };
  try {
    mkdirSync(dir, { recursive: true });
    file = join(dir, RUN_FILES.plan);
    if (init.plan) writeAtomic(file, `${JSON.stringify(init.plan)}\n`);
    file = join(dir, RUN_FILES.meta);
    writeAtomic(file, `${JSON.stringify(init.meta, null, 2)}\n`);
    for (const name of [RUN_FILES.series, RUN_FILES.engine]) {
      file = join(dir, name);
      fds.set(name, openSync(file, 'a'));
    }
  } catch (e) {
    closeAppended();
    // Nothing was sent yet: the run directory cannot hold a run, which is the caller's input to fix.
    throw new PeakdayError('run-dir-unwritable', `cannot write ${file}: ${describeFsError(e)}`, {
      hint: 'free space, or choose another --out directory',
      cause: e,
    });
  }
  const appendText = (name: string, text: string | Uint8Array) => {
    if (text.length === 0) return;
    let fd = fds.get(name);
    if (fd === undefined) {
      fd = openSync(join(dir, name), 'a');
      fds.set(name, fd);
    }
    if (typeof text === 'string') writeSync(fd, text);
    else writeSync(fd, text);
  };
  const append = (name: string, items: readonly unknown[]) => {
    if (items.length === 0) return;
    let text = '';
    for (const r of items) text += `${JSON.stringify(r)}\n`;
    appendText(name, text);
  };
  return {
    dir,
    writeMeta: (meta) => writeMetaFile(join(dir, RUN_FILES.meta), `${JSON.stringify(meta, null, 2)}\n`),
    writeSummary: (summary) => {
      closeAppended();
      writeAtomic(join(dir, RUN_FILES.summary), `${JSON.stringify(summary, null, 2)}\n`);
    },
    appendSeries: (records) => append(RUN_FILES.series, records),
    appendSeriesText: (text) => appendText(RUN_FILES.series, text),
    appendEngine: (records) => append(RUN_FILES.engine, records),
    appendLines: append,
    writeFile: (name, content) => writeAtomic(join(dir, name), content),
    close: closeAppended,
  };
}

/** A run directory as read back: metadata, plan and summary eagerly, series lazily. */
export interface RunReader {
  dir: string;
  meta: RunMeta;
  plan: Plan | null;
  /** Null when the run never finished (killed process); `meta.endReason` is then `running`. */
  summary: RunSummary | null;
  /**
   * Series records in file order; a torn last line (killed writer) is skipped, any other bad line is
   * a PeakdayError naming `file:line` ({@link readNdjsonLines}).
   */
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

/** One parsed line of an NDJSON run file, with its 1-based line number (blank lines are counted). */
export interface NdjsonLine {
  line: number;
  value: unknown;
}

/** Options of {@link readNdjsonLines} and {@link readNdjsonLinesSync}. */
export interface ReadNdjsonOptions {
  /**
   * Checks one parsed value; the problems it returns (file and line are filled in) are collected
   * with the unparsable lines, and the value is not yielded. Default: every JSON value passes.
   */
  check?: (value: unknown) => Omit<Problem, 'file' | 'line'>[];
  /**
   * Whether an unparsable *last* line is tolerated (skipped, and reported through `onTornLastLine`):
   * what a writer killed mid-append leaves (default true). Any other bad line is an error.
   */
  tolerateTornLastLine?: boolean;
  /** Called with the number of a tolerated torn last line. */
  onTornLastLine?: (line: number) => void;
  /** Stop reading after this many problems (default 20). */
  maxProblems?: number;
  /** What the file should hold, for the error's `expected` (default "one JSON record per line"). */
  expected?: string;
  /** The hint of the error (default: re-run or restore the file). */
  hint?: string;
}

/**
 * The strict NDJSON rule shared by every reader of a run file, fed line by line so the streamed
 * and the synchronous readers keep it identically: an unparsable line is held until the next
 * non-blank line shows it was not the last; problems are collected and thrown together by `finish`.
 */
function createNdjsonChecker(file: string, options: ReadNdjsonOptions) {
  const problems: Problem[] = [];
  const max = options.maxProblems ?? 20;
  const expected = options.expected ?? 'one JSON record per line';
  let held: number | null = null;
  const badLine = (line: number): Problem => ({ file, line, message: 'line is not valid JSON', expected });
  return {
    /** Parses one line; returns the value to yield, or undefined. */
    push(line: number, raw: string): NdjsonLine | undefined {
      if (raw.trim() === '') return undefined;
      if (held !== null) {
        problems.push(badLine(held));
        held = null;
      }
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        held = line;
        return undefined;
      }
      const found = options.check?.(value) ?? [];
      if (found.length === 0) return { line, value };
      for (const p of found) problems.push({ ...p, file, line });
      return undefined;
    },
    full: () => problems.length >= max,
    finish(): void {
      if (held !== null) {
        if (options.tolerateTornLastLine === false) problems.push(badLine(held));
        else options.onTornLastLine?.(held);
      }
      if (problems.length > 0) {
        const first = problems[0] as Problem;
        throw new PeakdayError(
          'run-file-corrupt',
          `${file}:${first.line}: ${problems.length} bad record(s), the first: ${first.message}`,
          {
            problems: problems.slice(0, max),
            hint:
              options.hint ??
              'the file was edited or corrupted; re-run, or restore it from the run that wrote it',
          },
        );
      }
    },
  };
}

/** Yields the lines of a file, streamed in 1-MB chunks (faster than node:readline for large files). */
async function* readLines(file: string): AsyncGenerator<string> {
  let rest = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 })) {
    const text = rest + (chunk as string);
    let start = 0;
    let nl = text.indexOf('\n', start);
    while (nl !== -1) {
      yield text.charCodeAt(nl - 1) === 13 ? text.slice(start, nl - 1) : text.slice(start, nl);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    rest = text.slice(start);
  }
  if (rest.length > 0) yield rest;
}

/**
 * Streams an NDJSON run file strictly: each parsed line with its number. A line that is not JSON,
 * or that `check` rejects, is a `run-file-corrupt` PeakdayError (exit 2) naming `file:line`, thrown
 * after reading (at most `maxProblems` problems); only a torn last line is tolerated. A report or a
 * gate must never rest on a silently damaged file. A missing file yields nothing.
 */
export async function* readNdjsonLines(
  file: string,
  options: ReadNdjsonOptions = {},
): AsyncGenerator<NdjsonLine> {
  if (!existsSync(file)) return;
  const checker = createNdjsonChecker(file, options);
  let line = 0;
  for await (const raw of readLines(file)) {
    const r = checker.push(++line, raw);
    if (r) yield r;
    if (checker.full()) break;
  }
  checker.finish();
}

/** {@link readNdjsonLines} for small files (timelines), synchronously, with the same rule. */
export function readNdjsonLinesSync(file: string, options: ReadNdjsonOptions = {}): NdjsonLine[] {
  if (!existsSync(file)) return [];
  const checker = createNdjsonChecker(file, options);
  const out: NdjsonLine[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] as string;
    const r = checker.push(i + 1, raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    if (r) out.push(r);
    if (checker.full()) break;
  }
  checker.finish();
  return out;
}

async function* readNdjson<T>(file: string): AsyncIterable<T> {
  for await (const { value } of readNdjsonLines(file)) yield value as T;
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
  return readNdjsonLinesSync(file).map((l) => l.value as T);
}

/**
 * The run's timeline (`collect` or the simulator): one record per service per period; empty when it
 * has none. The edge's records in the same file are not a service's and are left out
 * ({@link readEdgeTimeline}).
 */
export function readTimeline(dir: string): TimelineRecord[] {
  return readNdjsonSync<TimelineRecord & { kind?: unknown }>(join(dir, RUN_FILES.timeline)).filter(
    (r) => !isEdgeRecord(r),
  );
}

/** The edge's records of the run's timeline (CloudFront's metrics per period); empty when it has none. */
export function readEdgeTimeline(dir: string): EdgeTimelineRecord[] {
  return readNdjsonSync<{ kind?: unknown }>(join(dir, RUN_FILES.timeline)).filter(isEdgeRecord);
}

/** The run's per-second series, read at once (a rehearsal window: a few thousand records); empty when it has none. */
export function readSeriesSync(dir: string): SeriesRecord[] {
  return readNdjsonSync<SeriesRecord>(join(dir, RUN_FILES.series));
}

/** The run's scaling activities; empty when it has none. */
export function readActivities(dir: string): ScalingActivity[] {
  const file = join(dir, RUN_FILES.activities);
  return existsSync(file) ? readJson<ScalingActivity[]>(file, 'scaling activities') : [];
}
