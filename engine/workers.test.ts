import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { compilePlan } from '../scenarios/compile.ts';
import { listProfiles, loadProfile } from '../scenarios/profile.ts';
import { addHistogram, createLatencyHistogram, decodeHistogram, encodeHistogram } from './histogram.ts';
import { plannedIterations, type RunRequest, runBuiltin } from './run.ts';
import { countArrivals, segmentCount, segmentPlan } from './segments.ts';
import { createTestPlan, getJourney, startTestServer, type TestServer } from './test-support.ts';
import { mergeSecondRecords } from './worker-merge.ts';
import { autoWorkers, describeWorkerMachineFailure, machineFailureOf, workerSegment } from './workers.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

async function server(handler?: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(handler);
  servers.push(s);
  return s;
}

function run(req: Omit<RunRequest, 'outDir' | 'options'>) {
  const outDir = join(mkdtempSync(join(tmpdir(), 'peakday-workers-')), 'run');
  return runBuiltin({ outDir, options: {}, noHandshake: true, warmUpSeconds: 0, ...req });
}

describe('worker segments', () => {
  it.each(listProfiles().map((p) => [p.name]))(
    'add up exactly to the plan for %s on 2, 3 and 8 workers, alone and inside a --segment',
    (name) => {
      const plan = compilePlan(loadProfile(name), {});
      const counts = countArrivals(plan);
      const whole = counts.reduce((a, c) => a + c, 0);
      for (const n of [2, 3, 8]) {
        const parts = Array.from({ length: n }, (_, w) => segmentPlan(plan, workerSegment(plan, w + 1, n)));
        expect(parts.reduce((a, p) => a + p.iterations, 0)).toBe(whole);
        for (const [i, c] of counts.entries())
          expect(parts.reduce((a, p) => a + (p.scenarios[i]?.iterations ?? 0), 0)).toBe(c);
        // Inside segment 2 of 3 (a second load generator): the workers add up to that segment.
        const outer = segmentPlan(plan, { index: 2, count: 3 });
        const inner = Array.from({ length: n }, (_, w) => workerSegment(outer, w + 1, n));
        const sum = inner.reduce((a, seg) => a + counts.reduce((b, c) => b + segmentCount(c, seg), 0), 0);
        expect(sum).toBe(outer.iterations);
      }
    },
  );

  it('chooses one worker below 10,000 requests/s and one per 10,000 above, up to the cores', () => {
    const slow = createTestPlan([{ journey: getJourney('a', ['/a']), rate: 500 }], 5);
    const fast = createTestPlan([{ journey: getJourney('a', ['/a', '/b']), rate: 12_000 }], 5);
    expect(autoWorkers(slow, 8)).toBe(1);
    expect(autoWorkers(fast, 8)).toBe(3);
    expect(autoWorkers(fast, 2)).toBe(2);
  });
});

