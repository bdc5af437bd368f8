/**
 * Evenly spaced arrivals: the k-th iteration is due where the cumulative planned count reaches
 * k − ½, so a stretch that plans N iterations starts N (k6's arrival-rate executors do the same).
 * Deterministic, which makes two runs of one plan directly comparable.
 */
import { arrivalTimes } from '../../scenarios/rate-function.ts';
import type { ArrivalModel } from './types.ts';

/** Even spacing by exact inversion of the cumulative rate (scenarios/rate-function.ts). */
export const evenArrivals: ArrivalModel = (scenario, plan) =>
  arrivalTimes(
    { times: scenario.times, values: scenario.rates },
    { timeScale: plan.timeScale, eventStart: plan.eventStart, eventEnd: plan.eventEnd, mode: 'even' },
  );
