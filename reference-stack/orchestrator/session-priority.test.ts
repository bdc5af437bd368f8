import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeSessionPriority, lowerSessionPriority } from './session-priority.ts';

const autogroups = (() => {
  try {
    return readFileSync('/proc/sys/kernel/sched_autogroup_enabled', 'utf8').trim() === '1';
  } catch {
    return false;
  }
})();

describe('lowerSessionPriority', () => {
  it('writes the niceness to the autogroup file when autogroups are on, and reads back what the kernel kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-ag-'));
    const enabled = join(dir, 'enabled');
    const self = join(dir, 'autogroup');
    writeFileSync(enabled, '1\n');
    writeFileSync(self, '/autogroup-7 nice 0\n');
    // A plain file keeps what was written ("10"), which has no "nice N": the asked niceness stands.
    expect(lowerSessionPriority(10, { enabled, self })).toEqual({ kind: 'set', niceness: 10 });
    expect(readFileSync(self, 'utf8')).toBe('10');
    writeFileSync(enabled, '0\n');
    expect(lowerSessionPriority(10, { enabled, self })).toEqual({ kind: 'no-autogroups' });
    expect(lowerSessionPriority(10, { enabled: join(dir, 'missing'), self })).toEqual({
      kind: 'no-autogroups',
    });
    writeFileSync(enabled, '1\n');
    const failed = lowerSessionPriority(10, { enabled, self: join(dir, 'no', 'such', 'file') });
    expect(failed.kind).toBe('failed');
    expect(describeSessionPriority(failed)).toMatch(
      /^could not set the session's \(autogroup\) niceness: ENOENT/,
    );
  });

  // The real kernel: a detached (setsid) child lowers its own session, which its parent's keeps.
  it.runIf(autogroups)(
    "lowers a detached child's session on this kernel and leaves the parent's alone",
    async () => {
      const script = `
      import { lowerSessionPriority } from ${JSON.stringify(new URL('./session-priority.ts', import.meta.url).href)};
      const r = lowerSessionPriority(10);
      process.stdout.write(JSON.stringify({ r, ag: (await import('node:fs')).readFileSync('/proc/self/autogroup', 'utf8') }));
    `;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        detached: true,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      await new Promise((resolve) => child.on('exit', resolve));
      const { r, ag } = JSON.parse(out) as { r: { kind: string; niceness: number }; ag: string };
      expect(r).toEqual({ kind: 'set', niceness: 10 });
      expect(ag).toMatch(/nice 10\s*$/);
      expect(readFileSync('/proc/self/autogroup', 'utf8')).not.toBe(ag);
    },
  );
});
