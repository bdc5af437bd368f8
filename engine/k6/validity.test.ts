import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertK6Output } from './convert.ts';
import { K6_FIXTURES, k6SummaryCount } from './stand-in.ts';
import { judgeK6Run, type K6LogFindings, readK6Log, readK6Progress } from './validity.ts';

/** Iterations k6 dropped in the `dropped` fixture run, as k6's own summary counts them. */
const DROPPED = k6SummaryCount('dropped', 'dropped_iterations');

// k6's own log formats for lines the fixtures lack. The message text is k6's
// (lib/executor/constant_arrival_rate.go: "Insufficient VUs, reached %d active VUs and cannot
// initialize more", logged with executor and scenario fields); the first line is the logfmt form
// k6 prints when its output is not a terminal (as under the driver), the second the terminal form.
const CAP_WARNING =
  'time="2026-11-25T00:28:38Z" level=warning msg="Insufficient VUs, reached 5 active VUs and cannot initialize more" executor=constant-arrival-rate scenario=car\n';
const CAP_WARNING_TTY =
  'WARN[0001] Insufficient VUs, reached 20 active VUs and cannot initialize more  executor=ramping-arrival-rate scenario=web\n';
const ULIMIT =
  'time="2026-11-25T00:28:39Z" level=warning msg="Request Failed" error="Get \\"http://127.0.0.1:18080/\\": dial tcp 127.0.0.1:18080: socket: too many open files"\n';
const PORTS =
  'time="2026-11-25T00:28:39Z" level=warning msg="Request Failed" error="Get \\"http://127.0.0.1:18080/\\": dial tcp 127.0.0.1:0->127.0.0.1:18080: bind: cannot assign requested address"\n';

const calmCpu = [0.3, 0.4, 0.35];

async function generatorOf(fixture: string) {
  return (
    await convertK6Output(join(K6_FIXTURES, `${fixture}.out.ndjson`), {
      eventStart: 0,
      timeScale: 1,
    })
  ).generator;
}

describe('readK6Log', () => {
  it('finds no generator trouble in a real k6 console whose failures are the target refusing connections', () => {
    const text = readFileSync(join(K6_FIXTURES, 'channels.console.txt'), 'utf8');
    expect(text).toMatch(/Request Failed/);
    expect(readK6Log(text)).toEqual({ capReached: {}, generatorFailures: [], otherErrors: [] });
  });

  it.each([
    { name: 'reads the cap warning in the logfmt form', text: CAP_WARNING, cap: { car: 5 }, failures: 0 },
    {
      name: 'reads the cap warning in the terminal form',
      text: CAP_WARNING_TTY,
      cap: { web: 20 },
      failures: 0,
    },
    { name: 'reports file descriptors exhausted on the generator', text: ULIMIT, cap: {}, failures: 1 },
    { name: 'reports ephemeral ports exhausted on the generator', text: PORTS, cap: {}, failures: 1 },
    { name: 'reports a repeated failure once', text: ULIMIT + ULIMIT, cap: {}, failures: 1 },
  ])('$name', ({ text, cap, failures }) => {
    const f = readK6Log(text);
    expect(f.capReached).toEqual(cap);
    expect(f.generatorFailures).toHaveLength(failures);
  });
});

