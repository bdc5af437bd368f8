/**
 * The ECS fleet workflow against a local ECS and S3 endpoint (infra/fleet/test-fleet-aws.ts) through
 * the real AWS SDK: RunTask batching, waiting for RUNNING and ready, the start barrier, a task that
 * never runs (the start is aborted and every task stopped), a task that stops early (partial, named),
 * Ctrl-C (StopTask on every task, what they uploaded is merged), downloads and the exact merge. The
 * emulated containers do what the generator image's entrypoint does; with K6_BIN they run a real k6.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import { countArrivals, k6SegmentArgs } from '../engine/segments.ts';
import { createTestPlan, getJourney, startTestServer } from '../engine/test-support.ts';
import { type EmulatedContainer, type FleetAws, startFleetAws } from '../infra/fleet/test-fleet-aws.ts';
import { exportK6Script } from '../scenarios/k6-export.ts';
import type { Plan } from '../scenarios/plan.ts';
import { type EcsFleetConfig, type EcsFleetRequest, runEcsFleet } from './fleet.ts';

const BUCKET = 'peakday-fleet-results';
const FIXTURE = join(import.meta.dirname, '../test/fixtures/k6/channels.out.ndjson');
const K6_BIN = process.env.K6_BIN;

beforeAll(() => {
  process.env.AWS_ACCESS_KEY_ID = 'test';
  process.env.AWS_SECRET_ACCESS_KEY = 'test';
});

const endpoints: FleetAws[] = [];
afterEach(async () => {
  while (endpoints.length) await endpoints.pop()?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The entrypoint's protocol up to the start instant; returns "INDEX COUNT START_AT_MS" or null when stopped. */
async function readyAndWait(c: EmulatedContainer): Promise<[number, number, number] | null> {
  const run = c.env.PEAKDAY_RUN as string;
  expect(c.bucket.has(`${run}/script.js`)).toBe(true);
  c.bucket.set(`${run}/ready/${c.taskId}`, Buffer.from('ready'));
  for (;;) {
    if (c.signal.aborted) return null;
    const a = c.bucket.get(`${run}/assign/${c.taskId}`);
    if (a) {
      const [i, n, at] = a.toString().trim().split(' ').map(Number) as [number, number, number];
      await sleep(Math.max(0, at - Date.now()));
      return [i, n, at];
    }
    await sleep(10);
  }
}

/** A container that uploads a recorded k6 output after `ms` (or when stopped). */
const cannedContainer =
  (ms = 50, exitCode = 0) =>
  async (c: EmulatedContainer): Promise<number> => {
    const r = await readyAndWait(c);
    if (!r) return 143;
    const [i] = r;
    await Promise.race([
      sleep(ms),
      new Promise((res) => c.signal.addEventListener('abort', res, { once: true })),
    ]);
    c.bucket.set(`${c.env.PEAKDAY_RUN}/out/${i}/k6-out.ndjson`, readFileSync(FIXTURE));
    c.bucket.set(`${c.env.PEAKDAY_RUN}/out/${i}/cpu.txt`, Buffer.from('0.20\n0.25\n'));
    return c.signal.aborted ? 0 : exitCode;
  };

function config(aws: FleetAws): EcsFleetConfig {
  return {
    region: 'us-east-1',
    cluster: 'peakday-fleet',
    taskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/peakday-k6:1',
    bucket: BUCKET,
    subnets: ['subnet-1', 'subnet-2'],
    securityGroups: ['sg-1'],
    assignPublicIp: true,
    vcpu: 2,
    memoryGb: 4,
    cpuArchitecture: 'arm64',
    container: 'k6',
    endpoint: aws.url,
  };
}

const plan = createTestPlan([{ journey: getJourney('browse', ['/a']), rate: 20 }], 2);

function request(aws: FleetAws, n: number, extra: Partial<EcsFleetRequest> = {}): EcsFleetRequest {
  return {
    plan,
    generators: n,
    script: '// script',
    baseUrl: 'http://127.0.0.1:9',
    outDir: join(mkdtempSync(join(tmpdir(), 'peakday-ecs-')), 'run'),
    runId: 'r1',
    config: config(aws),
    options: {},
    timings: {
      pollMs: 20,
      readyTimeoutMs: 3000,
      startMarginMs: 100,
      graceMs: 2000,
      launchRatePerSecond: 1000,
    },
    progress: () => {},
    ...extra,
  };
}