describe('a dead worker’s error', () => {
  const cookies = "EMFILE: too many open files, open '/work/node_modules/undici/lib/web/cookies/index.js'";
  it.each([
    [
      'a system error with its code (as it crosses the thread)',
      { code: 'EMFILE', message: cookies },
      'EMFILE',
    ],
    [
      'a thread that could not start',
      { code: 'ERR_WORKER_INIT_FAILED', message: 'Worker initialization failure: EMFILE' },
      'EMFILE',
    ],
    ['a message that lost its code', cookies, 'EMFILE'],
    ['a cause', new Error('loading engine-worker.ts failed', { cause: { code: 'ENOBUFS' } }), 'ENOBUFS'],
    [
      'no local port',
      { code: 'EADDRNOTAVAIL', message: 'connect EADDRNOTAVAIL 127.0.0.1:80' },
      'EADDRNOTAVAIL',
    ],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'field')"), null],
    ['a missing file (not the machine’s limit)', { code: 'ENOENT', message: 'ENOENT: no such file' }, null],
    ['a code that is only a name on Object.prototype', { code: 'toString', message: 'x' }, null],
    ['a thread that exited', 'its thread exited (code 1) before reporting', null],
    ['a code inside a word', 'XEMFILES happened', null],
  ])('%s: %s', (_name, error, code) => {
    expect(machineFailureOf(error)?.code ?? null).toBe(code);
  });

  it('is told as a request failing for the machine is: what ran out, the error, when, and the limit', () => {
    const failure = { code: 'EMFILE', message: `${cookies}\n    at Object.openSync (node:fs:573:18)` };
    expect(describeWorkerMachineFailure(2, failure, false, '256, hard limit 4096')).toBe(
      `worker 2: the load generator failed, not the target: this process reached its open-file limit (ulimit -n) (${cookies}) and the thread of worker 2 died of it while starting, before the clock started; raise the limit (ulimit -n: 256, hard limit 4096 here) or lower the concurrency (maxConcurrency, --connections)`,
    );
    expect(describeWorkerMachineFailure(1, { code: 'ENOBUFS', message: 'ENOBUFS' }, true, null)).toMatch(
      /^worker 1: the load generator failed, not the target: the kernel had no buffer space for the socket \(ENOBUFS\) and the thread of worker 1 died of it mid-run; lower the concurrency/,
    );
  });
});

describe('merging workers’ seconds', () => {
  // A dead worker's last 'second' message can be heard after its 'error': the merge has gone past
  // that second without it. The merge once kept waiting for the second after it, which no one would
  // deliver, in a synchronous loop (npm test hung 15 minutes in this file under load). Played with
  // stand-in threads in a child process, so that a loop shows as a timeout here, not a hung suite.
  it('ends when a dead worker reports a second it had already been merged without, and says so', async () => {
    const script = `
      import { EventEmitter } from 'node:events';
      import { coordinate } from ${JSON.stringify(new URL('./workers.ts', import.meta.url).href)};
      import { createTestPlan, getJourney } from ${JSON.stringify(new URL('./test-support.ts', import.meta.url).href)};
      const thread = () => Object.assign(new EventEmitter(), { postMessage() {}, terminate: async () => 0 });
      const [w1, w2] = [thread(), thread()];
      const seconds = [];
      const plan = createTestPlan([{ journey: getJourney('l', ['/l']), rate: 1 }], 5);
      const engine = coordinate(
        { plan, target: new URL('http://127.0.0.1:9/'), workers: 2, subscribers: [{ onSecond: (r) => seconds.push(r.second) }] },
        [w1, w2],
        null,
      );
      const health = (second) => ({
        t: second, wall: second, schedulerLag: { p50: 0, p99: 0, max: 0 }, lateStarts: 0,
        eventLoopDelay: { p50: 0, p99: 0, max: 0 }, loopStalls: 0, hostCpu: 0, processCpu: 0, inFlight: 0, rssMb: 1,
      });
      const second = (w, k) => w.emit('message', { type: 'second', second: k, records: [], health: health(k) });
      for (const w of [w1, w2]) w.emit('message', { type: 'loaded' });
      for (const w of [w1, w2]) w.emit('message', { type: 'ready' });
      second(w1, 0);
      second(w2, 0);
      second(w1, 1);
      w2.emit('error', new Error('a bug'));
      second(w2, 1);
      w1.emit('exit', 1);
      const r = await engine.done;
      process.stdout.write(JSON.stringify({ seconds, invalidReasons: r.invalidReasons }));
    `;
    const { code, signal, out, err } = await runScript(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      30_000,
    );
    expect(signal, 'the merge did not end (killed at 30 s)').toBeNull();
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as { seconds: number[]; invalidReasons: string[] };
    expect(r.seconds).toEqual([0, 1]);
    expect(r.invalidReasons).toContain(
      'worker 2 reported second 1 after it was merged without it: not in the series',
    );
    expect(r.invalidReasons.some((x) => x.startsWith('worker 2 died: a bug'))).toBe(true);
  }, 40_000);

  it('gives the histogram of all requests, as one thread recording them all would', () => {
    const values = [[120, 340, 90_000], [55, 7_000_000, 1_234], [880]];
    const record = (vs: number[]): SeriesRecord => {
      const h = createLatencyHistogram();
      for (const v of vs) h.recordValue(v);
      const status = { '2xx': vs.length, '3xx': 0, '4xx': 0, '5xx': 0 };
      const errors = { timeout: 0, refused: 0, reset: 0, check: 0, other: 0 };
      return {
        t: 3,
        wall: 3,
        dt: 1,
        channel: 'web',
        journey: 'j',
        step: 's',
        requests: vs.length,
        failed: 0,
        status,
        errors,
        latency: encodeHistogram(h),
        latencySend: encodeHistogram(h),
      };
    };
    const { records, latency } = mergeSecondRecords(values.map((vs) => [record(vs)]));
    const one = createLatencyHistogram();
    for (const v of values.flat()) one.recordValue(v);
    expect(records).toHaveLength(1);
    expect(records[0]?.requests).toBe(7);
    expect(records[0]?.status?.['2xx']).toBe(7);
    const merged = decodeHistogram(records[0]?.latency as string);
    for (const p of [50, 90, 99, 100])
      expect(merged.getValueAtPercentile(p)).toBe(one.getValueAtPercentile(p));
    expect(latency?.totalCount).toBe(7);
    const again = createLatencyHistogram();
    addHistogram(again, merged);
    expect(again.totalCount).toBe(one.totalCount);
  });
});

