/**
 * One replica process: a real worker (`reference-stack/worker.ts`, or a test worker) forked with an IPC
 * channel through `replica-entry.ts`, which makes it exit when its parent goes. This module is the I/O
 * edge of the fleet: start, wait for `ready`, ask for period stats (`flush`), drain, kill.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isErrorCode, PeakdayError } from '../../core/errors.ts';
import { addFidelity } from '../capacity/emulator.ts';
import type { ParentToWorker, WorkerConfig, WorkerStats, WorkerToParent } from '../worker-protocol.ts';
import { WORKER_ENV } from '../worker-protocol.ts';

const ENTRY = fileURLToPath(new URL('./replica-entry.ts', import.meta.url));
/** tsx's ESM loader, resolved from this repository so replicas start from any working directory. */
const TSX_LOADER = import.meta.resolve('tsx');

/** How a replica is started. */
export interface ReplicaSpawnOptions {
  config: WorkerConfig;
  /** Worker module URL or path; default reference-stack/worker.ts. */
  workerModule?: string;
  /** A prebuilt replica bundle (replica-bundle.ts); without it the replica starts through tsx. */
  bundle?: string;
  /** File descriptor (or 'ignore') receiving the replica's stdout and stderr. */
  logFd?: number | 'ignore';
  /** Wall ms to wait for `ready` before giving up (default 120 s: 17 cold starts on a busy 2-core host). */
  readyTimeoutMs?: number;
}

/**
 * Why a replica did not become ready, so the stack can say whose failure it was: `timeout` (the host
 * did not start it in time), `killed` (a signal, often the out-of-memory killer), `fatal` (the worker
 * reported an error: `errorCode` is its errno or catalog code), `exited` (it died without a word).
 */
export class ReplicaStartError extends Error {
  constructor(
    message: string,
    readonly failure: 'timeout' | 'killed' | 'fatal' | 'exited',
    readonly errorCode?: string,
  ) {
    super(message);
    this.name = 'ReplicaStartError';
  }
}

/** System errors that say the machine refused a process something (memory, processes, files, disk, permission). */
const MACHINE_ERRNOS = new Set([
  'ENOMEM',
  'EAGAIN',
  'EMFILE',
  'ENFILE',
  'ENOSPC',
  'EDQUOT',
  'EACCES',
  'EPERM',
  'EROFS',
]);

/**
 * The error the stack reports when its replicas did not start (`e` from their `ready`), by whose
 * failure it was: the machine's (`stack-start-resources`, `stack-start-timeout`: exit 8), the
 * input's when the worker names a catalog code (its own exit code), else a crash (`stack-start-failed`,
 * exit 1). `log` is the replicas' log, named in the hint.
 */
export function replicaStartError(e: unknown, log: string): PeakdayError {
  const message = `the stack did not start: ${(e as Error).message}`;
  const hint = `see ${log}`;
  if (!(e instanceof ReplicaStartError)) return new PeakdayError('stack-start-failed', message, { hint });
  if (e.failure === 'timeout')
    return new PeakdayError('stack-start-timeout', message, {
      hint: `the host started it too slowly: rerun on a quieter host or with fewer tasks (--warm 0, --max-tasks); ${hint}`,
    });
  if (e.failure === 'killed' || (e.errorCode !== undefined && MACHINE_ERRNOS.has(e.errorCode)))
    return new PeakdayError('stack-start-resources', message, {
      hint: `the machine refused it${e.errorCode ? ` (${e.errorCode})` : ' (killed by a signal: out of memory?)'}: free memory, disk or file descriptors, or start fewer tasks (--warm 0, --max-tasks); ${hint}`,
    });
  if (e.errorCode !== undefined && isErrorCode(e.errorCode))
    return new PeakdayError(e.errorCode, message, { hint });
  return new PeakdayError('stack-start-failed', message, { hint });
}

/** A running (or starting) replica process. */
export class Replica {
  readonly child: ChildProcess;
  readonly service: string;
  readonly index: number;
  /** Base URL once ready. */
  url: string | undefined;
  exited = false;
  /** Resolves with the base URL when the worker listens; rejects if it dies or times out first. */
  readonly ready: Promise<string>;
  private pendingFlush: ((s: WorkerStats | null) => void)[] = [];
  private acc: WorkerStats | null = null;
  private exitWaiters: (() => void)[] = [];