describe('ECS fleet (local ECS and S3 endpoint, real SDK)', () => {
  it('starts 23 tasks 10 at a time, releases them at one instant, each on its own segment, and merges all', async () => {
    const aws = await startFleetAws({
      bucket: BUCKET,
      container: cannedContainer(),
      runningAfterMs: (i) => 20 + i * 5,
    });
    endpoints.push(aws);
    const r = await runEcsFleet(request(aws, 23));
    expect(aws.runTaskCounts).toEqual([10, 10, 3]);
    const assigns = [...aws.bucket.entries()]
      .filter(([k]) => k.startsWith('runs/r1/assign/'))
      .map(([, v]) => v.toString().trim().split(' ').map(Number));
    expect(assigns).toHaveLength(23);
    expect(new Set(assigns.map((a) => a[2])).size).toBe(1);
    expect(assigns.map((a) => a[0]).sort((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 23 }, (_, k) => k + 1),
    );
    expect(assigns.every((a) => a[1] === 23)).toBe(true);
    expect(r.exitCode).toBe(0);
    expect(r.summary.partial).toBe(false);
    const one = readRun(join(r.dir, 'generators', '1of23')).summary;
    expect(r.summary.requests.total).toBe((one?.requests.total ?? 0) * 23);
    expect(aws.stopCalls).toEqual([]);
    const fleet = JSON.parse(readFileSync(join(r.dir, 'fleet.json'), 'utf8'));
    expect(fleet.cost.tasks).toBe(23);
    expect(fleet.cost.billedTaskSeconds).toBe(23 * 60);
    expect(r.meta.notes.join('\n')).toMatch(
      /fleet cost \(the load generators, not the system under test\): \$/,
    );
  });

  it('aborts the start when a task never runs: every task stopped, nothing released, exit 98', async () => {
    const aws = await startFleetAws({ bucket: BUCKET, container: cannedContainer(), failBeforeRunning: [1] });
    endpoints.push(aws);
    await expect(runEcsFleet(request(aws, 3))).rejects.toMatchObject({
      code: 'fleet-start-failed',
      exitCode: 98,
      message: expect.stringMatching(/stopped before the start \(CannotPullContainerError/),
    });
    expect([...aws.bucket.keys()].some((k) => k.includes('/assign/'))).toBe(false);
    expect(aws.stopCalls).toHaveLength(2);
    // StopTask is asynchronous in ECS too: the stopped containers finish shortly after.
    for (let i = 0; i < 100 && ![...aws.tasks.values()].every((t) => t.lastStatus === 'STOPPED'); i++)
      await sleep(10);
    expect([...aws.tasks.values()].every((t) => t.lastStatus === 'STOPPED')).toBe(true);
  });

  it('aborts the start when a task is not running by the deadline', async () => {
    const aws = await startFleetAws({
      bucket: BUCKET,
      container: cannedContainer(),
      runningAfterMs: (i) => (i === 2 ? 60_000 : 20),
    });
    endpoints.push(aws);
    const req = request(aws, 3);
    req.timings = { ...req.timings, readyTimeoutMs: 300 };
    await expect(runEcsFleet(req)).rejects.toMatchObject({
      code: 'fleet-start-failed',
      message: expect.stringMatching(/1 task\(s\) not running and ready after 0 s: .*\(PROVISIONING\)/),
    });
    expect(aws.stopCalls).toHaveLength(3);
  });

  it('merges a task that stopped early as a partial run naming its segment', async () => {
    let k = 0;
    const aws = await startFleetAws({
      bucket: BUCKET,
      container: async (c) => {
        if (k++ === 1) {
          // The second task dies after the start without uploading anything (k6 killed: 137).
          await readyAndWait(c);
          return 137;
        }
        return cannedContainer()(c);
      },
    });
    endpoints.push(aws);
    const r = await runEcsFleet(request(aws, 3));
    expect(r.summary.partial).toBe(true);
    // k6 killed (137: SIGKILL, as by the out-of-memory killer) is the machine's, not a bug in peakday.
    expect(r.exitCode).toBe(8);
    const missing = r.meta.notes.find((n) => /segment \d\/3 missing/.test(n));
    expect(missing).toBeDefined();
    expect(r.meta.notes.join('\n')).toMatch(
      /generator \d\/3 \(task [0-9a-f]+\) left no k6 output: task [0-9a-f]+: Essential container in task exited, k6 exit code 137/,
    );
  });

  it('on Ctrl-C stops every task (StopTask), keeps what they uploaded and merges it, interrupted', async () => {
    const aws = await startFleetAws({ bucket: BUCKET, container: cannedContainer(60_000) });
    endpoints.push(aws);
    const ac = new AbortController();
    const req = request(aws, 3, { signal: ac.signal });
    req.progress = (line) => {
      if (/released/.test(line)) setTimeout(() => ac.abort(), 200);
    };
    const r = await runEcsFleet(req);
    expect(aws.stopCalls.map((s) => s.reason)).toEqual([
      'peakday: interrupted',
      'peakday: interrupted',
      'peakday: interrupted',
    ]);
    expect(r.exitCode).toBe(130);
    expect(r.summary.partial).toBe(true);
    expect(r.meta.endReason).toBe('interrupted');
    expect(r.summary.requests.total).toBeGreaterThan(0);
  });
});

describe.runIf(K6_BIN)('ECS fleet with real k6 in the emulated tasks', () => {
  it('plays the whole plan across 3 tasks and merges exactly what the server counted', async () => {
    const server = await startTestServer();
    try {
      const p: Plan = createTestPlan([{ journey: getJourney('browse', ['/a', '/b']), rate: 40 }], 6);
      const script = exportK6Script(p, { baseUrl: server.url, segmentCount: 3 }).script;
      const container = async (c: EmulatedContainer): Promise<number> => {
        const r = await readyAndWait(c);
        if (!r) return 143;
        const [i, n] = r;
        const dir = mkdtempSync(join(tmpdir(), 'peakday-task-'));
        writeFileSync(join(dir, 'script.js'), c.bucket.get(`${c.env.PEAKDAY_RUN}/script.js`) as Buffer);
        const code = await new Promise<number>((done) => {
          const child = spawn(
            K6_BIN as string,
            [
              'run',
              '--quiet',
              '--out',
              `json=${join(dir, 'k6-out.ndjson')}`,
              `--summary-export=${join(dir, 'k6-summary.json')}`,
              ...k6SegmentArgs({ index: i, count: n }),
              join(dir, 'script.js'),
            ],
            {
              env: {
                ...process.env,
                PEAKDAY_BASE_URL: c.env.PEAKDAY_BASE_URL as string,
                K6_NO_USAGE_REPORT: 'true',
              },
              stdio: 'ignore',
            },
          );
          c.signal.addEventListener('abort', () => child.kill('SIGINT'), { once: true });
          child.on('close', (x) => done(x ?? 1));
        });
        for (const f of ['k6-out.ndjson', 'k6-summary.json'])
          c.bucket.set(`${c.env.PEAKDAY_RUN}/out/${i}/${f}`, readFileSync(join(dir, f)));
        return code;
      };
      const aws = await startFleetAws({ bucket: BUCKET, container });
      endpoints.push(aws);
      const req = request(aws, 3, { plan: p, script, baseUrl: server.url });
      req.timings = { ...req.timings, graceMs: 60_000, pollMs: 200 };
      const r = await runEcsFleet(req);
      expect(r.exitCode, r.meta.notes.join('\n')).toBe(0);
      const planned = countArrivals(p).reduce((a, b) => a + b, 0);
      expect(r.summary.iterations.planned).toBe(planned);
      // k6 starts or drops (a host too busy to keep up) every whole iteration of its rate integral.
      expect(r.summary.iterations.started + r.summary.iterations.dropped).toBeGreaterThanOrEqual(planned - 1);
      expect(r.summary.requests.total).toBe(server.received.count);
      // Every segment arrived and finished: no merge note names a missing or unfinished one. (The summary's
      // `partial` is not asserted: k6 at times reports one iteration fewer than a segment's rate integral,
      // which marks any k6 run partial: 1 of 2 runs on a quiet host; a known k6-driver gap.)
      expect(r.summary.endReason).toBe('completed');
      expect(r.meta.notes.filter((n) => n.startsWith('partial:'))).toEqual([]);
    } finally {
      await server.close();
    }
  }, 120_000);
});
