import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScaling } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { calibrationFromRun } from './calibrate-from-run.ts';
import { simulate } from './simulate.ts';
import { writeSimulationRun } from './write-run.ts';

const plan = constructedPlan([
  {
    channel: 'web',
    journey: oneStepJourney('pdp', 'getProduct'),
    times: [0, 600, 600.001, 3600],
    rates: [20, 20, 200, 200],
  },
]);

/** A run directory with the simulator's timeline, each record's emulation set by `stretched`. */
function runWith(stretched: (t: number) => number): string {
  const result = simulate(plan, { arch: 'monolith', scaling: loadScaling(), seed: 1 });
  for (const r of result.timeline)
    r.emulation = { holds: 100, stretched: stretched(r.t), emulatedMs: 1000, addedMs: stretched(r.t) * 20 };
  const dir = join(mkdtempSync(join(tmpdir(), 'pd-cal-')), 'run');
  writeSimulationRun(dir, plan, result, {}, new Date());
  return dir;
}

describe('capacity per task measured from a run', () => {
  it('measures a service busy in periods where the emulation held', () => {
    const c = calibrationFromRun(
      runWith(() => 0),
      'monolith',
    );
    expect(c?.services.monolith?.provenance).toBe('measured');
    expect(c?.unmeasured?.monolith).toBeUndefined();
  });

  it('does not measure it where the host stretched its holds, and says why', () => {
    const c = calibrationFromRun(
      runWith(() => 40),
      'monolith',
    );
    expect(c?.services.monolith).toBeUndefined();
    expect(c?.unmeasured?.monolith).toMatch(/the emulation did not hold in any of its \d+ busy periods/);
  });
});
