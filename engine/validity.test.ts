import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readHostSteal, readPriority, readStackPriority, STACK_PRIORITY_FILE, stealShare } from './health.ts';

import {
  computeValidity,
  DEFAULT_VALIDITY_BOUNDS,
  enginePriorityWarning,
  judgeStackPriority,
  lateCauses,
  priorityWarnings,
  type ThreadEvidence,
} from './validity.ts';

const calm = Array.from({ length: 10 }, () => ({ hostCpu: 0.4 }));
const steady: ThreadEvidence = {
  name: 'engine',
  started: 130,
  late: 0,
  loopSamples: 1000,
  loopStalls: 0,
  cpuWait: { ms: 400, slices: 4000, wallMs: 10_000 },
};

describe('computeValidity', () => {
  it.each([
    { name: 'a thread within every bound is valid', th: {}, health: calm, reasons: [] as RegExp[] },
    {
      name: 'one late start in a short run is not enough to invalidate (the ci-smoke outlier)',
      th: { late: 1 },
      health: calm,
      reasons: [],
    },
    {
      name: 'late starts over 1% but fewer than 10 do not invalidate',
      th: { late: 9 },
      health: calm,
      reasons: [],
    },
    {
      name: 'more than 1% of starts late, at least 10, makes the run invalid',
      th: { started: 900, late: 10 },
      health: calm,
      reasons: [
        /fell behind its schedule: engine: 10 of 900 iterations started more than 10 ms late \(1\.11%/,
      ],
    },
    {
      name: '1% late or fewer is tolerated however many',
      th: { started: 100_000, late: 1000 },
      health: calm,
      reasons: [],
    },
    {
      name: 'event-loop stalls over 1% and at least 5 make the run invalid',
      th: { loopSamples: 400, loopStalls: 5 },
      health: calm,
      reasons: [/event loop stalled: engine: 5 of 400 event-loop samples over 50 ms/],
    },
    {
      name: 'a starved thread makes the run invalid',
      th: { cpuWait: { ms: 3000, slices: 457, wallMs: 4000 } },
      health: calm,
      reasons: [
        /starved of CPU: engine: runnable but waiting for a CPU 3000 ms of 4000 ms \(75\.0%\), 6\.56 ms per time slice over 457 /,
      ],
    },
    {
      name: 'many short waits of a mostly idle thread are not starvation (each wake-up barely late)',
      th: { cpuWait: { ms: 3000, slices: 10_000, wallMs: 10_000 } },
      health: calm,
      reasons: [],
    },
    {
      name: 'starvation needs enough time slices to be judged',
      th: { cpuWait: { ms: 3000, slices: 100, wallMs: 4000 } },
      health: calm,
      reasons: [],
    },
    {
      name: 'a saturated host alone does not invalidate a run whose own timing held',
      th: {},
      health: Array.from({ length: 10 }, () => ({ hostCpu: 0.99 })),
      reasons: [],
    },
    {
      name: 'a closed loop has no schedule to judge',
      th: { started: null, late: 0 },
      health: calm,
      reasons: [],
    },
  ])('$name', ({ th, health, reasons }) => {
    const v = computeValidity({ threads: [{ ...steady, ...th }], health }, DEFAULT_VALIDITY_BOUNDS);
    expect(v.valid).toBe(reasons.length === 0);
    expect(v.reasons).toHaveLength(reasons.length);
    for (const [i, re] of reasons.entries()) expect(v.reasons[i]).toMatch(re);
    expect(v.evidence.length).toBeGreaterThanOrEqual(3);
  });

  it('judges every thread on its own and names the one that failed', () => {
    const v = computeValidity({
      threads: [steady, { ...steady, name: 'worker 2', started: 5000, late: 400 }],
      health: calm,
    });
    expect(v.valid).toBe(false);
    expect(v.reasons).toEqual([
      expect.stringMatching(/^engine fell behind its schedule: worker 2: 400 of 5000/),
    ]);
  });

  it('notes a saturated host and says the engine timing decided', () => {
    const v = computeValidity({
      threads: [steady],
      health: Array.from({ length: 10 }, () => ({ hostCpu: 1 })),
    });
    expect(v.notes).toEqual([expect.stringMatching(/saturated .* in 10 of 10 seconds.*which held/)]);
    expect(v.evidence).toContainEqual(expect.stringMatching(/host CPU ≥ 95% in 10 of 10 seconds/));
  });
});

describe('whose late starts were', () => {
  // 10 seconds: late starts in seconds 3 and 7, the hypervisor stealing 4% and 6% there, 0.5% elsewhere.
  const health = Array.from({ length: 10 }, (_, i) => ({
    hostCpu: 0.5,
    lateStarts: i === 3 || i === 7 ? 8 : 0,
    steal: i === 3 ? 0.04 : i === 7 ? 0.06 : 0.005,
    gc: { ms: i === 7 ? 30 : 2, maxMs: i === 7 ? 12.5 : 1 },
    cpuWait: { ms: i === 3 || i === 7 ? 150 : 20, perSliceMs: 0.3 },
  }));

  it('compares the CPU wait and steal of the seconds with late starts against the others, and names the longest GC pause there', () => {
    expect(lateCauses(health)).toBe(
      "the engine waited for a CPU 150 ms a second in the 2 seconds with late starts, 20 ms in the other 8; the hypervisor took 5.00% of the host's CPU (steal) in the 2 seconds with late starts, 0.50% in the other 8; the engine's longest GC pause in those seconds was 12.5 ms",
    );
    const v = computeValidity({ threads: [{ ...steady, started: 900, late: 16 }], health });
    expect(v.valid).toBe(false);
    expect(v.reasons[0]).toMatch(
      /1\.78%.*; the engine waited for a CPU 150 ms a second .*; the hypervisor took 5\.00%/,
    );
    expect(v.evidence).toContainEqual(
      expect.stringMatching(/^late starts, by second: the engine waited for a CPU 150 ms a second/),
    );
  });

  it('says nothing when no second had a late start, or neither figure was measured', () => {
    expect(lateCauses(health.map((h) => ({ ...h, lateStarts: 0 })))).toBeNull();
    expect(lateCauses([{ hostCpu: 0.5, lateStarts: 3 }])).toBeNull();
  });
});

describe('readHostSteal', () => {
  it("reads the steal column of /proc/stat's first line and the share over an interval", () => {
    const dir = mkdtempSync(join(tmpdir(), 'peakday-steal-'));
    const f = join(dir, 'stat');
    // user nice system idle iowait irq softirq steal guest guest_nice
    writeFileSync(f, 'cpu  100 0 50 800 10 0 5 35 0 0\ncpu0 50 0 25 400 5 0 2 18 0 0\n');
    const a = readHostSteal(f);
    expect(a).toEqual({ steal: 35, total: 1000 });
    writeFileSync(f, 'cpu  200 0 100 1500 10 0 10 180 0 0\n');
    const b = readHostSteal(f);
    expect(b).toEqual({ steal: 180, total: 2000 });
    expect(
      stealShare(a as { steal: number; total: number }, b as { steal: number; total: number }),
    ).toBeCloseTo(0.145, 10);
    writeFileSync(f, 'cpu  100 0 50 800\n');
    expect(readHostSteal(f)).toBeNull();
    expect(readHostSteal(join(dir, 'missing'))).toBeNull();
  });
});

describe('whether a local stack runs below the engine', () => {
  const at = (autogroupNice: number | null, nice: number | null) => ({ autogroupNice, nice });
  it.each([
    {
      name: 'the rehearsal as meant: both sessions at their default, the stack lowered by 10',
      autogroups: true,
      engine: at(0, 0),
      stack: at(10, 10),
      below: true,
      says: /^the stack runs below the engine on the CPUs \(the stack's session \(autogroup\) niceness 10, process niceness 10; the engine's session \(autogroup\) niceness 0, process niceness 0\)$/,
    },
    {
      name: 'the engine started from a session niced to 19: the stack can at best be level with it',
      autogroups: true,
      engine: at(19, 0),
      stack: at(19, 10),
      below: false,
      says: /^the stack does not run below the engine on the CPUs: its session \(autogroup\) niceness 19 is not above the engine's 19, and 19 is the lowest priority there is; the stack competes with the load generator .*; start it from a session that is not niced/,
    },
    {
      name: 'a stack whose session the supervisor could not lower (left at 0) beside an engine at 0',
      autogroups: true,
      engine: at(0, 0),
      stack: at(0, 10),
      below: false,
      says: /its session \(autogroup\) niceness 0 is not above the engine's 0; the stack competes/,
    },
    {
      name: 'a stack above the engine (its session lowered to 10, the engine’s to 15)',
      autogroups: true,
      engine: at(15, 0),
      stack: at(10, 10),
      below: false,
      says: /niceness 10 is not above the engine's 15/,
    },
    {
      name: 'below by session, level by process niceness (which ranks them under a CPU cgroup)',
      autogroups: true,
      engine: at(0, 19),
      stack: at(19, 19),
      below: false,
      says: /its process niceness 19 is not above the engine's 19, and 19 is the lowest priority there is \(the process niceness ranks them where a CPU cgroup overrides autogroups\).*start it without nice/,
    },
    {
      name: 'no autogroups: the process niceness alone, below',
      autogroups: false,
      engine: at(19, 0),
      stack: at(null, 10),
      below: true,
      says: /process niceness 10; the engine's process niceness 0; no autogroups on this kernel/,
    },
    {
      name: 'no autogroups: the process niceness alone, level',
      autogroups: false,
      engine: at(null, 10),
      stack: at(null, 10),
      below: false,
      says: /its process niceness 10 is not above the engine's 10;/,
    },
    {
      name: 'the engine’s session unreadable',
      autogroups: true,
      engine: at(null, 0),
      stack: at(10, 10),
      below: null,
      says: /^could not tell whether the stack runs below the engine \(.*the engine's session \(autogroup\) niceness unknown/,
    },
  ])('$name', ({ autogroups, engine, stack, below, says }) => {
    const v = judgeStackPriority({ autogroups, engine, stack });
    expect(v.below).toBe(below);
    expect(v.sentence).toMatch(says);
  });

  it.each([
    { name: 'an engine at the default priority', autogroups: true, engine: at(0, 0), says: null },
    { name: 'an engine at a raised priority', autogroups: true, engine: at(-5, -2), says: null },
    {
      name: 'an engine in a niced session',
      autogroups: true,
      engine: at(19, 0),
      says: /^the load generator runs at lowered CPU priority: its session's \(autogroup\) niceness is 19, so other work .*; start it from a session that is not niced/,
    },
    {
      name: 'an engine started with nice',
      autogroups: true,
      engine: at(0, 5),
      says: /lowered CPU priority: its process niceness is 5, .*; start it without nice$/,
    },
    {
      name: 'both',
      autogroups: true,
      engine: at(3, 5),
      says: /its session's \(autogroup\) niceness is 3 and its process niceness is 5, .*not niced .* and without nice$/,
    },
    {
      name: 'a niced session where there are no autogroups',
      autogroups: false,
      engine: at(19, 0),
      says: null,
    },
  ])('warns of $name: $says', ({ autogroups, engine, says }) => {
    const w = enginePriorityWarning(engine, autogroups);
    if (says === null) expect(w).toBeNull();
    else expect(w).toMatch(says);
  });

  it('a run warns of both, from its readings and the stack’s file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pd-prio-'));
    expect(readStackPriority(dir)).toBeNull();
    writeFileSync(
      join(dir, STACK_PRIORITY_FILE),
      '{"pid":12,"autogroups":true,"nice":10,"autogroupNice":19}\n',
    );
    const stack = readStackPriority(dir);
    expect(stack).toEqual({ pid: 12, autogroups: true, nice: 10, autogroupNice: 19 });
    const w = priorityWarnings(true, at(19, 0), stack);
    expect(w).toHaveLength(2);
    expect(w[0]).toMatch(/^the load generator runs at lowered CPU priority/);
    expect(w[1]).toMatch(/^the stack does not run below the engine/);
    expect(
      priorityWarnings(true, at(0, 0), { ...(stack as NonNullable<typeof stack>), autogroupNice: 10 }),
    ).toEqual([]);
    expect(priorityWarnings(true, at(0, 0), null)).toEqual([]);
    writeFileSync(join(dir, STACK_PRIORITY_FILE), '{"pid":"x"}');
    expect(readStackPriority(dir)).toBeNull();
  });

  it('reads this process’s own priority (Linux)', () => {
    const p = readPriority();
    expect(typeof p.nice).toBe('number');
    if (process.platform === 'linux' && p.autogroupNice !== null)
      expect(Number.isInteger(p.autogroupNice)).toBe(true);
    expect(readPriority(2 ** 22 + 12345)).toEqual({ nice: null, autogroupNice: null });
  });
});
