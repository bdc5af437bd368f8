/**
 * Entry point of a detached stack's supervisor (`peakday stack up --detach`), started by detach.ts with
 * its options in PEAKDAY_SUPERVISOR and an IPC channel to the CLI. It reports `ready` (or the error)
 * to the CLI over that channel; if the CLI goes away before the stack is ready, it stops everything.
 * Afterwards it runs on its own until `stack down` (SIGTERM), a signal, or its time-to-live.
 */
import { getPriority } from 'node:os';
import { isPeakdayError } from '../../core/errors.ts';
import { placeBelowEngine, writeStackPriority } from './session-priority.ts';
import { type Supervisor, type SupervisorOptions, startSupervisor } from './supervisor.ts';

/** Messages from the supervisor to the CLI that started it. */
export type SupervisorMessage =
  | { type: 'ready'; state: Supervisor['state']; notes: string[] }
  | {
      type: 'error';
      error: { code: string; message: string; hint?: string; problems?: unknown[] };
    };

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
const opts = JSON.parse(process.env.PEAKDAY_SUPERVISOR ?? '{}') as SupervisorOptions;
let ready = false;
let sup: Supervisor | undefined;

process.on('disconnect', () => {
  if (!ready) {
    log('the CLI went away before the stack was ready: stopping');
    if (sup) void sup.shutdown('CLI gone').then(() => process.exit(1));
    else process.exit(1);
  }
});

log(`supervisor pid ${process.pid}, niceness ${getPriority()}`);
// Detached, it leads a session of its own: where the kernel groups tasks by session, that session's
// niceness, not the processes', ranks the stack against the engine (session-priority.ts). Started
// niced (a rehearsal's stack), it goes below the engine's session: the CLI that started it, whose
// process runs the rehearsal's engine. What it ended with is judged against the engine, truthfully.
const placement = getPriority() > 0 ? placeBelowEngine(getPriority(), process.ppid) : null;
if (placement) {
  log(placement.line);
  for (const w of placement.warnings) if (!placement.line.includes(w)) log(`warning: ${w}`);
}
try {
  sup = await startSupervisor({ ...opts, mode: 'detached', log });
  // Where a run against the stack finds what the stack ended with, to judge it against its own engine.
  writeStackPriority(sup.state.dataDir, placement?.file ?? null);
  if (!process.connected) {
    await sup.shutdown('CLI gone');
    process.exit(1);
  }
  ready = true;
  const msg: SupervisorMessage = {
    type: 'ready',
    state: sup.state,
    notes: [...sup.notes, ...(placement?.warnings ?? []).map((w) => `warning: ${w}`)],
  };
  process.send?.(msg);
  const reason = await sup.done;
  log(`stopped: ${reason}`);
  process.exit(0);
} catch (e) {
  const err = isPeakdayError(e)
    ? { code: e.code, message: e.message, hint: e.hint, problems: e.problems }
    : { code: 'internal', message: (e as Error).message };
  log(`failed: ${err.message}`);
  const msg: SupervisorMessage = { type: 'error', error: err };
  if (process.connected) process.send?.(msg, () => process.exit(1));
  else process.exit(1);
}