  constructor(opts: ReplicaSpawnOptions) {
    this.service = opts.config.service;
    this.index = opts.config.replica ?? 0;
    const env: Record<string, string> = { ...(process.env as Record<string, string>) };
    env[WORKER_ENV] = JSON.stringify(opts.config);
    if (opts.workerModule) env.PEAKDAY_WORKER_MODULE = opts.workerModule;
    else delete env.PEAKDAY_WORKER_MODULE;
    const out = opts.logFd ?? 'ignore';
    this.child = fork(opts.bundle ?? ENTRY, [], {
      env,
      execArgv: opts.bundle ? [] : ['--import', TSX_LOADER],
      stdio: ['ignore', out, out, 'ipc'],
      serialization: 'json',
    });
    this.child.on('exit', () => {
      this.exited = true;
      for (const f of this.pendingFlush.splice(0)) f(null);
      for (const w of this.exitWaiters.splice(0)) w();
    });
    this.child.on('error', () => undefined);
    const timeoutMs = opts.readyTimeoutMs ?? 120_000;
    this.ready = new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new ReplicaStartError(`${this.service} replica did not start within ${timeoutMs} ms`, 'timeout'),
          ),
        timeoutMs,
      );
      timer.unref();
      this.child.on('message', (m: WorkerToParent) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.url = `http://${opts.config.host}:${m.port}`;
          resolve(this.url);
        } else if (m.type === 'stats') this.onStats(m);
        else if (m.type === 'fatal') {
          clearTimeout(timer);
          reject(new ReplicaStartError(`${this.service} replica failed: ${m.message}`, 'fatal', m.code));
        }
      });
      this.child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(
          new ReplicaStartError(
            `${this.service} replica exited (${signal ?? code}) before it was ready`,
            signal ? 'killed' : 'exited',
          ),
        );
      });
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Re-anchors the replica's event clock. */
  send(m: ParentToWorker): void {
    if (!this.exited && this.child.connected) this.child.send(m, () => undefined);
  }

  /** Asks for the stats since the last call; resolves with them (null if none came within `timeoutMs`). */
  flush(timeoutMs: number): Promise<WorkerStats | null> {
    if (this.exited || !this.child.connected) return Promise.resolve(this.takeAccumulated());
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingFlush = this.pendingFlush.filter((f) => f !== done);
        resolve(this.takeAccumulated());
      }, timeoutMs);
      const done = (s: WorkerStats | null) => {
        clearTimeout(timer);
        resolve(s === null ? this.takeAccumulated() : s);
      };
      this.pendingFlush.push(done);
      this.send({ type: 'flush' });
    });
  }

  /** Asks the worker to drain (finish in-flight requests and exit); kills it if it takes longer than `timeoutMs`. */
  async drain(timeoutMs: number): Promise<void> {
    this.send({ type: 'drain' });
    await this.waitExit(timeoutMs);
    if (!this.exited) await this.kill();
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async kill(graceMs = 2_000): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    await this.waitExit(graceMs);
    if (!this.exited) {
      this.child.kill('SIGKILL');
      await this.waitExit(2_000);
    }
  }

  private waitExit(ms: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.exitWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onStats(s: WorkerStats): void {
    const merged = this.acc ? mergeStats(this.acc, s) : s;
    const waiter = this.pendingFlush.shift();
    if (waiter) {
      this.acc = null;
      waiter(merged);
    } else this.acc = merged;
  }

  private takeAccumulated(): WorkerStats | null {
    const a = this.acc;
    this.acc = null;
    return a;
  }
}

/** Adds two consecutive stats messages of one replica into one covering both periods. Pure. */
export function mergeStats(a: WorkerStats, b: WorkerStats): WorkerStats {
  const store = { ...a.store };
  for (const [table, s] of Object.entries(b.store)) {
    const p = store[table];
    store[table] = p
      ? {
          consumedReadUnits: p.consumedReadUnits + s.consumedReadUnits,
          consumedWriteUnits: p.consumedWriteUnits + s.consumedWriteUnits,
          throttledReads: p.throttledReads + s.throttledReads,
          throttledWrites: p.throttledWrites + s.throttledWrites,
          hotPartitionThrottles: p.hotPartitionThrottles + s.hotPartitionThrottles,
          hottestKey: (s.hottestKeyUnits ?? 0) >= (p.hottestKeyUnits ?? 0) ? s.hottestKey : p.hottestKey,
          hottestKeyUnits: Math.max(s.hottestKeyUnits ?? 0, p.hottestKeyUnits ?? 0),
        }
      : s;
  }
  const span = b.periodEndMs - a.periodStartMs;
  return {
    ...b,
    periodStartMs: a.periodStartMs,
    requests: a.requests + b.requests,
    status2xx: a.status2xx + b.status2xx,
    status3xx: a.status3xx + b.status3xx,
    status4xx: a.status4xx + b.status4xx,
    status5xx: a.status5xx + b.status5xx,
    rejected: a.rejected + b.rejected,
    busyCpuMs: a.busyCpuMs + b.busyCpuMs,
    cpuUtilization: span > 0 ? ((a.busyCpuMs + b.busyCpuMs) / (b.vcpu * span)) * 100 : b.cpuUtilization,
    queuePeak: Math.max(a.queuePeak, b.queuePeak),
    latencySumMs: a.latencySumMs + b.latencySumMs,
    latencyMaxMs: Math.max(a.latencyMaxMs, b.latencyMaxMs),
    store,
    eventsPublished: a.eventsPublished + b.eventsPublished,
    eventsConsumed: a.eventsConsumed + b.eventsConsumed,
    eventsDuplicate: a.eventsDuplicate + b.eventsDuplicate,
    ...(a.emulation || b.emulation ? { emulation: addFidelity(a.emulation, b.emulation) } : {}),
  };
}
