/**
 * Poisson arrivals: a non-homogeneous Poisson process following the plan's rate (unit-mean
 * exponential gaps in cumulative count, by time rescaling), seeded per scenario so the same plan
 * and seed give the same arrivals. Real shoppers arrive this way: bursts within a second are the
 * norm, and a system sized for the even rate can still queue.
 */
import { arrivalTimes } from '../../scenarios/rate-function.ts';
import type { ArrivalModel } from './types.ts';

/** Poisson spacing, seeded by the plan's seed forked with the scenario id. */
export const poissonArrivals: ArrivalModel = (scenario, plan, rng) =>
  arrivalTimes(
    { times: scenario.times, values: scenario.rates },
    {
      timeScale: plan.timeScale,
      eventStart: plan.eventStart,
      eventEnd: plan.eventEnd,
      mode: 'poisson',
      rng: rng.fork(`arrivals:${scenario.id}`),
    },
  );
