/**
 * Running a plan into a run directory: the I/O shell around a driver. It creates the directory
 * (meta.json with `endReason: "running"`, plan.json), wires the outputs (run writer, progress) and
 * the abort rules, stops when the caller's AbortSignal fires (within a second: flush, mark
 * `interrupted`, exit code 130; the CLI owns the signal handlers), and finally rewrites meta.json and
 * writes summary.json. Drivers: the embedded engine
 * (here) and k6 (engine/k6/driver.ts) write the same files.
 */

import { ExitCode } from '../core/errors.ts';
import { describeFsError } from '../core/output-path.ts';
import { type RunDirectoryWriter, withRunDirectory } from '../core/run-directory.ts';
import type { RunDriver, RunMeta, RunSummary } from '../core/run-format.ts';
import { RUN_FORMAT_VERSION } from '../core/run-format.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import type { PoolValues } from '../scenarios/data-pools.ts';
import type { Plan } from '../scenarios/plan.ts';
import type { UserPoolModel } from '../scenarios/profile-model.ts';
import type { AbortRule } from './abort-rules.ts';
import { type SchedulerMode, startEngine, startingRate, warmsUpFirst } from './engine.ts';
import { readAutogroupsEnabled, readPriority, readStackPriority } from './health.ts';
import { encodeHistogram, percentilesMs } from './histogram.ts';
import { createProgressOutput } from './outputs/progress.ts';
import { createRunWriterOutput } from './outputs/run-writer.ts';
import { countArrivals, segmentKeeps } from './segments.ts';
import { handshakeStack, requireStackClock, type StackHandshake } from './stack-handshake.ts';
import { isLoopbackHost } from './target-guard.ts';
import { priorityWarnings, type ValidityBounds } from './validity.ts';
import { warmUpEngine } from './warm-up.ts';

/** Everything a driver needs, resolved by the CLI (or a test). */
export interface RunRequest {
  plan: Plan;
  target: URL;
  outDir: string;
  /** Options as given, for meta.json: never secrets. */
  options: Record<string, unknown>;
  abortRules?: AbortRule[];
  validityBounds?: ValidityBounds;
  timeoutMs?: number;
  /** Closed loop with this many virtual users per scenario instead of the plan's arrivals. */
  closedLoop?: { vus: number };
  /** How the scheduler waits between arrivals (engine/engine.ts SchedulerMode). */
  scheduler?: SchedulerMode;
  /** With scheduler 'auto': spin at or above this many arrivals per second. */
  spinAboveRps?: number;
  /** Connections opened before the clock starts (engine default: startingConnections). */
  preconnect?: number;
  /**
   * Seconds of warm-up against an in-process server before the clock starts (engine/warm-up.ts);
   * default 1 when the plan starts fast or the engine spins from the start (`warmsUpFirst`), else 0.
   */
  warmUpSeconds?: number;
  /** Keep-alive connections (default: the sum of concurrency caps). */
  connections?: number;
  /** Engine worker threads (engine/workers.ts); default 1: the engine on the calling thread. */
  workers?: number;
  /** Test seams of a run on workers (kill one, starve one, make one die): engine/workers.ts WorkerEngineOptions. */
  workerSeams?: Pick<import('./workers.ts').WorkerEngineOptions, 'onWorkers' | 'starve' | 'fault'>;
  pools?: () => Record<string, PoolValues>;
  /** The profile's user pool files (the k6 driver copies them beside its script; k6 reads files). */
  userPools?: readonly UserPoolModel[];
  env?: NodeJS.ProcessEnv;
  /** Progress output; omitted = silent. */
  progress?: { tty: boolean; write: (text: string) => void; plainEvery?: number };
  /** Aborting it stops the load and ends the run `interrupted` (the CLI aborts it on Ctrl-C). */
  signal?: AbortSignal;
  /** Skip the stack handshake (default: try it; a non-stack target answers 404). */
  noHandshake?: boolean;
  /**
   * The target is a peakday stack the caller started (a rehearsal): its clock must be set, or the run
   * stops before any load (`stack-clock-unset`).
   */
  stackRequired?: boolean;
  /** Called once the load starts, with a stop function (tests use it to interrupt). */
  onStart?: (stop: (reason: 'interrupted') => void) => void;
}

/** What a finished run returns to the CLI. */
export interface RunOutcome {
  dir: string;
  meta: RunMeta;
  summary: RunSummary;
  exitCode: number;
}

/** The plan's planned iteration count as integer arrivals, honouring its segment. */
export function plannedIterations(plan: Plan): number {
  const counts = countArrivals(plan);
  if (!plan.segment) return counts.reduce((a, b) => a + b, 0);
  const seg = plan.segment;
  let n = 0;
  for (const c of counts) for (let k = 0; k < c; k++) if (segmentKeeps(k, seg)) n++;
  return n;
}

