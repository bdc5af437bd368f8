/**
 * Shared helper for end-to-end tests: runs the real CLI (`bin/peakday.js`) in a child process and
 * captures its exit code and output. Tests drive the product exactly as a user would.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  return startCli(args, opts).result;
}

/** A CLI process started by {@link startCli}: the child (to signal it) and its result when it exits. */
export interface StartedCli {
  child: ChildProcess;
  /** What it has printed so far (grows while it runs). */
  output: { stdout: string; stderr: string };
  result: Promise<CliResult>;
}

/**
 * Starts `peakday ...args` and returns at once, for tests that act while it runs (Ctrl-C it with
 * `child.kill('SIGINT')`); `result` resolves when it exits (killed after `timeoutMs`, default 120 s).
 */
export function startCli(args: string[], opts: CliOptions = {}): StartedCli {
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
  const output = { stdout: '', stderr: '' };
  // Decoded as a stream: a character cut between two reads (the diff's box drawing) stays whole.
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (d: string) => {
    output.stdout += d;
  });
  child.stderr?.on('data', (d: string) => {
    output.stderr += d;
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output });
    });
  });
  child.stdin?.end(opts.input ?? '');
  return { child, output, result };
}

/**
 * The environment that points the CLI's AWS SDK at the local AWS endpoint (telemetry/test-aws-server.ts):
 * its URL, test credentials, a region, and none of the host's own AWS profile.
 */
export function localAwsEnv(url: string): Record<string, string | undefined> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_ACCESS_KEY_ID: 'AKIDTEST',
    AWS_SECRET_ACCESS_KEY: 'x',
    AWS_REGION: 'us-east-1',
    AWS_PROFILE: undefined,
  };
}

/**
 * The processes still mentioning `dir` once `withinMs` have passed, each with its command line (for
 * the failure message): a process that has been told to stop may take a moment to be gone.
 */
export async function processesLeft(dir: string, withinMs = 5000): Promise<string[]> {
  const until = Date.now() + withinMs;
  for (;;) {
    const pids = processesMentioning(dir);
    if (pids.length === 0 || Date.now() >= until)
      return pids.map((pid) => {
        try {
          return `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim()}`;
        } catch {
          return `${pid} (gone)`;
        }
      });
    await new Promise((r) => setTimeout(r, 100));
  }
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

/** A loopback port nothing listens on: one the kernel gave a server, closed again. */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
