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
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Runs `fn` in an IMMEDIATE transaction (takes the write lock up front: no upgrade deadlocks). */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}

/** The database file of a service (headless) or of the monolith. */
export function databaseFile(dataDir: string, deployable: string): string {
  return `${dataDir}/${deployable}.db`;
}
