import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PeakdayError } from '../core/errors.ts';
import { startFakeAws } from '../telemetry/test-aws-server.ts';
import { writeTestRun } from '../telemetry/test-run-fixture.ts';
import { untilAborted } from './abortable.ts';
import { collectWorkflow } from './collect.ts';
import { mergeWorkflow } from './merge.ts';

const stop = () => new PeakdayError('merge-interrupted', 'stopped');

describe('untilAborted', () => {
  it('stops waiting when the signal fires first, with the workflow’s own error (exit 130)', async () => {
    const c = new AbortController();
    const never = new Promise<number>(() => {});
    const p = untilAborted(c.signal, stop, () => never);
    setTimeout(() => c.abort(), 10);
    await expect(p).rejects.toMatchObject({ code: 'merge-interrupted', exitCode: 130 });
  });

  it('returns the work’s result when the signal never fires, and never starts work after it fired', async () => {
    const c = new AbortController();
    await expect(untilAborted(c.signal, stop, async () => 7)).resolves.toBe(7);
    c.abort();
    let started = false;
    await expect(
      untilAborted(c.signal, stop, async () => {
        started = true;
      }),
    ).rejects.toMatchObject({ code: 'merge-interrupted' });
    expect(started).toBe(false);
  });
});

describe('collect and merge take the CLI’s signal and sink', () => {
  it('an interrupted collect writes nothing and exits 130; a collect that runs says so on the sink', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-collect-wf-'));
    const c = new AbortController();
    c.abort();
    const lines: string[] = [];
    const req = {
      runDir: dir,
      source: 'local' as const,
      options: {},
      sink: { log: (l: string) => lines.push(l) },
    };
    await expect(collectWorkflow({ ...req, signal: c.signal })).rejects.toMatchObject({
      code: 'collect-interrupted',
      exitCode: 130,
    });
    expect(readdirSync(dir)).toEqual([]);
    expect(lines).toEqual([]);
    // Not interrupted: it reads the (empty) directory and says what is wrong with it instead.
    await expect(collectWorkflow(req)).rejects.toMatchObject({ exitCode: 2 });
    expect(lines).toEqual([`collecting local telemetry into ${dir}`]);
  });

  it('an interrupted merge creates no output directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-merge-wf-'));
    const c = new AbortController();
    c.abort();
    await expect(
      mergeWorkflow({ inputs: [join(dir, 'a')], out: join(dir, 'ab'), signal: c.signal }),
    ).rejects.toMatchObject({ code: 'merge-interrupted', exitCode: 130 });
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** Resolves when `ok()` holds, polling every 20 ms; fails after `ms`. */
async function until(ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the signal reaches the stage, not only the wait', () => {
  it('an interrupted CloudWatch collect aborts its request in flight and sends no other', async () => {
    // A slow endpoint: each answer comes 10 s after its request.
    const aws = await startFakeAws({
      cluster: 'shop',
      services: [{ name: 'catalog', taskDefinition: 'catalog:1' }],
      metric: () => 1,
      activities: [],
      delayMs: 10_000,
    });
    try {
      const run = writeTestRun({
        startedAtMs: Date.now() - 3_600_000,
        timeScale: 1,
        eventStart: 0,
        eventEnd: 600,
      });
      const before = readdirSync(run).sort();
      const c = new AbortController();
      const collecting = collectWorkflow({
        runDir: run,
        source: 'cloudwatch',
        options: {
          cluster: 'shop',
          region: 'us-east-1',
          endpoint: aws.url,
          credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' },
        },
        signal: c.signal,
      });
      await until(() => aws.requests.length > 0);
      c.abort();
      await expect(collecting).rejects.toMatchObject({ code: 'collect-interrupted', exitCode: 130 });
      // The SDK closed the connection (abortSignal): the request is given up, not left to finish
      // in the background and followed by the rest of the collect's calls.
      await until(() => aws.requests[0]?.aborted === true);
      await new Promise((r) => setTimeout(r, 300));
      expect(aws.requests.map((r) => r.operation)).toEqual([
        'AmazonEC2ContainerServiceV20141113.ListServices',
      ]);
      expect(readdirSync(run).sort()).toEqual(before);
    } finally {
      await aws.close();
    }
  });
});
