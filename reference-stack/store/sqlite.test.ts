import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { switchToWal } from './sqlite.ts';

const SQLITE_TS = new URL('./sqlite.ts', import.meta.url).href;
const dir = mkdtempSync(join(tmpdir(), 'peakday-sqlite-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * One replica's start as the stack does it: wait for a shared wall instant, open the file, create a
 * table. Prints "ok" or the error's code and message.
 */
const REPLICA = `
  const [file, at] = process.argv.slice(-2);
  const { openDatabase } = await import(${JSON.stringify(SQLITE_TS)});
  const nap = Number(at) - Date.now() - 2;
  if (nap > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, nap);
  while (Date.now() < Number(at)) {}
  try {
    const db = openDatabase(file);
    db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY); INSERT OR IGNORE INTO t VALUES (' + "'" + process.pid + "'" + ')');
    db.close();
    console.log('ok');
  } catch (e) {
    console.log('failed', e.code, e.message);
  }
`;

function replica(file: string, at: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', REPLICA, '--', file, String(at)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('exit', () => resolve(out.trim()));
  });
}

describe('openDatabase with replicas starting together', () => {
  it('switches a fresh file to WAL when several processes open it at the same instant', async () => {
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      const file = join(dir, `fresh-${round}.db`);
      // Far enough ahead that every child has loaded before the instant (tsx start on a loaded host).
      const at = Date.now() + 2500;
      answers.push(...(await Promise.all([0, 1, 2, 3].map(() => replica(file, at)))));
      const db = new Database(file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 4 });
      db.close();
    }
    expect(answers.filter((a) => a !== 'ok')).toEqual([]);
    expect(answers).toHaveLength(12);
  }, 120_000);
});

/** An error as better-sqlite3 raises it (a SqliteError carries SQLite's extended code name). */
function sqliteError(code: string): Error {
  return Object.assign(new Error('database is locked'), { code });
}

describe('switchToWal', () => {
  // SQLite's immediate SQLITE_BUSY (no busy handler: two replicas escalating from a shared lock on a
  // fresh file) could not be provoked on demand here; these drive the retry with a connection that
  // answers BUSY as SQLite does, then the real switch on a file.
  it('retries a busy answer until the switch goes through', () => {
    let calls = 0;
    const naps: number[] = [];
    const db = {
      pragma: () => {
        calls++;
        if (calls < 4) throw sqliteError(calls === 2 ? 'SQLITE_BUSY_SNAPSHOT' : 'SQLITE_BUSY');
        return [{ journal_mode: 'wal' }];
      },
    };
    expect(switchToWal(db as never, 30_000, (ms) => naps.push(ms))).toBe(4);
    expect(naps).toEqual([2, 4, 8]);
  });

  it('throws any other error at once, and a busy one past the deadline', () => {
    const other = {
      pragma: () => {
        throw sqliteError('SQLITE_IOERR');
      },
    };
    expect(() => switchToWal(other as never, 30_000, () => {})).toThrow(/database is locked/);
    let busyCalls = 0;
    const busy = {
      pragma: () => {
        busyCalls++;
        throw sqliteError('SQLITE_BUSY');
      },
    };
    expect(() => switchToWal(busy as never, 0, () => {})).toThrow(/database is locked/);
    expect(busyCalls).toBe(1);
  });

  it('leaves a real fresh file in WAL in one attempt when nobody else holds it', () => {
    const db = new Database(join(dir, 'alone.db'));
    expect(switchToWal(db)).toBe(1);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });
});
