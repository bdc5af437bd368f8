import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { convertK6Output } from './convert.ts';
import { K6_FIXTURES, k6SummaryCount } from './stand-in.ts';
import { judgeK6Run, type K6LogFindings, readK6Log } from './validity.ts';

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
});
