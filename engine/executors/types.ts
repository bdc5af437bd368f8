/**
 * The shared base of the arrival models (one file per model, like k6's lib/executor/): an arrival
 * model turns a plan scenario into the wall-clock offsets at which its iterations are due. The
 * scheduler (engine/scheduler.ts) starts each iteration at its offset whatever the responses do:
 * this is what makes the engine an open model.
 */
import type { Rng } from '../../core/rng.ts';
import type { Plan, PlanScenario } from '../../scenarios/plan.ts';

/** Produces due times (wall seconds since the run started), non-decreasing, lazily. */
export type ArrivalModel = (scenario: PlanScenario, plan: Plan, rng: Rng) => Iterator<number>;
