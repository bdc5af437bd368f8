import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  acquireStartLock,
  isProcessAlive,
  readStackState,
  removeStackState,
  type StackState,
  statePaths,
  writeStackState,
} from './state.ts';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const fresh = () => {
  dir = mkdtempSync(join(tmpdir(), 'peakday-state-'));
  return dir;
};

const state = (pid: number): StackState => ({
  version: 1,
  pid,
  mode: 'detached',
  arch: 'headless',
  host: '127.0.0.1',
  port: 8080,
  url: 'http://127.0.0.1:8080',
  dataDir: '/tmp/x',
  started: new Date(0).toISOString(),
});

describe('the stack state file', () => {
  it('round-trips and writes the pidfile beside it', () => {
    const d = fresh();
    writeStackState(d, state(123));
    expect(readStackState(d)).toEqual(state(123));
    expect(existsSync(statePaths(d).pid)).toBe(true);
  });

  it('is not removed on behalf of another pid, and is removed for its own', () => {
    const d = fresh();
    writeStackState(d, state(123));
    removeStackState(d, 456);
    expect(readStackState(d)).not.toBeNull();
    removeStackState(d, 123);
    expect(readStackState(d)).toBeNull();
    expect(existsSync(statePaths(d).pid)).toBe(false);
  });

  it('reads an unreadable file as no state', () => {
    const d = fresh();
    mkdirSync(statePaths(d).dir, { recursive: true });
    writeFileSync(statePaths(d).state, '{not json');
    expect(readStackState(d)).toBeNull();
  });

  it('tells live processes from gone ones', () => {
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(2 ** 22 + 12345)).toBe(false);
  });
});

describe('the start lock', () => {
  it('refuses a second start while another live process holds it', () => {
    const d = fresh();
    mkdirSync(statePaths(d).dir, { recursive: true });
    writeFileSync(join(statePaths(d).dir, 'stack.lock'), `${process.ppid}\n`);
    expect(() => acquireStartLock(d)).toThrow(/another stack is starting/);
  });

  it('takes over a lock whose process is gone, and releases it', () => {
    const d = fresh();
    mkdirSync(statePaths(d).dir, { recursive: true });
    const lock = join(statePaths(d).dir, 'stack.lock');
    writeFileSync(lock, `${2 ** 22 + 12345}\n`);
    const release = acquireStartLock(d);
    expect(existsSync(lock)).toBe(true);
    release();
    expect(existsSync(lock)).toBe(false);
  });
});
