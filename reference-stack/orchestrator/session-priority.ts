/**
 * The detached stack's session below the engine, on Linux kernels with autogroups.
 *
 * The supervisor starts at a niceness (detach.ts DetachOptions) so that the engine's wake-ups come
 * first when both want the host's cores. But it is detached into a session of its own (setsid), and
 * where the kernel groups tasks by session (`CONFIG_SCHED_AUTOGROUP`, `/proc/sys/kernel/
 * sched_autogroup_enabled` 1: the default of many distributions' kernels, and of this project's test
 * host) a task's niceness only ranks it within its own session: the stack's session as a whole
 * competed with the engine's at equal weight, whatever the stack's niceness. The session's own
 * niceness (`/proc/<pid>/autogroup`, sched(7) "The autogroup feature") ranks it against the others;
 * any user may raise it for their own session.
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** What happened to the session's niceness, for the supervisor's log. */
export type SessionPriority =
  | { kind: 'set'; niceness: number }
  | { kind: 'no-autogroups' }
  | { kind: 'failed'; reason: string };

/** Where the kernel exposes autogroups; a test passes its own files. */
export interface AutogroupPaths {
  enabled: string;
  self: string;
}

const PROC: AutogroupPaths = {
  enabled: '/proc/sys/kernel/sched_autogroup_enabled',
  self: '/proc/self/autogroup',
};

/**
 * Gives the calling process's session (autogroup) the niceness `niceness` (1-19), when the kernel
 * groups by session; a no-op that says so elsewhere (not Linux, autogroups off). Never throws: the
 * stack runs either way, and the engine's validity evidence shows what the host did.
 */
export function lowerSessionPriority(niceness: number, paths: AutogroupPaths = PROC): SessionPriority {
  let enabled: string;
  try {
    enabled = readFileSync(paths.enabled, 'utf8').trim();
  } catch {
    return { kind: 'no-autogroups' };
  }
  if (enabled !== '1') return { kind: 'no-autogroups' };
  try {
    writeFileSync(paths.self, String(Math.max(1, Math.min(19, Math.round(niceness)))));
    const m = /nice\s+(-?\d+)/.exec(readFileSync(paths.self, 'utf8'));
    return { kind: 'set', niceness: Number(m?.[1] ?? niceness) };
  } catch (e) {
    return { kind: 'failed', reason: (e as Error).message };
  }
}

/** The log line for an outcome. */
export function describeSessionPriority(p: SessionPriority): string {
  if (p.kind === 'set')
    return `session (autogroup) niceness ${p.niceness}: the stack's session shares the CPUs below the engine's`;
  if (p.kind === 'no-autogroups')
    return 'no autogroups on this kernel: the process niceness alone ranks the stack';
  return `could not set the session's (autogroup) niceness: ${p.reason}`;
}
