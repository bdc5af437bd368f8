/**
 * The replica process as the orchestrator sees it: forked with an IPC channel and PEAKDAY_WORKER, it
 * says `ready` with its port, serves HTTP, sends period `stats`, follows `clock`, and exits 0 on `drain`.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { WORKER_ENV, type WorkerConfig, type WorkerStats, type WorkerToParent } from './worker-protocol.ts';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

describe('worker process', () => {
  it('reports ready, serves, sends stats with its requests, and exits 0 on drain', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peakday-worker-'));
    const config: WorkerConfig = {
      arch: 'monolith',
      service: 'monolith',
      port: 0,
      host: '127.0.0.1',
      dataDir,
      peers: {},
      taskSize: { vcpu: 1, memoryGb: 2 },
      timeScale: 60,
      eventStart: 0,
      statsIntervalMs: 200,
      domain: { catalogProducts: 300 },
    };
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, [WORKER_ENV]: JSON.stringify(config) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const messages: WorkerToParent[] = [];
    const waitFor = <T extends WorkerToParent>(pred: (m: WorkerToParent) => m is T, ms = 30_000) =>
      new Promise<T>((resolve, reject) => {
        const found = messages.find(pred);
        if (found) return resolve(found);
        const timer = setTimeout(() => reject(new Error('no such message from the worker')), ms);
        const on = (m: WorkerToParent) => {
          if (pred(m)) {
            clearTimeout(timer);
            child.off('message', on);
            resolve(m);
          }
        };
        child.on('message', on);
      });
    child.on('message', (m: WorkerToParent) => messages.push(m));
    try {
      const ready = await waitFor((m): m is Extract<WorkerToParent, { type: 'ready' }> => m.type === 'ready');
      expect(ready.service).toBe('monolith');
      const res = await request(`http://127.0.0.1:${ready.port}/health`);
      expect(await res.body.json()).toEqual({ status: 'ok', service: 'monolith', arch: 'monolith' });
      const stats = await waitFor((m): m is WorkerStats => m.type === 'stats' && m.requests > 0);
      expect(stats).toMatchObject({ service: 'monolith', vcpu: 1, status2xx: 1 });
      child.send({ type: 'clock', timeScale: 1, eventStart: 3600 });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      child.send({ type: 'drain' });
      expect(await exited).toBe(0);
    } finally {
      child.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
