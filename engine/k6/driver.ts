/**
 * The k6 driver (`--driver k6`): exports the plan as a k6 script (scenarios/k6-export.ts), runs the
 * user's k6 with `--out json=...` and `--summary-export`, and converts the outputs into the same run
 * directory the embedded engine writes (engine/k6/convert.ts). k6 times requests from when they were
 * sent, so the run records `capabilities.intendedStartLatency: false` and says so in its notes. Its
 * validity is judged from what k6 reports about itself (drops the cap does not explain, iterations of
 * the plan it never reached, its log) and the host CPU sampled here while k6 runs
 * (engine/k6/validity.ts); what k6 cannot tell (scheduler lag) is listed in `validityUnmeasured`,
 * never read as valid.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { ERROR_CATALOG, ExitCode, PeakdayError } from '../../core/errors.ts';
import { describeFsError } from '../../core/output-path.ts';
import { type RunDirectoryWriter, withRunDirectory } from '../../core/run-directory.ts';
import { RUN_FILES, type RunMeta, type SeriesRecord } from '../../core/run-format.ts';
import type { UserPoolModel } from '../../scenarios/profile-model.ts';
import { sampleProcessCpuWait } from '../health.ts';
import {
  handshakeNotes,
  initialMeta,
  onAbort,
  plannedIterations,
  type RunOutcome,
  type RunRequest,
  stackHandshake,
} from '../run.ts';
import type { StopOrder } from '../second-close.ts';
import { k6SegmentArgs } from '../segments.ts';
import { createSummaryAccumulator } from '../summary.ts';
import { convertK6Output, type K6SummaryExport, readK6SummaryCounts } from './convert.ts';
import { k6Ending } from './exit-codes.ts';
import { type K6Watch, watchK6Output } from './live-rules.ts';
import { judgeK6Run, type K6IterationAccount, readK6Log, readK6Progress } from './validity.ts';
import { findK6WriteFailure } from './write-failure.ts';

/** How long k6 gets to stop after SIGINT when the run directory is full before it is killed. */
const STOP_GRACE_MS = 3000;

/** Files the k6 driver adds to the run directory (documented in docs/run-directory.md). */
export const K6_FILES = {
  script: 'k6-script.js',
  output: 'k6-out.ndjson',
  summary: 'k6-summary.json',
  console: 'k6-console.txt',
  hostCpu: 'k6-host.ndjson',
  /** Folder of the user pool files the script reads with open() (relative to the script). */
  data: 'k6-data',
} as const;

/**
 * Copies the user pool files the plan's journeys bind into `<outDir>/k6-data/` and says where the
 * script finds them; k6 reads them at init into SharedArrays (scenarios/k6-export.ts `poolFiles`).
 * Built-in pools stay in the script (they come from the seeded catalog, not from files).
 */
export function copyPoolFiles(
  plan: RunRequest['plan'],
  userPools: readonly UserPoolModel[],
  outDir: string,
): Record<string, { file: string; format: 'csv' | 'json' }> {
  const used = new Set(
    Object.values(plan.journeys).flatMap((j) => Object.values(j.data ?? {}).map((b) => b.pool)),
  );
  const out: Record<string, { file: string; format: 'csv' | 'json' }> = {};
  for (const pool of userPools) {
    if (!used.has(pool.name)) continue;
    const file = `${K6_FILES.data}/${pool.name.replace(/[^A-Za-z0-9_.-]/g, '_')}.${pool.format}`;
    mkdirSync(join(outDir, K6_FILES.data), { recursive: true });
    try {
      copyFileSync(pool.file, join(outDir, file));
    } catch (e) {
      throw new PeakdayError('data-pool-invalid', `data pool ${pool.name}: cannot copy ${pool.file} for k6`, {
        hint: `check the pool's file (${(e as Error).message}); paths are relative to the profile file`,
      });
    }
    out[pool.name] = { file, format: pool.format };
  }
  return out;
}

function cpuTotals(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
  }
  return { idle, total };
}

/**
 * Samples the host's CPU use (0..1, all cores) once a second while k6 runs, plus the partial last
 * stretch when it lasted 100 ms or more; k6 itself reports nothing about the host it runs on.
 */
function sampleHostCpu(): { stop(): { wall: number; hostCpu: number }[] } {
  const samples: { wall: number; hostCpu: number }[] = [];
  const t0 = performance.now();
  let last = cpuTotals();
  let lastAt = t0;
  const take = () => {
    const now = cpuTotals();
    const dTotal = now.total - last.total;
    const busy = dTotal > 0 ? 1 - (now.idle - last.idle) / dTotal : 0;
    samples.push({
      wall: Math.round((performance.now() - t0) / 10) / 100,
      hostCpu: Math.round(Math.min(1, Math.max(0, busy)) * 100) / 100,
    });
    last = now;
    lastAt = performance.now();
  };
  const timer = setInterval(take, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      if (performance.now() - lastAt >= 100) take();
      return samples;
    },
  };
}

