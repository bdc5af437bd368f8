/**
 * The stack's embedded database: SQLite through better-sqlite3 in WAL mode, so several replica
 * processes of one service share one file safely (one writer at a time, readers never blocked).
 * Headless: one file per service; monolith: one shared file. Transactions are `BEGIN IMMEDIATE`
 * so read-check-write sequences (inventory reservations) are atomic across processes.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/** A better-sqlite3 database handle. */
export type Db = Database.Database;

/** Opens (creating if needed) a database file in WAL mode with a busy timeout for multi-process use. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file, { timeout: 30_000 });
  // The busy timeout must be in force before switching to WAL: replicas of one service open the same
  // file at once, and the switch takes an exclusive lock; 30 s covers one replica seeding its store
  // while the others wait on a loaded host.
  db.pragma('busy_timeout = 30000');
  switchToWal(db);
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** How long a replica keeps retrying the switch of a fresh file to WAL, wall ms (as the busy timeout). */
export const WAL_SWITCH_DEADLINE_MS = 30_000;

/**
 * Switches the file to WAL, retrying when SQLite refuses without waiting. A fresh file starts in
 * rollback-journal mode, where the switch reads under a shared lock and then needs the exclusive one;
 * when two replicas of one service do this at once, both hold the shared lock and SQLite answers one
 * of them SQLITE_BUSY at once, without calling the busy handler (deadlock avoidance). Seen in 1 of 10
 * quiet-host rehearsals: "checkout replica failed: database is locked". The loser backs off and tries
 * again once the winner has switched; later openers find the file in WAL already (it persists).
 * Any other error, or BUSY past the deadline, is thrown. Returns the attempts it took.
 */
export function switchToWal(
  db: Pick<Db, 'pragma'>,
  deadlineMs = WAL_SWITCH_DEADLINE_MS,
  sleep: (ms: number) => void = sleepSync,
): number {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt++) {
    try {
      db.pragma('journal_mode = WAL');
      return attempt;
    } catch (error) {
      if (!isBusy(error) || Date.now() >= deadline) throw error;
    }
    sleep(Math.min(100, 2 ** attempt));
  }
}

function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** Blocks the thread for `ms` (opening a database is synchronous; this runs only at a replica's start). */
function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Runs `fn` in an IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks). */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** The database file of a service (headless) or of the monolith. */
export function databaseFile(dataDir: string, deployable: string): string {
  return `${dataDir}/${deployable}.db`;
}
