/**
 * Shared helper for end-to-end tests: runs the real CLI (`bin/peakday.js`) in a child process and
 * captures its exit code and output. Tests drive the product exactly as a user would.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PEAKDAY_BIN = fileURLToPath(new URL('../bin/peakday.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  input?: string;
  /**
   * Run under `ulimit -f` (KiB): the kernel then fails writes past this size with a real EFBIG, which
   * is how tests fill a "disk" without root.
   */
  fileSizeLimitKiB?: number;
}

/** Runs `peakday ...args` and resolves when it exits (killed after `timeoutMs`, default 120 s). */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] =
      opts.fileSizeLimitKiB === undefined
        ? [process.execPath, [PEAKDAY_BIN, ...args]]
        : [
            '/bin/bash',
            [
              '-c',
              `ulimit -f ${opts.fileSizeLimitKiB} && exec "$0" "$@"`,
              process.execPath,
              PEAKDAY_BIN,
              ...args,
            ],
          ];
    const child = spawn(cmd, argv, {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, NO_COLOR: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * Processes whose environment or command line mentions `dir` (a local stack's replicas carry their
 * data directory there), so a test can assert that nothing it started outlived it.
 */
export function processesMentioning(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (env.includes(dir) || cmd.includes(dir)) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}
