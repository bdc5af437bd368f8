import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PEAKDAY_BIN, runCli } from './cli-helper.ts';

describe('the peakday CLI entry', () => {
  it('prints the version from package.json', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('prints help listing its commands and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: peakday');
  });

  it('exits 2 on an unknown command, without a stack trace', async () => {
    const r = await runCli(['no-such-command']);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('keeps what it printed past a full pipe: a reader that is late still gets the end of stderr', () => {
    // 120 KB of error text (commander echoes the unknown option): more than a pipe holds (64 KiB).
    // The reader starts 3 s late; a CLI that exits without waiting for it loses what did not fit.
    const option = `--${'x'.repeat(120_000)}`;
    const r = spawnSync(
      'bash',
      ['-c', '"$0" "$1" run "$2" 2>&1 >/dev/null | { sleep 3; cat; }', process.execPath, PEAKDAY_BIN, option],
      { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 1 << 20, timeout: 60_000 },
    );
    expect(r.stdout.length).toBeGreaterThan(120_000);
    expect(r.stdout).toMatch(/x'\n\(run with --help for usage\)\n$/);
  });
});
