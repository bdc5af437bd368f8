import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../core/run-format.ts';
import { loadScaling, type ScalingConfig } from '../reference-stack/autoscaling/scaling-file.ts';
import { constructedPlan, oneStepJourney } from '../scenarios/test-plans.ts';
import { calibrationFromRun, modelDemandPerRequest } from './calibrate-from-run.ts';
import { pathVisits } from './call-path.ts';
import { computeScenarioDemands } from './demand.ts';
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

/** A steady load on two pinned tasks: every period serves what arrives (no queue building, no task starting). */
const steadyPlan = constructedPlan([
  { channel: 'web', journey: oneStepJourney('pdp', 'getProduct'), times: [0, 1800], rates: [20, 20] },
]);

function pinned(scaling: ScalingConfig, n: number): ScalingConfig {
  const services = Object.fromEntries(
    Object.entries(scaling.services).map(([k, v]) => [
      k,
      { ...v, minCapacity: n, maxCapacity: n, initialDesired: n, policies: [], scheduledActions: [] },
    ]),
  );
  return { ...scaling, services };
}

/**
 * A run directory with the simulator's timeline, each record's emulation set by `stretched` (the
 * share of its holds the host stretched; a replica holds once per request it finished); `edit` changes the timeline before it is written.
 */
function runWith(
  stretched: (t: number) => number,
  efficiency = 1,
  steady = false,
  edit: (timeline: TimelineRecord[]) => void = () => {},
): string {
  const scaling = loadScaling();
  const result = simulate(steady ? steadyPlan : plan, {
    arch: 'monolith',
    scaling: steady ? pinned(scaling, 2) : scaling,
    seed: 1,
    efficiency: { monolith: { efficiency, provenance: 'measured', source: 'constructed' } },
  });
  for (const r of result.timeline)
    r.emulation = {
      holds: r.requests ?? 0,
      stretched: Math.round(stretched(r.t) * (r.requests ?? 0)),
      emulatedMs: 1000,
      addedMs: Math.round(stretched(r.t) * (r.requests ?? 0)) * 20,
    };
  edit(result.timeline);
  const dir = join(mkdtempSync(join(tmpdir(), 'pd-cal-')), 'run');
  writeSimulationRun(dir, plan, result, {}, new Date());
  return dir;
}

