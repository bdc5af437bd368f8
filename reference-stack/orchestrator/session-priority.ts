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
 *
 * The engine's own session may be niced already (`echo 19 > /proc/$$/autogroup` in the shell the
 * rehearsal started from): the stack's session is then put that much lower again, as far as 19 goes,
 * and where it cannot end strictly below the engine's, the log says so instead of claiming it does
 * (engine/validity.ts judgeStackPriority decides, from both processes' readings).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  readAutogroupsEnabled,
  readPriority,
  STACK_PRIORITY_FILE,
  type StackPriorityFile,
} from '../../engine/health.ts';
import {
  judgeStackPriority,
  type PriorityReading,
  priorityWarnings,
  type StackPriorityVerdict,
} from '../../engine/validity.ts';

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

/**
 * The session niceness to ask for: the supervisor's own niceness (the engine's plus what the caller
 * asked, by nice(1)) above the engine's session's, as far as 19. An engine's session at 0 gives the
 * supervisor's niceness, as before engines' sessions were read. Pure.
 */
export function sessionNicenessFor(ownNiceness: number, engine: PriorityReading): number {
  return Math.max(1, Math.min(19, ownNiceness + Math.max(0, engine.autogroupNice ?? 0)));
}

/**
 * The log line for an outcome, and, given the verdict on both processes' readings, whether the stack
 * ended below the engine: the claim that it shares the CPUs below the engine's is made only when it
 * does. Pure.
 */
export function describeSessionPriority(p: SessionPriority, verdict?: StackPriorityVerdict): string {
  if (p.kind === 'set')
    return `session (autogroup) niceness ${p.niceness}: ${
      !verdict || verdict.below
        ? `the stack's session shares the CPUs below the engine's${verdict ? ` (${verdict.figures})` : ''}`
        : verdict.sentence
    }`;
  const tail = verdict ? `: ${verdict.sentence}` : '';
  if (p.kind === 'no-autogroups')
    return `no autogroups on this kernel: the process niceness alone ranks the stack${tail}`;
  return `could not set the session's (autogroup) niceness: ${p.reason}${tail}`;
}

/** What placing the stack below the engine did: the log line, warnings for the user, the readings. */
export interface StackPlacement {
  line: string;
  /** The engine at lowered priority; the stack not strictly below it. */
  warnings: string[];
  verdict: StackPriorityVerdict;
  file: StackPriorityFile;
}

/**
 * Puts this process's session (the stack's) below the engine's: reads the engine's priority (pid
 * `enginePid`: the CLI that started the supervisor, whose process runs the rehearsal's engine),
 * lowers the session (sessionNicenessFor), reads back what the stack ended with and judges the two.
 * `ownNiceness` is this process's niceness (> 0: the caller asked for the stack below the engine).
 */
export function placeBelowEngine(ownNiceness: number, enginePid: number): StackPlacement {
  const autogroups = readAutogroupsEnabled();
  const engine = readPriority(enginePid);
  const outcome = lowerSessionPriority(sessionNicenessFor(ownNiceness, engine));
  const stack = readPriority();
  const verdict = judgeStackPriority({ autogroups, engine, stack });
  return {
    line: describeSessionPriority(outcome, verdict),
    warnings: priorityWarnings(autogroups, engine, { autogroups, ...stack }),
    verdict,
    file: { pid: process.pid, autogroups, ...stack },
  };
}

/**
 * Writes (or, when the stack was not put below the engine, removes) the stack's priority in its data
 * directory (engine/health.ts STACK_PRIORITY_FILE), where a run against the stack reads it. Never
 * throws: the stack runs either way.
 */
export function writeStackPriority(dataDir: string, file: StackPriorityFile | null): void {
  const path = join(dataDir, STACK_PRIORITY_FILE);
  try {
    if (file) writeFileSync(path, `${JSON.stringify(file)}\n`);
    else rmSync(path, { force: true });
  } catch {
    // not written: a run against the stack then judges the engine alone
  }
}