/** A URL as it may be written down: credentials in it are replaced by `***`. */
export function redactUrl(url: URL): string {
  if (!url.username && !url.password) return url.href;
  const u = new URL(url.href);
  u.username = u.username ? '***' : '';
  u.password = u.password ? '***' : '';
  return u.href;
}

/** The meta.json a run starts with. */
export function initialMeta(plan: Plan, req: RunRequest, driver: RunDriver, id: string): RunMeta {
  return {
    formatVersion: RUN_FORMAT_VERSION,
    id,
    mode: 'live',
    driver,
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: {
      name: plan.profile.name,
      hash: plan.profile.hash,
      ...(plan.profile.file ? { file: plan.profile.file } : {}),
    },
    options: req.options,
    target: redactUrl(req.target),
    timeScale: plan.timeScale,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    ...(plan.window ? { window: plan.window } : {}),
    seed: plan.seed,
    startedAt: new Date().toISOString(),
    endReason: 'running',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: driver === 'builtin', sendLatency: true },
    notes: [],
    ...(plan.segment ? { segment: plan.segment } : {}),
  };
}

/**
 * Calls `stop` once when `signal` aborts (at once when it already has); returns the uninstaller.
 * Drivers stop their load through it instead of installing signal handlers of their own.
 */
export function onAbort(signal: AbortSignal | undefined, stop: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    stop();
    return () => {};
  }
  signal.addEventListener('abort', stop, { once: true });
  return () => signal.removeEventListener('abort', stop);
}

/** Notes for the handshake outcome. */
export function handshakeNotes(h: StackHandshake): string[] {
  if (!h.stack)
    return h.problem
      ? [
          `could not tell whether the target is a peakday stack (${h.problem}): if it is, its event clock was not set`,
        ]
      : [];
  if (h.clockSet) return ['target is a peakday stack: its event clock was set to this run’s time scale'];
  return [`target is a peakday stack but its clock was not set (${h.problem ?? 'unknown'})`];
}

/** priorityWarnings from this process's readings and, for a local peakday stack, the stack's file. */
function priorityWarningsHere(target: URL, h: StackHandshake | null): string[] {
  const dataDir = h?.stack ? h.info?.dataDir : undefined;
  const stack =
    typeof dataDir === 'string' && isLoopbackHost(target.hostname) ? readStackPriority(dataDir) : null;
  return priorityWarnings(readAutogroupsEnabled(), readPriority(), stack);
}

/** The handshake the run asks for: required when the target is the caller's own stack. */
export function stackHandshake(req: RunRequest, plan: Plan): Promise<StackHandshake> {
  const clock = { timeScale: plan.timeScale, eventStart: plan.eventStart };
  return req.stackRequired ? requireStackClock(req.target, clock) : handshakeStack(req.target, clock);
}

/** Plays the plan with the embedded engine into `req.outDir`. */
export async function runBuiltin(req: RunRequest): Promise<RunOutcome> {
  const { plan } = req;
  const id = req.outDir.split(/[\\/]/).filter(Boolean).pop() ?? 'run';
  const meta = initialMeta(plan, req, 'builtin', id);
  return withRunDirectory(req.outDir, { meta, plan }, (writer) => playBuiltin(req, meta, writer));
}

