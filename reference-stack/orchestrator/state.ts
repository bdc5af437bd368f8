/**
 * One local stack per working directory, tracked in `.peakday/stack.json` (and its supervisor's pid
 * in `.peakday/stack.pid`), so `stack status`, `verify` and `down` find it without flags.
 *
 * A state whose process is gone is stale (the machine rebooted, the supervisor was SIGKILLed): readers
 * report it as such and `stack up` replaces it.
 */

import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PeakdayError } from '../../core/errors.ts';
import type { DynamoStoreConfig } from '../store/dynamodb.ts';
import type { Arch } from '../topology.ts';

/** The state file's content. */
export interface StackState {
  version: 1;
  /** The process that owns the stack: the supervisor (detached) or the CLI (foreground). */
  pid: number;
  mode: 'foreground' | 'detached';
  arch: Arch;
  host: string;
  port: number;
  /** Public (gateway) URL; the control API is under `${url}/_peakday/`. */
  url: string;
  dataDir: string;
  /** ISO time the stack became healthy. */
  started: string;
  ttlSeconds?: number;
  /** ISO time the supervisor stops the stack on its own (detached with --ttl). */
  expiresAt?: string;
  /** Supervisor log (detached). */
  logFile?: string;
  /** The DynamoDB store the stack runs on (`stack up --store dynamodb`); absent: SQLite in `dataDir`. */
  dynamodb?: DynamoStoreConfig;
}

/** Paths of the state files of a working directory. */
export function statePaths(cwd: string): { dir: string; state: string; pid: string; defaultDataDir: string } {
  const dir = join(resolve(cwd), '.peakday');
  return {
    dir,
    state: join(dir, 'stack.json'),
    pid: join(dir, 'stack.pid'),
    defaultDataDir: join(dir, 'stack-data'),
  };
}

/** Writes the state atomically (write then rename), with the pidfile beside it. */
export function writeStackState(cwd: string, state: StackState): void {
  const p = statePaths(cwd);
  mkdirSync(p.dir, { recursive: true });
  const tmp = `${p.state}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(tmp, p.state);
  writeFileSync(p.pid, `${state.pid}\n`);
}

/** Reads the state, or null when there is none or it is unreadable. */
export function readStackState(cwd: string): StackState | null {
  const p = statePaths(cwd);
  if (!existsSync(p.state)) return null;
  try {
    const s = JSON.parse(readFileSync(p.state, 'utf8')) as StackState;
    return typeof s.pid === 'number' && typeof s.url === 'string' ? s : null;
  } catch {
    return null;
  }
}

/** Removes the state files, but only if they still describe `pid` (a newer stack keeps its own). */
export function removeStackState(cwd: string, pid?: number): void {
  const p = statePaths(cwd);
  const s = readStackState(cwd);
  if (pid !== undefined && s !== null && s.pid !== pid) return;
  rmSync(p.state, { force: true });
  rmSync(p.pid, { force: true });
}

/** True when a process with this pid exists (signal 0) and is not a zombie. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return true;
  }
}

/**
 * Takes the start lock of a working directory (`.peakday/stack.lock`, holding the pid), so that two
 * `stack up` running at once cannot both start a stack (the loser's stack would be untracked).
 * A lock whose process is gone is taken over. Returns the function that releases it.
 */
export function acquireStartLock(cwd: string): () => void {
  const p = statePaths(cwd);
  mkdirSync(p.dir, { recursive: true });
  const file = join(p.dir, 'stack.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(process.pid)) rmSync(file, { force: true });
        } catch {
          // already gone
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder !== process.pid && isProcessAlive(holder)) {
        throw new PeakdayError(
          'stack-starting',
          `another stack is starting in this directory (pid ${holder})`,
          {
            hint: 'wait for it (peakday stack status), or stop it with peakday stack down',
          },
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new PeakdayError('stack-lock', `cannot take ${file}`);
}
