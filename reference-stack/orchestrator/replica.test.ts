import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../core/errors.ts';
import type { WorkerConfig } from '../worker-protocol.ts';
import { Replica, ReplicaStartError, replicaStartError } from './replica.ts';

const dir = mkdtempSync(join(tmpdir(), 'peakday-replica-'));
const config: WorkerConfig = {
  arch: 'headless',
  service: 'catalog',
  port: 0,
  host: '127.0.0.1',
  dataDir: dir,
  peers: {},
  taskSize: { vcpu: 0.5, memoryGb: 1 },
  timeScale: 1,
  eventStart: 0,
};

/** A replica whose worker module is `source` (plain JavaScript), started as the fleet starts one. */
function replicaRunning(name: string, source: string, readyTimeoutMs?: number): Replica {
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  return new Replica({ config, workerModule: file, ...(readyTimeoutMs ? { readyTimeoutMs } : {}) });
}

/** The stack's error for a replica that did not become ready. */
async function startError(r: Replica) {
  const e = await r.ready.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ReplicaStartError);
  return replicaStartError(e, join(dir, 'replicas.log'));
}

describe('a replica that does not start, by whose failure it was', () => {
  it('killed by a signal (as by the out-of-memory killer): the machine, exit 8', async () => {
    const e = await startError(replicaRunning('killed', "process.kill(process.pid, 'SIGKILL');\n"));
    expect(e.code).toBe('stack-start-resources');
    expect(e.exitCode).toBe(ExitCode.environment);
    expect(e.message).toContain('SIGKILL');
  });

  it('not ready in time (a host too slow): the machine, exit 8', async () => {
    const e = await startError(replicaRunning('silent', 'setInterval(() => {}, 1000);\n', 500));
    expect(e.code).toBe('stack-start-timeout');
    expect(e.exitCode).toBe(ExitCode.environment);
  });

  it('crashed without a word (an exception at start): a bug, exit 1', async () => {
    const e = await startError(replicaRunning('crash', "throw new Error('boom');\n"));
    expect(e.code).toBe('stack-start-failed');
    expect(e.exitCode).toBe(ExitCode.internal);
  });

  it.each([
    ['EMFILE', 'stack-start-resources', ExitCode.environment],
    ['ENOSPC', 'stack-start-resources', ExitCode.environment],
    ['EACCES', 'stack-start-resources', ExitCode.environment],
    ['stack-store-unreachable', 'stack-store-unreachable', ExitCode.awsUnavailable],
    ['ERR_SOMETHING_ELSE', 'stack-start-failed', ExitCode.internal],
  ] as const)('reported by the worker as %s: %s', async (code, expected, exit) => {
    const fatal = { type: 'fatal', service: 'catalog', replica: 0, message: `failed (${code})`, code };
    const e = await startError(
      replicaRunning(`fatal-${code}`, `process.send(${JSON.stringify(fatal)}, () => process.exit(1));\n`),
    );
    expect(e.code).toBe(expected);
    expect(e.exitCode).toBe(exit);
    expect(e.message).toContain(`failed (${code})`);
  });
});
