/**
 * Finding and stopping the stack of a working directory (`peakday stack status` and `stack down`).
 * Only a process that is really a peakday process (its command line says so) is signalled, so a stale
 * state file whose pid was reused never gets an unrelated process killed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { StackStatus } from './stack.ts';
import { isProcessAlive, readStackState, removeStackState, type StackState } from './state.ts';

/** What `stack down` did. */
export type DownResult =
  | { stopped: true; state: StackState; killed: boolean }
  | { stopped: false; reason: 'none' | 'stale'; state?: StackState };

/** True when `pid` runs peakday (the CLI in the foreground or a detached supervisor). */
export function isPeakdayProcess(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('peakday') || cmd.includes('supervisor-main');
  } catch {
    return true;
  }
}

/** The state of a running stack, or why there is none (stale states are removed). */
export function findStack(
  cwd: string,
): { state: StackState } | { state?: StackState; reason: 'none' | 'stale' } {
  const state = readStackState(cwd);
  if (!state) return { reason: 'none' };
  if (!isPeakdayProcess(state.pid)) {
    removeStackState(cwd, state.pid);
    return { state, reason: 'stale' };
  }
  return { state };
}

/** Asks the stack for its status over the control API; null if it does not answer. */
export async function fetchStackStatus(state: StackState, timeoutMs = 3_000): Promise<StackStatus | null> {
  try {
    const r = await fetch(`${state.url}/_peakday/status`, { signal: AbortSignal.timeout(timeoutMs) });
    if (r.status !== 200) return null;
    return (await r.json()) as StackStatus;
  } catch {
    return null;
  }
}

/**
 * SIGTERM to the stack's owner, waiting up to `graceMs` for it to stop its replicas and exit; then SIGKILL.
 * A detached supervisor leads its own process group, and its replicas are in it: they exit when it goes
 * (parent-watch.ts), but one that was busy or starved may not have yet, and one that never does would
 * keep a port and the host's CPU. So the group is awaited too, and what is left of it after
 * `graceMs` more is killed: when this returns, no process of the stack is left.
 */
export async function stopStack(cwd: string, graceMs = 15_000): Promise<DownResult> {
  const found = findStack(cwd);
  if (!('state' in found) || found.state === undefined || 'reason' in found) {
    return { stopped: false, reason: 'reason' in found ? found.reason : 'none', state: found.state };
  }
  const { state } = found;
  process.kill(state.pid, 'SIGTERM');
  let killed = !(await exitsWithin(() => isProcessAlive(state.pid), graceMs));
  if (killed) {
    process.kill(state.pid, 'SIGKILL');
    await exitsWithin(() => isProcessAlive(state.pid), 2_000);
  }
  if (state.mode === 'detached' && !(await exitsWithin(() => groupAlive(state.pid), graceMs))) {
    killGroup(state.pid);
    await exitsWithin(() => groupAlive(state.pid), 2_000);
    killed = true;
  }
  removeStackState(cwd, state.pid);
  return { stopped: true, state, killed };
}

/** Polls `alive` every 50 ms until it is false (true) or `ms` have passed (false). */
async function exitsWithin(alive: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

/** True while a live (not zombie) process is in process group `pgid`. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // kill(2) also reaches zombies nobody has reaped (a container's init may not): ask /proc who is left.
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const [st, , pg] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(pg) === pgid && st !== 'Z' && st !== 'X') return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
}
