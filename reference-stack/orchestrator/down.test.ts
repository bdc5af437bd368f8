import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { groupAlive, stopStack } from './down.ts';
import { isProcessAlive, readStackState, writeStackState } from './state.ts';

let dir = '';
const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * A detached stand-in for a supervisor (its file name says supervisor-main, as `stack down` checks):
 * it starts one child in its process group that ignores SIGTERM and does not watch its parent, prints
 * the child's pid, and exits on SIGTERM at once, leaving the child behind: a replica that missed its
 * supervisor's going.
 */
async function supervisorLeavingAChild(): Promise<{ pid: number; child: number }> {
  dir = mkdtempSync(join(tmpdir(), 'peakday-down-'));
  const child = join(dir, 'replica.cjs');
  writeFileSync(child, "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000);\n");
  const main = join(dir, 'supervisor-main.cjs');
  writeFileSync(
    main,
    `const { spawn } = require('node:child_process');
const c = spawn(process.execPath, [${JSON.stringify(child)}], { stdio: 'ignore' });
process.on('SIGTERM', () => process.exit(0));
setTimeout(() => console.log(c.pid), 300);
setInterval(() => {}, 1000);
`,
  );
  const p = spawn(process.execPath, [main], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  pids.push(p.pid!);
  const line = await new Promise<string>((resolve) => p.stdout.once('data', (b: Buffer) => resolve(`${b}`)));
  p.unref();
  return { pid: p.pid!, child: Number(line.trim()) };
}

describe('stopStack', () => {
  it('leaves no process of a detached stack behind: what outlives its supervisor is killed', async () => {
    const { pid, child } = await supervisorLeavingAChild();
    writeStackState(dir, {
      version: 1,
      pid,
      mode: 'detached',
      arch: 'headless',
      host: '127.0.0.1',
      port: 1,
      url: 'http://127.0.0.1:1',
      dataDir: dir,
      started: new Date().toISOString(),
    });
    expect(isProcessAlive(child)).toBe(true);
    const r = await stopStack(dir, 500);
    expect(r).toMatchObject({ stopped: true, killed: true });
    expect(isProcessAlive(pid)).toBe(false);
    expect(isProcessAlive(child)).toBe(false);
    expect(groupAlive(pid)).toBe(false);
    expect(readStackState(dir)).toBeNull();
  });

  it('says a group is alive while one of its processes is', async () => {
    const { pid, child } = await supervisorLeavingAChild();
    expect(groupAlive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(groupAlive(pid)).toBe(true);
    process.kill(child, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    expect(groupAlive(pid)).toBe(false);
  });
});
