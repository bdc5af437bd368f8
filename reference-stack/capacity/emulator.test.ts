import { describe, expect, it } from 'vitest';
import { createCapacityEmulator, STRETCH_BOUND_MS } from './emulator.ts';

/** A hand-driven clock: timers fire when `advance` passes them. */
function manualClock(lateMs = 0) {
  let t = 0;
  const timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    schedule: (ms: number, fn: () => void) => {
      timers.push({ at: t + ms + lateMs, fn });
    },
    async advance(ms: number) {
      const end = t + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = next.at;
        next.fn();
        await Promise.resolve();
      }
      t = end;
      await Promise.resolve();
    },
  };
}

describe('capacity emulator', () => {
  it('runs as many requests at once as the task has whole vCPUs and queues the rest', async () => {
    const c = manualClock();
    const e = createCapacityEmulator({ vcpu: 2, queueLimit: 10, overheadPct: 0, ...c });
    const done: number[] = [];
    for (let i = 0; i < 4; i++) void e.run(10).then(() => done.push(c.now()));
    expect(e.queueLength()).toBe(2);
    await c.advance(10);
    expect(done).toEqual([10, 10]);
    await c.advance(10);
    expect(done).toEqual([10, 10, 20, 20]);
  });

  it('rejects at once when the bounded queue is full', async () => {
    const c = manualClock();
    const e = createCapacityEmulator({ vcpu: 1, queueLimit: 2, overheadPct: 0, ...c });
    void e.run(5);
    void e.run(5);
    void e.run(5);
    expect(e.queueLength()).toBe(2);
    expect(await e.run(5)).toBe(false);
    expect(e.takePeriod().rejected).toBe(1);
  });

  it('a quarter-vCPU task runs a lone request at full speed and throttles sustained load to a quarter', async () => {
    const c = manualClock();
    const e = createCapacityEmulator({ vcpu: 0.25, queueLimit: 10, overheadPct: 0, ...c });
    const done: number[] = [];
    for (let i = 0; i < 5; i++) void e.run(10).then(() => done.push(c.now()));
    await c.advance(200);
    // 25 ms of quota: three at full speed, then each waits out its deficit at 0.25 CPU-ms per ms.
    expect(done).toEqual([10, 20, 30, 70, 110]);
  });

  it.each([
    // vcpu, requests of 10 ms, period ms, overhead %, expected utilization %
    [1, 50, 1000, 0, 50],
    [2, 50, 1000, 0, 25],
    [0.5, 25, 1000, 0, 50],
    [1, 0, 1000, 2, 2],
  ])(
    'utilization of a %s-vCPU task serving %s × 10 ms in %s ms with %s%% overhead is %s%%',
    async (vcpu, n, period, overhead, expected) => {
      const c = manualClock();
      const e = createCapacityEmulator({ vcpu, queueLimit: 1000, overheadPct: overhead, ...c });
      for (let i = 0; i < n; i++) void e.run(10);
      await c.advance(period);
      expect(e.takePeriod().cpuUtilization).toBeCloseTo(expected, 6);
    },
  );

  it('counts a hold that spans two periods in both, in proportion', async () => {
    const c = manualClock();
    const e = createCapacityEmulator({ vcpu: 1, queueLimit: 5, overheadPct: 0, ...c });
    void e.run(100);
    await c.advance(40);
    expect(e.takePeriod().busyCpuMs).toBeCloseTo(40, 6);
    await c.advance(60);
    expect(e.takePeriod().busyCpuMs).toBeCloseTo(60, 6);
  });

  it('charges only the demand when timers fire late on a busy host, so utilization stays within 100%', async () => {
    // Every timer fires 40 ms after it was due: 10 holds of 10 ms take 500 ms of wall time.
    const c = manualClock(40);
    const e = createCapacityEmulator({ vcpu: 1, queueLimit: 20, overheadPct: 0, ...c });
    for (let i = 0; i < 10; i++) void e.run(10);
    await c.advance(250);
    const p = e.takePeriod();
    expect(p.busyCpuMs).toBeCloseTo(50, 6);
    expect(p.cpuUtilization).toBeCloseTo(20, 6);
  });
});

describe('emulation fidelity: whether the host let each hold end when the emulation said', () => {
  it.each([
    {
      name: 'timers on time (an unloaded host): every hold counted, none stretched',
      lateMs: 0,
      stretched: 0,
    },
    { name: 'timers within the jitter bound: not stretched', lateMs: STRETCH_BOUND_MS - 1, stretched: 0 },
    {
      name: 'timers 20 ms late (a host without a free core): every hold stretched',
      lateMs: 20,
      stretched: 6,
    },
  ])('$name', async ({ lateMs, stretched }) => {
    const c = manualClock(lateMs);
    const e = createCapacityEmulator({ vcpu: 2, queueLimit: 10, overheadPct: 0, ...c });
    for (let i = 0; i < 6; i++) void e.run(10);
    await c.advance(200);
    const f = e.takePeriod().fidelity;
    expect(f.holds).toBe(6);
    expect(f.emulatedMs).toBe(60);
    expect(f.stretched).toBe(stretched);
    expect(f.addedMs).toBe(stretched > 0 ? 6 * lateMs : 0);
    // Two hold at once and four queue: two wait one hold (10 ms and the timer's lateness), two wait two.
    expect(f.queuedMs).toBe(6 * (10 + lateMs));
    // The next period starts from zero.
    expect(e.takePeriod().fidelity).toEqual({
      holds: 0,
      stretched: 0,
      emulatedMs: 0,
      addedMs: 0,
      queuedMs: 0,
    });
  });

  it('with real timers, a blocked event loop (no core for the replica) stretches the holds in flight', async () => {
    const e = createCapacityEmulator({
      vcpu: 2,
      queueLimit: 10,
      overheadPct: 0,
      now: () => performance.now(),
      schedule: (ms, fn) => {
        setTimeout(fn, ms);
      },
    });
    const done = [e.run(5), e.run(5)];
    // The replica's thread does not run for 60 ms: as when other processes hold every core.
    const until = performance.now() + 60;
    while (performance.now() < until);
    await Promise.all(done);
    const f = e.takePeriod().fidelity;
    expect(f.holds).toBe(2);
    expect(f.stretched).toBe(2);
    expect(f.addedMs).toBeGreaterThanOrEqual(2 * (60 - 5 - 1));
  });
});
