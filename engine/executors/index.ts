/**
 * The arrival-model registry: `plan.arrivals` names one of these. A new model is a new file plus a
 * line here, never a branch in the scheduler.
 */
import type { Plan } from '../../scenarios/plan.ts';
import { evenArrivals } from './even.ts';
import { poissonArrivals } from './poisson.ts';
import type { ArrivalModel } from './types.ts';

/** Every arrival model, by the name a plan uses. */
export const arrivalModels = {
  even: evenArrivals,
  poisson: poissonArrivals,
} satisfies Record<Plan['arrivals'], ArrivalModel>;

export type { ArrivalModel } from './types.ts';