describe('capacity per task measured from a run', () => {
  // Known answer: an add-to-cart holds the cart twice (two calls), and the cart's balancer counts two
  // requests, so the cart's CPU per request is half the step's.
  it('charges a service per request its balancer counts, not per step', () => {
    const addToCart = constructedPlan([
      { channel: 'web', journey: oneStepJourney('add', 'addCartItem'), times: [0, 600], rates: [10, 10] },
    ]);
    const [step] = computeScenarioDemands(addToCart, 'headless')[0]?.steps ?? [];
    const holds = pathVisits(step!.path).cart ?? [];
    expect(holds).toHaveLength(2);
    const perRequest = modelDemandPerRequest(addToCart, 'headless');
    expect(perRequest.cart).toBeCloseTo((step!.cpuMs.cart as number) / 2, 6);
    expect(perRequest.gateway).toBeCloseTo(step!.cpuMs.gateway as number, 6);
  });

  it('measures a service busy in periods where the emulation held', () => {
    const c = calibrationFromRun(
      runWith(() => 0),
      'monolith',
    );
    expect(c?.services.monolith?.provenance).toBe('measured');
    expect(c?.unmeasured?.monolith).toBeUndefined();
  });

  // Known answer: the simulator's tasks serve exactly `efficiency` × the model's capacity, and their
  // CPUUtilization carries the 2% task overhead on top (as the emulated replicas' does).
  it.each([1, 0.8, 1.25])('measures back the efficiency %s a run was made with', (efficiency) => {
    const c = calibrationFromRun(
      runWith(() => 0, efficiency, true),
      'monolith',
    );
    expect(c?.services.monolith?.efficiency).toBeGreaterThan(efficiency * 0.99);
    expect(c?.services.monolith?.efficiency).toBeLessThan(efficiency * 1.01);
  });

  // Known answer: from minute 10 on, the queue grows in one minute (arrivals beyond what the tasks
  // finished) and drains in the next, saturated, one (left out, as above 95% CPU). What the tasks
  // served per CPU is unchanged; counted by arrivals, the measured minutes read 25% faster tasks.
  it('measures what the tasks finished, not what arrived while their queue grew', () => {
    const c = calibrationFromRun(
      runWith(
        () => 0,
        1,
        true,
        (timeline) => {
          const minutes = timeline.filter((r) => r.service === 'monolith' && r.t >= 600);
          for (let i = 0; i + 1 < minutes.length; i += 2) {
            const grew = minutes[i] as TimelineRecord;
            const drained = minutes[i + 1] as TimelineRecord;
            const backlog = (grew.requests ?? 0) * 0.25;
            grew.requests = (grew.requests ?? 0) + backlog;
            drained.requests = (drained.requests ?? 0) - backlog;
            drained.cpu = 100;
          }
        },
      ),
      'monolith',
    );
    expect(c?.services.monolith?.efficiency).toBeGreaterThan(0.99);
    expect(c?.services.monolith?.efficiency).toBeLessThan(1.01);
  });

  // Known answer: a cheap request all along and a costly one only in a burst. The busy minutes are
  // the burst's, whose mix is not the plan's: charged the plan's mean CPU per request they read as a
  // task of 0.72 the capacity the run was made with (efficiency 1).
  it("charges each minute its own mix of requests, not the plan's", () => {
    const mixed = constructedPlan([
      { channel: 'web', journey: oneStepJourney('cart', 'createCart'), times: [0, 1800], rates: [20, 20] },
      {
        channel: 'web',
        journey: oneStepJourney('pdp', 'getProduct'),
        times: [0, 600, 600.001, 1200, 1200.001, 1800],
        rates: [0, 0, 30, 30, 0, 0],
      },
    ]);
    const result = simulate(mixed, { arch: 'monolith', scaling: pinned(loadScaling(), 2), seed: 1 });
    for (const r of result.timeline)
      r.emulation = { holds: r.requests ?? 0, stretched: 0, emulatedMs: 1000, addedMs: 0 };
    const dir = join(mkdtempSync(join(tmpdir(), 'pd-cal-')), 'run');
    writeSimulationRun(dir, mixed, result, {}, new Date());
    const c = calibrationFromRun(dir, 'monolith');
    expect(c?.services.monolith?.efficiency).toBeGreaterThan(0.98);
    expect(c?.services.monolith?.efficiency).toBeLessThan(1.02);
  });

  it('does not measure it where its busy periods counted no finished request (capacity 0), and says why', () => {
    // A loaded host's short run: busy periods whose holds all ended after the period (none counted).
    const c = calibrationFromRun(
      runWith(
        () => 0,
        1,
        false,
        (timeline) => {
          // One quiet period keeps its holds (so holds are counted at all); every busy one has none.
          const quiet = timeline[0]!;
          quiet.cpu = 5;
          quiet.emulation = { holds: 10, stretched: 0, emulatedMs: 100, addedMs: 0 };
          for (const r of timeline.slice(1)) if (r.emulation) r.emulation.holds = 0;
        },
      ),
      'monolith',
    );
    expect(c?.services.monolith).toBeUndefined();
    expect(c?.unmeasured?.monolith).toMatch(/no finished request counted in its \d+ measurable periods/);
  });

  it('does not measure it where the host stretched its holds, and says why', () => {
    const c = calibrationFromRun(
      runWith(() => 0.4),
      'monolith',
    );
    expect(c?.services.monolith).toBeUndefined();
    expect(c?.unmeasured?.monolith).toMatch(/the emulation did not hold in any of its \d+ busy periods/);
  });
});
