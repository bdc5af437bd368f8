import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createStdoutEmf } from './emf-stdout.ts';
import { parseEmfRecord } from './orchestrator/emf.ts';
import { DEFAULT_TASK_SIZES } from './topology.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('EMF on stdout (a task on ECS, shipped by awslogs)', () => {
  it('sums the periods counters into one record per flush, under the names the local stack writes', () => {
    const lines: string[] = [];
    const emf = createStdoutEmf({
      cluster: 'peakday-headless',
      service: 'orders',
      arch: 'headless',
      startedAtMs: 1_000_000,
      periodSeconds: 60,
      write: (l) => lines.push(l),
    });
    emf.add({ eventsPublished: 3 });
    emf.add({ eventsPublished: 4 });
    emf.flush(1_060_000);
    emf.add({ eventsPublished: 1 });
    emf.flush(1_120_000);
    const parsed = lines.map((l) => parseEmfRecord(JSON.parse(l)));
    const values = parsed.map((p) => ('data' in p ? p.data : []));
    expect(values[0]).toEqual([
      expect.objectContaining({
        namespace: 'Peakday/Events',
        name: 'EventsPublished',
        value: 7,
        dimensions: { ClusterName: 'peakday-headless', ServiceName: 'orders' },
        timestampMs: 1_060_000,
        eventTime: 0,
      }),
    ]);
    expect(values[1]).toEqual([expect.objectContaining({ value: 1, eventTime: 60 })]);
  });

  it('a worker with no orchestrator and PEAKDAY_EMF=stdout prints valid EMF lines', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'peakday-emf-'));
    dirs.push(dataDir);
    const worker = fileURLToPath(new URL('./worker.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', worker], {
      env: {
        ...process.env,
        PEAKDAY_EMF: 'stdout',
        PEAKDAY_EMF_PERIOD_MS: '300',
        PEAKDAY_CLUSTER: 'peakday-headless',
        PEAKDAY_WORKER: JSON.stringify({
          arch: 'headless',
          service: 'search',
          port: 0,
          host: '127.0.0.1',
          dataDir,
          peers: {},
          taskSize: DEFAULT_TASK_SIZES.search,
          timeScale: 1,
          eventStart: 0,
          capacity: { disabled: true },
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const record = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no EMF line within 30 s; stdout: ${out}`)), 30_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{"_aws"'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      child.on('exit', (code) => reject(new Error(`worker exited ${code}: ${out}`)));
    });
    child.kill('SIGTERM');
    const parsed = parseEmfRecord(record);
    expect('data' in parsed && parsed.data).toEqual([
      expect.objectContaining({
        namespace: 'Peakday/Events',
        name: 'EventsPublished',
        dimensions: { ClusterName: 'peakday-headless', ServiceName: 'search' },
      }),
    ]);
  }, 40_000);
});
