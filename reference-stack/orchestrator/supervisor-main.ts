/**
 * Entry point of a detached stack's supervisor (`peakday stack up --detach`), started by detach.ts with
 * its options in PEAKDAY_SUPERVISOR and an IPC channel to the CLI. It reports `ready` (or the error)
 * to the CLI over that channel; if the CLI goes away before the stack is ready, it stops everything.
 * Afterwards it runs on its own until `stack down` (SIGTERM), a signal, or its time-to-live.
 */
import { getPriority } from 'node:os';
import { isPeakdayError } from '../../core/errors.ts';
import { describeSessionPriority, lowerSessionPriority } from './session-priority.ts';
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
// niceness, not the processes', ranks the stack against the engine (session-priority.ts).
if (getPriority() > 0) log(describeSessionPriority(lowerSessionPriority(getPriority())));
try {
  sup = await startSupervisor({ ...opts, mode: 'detached', log });
  if (!process.connected) {
    await sup.shutdown('CLI gone');
    process.exit(1);
  }
  ready = true;
  const msg: SupervisorMessage = { type: 'ready', state: sup.state, notes: sup.notes };
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