const INSTALL_HINT =
  'install k6 (https://grafana.com/docs/k6/latest/set-up/install-k6/: e.g. `brew install k6`, the Debian/Ubuntu apt repository, or the release binary) and put it on PATH or pass --k6-bin PATH; or use the embedded engine (--driver builtin)';

/** Finds the k6 executable: `--k6-bin`, else `k6` on PATH; a PeakdayError with an install hint if absent. */
export function findK6(k6Bin: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const canRun = (f: string) => {
    try {
      accessSync(f, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (k6Bin !== undefined) {
    if (canRun(k6Bin)) return resolve(k6Bin);
    throw new PeakdayError('k6-not-found', `--k6-bin ${k6Bin} is not an executable file`, {
      hint: INSTALL_HINT,
    });
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const f = join(dir, 'k6');
    if (existsSync(f) && canRun(f)) return f;
  }
  throw new PeakdayError('k6-not-found', 'k6 was not found on PATH', { hint: INSTALL_HINT });
}

/** Plays the plan with k6 into `req.outDir`. */
export async function runK6(req: RunRequest & { k6Bin?: string }): Promise<RunOutcome> {
  const prepared = await prepareK6(req);
  return withRunDirectory(req.outDir, { meta: prepared.meta, plan: req.plan }, (writer) =>
    playK6(req, prepared, writer),
  );
}

/** What k6 is given before its run directory exists: the binary, the script, the pools, the meta. */
interface PreparedK6 {
  k6: string;
  baseUrl: string;
  script: string;
  meta: RunMeta;
}

async function prepareK6(req: RunRequest & { k6Bin?: string }): Promise<PreparedK6> {
  const { plan } = req;
  const k6 = findK6(req.k6Bin, req.env ?? process.env);
  const { exportK6Script } = await import('../../scenarios/k6-export.ts');
  const baseUrl = req.target.href.replace(/\/+$/, '');
  const poolFiles = copyPoolFiles(plan, req.userPools ?? [], req.outDir);
  const exported = exportK6Script(plan, {
    baseUrl,
    ...(plan.segment ? { segment: plan.segment } : {}),
    ...(Object.keys(poolFiles).length > 0 ? { poolFiles } : {}),
  });
  const id = req.outDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  const meta = initialMeta(plan, req, 'k6', id);
  meta.capabilities = { intendedStartLatency: false, sendLatency: true };
  meta.notes.push(
    'driver k6: latency is measured from the actual send (http_req_duration); k6 cannot measure intended-start (coordinated-omission-safe) latency, so summary latency.intended is null',
    ...exported.warnings.map((w) => `k6 export: ${w}`),
  );
  return { k6, baseUrl, script: exported.script, meta };
}

async function playK6(
  req: RunRequest & { k6Bin?: string },
  { k6, baseUrl, script, meta }: PreparedK6,
  writer: RunDirectoryWriter,
): Promise<RunOutcome> {
  const { plan } = req;
  writer.writeFile(K6_FILES.script, script);
  if (!req.noHandshake) {
    const h = await stackHandshake(req, plan);
    meta.notes.push(...handshakeNotes(h));
  }
  writer.writeMeta(meta);
  const args = [
    'run',
    '--out',
    `json=${join(req.outDir, K6_FILES.output)}`,
    '--summary-export',
    join(req.outDir, K6_FILES.summary),
    ...(plan.segment ? k6SegmentArgs(plan.segment) : []),
    join(req.outDir, K6_FILES.script),
  ];
  const startedAtMs = Date.now();
  meta.startedAt = new Date(startedAtMs).toISOString();
  let interrupted = false;
  let consoleText = '';
  // A full disk (or file-size limit) stops the load at once, k6's or ours: load that is not
  // measured must not be sent. The first failed write is kept and named in meta.json.
  let writeFailure: string | null = null;
  const keep = (what: string, write: () => void): boolean => {
    try {
      write();
      return true;
    } catch (e) {
      const detail = `cannot write ${join(req.outDir, what)}: ${describeFsError(e)}`;
      if (!writeFailure && isDiskFull(e)) writeFailure = detail;
      else meta.notes.push(`${what} could not be written: ${describeFsError(e)}`);
      return false;
    }
  };
  const host = sampleHostCpu();
  const k6Wait: { sampler: ReturnType<typeof sampleProcessCpuWait> | null } = { sampler: null };
  // The run's abort rules (circuit breaker, budget aborts) on k6's output as it is written.
  let stopOrder: StopOrder | null = null;
  let watch: K6Watch | null = null;
  const code = await new Promise<number>((done, fail) => {
    const child = spawn(k6, args, {
      env: { ...(req.env ?? process.env), PEAKDAY_BASE_URL: baseUrl, K6_NO_USAGE_REPORT: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) k6Wait.sampler = sampleProcessCpuWait(child.pid);
    if (req.abortRules && req.abortRules.length > 0)
      watch = watchK6Output(join(req.outDir, K6_FILES.output), {
        startedAtMs,
        eventStart: plan.eventStart,
        timeScale: plan.timeScale,
        rules: req.abortRules,
        onStop: (order) => {
          stopOrder = order;
          child.kill('SIGINT');
          setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), STOP_GRACE_MS).unref();
        },
      });
    let scanned = 0;
    const onData = (d: Buffer) => {
      consoleText += d.toString();
      req.progress?.write(d.toString());
      if (writeFailure) return;
      // Whole lines only; a line cut between chunks is read with the next one.
      const end = consoleText.lastIndexOf('\n') + 1;
      const failed = end > scanned ? findK6WriteFailure(consoleText.slice(scanned, end), req.outDir) : null;
      scanned = Math.max(scanned, end);
      if (!failed) return;
      writeFailure = `cannot write ${failed.file}: ${failed.cause}`;
      child.kill('SIGINT');
      setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), STOP_GRACE_MS).unref();
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const uninstall = onAbort(req.signal, () => {
      interrupted = true;
      child.kill('SIGINT');
    });
    req.onStart?.(() => {
      interrupted = true;
      child.kill('SIGINT');
    });
    child.on('error', (e) => {
      uninstall();
      fail(new PeakdayError('k6-not-found', `could not start ${k6}: ${e.message}`, { hint: INSTALL_HINT }));
    });
    child.on('close', (c, signal) => {
      uninstall();
      watch?.stop();
      keep(K6_FILES.console, () => writer.writeFile(K6_FILES.console, consoleText));
      done(c ?? (signal ? 128 + 2 : 1));
    });
  });
  const hostCpu = host.stop();
  const cpuWait = k6Wait.sampler?.stop() ?? null;
  keep(K6_FILES.hostCpu, () =>
    writer.writeFile(K6_FILES.hostCpu, hostCpu.map((h) => `${JSON.stringify(h)}\n`).join('')),
  );
  const outFile = join(req.outDir, K6_FILES.output);
  // k6's exit code says whose failure it was (engine/k6/exit-codes.ts): its script's, its
  // configuration's, the machine's or k6's own, never "internal error".
  const ending = k6Ending(code);
  if (!existsSync(outFile)) {
    const why = interrupted
      ? 'k6 was interrupted (Ctrl-C)'
      : ending.kind === 'completed'
        ? `k6 exited with code ${code}`
        : ending.reason;
    throw new PeakdayError(
      ending.kind === 'failed' ? ending.code : 'k6-failed',
      `${why} and wrote no output`,
      {
        hint: `see ${join(req.outDir, K6_FILES.console)} for what k6 printed`,
      },
    );
  }
  const conv = await convertK6Output(outFile, {
    startedAtMs,
    eventStart: plan.eventStart,
    timeScale: plan.timeScale,
  });
  // The series the summary counts are the ones kept: none when series.ndjson cannot take them (the
  // raw k6 output stays, and `peakday import` can convert it once there is space).
  const kept = keep(RUN_FILES.series, () => writer.appendSeries(conv.records));
  const acc = createSummaryAccumulator();
  if (kept) for (const r of conv.records) acc.add(r);
  const k6Counts = readSummaryExport(join(req.outDir, K6_FILES.summary));
  // k6 exits 99 when its thresholds fail (our exported script sets none unless asked); 105 and 103
  // when stopped from outside; any other non-zero code means k6 failed (k6Ending says why).
  const stopped = stopOrder as StopOrder | null;
  const endReason = writeFailure
    ? 'error'
    : interrupted
      ? 'interrupted'
      : stopped
        ? stopped.reason
        : ending.kind === 'interrupted'
          ? 'interrupted'
          : ending.kind === 'completed'
            ? 'completed'
            : 'error';
  const validity = judgeK6Run(
    {
      generator: conv.generator,
      totalCap: plan.scenarios.reduce((a, s) => a + s.maxConcurrency, 0),
      log: consoleText.length > 0 ? readK6Log(consoleText) : null,
      hostCpu: hostCpu.map((h) => h.hostCpu),
      cpuWait,
      iterations: accountIterations(
        conv.records,
        plannedIterations(plan),
        consoleText,
        endReason === 'completed',
      ),
    },
    req.validityBounds,
  );
  const summary = acc.finish({
    mode: 'live',
    endReason,
    valid: validity.valid,
    invalidReasons: validity.reasons,
    durationSeconds: Math.round(conv.durationSeconds * 1000) / 1000,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    timeScale: plan.timeScale,
    planned: plannedIterations(plan),
    intendedStartLatency: false,
    schedulerLag: null,
  });
  if (
    k6Counts &&
    (k6Counts.requests !== summary.requests.total || k6Counts.dropped !== summary.iterations.dropped)
  ) {
    meta.notes.push(
      `k6's summary counted ${k6Counts.requests} requests and ${k6Counts.dropped} dropped iterations; its NDJSON output ${summary.requests.total} and ${summary.iterations.dropped}`,
    );
  }
  summary.validityUnmeasured = validity.unmeasured;
  meta.valid = validity.valid;
  meta.invalidReasons = validity.reasons;
  meta.validityUnmeasured = validity.unmeasured;
  meta.notes.push(
    `driver k6: \`valid\` covers dropped iterations the cap does not explain, iterations of the plan k6 never started, k6's log and k6's own CPU wait (or, unmeasured, the host CPU); not measurable with k6: ${validity.unmeasured.join('; ')}`,
  );
  meta.notes.push(...validity.notes);
  if (validity.neverStarted !== null && validity.neverStarted > 0)
    meta.notes.push(
      `driver k6: ${validity.neverStarted} of the plan's ${plannedIterations(plan)} iterations were neither started nor dropped by k6 (not in iterations.dropped, which counts k6's dropped_iterations)`,
    );
  if (validity.droppedAtCap > 0)
    meta.notes.push(
      `driver k6: ${validity.droppedAtCap} iterations were dropped at the concurrency cap (maxVUs): the target was slower than the cap allows, not the generator`,
    );
  meta.endedAt = new Date().toISOString();
  meta.endReason = endReason;
  if (endReason === 'error')
    meta.endDetail =
      writeFailure ?? (ending.kind === 'failed' ? ending.reason : `k6 exited with code ${code}`);
  else if (stopped && !interrupted) meta.endDetail = stopped.detail;
  else if (ending.kind === 'interrupted' && !interrupted) meta.endDetail = ending.reason;
  if (writeFailure) {
    meta.valid = false;
    meta.invalidReasons = [
      ...meta.invalidReasons,
      `the run directory could not be written (${writeFailure}): the load was stopped and the series end where the writes did`,
    ];
    summary.valid = false;
    summary.invalidReasons = meta.invalidReasons;
    summary.partial = true;
  }
  // On a full disk the summary may not fit; meta.json (rewritten in place if need be) still says
  // why the run ended.
  keep(RUN_FILES.summary, () => writer.writeSummary(summary));
  keep(RUN_FILES.meta, () => writer.writeMeta(meta));
  const exitCode = writeFailure
    ? ExitCode.noVerdict
    : endReason === 'interrupted'
      ? ExitCode.interrupted
      : stopped
        ? (stopped.exitCode ?? ExitCode.ok)
        : ending.kind === 'failed'
          ? ERROR_CATALOG[ending.code].exit
          : ExitCode.ok;
  return { dir: req.outDir, meta, summary, exitCode };
}

/**
 * The plan's iterations against k6's counts (engine/k6/validity.ts K6IterationAccount): completed
 * and dropped from its series, interrupted from the last progress line of its console.
 */
export function accountIterations(
  records: readonly SeriesRecord[],
  planned: number,
  consoleText: string,
  playedToEnd: boolean,
): K6IterationAccount {
  let completed = 0;
  let dropped = 0;
  for (const r of records) {
    completed += r.completed ?? 0;
    dropped += r.dropped ?? 0;
  }
  return {
    planned,
    completed,
    dropped,
    interrupted: readK6Progress(consoleText)?.interrupted ?? null,
    playedToEnd,
  };
}

/** Whether a write failed because the disk (or a file-size limit or quota) cannot take more. */
function isDiskFull(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException)?.code;
  return code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT';
}

/** k6's own request and drop counts from its summary export; null when it is absent or torn (full disk). */
function readSummaryExport(file: string): ReturnType<typeof readK6SummaryCounts> | null {
  if (!existsSync(file)) return null;
  try {
    return readK6SummaryCounts(JSON.parse(readFileSync(file, 'utf8')) as K6SummaryExport);
  } catch {
    return null;
  }
}
