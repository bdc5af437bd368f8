import { describe, expect, it } from 'vitest';
import { computeValidity, DEFAULT_VALIDITY_BOUNDS } from './validity.ts';

const calm = Array.from({ length: 10 }, () => ({ hostCpu: 0.4 }));

describe('computeValidity', () => {
  it.each([
    { name: 'a run within every bound is valid', lag: 2, loop: 12, health: calm, reasons: [] as RegExp[] },
    {
      name: 'a scheduler lag p99 over 10 ms makes the run invalid',
      lag: 10.5,
      loop: 12,
      health: calm,
      reasons: [/scheduler lag p99 10.5 ms > 10 ms/],
    },
    {
      name: 'a blocked event loop makes the run invalid',
      lag: 2,
      loop: 80,
      health: calm,
      reasons: [/event loop was blocked/],
    },
    {
      name: 'a saturated host in more than 20% of seconds makes the run invalid',
      lag: 2,
      loop: 12,
      health: [...calm.slice(0, 7), { hostCpu: 0.99 }, { hostCpu: 0.97 }, { hostCpu: 1 }],
      reasons: [/host CPU saturated .* in 3 of 10 seconds/],
    },
    {
      name: 'a saturated host in 20% of seconds or fewer is tolerated',
      lag: 2,
      loop: 12,
      health: [...calm.slice(0, 8), { hostCpu: 0.99 }, { hostCpu: 1 }],
      reasons: [],
    },
    { name: 'a run that started nothing has no lag to judge', lag: null, loop: 1, health: [], reasons: [] },
    {
      name: 'every broken bound is reported',
      lag: 400,
      loop: 300,
      health: [{ hostCpu: 1 }],
      reasons: [/scheduler/, /event loop/, /host CPU/],
    },
  ])('$name', ({ lag, loop, health, reasons }) => {
    const v = computeValidity(
      { schedulerLagP99Ms: lag, eventLoopDelayP99Ms: loop, health },
      DEFAULT_VALIDITY_BOUNDS,
    );
    expect(v.valid).toBe(reasons.length === 0);
    expect(v.reasons).toHaveLength(reasons.length);
    for (const [i, re] of reasons.entries()) expect(v.reasons[i]).toMatch(re);
  });
});