describe('the engine on workers', () => {
  it('plays the same plan as one thread: every count equal, histograms holding every request', async () => {
    const s = await server();
    const plan = createTestPlan(
      [
        { journey: getJourney('a', ['/a', '/b']), rate: 40 },
        { journey: getJourney('c', ['/c']), rate: 25, channel: 'pos' },
      ],
      3,
    );
    const one = await run({ plan, target: new URL(s.url) });
    const two = await run({ plan, target: new URL(s.url), workers: 2 });
    expect(two.meta.endReason).toBe('completed');
    expect(two.exitCode).toBe(0);
    expect(two.summary.iterations).toEqual(one.summary.iterations);
    expect(two.summary.iterations.planned).toBe(plannedIterations(plan));
    expect(two.summary.requests.total).toBe(one.summary.requests.total);
    expect(two.summary.latency.intended?.overall.count).toBe(two.summary.requests.total);
    expect(two.summary.validityEvidence?.join('\n')).toMatch(/worker 1: .*\n.*worker 2: /s);
    const series: SeriesRecord[] = [];
    for await (const r of readRun(two.dir).series()) series.push(r);
    const started = series.reduce((a, r) => a + (r.started ?? 0), 0);
    expect(started).toBe(one.summary.iterations.started);
    const health = [];
    for await (const h of readRun(two.dir).engine()) health.push(h);
    expect(health.every((h) => (h.workers?.length ?? 0) >= 1)).toBe(true);
    expect(health.filter((h) => h.workers?.length === 2).length).toBeGreaterThanOrEqual(3);
  });

  it('splits a sequential pool between workers instead of replaying it on each', async () => {
    const s = await server();
    const journey = {
      ...getJourney('seq', ['/p/{{id}}']),
      data: { id: { pool: 'productIds', pick: 'sequential' as const } },
    };
    const plan = createTestPlan([{ journey, rate: 30 }], 2);
    const r = await run({ plan, target: new URL(s.url), workers: 2 });
    expect(r.meta.endReason).toBe('completed');
    const ids = s.received.requests.map((q) => q.url).filter((u) => u.startsWith('/p/'));
    expect(ids.length).toBe(r.summary.iterations.started);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('numbers iterations ({{iteration}}) once across workers, open model and closed loop', async () => {
    const s = await server();
    const journey = getJourney('num', ['/i/{{iteration}}']);
    const plan = createTestPlan([{ journey, rate: 60 }], 2);
    const open = await run({ plan, target: new URL(s.url), workers: 2 });
    const seen = (prefix: string) =>
      s.received.requests.map((q) => q.url).filter((u) => u.startsWith(prefix));
    const numbers = seen('/i/')
      .map((u) => Number(u.slice(3)))
      .sort((a, b) => a - b);
    // Every arrival of the plan, once: 0..n-1, whichever worker played it.
    expect(open.summary.iterations.dropped).toBe(0);
    expect(numbers).toEqual(Array.from({ length: plannedIterations(plan) }, (_, i) => i));
    const closedPlan = createTestPlan([{ journey: getJourney('loop', ['/l/{{iteration}}']), rate: 1 }], 1);
    // Its own server, answering after 20 ms: 4 users make ~200 iterations, well under the 10,000
    // requests a test server records (an instant answer let the loop run ~20,000 in the second).
    const slow = await server((_q, res) => {
      setTimeout(() => res.end('{"ok":true}'), 20);
    });
    const closed = await run({
      plan: closedPlan,
      target: new URL(slow.url),
      workers: 2,
      closedLoop: { vus: 4 },
    });
    const looped = slow.received.requests.map((q) => q.url).filter((u) => u.startsWith('/l/'));
    expect(slow.received.count).toBe(slow.received.requests.length);
    expect(looped.length).toBe(closed.summary.iterations.started);
    expect(looped.length).toBeGreaterThan(10);
    expect(new Set(looped).size).toBe(looped.length);
  });

  it('ends the run as partial, invalid and exit 98 when a worker dies, without hanging', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('k', ['/k']), rate: 40 }], 30);
    const r = await run({
      plan,
      target: new URL(s.url),
      workers: 2,
      workerSeams: {
        // Killed once it has reported its second second of load.
        onWorkers: (ws) => {
          ws[1]?.on('message', (m: { type: string; second?: number }) => {
            if (m.type === 'second' && m.second === 1) void ws[1]?.terminate();
          });
        },
      },
    });
    expect(r.meta.endReason).toBe('error');
    expect(r.meta.endDetail).toMatch(/worker 2 died/);
    expect(r.summary.partial).toBe(true);
    expect(r.summary.valid).toBe(false);
    expect(r.summary.invalidReasons.join('\n')).toMatch(/worker 2 died/);
    expect(r.exitCode).toBe(98);
    expect(r.summary.requests.total).toBeGreaterThan(0);
    expect(r.summary.durationSeconds).toBeLessThan(20);
  });

  it('keeps exit 98 for a worker dying of a bug: partial, invalid, the error named, its seconds kept', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('b', ['/b']), rate: 40 }], 30);
    const r = await run({
      plan,
      target: new URL(s.url),
      workers: 2,
      workerSeams: { fault: { worker: 2, afterSecond: 1, kind: 'bug' } },
    });
    expect(r.meta.endReason).toBe('error');
    expect(r.meta.endDetail).toBe("worker 2 died: Cannot read properties of undefined (reading 'field')");
    expect(r.exitCode).toBe(98);
    expect(r.summary.partial).toBe(true);
    expect(r.summary.valid).toBe(false);
    expect(r.summary.invalidReasons.join('\n')).not.toMatch(/the load generator failed/);
    expect(r.summary.requests.total).toBeGreaterThan(0);
    expect(r.summary.durationSeconds).toBeLessThan(20);
  });

  // A real EMFILE in a worker: the fault fills the process's descriptors and loads a module, so it
  // runs in a child process under `ulimit -n 256` (the target stays here, out of that limit).
  it('ends exit 8, the load generator’s failure, when a worker dies of a real EMFILE; the seconds before are kept', async () => {
    const s = await server();
    const outDir = join(mkdtempSync(join(tmpdir(), 'peakday-workers-')), 'emfile');
    const script = `
      import { runBuiltin } from ${JSON.stringify(new URL('./run.ts', import.meta.url).href)};
      import { createTestPlan, getJourney } from ${JSON.stringify(new URL('./test-support.ts', import.meta.url).href)};
      const plan = createTestPlan([{ journey: getJourney('f', ['/f']), rate: 20 }], 30);
      const r = await runBuiltin({
        plan, target: new URL(process.argv[1]), outDir: process.argv[2], options: {}, noHandshake: true,
        warmUpSeconds: 0, workers: 2, workerSeams: { fault: { worker: 2, afterSecond: 2, kind: 'descriptors' } },
      });
      process.stdout.write(JSON.stringify({ exitCode: r.exitCode, meta: r.meta, summary: r.summary }));
    `;
    const { code, out, err } = await runScript(
      'bash',
      [
        '-c',
        'ulimit -n 256 && exec "$0" "$@"',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
        s.url,
        outDir,
      ],
      50_000,
    );
    expect(code, err).toBe(0);
    const r = JSON.parse(out) as {
      exitCode: number;
      meta: { endReason: string; endDetail: string };
      summary: { partial: boolean; valid: boolean; invalidReasons: string[]; requests: { total: number } };
    };
    expect(r.exitCode, r.meta.endDetail).toBe(8);
    expect(r.meta.endReason).toBe('error');
    expect(r.meta.endDetail).toMatch(
      /^worker 2: the load generator failed, not the target: this process reached its open-file limit \(ulimit -n\) \(EMFILE: too many open files, open '[^']*package\.json'\) and the thread of worker 2 died of it mid-run; raise the limit \(ulimit -n: 256, hard limit \S+ here\) or lower the concurrency/,
    );
    expect(r.summary.valid).toBe(false);
    expect(r.summary.partial).toBe(true);
    expect(r.summary.invalidReasons).toContain(
      "worker 2 died of the load generator's own failure (EMFILE): its measurements after its last reported second are lost",
    );
    expect(r.summary.invalidReasons).toContain(r.meta.endDetail);
    // Both workers' first seconds (20/s): kept.
    expect(r.summary.requests.total).toBeGreaterThanOrEqual(30);
  });

  it('opens no connection to the target before every worker has loaded its code', async () => {
    const s = await server();
    const events: string[] = [];
    s.server.on('connection', () => events.push('connection'));
    const plan = createTestPlan([{ journey: getJourney('l', ['/l']), rate: 400 }], 1);
    const r = await run({
      plan,
      target: new URL(s.url),
      workers: 2,
      preconnect: 4,
      workerSeams: {
        onWorkers: (ws) => {
          for (const w of ws)
            w.on('message', (m: { type: string }) => {
              if (m.type === 'loaded') events.push('loaded');
            });
        },
      },
    });
    expect(r.meta.endReason).toBe('completed');
    expect(events.filter((e) => e === 'loaded')).toHaveLength(2);
    expect(events.indexOf('connection')).toBeGreaterThan(events.lastIndexOf('loaded'));
  });

  it('is invalid when one worker is starved, and names that worker', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('st', ['/st']), rate: 100 }], 6);
    const r = await run({
      plan,
      target: new URL(s.url),
      workers: 2,
      workerSeams: { starve: { worker: 2, busyMs: 400 } },
    });
    expect(r.summary.valid).toBe(false);
    const reasons = r.summary.invalidReasons.join('\n');
    expect(reasons).toMatch(/worker 2: \d+ of \d+ iterations started more than 10 ms late/);
    // Worker 1 may be late too on a loaded host (the busy loop takes one of its cores): the
    // per-worker naming itself is held by engine/validity.test.ts.
  });
});

/** Runs a command to its end (killed after `timeoutMs`): its exit code or signal and its output. */
async function runScript(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; signal: string | null; out: string; err: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.on('close', (c, sig) => resolve([c, sig])),
  );
  return { code, signal, out, err };
}