describe('judgeK6Run', () => {
  it('reads k6 gauges and drops per second from a real run', async () => {
    const g = await generatorOf('dropped');
    expect(g.reduce((a, s) => a + (s.dropped.car ?? 0), 0)).toBe(DROPPED);
    expect(g.filter((s) => s.vusMax !== null).every((s) => s.vus === 5 && s.vusMax === 5)).toBe(true);
  });

  const capLog: K6LogFindings = readK6Log(CAP_WARNING);
  const quietLog: K6LogFindings = readK6Log('');
  it.each([
    {
      name: 'a real run without drops on a calm host is valid',
      fixture: 'channels',
      totalCap: 30,
      log: quietLog,
      cpu: calmCpu,
      reasons: [] as RegExp[],
      atCap: 0,
    },
    {
      name: 'drops while every VU of the cap was initialized are the cap’s, not the generator’s',
      fixture: 'dropped',
      totalCap: 5,
      log: quietLog,
      cpu: calmCpu,
      reasons: [],
      atCap: DROPPED,
    },
    {
      name: 'drops with k6’s cap warning for the scenario are the cap’s',
      fixture: 'dropped',
      totalCap: 400,
      log: capLog,
      cpu: calmCpu,
      reasons: [],
      atCap: DROPPED,
    },
    {
      name: 'drops below the cap without a cap warning mean k6 fell behind',
      fixture: 'dropped',
      totalCap: 400,
      log: quietLog,
      cpu: calmCpu,
      reasons: [
        new RegExp(
          `k6 fell behind the plan: it dropped ${DROPPED} iterations of scenario car .*5 VUs initialized of the cap 400`,
        ),
      ],
      atCap: 0,
    },
    {
      name: 'a saturated host makes the run invalid',
      fixture: 'channels',
      totalCap: 30,
      log: quietLog,
      cpu: [0.99, 0.97, 0.4],
      reasons: [/host CPU saturated .* in 2 of 3 seconds while k6 ran/],
      atCap: 0,
    },
    {
      name: 'a generator failure in k6’s log makes the run invalid',
      fixture: 'channels',
      totalCap: 30,
      log: readK6Log(ULIMIT),
      cpu: calmCpu,
      reasons: [/too many open files/],
      atCap: 0,
    },
  ])('$name', async ({ fixture, totalCap, log, cpu, reasons, atCap }) => {
    const v = judgeK6Run({ generator: await generatorOf(fixture), totalCap, log, hostCpu: cpu });
    expect(v.valid).toBe(reasons.length === 0);
    expect(v.reasons).toHaveLength(reasons.length);
    for (const [i, re] of reasons.entries()) expect(v.reasons[i]).toMatch(re);
    expect(v.droppedAtCap).toBe(atCap);
    expect(v.unmeasured.join(' ')).toMatch(/scheduler lag/);
  });

  it('lists what it could not measure instead of calling it valid', async () => {
    const v = judgeK6Run({
      generator: [{ wall: 0, vus: null, vusMax: null, dropped: { car: 7 } }],
      totalCap: 400,
      log: null,
      hostCpu: [],
    });
    expect(v.valid).toBe(true);
    expect(v.unmeasured).toEqual([
      expect.stringMatching(/scheduler lag/),
      expect.stringMatching(/event-loop delay/),
      expect.stringMatching(/why k6 dropped 7 iterations/),
      expect.stringMatching(/iterations never started: the plan's count was not given/),
      expect.stringMatching(/VU use/),
      expect.stringMatching(/no console output/),
      expect.stringMatching(/host CPU: no sample/),
    ]);
  });

  it('judges k6 by its own CPU wait where measured: a busy host alone is a note, a starved k6 invalid', () => {
    const base = { generator: [], totalCap: 400, log: null, hostCpu: Array.from({ length: 10 }, () => 0.99) };
    const held = judgeK6Run({ ...base, cpuWait: { ms: 800, slices: 5000, wallMs: 10_000 } });
    expect(held.valid).toBe(true);
    expect(held.notes.join('\n')).toMatch(
      /saturated .* in 10 of 10 seconds while k6 ran; k6's own CPU wait decided/,
    );
    const starved = judgeK6Run({ ...base, cpuWait: { ms: 6000, slices: 900, wallMs: 10_000 } });
    expect(starved.valid).toBe(false);
    expect(starved.reasons).toEqual([
      expect.stringMatching(
        /^k6 was starved of CPU: .* 6000 ms of 10000 ms of CPU-wall time \(60\.0%\), 6\.67 ms per time slice/,
      ),
    ]);
    const unmeasured = judgeK6Run(base);
    expect(unmeasured.valid).toBe(false);
    expect(unmeasured.reasons).toEqual([expect.stringMatching(/^host CPU saturated/)]);
    expect(unmeasured.unmeasured).toContainEqual(expect.stringMatching(/k6's CPU wait: no schedstat/));
  });

  // The 20,000/s benchmark's k6 run (bench/cli-section.ts, 2-core host): 105,640 of 400,000 completed,
  // none dropped or interrupted by k6's counts; other rows are sentences about their own bounds.
  const account = (completed: number, dropped: number, interrupted: number | null, playedToEnd = true) => ({
    planned: 400_000,
    completed,
    dropped,
    interrupted,
    playedToEnd,
  });
  it.each([
    {
      name: 'a k6 that reached a quarter of its plan and dropped none is invalid, with the count',
      account: account(105_640, 0, 0),
      missing: 294_360,
      reason:
        /^k6 fell behind its schedule: it never started 294360 of the plan's 400000 iterations \(73\.59%; invalid above 1\.00% and at least 10\): it completed 105640, dropped 0 and interrupted 0/,
    },
    {
      name: 'iterations k6 dropped or interrupted are accounted for, not missing',
      account: account(300_000, 99_000, 1_000),
      missing: 0,
      reason: null,
    },
    {
      name: 'a shortfall within 1% of the plan (k6 rounding its stages) is not a reason',
      account: account(396_100, 0, 0),
      missing: 3_900,
      reason: null,
    },
    {
      name: 'fewer than 10 never started is not a reason, whatever the share',
      account: { planned: 100, completed: 91, dropped: 0, interrupted: 0, playedToEnd: true },
      missing: 9,
      reason: null,
    },
    {
      name: 'an interrupted run is partial, not judged on what it did not reach',
      account: account(105_640, 0, 0, false),
      missing: null,
      reason: null,
    },
  ])('$name', ({ account: iterations, missing, reason }) => {
    const v = judgeK6Run({ generator: [], totalCap: 400, log: quietLog, hostCpu: calmCpu, iterations });
    expect(v.neverStarted).toBe(missing);
    expect(v.valid).toBe(reason === null);
    if (reason) expect(v.reasons).toEqual([expect.stringMatching(reason)]);
  });

  it('counts iterations in flight at the end as never started when k6 printed no progress line', () => {
    const v = judgeK6Run({
      generator: [],
      totalCap: 400,
      log: quietLog,
      hostCpu: calmCpu,
      iterations: { planned: 1000, completed: 950, dropped: 0, interrupted: null, playedToEnd: true },
    });
    expect(v.neverStarted).toBe(50);
    expect(v.valid).toBe(false);
    expect(v.reasons.join(' ')).not.toMatch(/interrupted \d/);
    expect(v.unmeasured).toContainEqual(
      expect.stringMatching(/k6's interrupted iterations: no progress line/),
    );
  });
});

describe('readK6Progress', () => {
  it("reads k6's last progress line of a real console: its count equals k6's own summary", () => {
    const text = readFileSync(join(K6_FIXTURES, 'channels.console.txt'), 'utf8');
    expect(readK6Progress(text)).toEqual({
      complete: k6SummaryCount('channels', 'iterations'),
      interrupted: 0,
    });
  });

  it('reads the last line of k6 v1.3 (a run stopped for 4 s past its schedule) and is null without one', () => {
    expect(
      readK6Progress(
        'running (01.9s), 00/30 VUs, 188 complete and 0 interrupted iterations\nrunning (05.9s), 00/30 VUs, 188 complete and 0 interrupted iterations\nrunning (05.9s), 00/30 VUs, 189 complete and 0 interrupted iterations\n',
      ),
    ).toEqual({ complete: 189, interrupted: 0 });
    expect(readK6Progress('no progress here')).toBeNull();
  });
});
