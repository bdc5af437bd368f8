/**
 * Finding and stopping the stack of a working directory (`peakday stack status` and `stack down`).
 * Only a process that is really a peakday process (its command line says so) is signalled, so a stale
 * state file whose pid was reused never gets an unrelated process killed.
 */
import { readFileSync } from 'node:fs';
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

/** SIGTERM to the stack's owner, waiting up to `graceMs` for it to stop its replicas and exit; then SIGKILL. */
export async function stopStack(cwd: string, graceMs = 15_000): Promise<DownResult> {
  const found = findStack(cwd);
  if (!('state' in found) || found.state === undefined || 'reason' in found) {
    return { stopped: false, reason: 'reason' in found ? found.reason : 'none', state: found.state };
  }
  const { state } = found;
  process.kill(state.pid, 'SIGTERM');
  const end = Date.now() + graceMs;
  while (isProcessAlive(state.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  let killed = false;
  if (isProcessAlive(state.pid)) {
    process.kill(state.pid, 'SIGKILL');
    killed = true;
  }
  removeStackState(cwd, state.pid);
  return { stopped: true, state, killed };
}
