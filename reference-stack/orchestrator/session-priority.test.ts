import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAutogroupsEnabled, readStackPriority } from '../../engine/health.ts';
import { judgeStackPriority } from '../../engine/validity.ts';
import {
  describeSessionPriority,
  lowerSessionPriority,
  sessionNicenessFor,
  writeStackPriority,
} from './session-priority.ts';

const autogroups = readAutogroupsEnabled();

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

describe('the stack below the engine', () => {
  const at = (autogroupNice: number | null, nice: number | null) => ({ autogroupNice, nice });
  it.each([
    [10, at(0, 0), 10],
    [10, at(null, 0), 10],
    [10, at(5, 0), 15],
    [10, at(19, 0), 19],
    [19, at(-5, 0), 19],
    [1, at(-5, 0), 1],
  ])('asks for session niceness %i above an engine at %j: %i', (own, engine, want) => {
    expect(sessionNicenessFor(own, engine)).toBe(want);
  });

  it('claims the CPUs below the engine’s only when the stack ended below it, and says why not otherwise', () => {
    const below = judgeStackPriority({ autogroups: true, engine: at(0, 0), stack: at(10, 10) });
    const level = judgeStackPriority({ autogroups: true, engine: at(19, 0), stack: at(19, 10) });
    expect(describeSessionPriority({ kind: 'set', niceness: 10 }, below)).toBe(
      "session (autogroup) niceness 10: the stack's session shares the CPUs below the engine's (the stack's session (autogroup) niceness 10, process niceness 10; the engine's session (autogroup) niceness 0, process niceness 0)",
    );
    const line = describeSessionPriority({ kind: 'set', niceness: 19 }, level);
    expect(line).toMatch(
      /^session \(autogroup\) niceness 19: the stack does not run below the engine on the CPUs: /,
    );
    expect(line).not.toContain('shares the CPUs below');
    const failed = judgeStackPriority({ autogroups: true, engine: at(0, 0), stack: at(0, 10) });
    expect(describeSessionPriority({ kind: 'failed', reason: 'EACCES: permission denied' }, failed)).toMatch(
      /^could not set the session's \(autogroup\) niceness: EACCES: permission denied: the stack does not run below the engine/,
    );
  });

  it('writes what the stack ended with where a run finds it, and removes a stale one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-sp-'));
    writeStackPriority(dir, { pid: 7, autogroups: true, nice: 10, autogroupNice: 10 });
    expect(readStackPriority(dir)).toEqual({ pid: 7, autogroups: true, nice: 10, autogroupNice: 10 });
    writeStackPriority(dir, null);
    expect(readStackPriority(dir)).toBeNull();
    expect(existsSync(join(dir, 'session-priority.json'))).toBe(false);
    // A directory that cannot be written: the stack runs anyway.
    expect(() => writeStackPriority(join(dir, 'missing', 'dir'), null)).not.toThrow();
    expect(() =>
      writeStackPriority(join(dir, 'missing', 'dir'), {
        pid: 7,
        autogroups: true,
        nice: 1,
        autogroupNice: 1,
      }),
    ).not.toThrow();
  });

  // The real kernel: an "engine" in a session of its own (setsid; niced to 19 for the second case, as
  // `echo 19 > /proc/$$/autogroup` does to a shell) starts a "supervisor" as detach.ts does (nice -n
  // 10, detached: a session of its own), which places itself below it and reports what it ended with.
  it.runIf(autogroups)(
    'from a session niced to 19 the stack cannot go below the engine, and both say so; from one at 0 it does',
    async () => {
      const placeScript = `
      import { getPriority } from 'node:os';
      import { placeBelowEngine } from ${JSON.stringify(new URL('./session-priority.ts', import.meta.url).href)};
      process.stdout.write(JSON.stringify(placeBelowEngine(getPriority(), process.ppid)));
    `;
      const engineScript = `
      import { spawn } from 'node:child_process';
      import { readAutogroupsEnabled, readPriority } from ${JSON.stringify(new URL('../../engine/health.ts', import.meta.url).href)};
      import { priorityWarnings } from ${JSON.stringify(new URL('../../engine/validity.ts', import.meta.url).href)};
      const child = spawn('nice', ['-n', '10', process.execPath, '--import', 'tsx', '--input-type=module', '-e', process.argv[1]], {
        detached: true, stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (b) => { out += b; });
      await new Promise((resolve) => child.on('close', resolve));
      const placement = JSON.parse(out);
      process.stdout.write(JSON.stringify({
        engine: readPriority(),
        placement,
        warnings: priorityWarnings(readAutogroupsEnabled(), readPriority(), placement.file),
      }));
    `;
      const engineIn = async (sessionNice: number) => {
        const child = spawn(
          'setsid',
          [
            'sh',
            '-c',
            `echo ${sessionNice} > /proc/self/autogroup && exec "$0" "$@"`,
            process.execPath,
            '--import',
            'tsx',
            '--input-type=module',
            '-e',
            engineScript,
            placeScript,
          ],
          { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 },
        );
        let out = '';
        child.stdout.on('data', (b: Buffer) => {
          out += b.toString();
        });
        let err = '';
        child.stderr.on('data', (b: Buffer) => {
          err += b.toString();
        });
        await new Promise((resolve) => child.on('close', resolve));
        expect(out, err).not.toBe('');
        return JSON.parse(out) as {
          engine: { nice: number; autogroupNice: number };
          placement: {
            line: string;
            warnings: string[];
            verdict: { below: boolean };
            file: { autogroupNice: number };
          };
          warnings: string[];
        };
      };
      const niced = await engineIn(19);
      expect(niced.engine).toEqual({ nice: 0, autogroupNice: 19 });
      expect(niced.placement.file.autogroupNice).toBe(19);
      expect(niced.placement.verdict.below).toBe(false);
      expect(niced.placement.line).toMatch(
        /^session \(autogroup\) niceness 19: the stack does not run below the engine on the CPUs: its session \(autogroup\) niceness 19 is not above the engine's 19/,
      );
      expect(niced.placement.line).not.toContain('shares the CPUs below');
      expect(niced.placement.warnings[0]).toMatch(
        /^the load generator runs at lowered CPU priority: its session's \(autogroup\) niceness is 19/,
      );
      expect(niced.warnings).toEqual(niced.placement.warnings);

      const plain = await engineIn(0);
      expect(plain.engine).toEqual({ nice: 0, autogroupNice: 0 });
      expect(plain.placement.file.autogroupNice).toBe(10);
      expect(plain.placement.verdict.below).toBe(true);
      expect(plain.placement.line).toMatch(
        /^session \(autogroup\) niceness 10: the stack's session shares the CPUs below the engine's/,
      );
      expect(plain.warnings).toEqual([]);
    },
  );
});
