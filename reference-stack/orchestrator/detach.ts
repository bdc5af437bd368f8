/**
 * Starts a detached supervisor (`peakday stack up --detach`): a new process in its own session, so an
 * interrupt of the CLI's terminal does not reach it, logging to `.peakday/supervisor.log`. The CLI waits
 * for its `ready` message, then lets go of it. If the CLI is killed before that, the supervisor notices
 * the closed IPC channel and stops the stack, so nothing is left behind.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isErrorCode, PeakdayError, type Problem } from '../../core/errors.ts';
import type { StackState } from './state.ts';
import { statePaths } from './state.ts';
import type { SupervisorOptions } from './supervisor.ts';
import type { SupervisorMessage } from './supervisor-main.ts';

const MAIN = fileURLToPath(new URL('./supervisor-main.ts', import.meta.url));
const TSX_LOADER = import.meta.resolve('tsx');

/** How a detached supervisor is started, beyond the stack's own options. */
export interface DetachOptions {
  /** How long to wait for the stack to be healthy. */
  readyTimeoutMs?: number;
  /**
   * Scheduling niceness of the supervisor and so of every replica it forks (they inherit it), 0-19.
   * `peakday rehearse` runs the stack below its load generator on the same host: when both want the
   * cores, the engine's wake-ups come first and its schedule holds, while the stack's contention
   * shows where it belongs, in the emulation-fidelity figures (docs/reference-stack.md). On a
   * 2-core host at nice 0 the stack's ~20 processes delayed the engine's wake-ups past 10 ms for
   * 1.6% of a quiet-host flash-sale rehearsal's iterations (run invalid); docs/reports.md, "Comparing
   * topologies".
   */
  niceness?: number;
}

/** Starts the supervisor and resolves with the stack's state once it is healthy. */
export function startDetachedSupervisor(
  opts: Omit<SupervisorOptions, 'mode' | 'log'>,
  { readyTimeoutMs = 180_000, niceness = 0 }: DetachOptions = {},
): Promise<{ state: StackState; notes: string[]; logFile: string }> {
  const dir = statePaths(opts.cwd).dir;
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, 'supervisor.log');
  const fd = openSync(logFile, 'a');
  const node = [process.execPath, '--import', TSX_LOADER, MAIN];
  // `nice` (POSIX) starts the whole process, every thread of it, at that niceness; Windows has none.
  const [cmd, ...args] =
    niceness > 0 && process.platform !== 'win32' ? ['nice', '-n', String(niceness), ...node] : node;
  const child = spawn(cmd as string, args, {
    cwd: opts.cwd,
    detached: true,
    stdio: ['ignore', fd, fd, 'ipc'],
    env: { ...process.env, PEAKDAY_SUPERVISOR: JSON.stringify(opts) },
  });
  closeSync(fd);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(
        new PeakdayError(
          'stack-start-timeout',
          `the stack was not healthy within ${readyTimeoutMs / 1000}s`,
          {
            hint: `rerun on a quieter host or with fewer tasks (--warm 0, --max-tasks); see ${logFile}`,
          },
        ),
      );
    }, readyTimeoutMs);
    const letGo = () => {
      clearTimeout(timer);
      if (child.connected) child.disconnect();
      child.unref();
    };
    child.on('message', (m: SupervisorMessage) => {
      if (m.type === 'ready') {
        letGo();
        resolve({ state: { ...m.state, logFile }, notes: m.notes, logFile });
      } else if (m.type === 'error') {
        letGo();
        reject(
          // The same catalog on both sides: the code carries its exit code.
          new PeakdayError(isErrorCode(m.error.code) ? m.error.code : 'internal', m.error.message, {
            hint: m.error.hint ?? `see ${logFile}`,
            problems: (m.error.problems ?? []) as Problem[],
          }),
        );
      }
    });
    // 'close', not 'exit': it comes after the IPC channel has delivered every message, so the
    // supervisor's own error (a taken port, a bad scaling file: exit 2) is not lost to a race with
    // its exit. Without one, a signal is the machine's doing (often the out-of-memory killer), an
    // exit code a crash.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const message = `the supervisor exited (${signal ?? code}) before the stack was ready`;
      reject(
        signal
          ? new PeakdayError('stack-start-resources', message, {
              hint: `it was killed by ${signal} (out of memory?): free memory or start fewer tasks (--warm 0, --max-tasks); see ${logFile}`,
            })
          : new PeakdayError('stack-start-failed', message, { hint: `see ${logFile}` }),
      );
    });
  });
}

/**
 * Follows a detached supervisor's log: every `intervalMs`, the lines appended since the last look
 * (without their ISO timestamps) go to `onLine`, from the log's current end on. Returns a stop
 * function, which reads what is left first. Used by `peakday rehearse` to show the stack's scaling
 * activities as they happen while its supervisor runs in its own process.
 */
export function followSupervisorLog(
  file: string,
  onLine: (line: string) => void,
  intervalMs = 1000,
): () => void {
  let offset = existsSync(file) ? statSync(file).size : 0;
  let partial = '';
  const read = () => {
    if (!existsSync(file)) return;
    const size = statSync(file).size;
    if (size <= offset) return;
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      readSync(fd, buf, 0, buf.length, offset);
      offset = size;
      const lines = (partial + buf.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l.trim()) onLine(l.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, ''));
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(read, intervalMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    read();
  };
}