async function playBuiltin(req: RunRequest, meta: RunMeta, writer: RunDirectoryWriter): Promise<RunOutcome> {
  const { plan } = req;
  let handshake: StackHandshake | null = null;
  if (!req.noHandshake) {
    handshake = await stackHandshake(req, plan);
    meta.notes.push(...handshakeNotes(handshake));
    writer.writeMeta(meta);
  }
  // A load generator at lowered priority, or a local stack not below it, is said before the load
  // (stderr) and kept in the notes: a run it makes invalid (scheduler lag) has its explanation.
  for (const w of priorityWarningsHere(req.target, handshake)) {
    meta.notes.push(w);
    req.progress?.write(`warning: ${w}\n`);
  }
  const planned = plannedIterations(plan);
  const warmUpSeconds = req.warmUpSeconds ?? (warmsUpFirst(plan, req) ? 1 : 0);
  const workers = req.workers ?? 1;
  if (warmUpSeconds > 0 && workers > 1)
    meta.notes.push(
      `each of the ${workers} engine workers warmed up for ${warmUpSeconds} s before the clock started, against an in-process server on 127.0.0.1, none to the target (--warm-up 0 to skip)`,
    );
  if (req.closedLoop)
    meta.notes.push(
      `closed loop: ${req.closedLoop.vus} virtual users per scenario, each starting its next iteration as its last one ended, for the plan's ${Math.round(plan.durationSeconds)} s; the plan's arrivals were not played (its planned count is the plan's) and scheduler lag is not measured`,
    );
  if (workers > 1)
    meta.notes.push(
      `the engine ran on ${workers} worker threads, each playing an exact segment of the plan (arrival k on worker k mod ${workers}); series and histograms are their exact merge`,
    );
  if (warmUpSeconds > 0 && workers === 1) {
    const w = await warmUpEngine(plan, warmUpSeconds, startingRate(plan));
    meta.notes.push(
      `the engine warmed up for ${w.seconds} s before the clock started: ${w.requests} requests to an in-process server on 127.0.0.1, none to the target (--warm-up 0 to skip)`,
    );
  }
  // A run directory that cannot be written (full disk, file-size limit) stops the load at once:
  // nothing more could be kept, and load that is not measured must not be sent.
  let stopForWriteError: ((detail: string) => void) | undefined;
  const out = createRunWriterOutput(writer, {
    onWriteError: (w) => stopForWriteError?.(`cannot write ${w.file}: ${describeFsError(w.error)}`),
  });
  const progress = req.progress ? createProgressOutput(plan, req.progress) : undefined;
  const engineOptions = {
    plan,
    target: req.target,
    timeoutMs: req.timeoutMs,
    connections: req.connections,
    closedLoop: req.closedLoop,
    scheduler: req.scheduler,
    spinAboveRps: req.spinAboveRps,
    ...(req.preconnect !== undefined ? { preconnect: req.preconnect } : {}),
    abortRules: req.abortRules,
    subscribers: progress ? [out, progress] : [out],
    validityBounds: req.validityBounds,
    env: req.env,
  };
  const engine =
    workers > 1
      ? await (await import('./workers.ts')).startWorkerEngines({
          ...engineOptions,
          workers,
          userPools: req.userPools ?? [],
          warmUpSeconds,
          warmUpRate: startingRate(plan),
          ...(req.workerSeams ?? {}),
        })
      : await startEngine({ ...engineOptions, pools: req.pools });
  stopForWriteError = (detail) => engine.stop('error', detail, ExitCode.noVerdict);
  meta.startedAt = new Date().toISOString();
  const uninstall = onAbort(req.signal, () => engine.stop('interrupted', 'interrupted by a signal'));
  req.onStart?.((reason) => engine.stop(reason, 'interrupted'));
  const result = await engine.done;
  uninstall();
  progress?.end();
  const lag = result.schedulerLag.totalCount > 0 ? percentilesMs(result.schedulerLag) : null;
  for (const t of result.totals) out.summary.addLatency(t.channel, t.journey, t.latency, t.latencySend);
  const summary = out.summary.finish({
    mode: 'live',
    endReason: result.endReason,
    valid: result.valid,
    invalidReasons: result.invalidReasons,
    durationSeconds: result.durationSeconds,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    timeScale: plan.timeScale,
    planned,
    intendedStartLatency: true,
    schedulerLag: lag,
  });
  if (result.schedulerLag.totalCount > 0)
    summary.schedulerLagHistogram = encodeHistogram(result.schedulerLag);
  summary.validityEvidence = result.validityEvidence;
  meta.notes.push(...result.validityNotes);
  meta.endedAt = new Date().toISOString();
  meta.endReason = result.endReason;
  if (result.endDetail) meta.endDetail = result.endDetail;
  meta.valid = result.valid;
  meta.invalidReasons = result.invalidReasons;
  if (result.preconnected > 1)
    meta.notes.push(
      `${result.preconnected} connections were opened to the target before the clock started (--preconnect)`,
    );
  if (result.abandoned > 0)
    meta.notes.push(
      `${result.abandoned} iterations were in flight when the run stopped; they count as started, not completed`,
    );
  if (out.writeError) {
    meta.valid = false;
    meta.invalidReasons = [
      ...meta.invalidReasons,
      `the run directory could not be written (${describeFsError(out.writeError.error)}): the series stop at the last second written`,
    ];
    summary.valid = false;
    summary.invalidReasons = meta.invalidReasons;
    summary.partial = true;
  }
  // On a full disk the summary may not fit; meta.json (rewritten in place if need be) still says
  // why the run ended, and readers rebuild what they need from the series.
  try {
    writer.writeSummary(summary);
  } catch (e) {
    meta.notes.push(`summary.json could not be written: ${describeFsError(e)}`);
  }
  try {
    writer.writeMeta(meta);
  } catch (e) {
    meta.notes.push(`meta.json could not be updated: ${describeFsError(e)}; it still says "running"`);
  }
  const exitCode =
    result.endReason === 'interrupted' ? ExitCode.interrupted : (result.exitCode ?? ExitCode.ok);
  return { dir: req.outDir, meta, summary, exitCode };
}
