/**
 * Reading a compiled plan file (plan.json from a run directory or an export): a clear exit-2 error
 * when it is not one, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { invalidInput } from '../core/errors.ts';
import type { Plan } from './plan.ts';

/** Reads and shape-checks a plan.json. */
export function readPlanFile(file: string): Plan {
  let plan: Plan;
  try {
    plan = JSON.parse(readFileSync(file, 'utf8')) as Plan;
  } catch (e) {
    throw invalidInput(
      'plan-invalid',
      `cannot read plan ${file}: ${(e as Error).message}`,
      'give a plan.json written by peakday',
    );
  }
  if (!plan || !Array.isArray(plan.scenarios) || typeof plan.timeScale !== 'number' || !plan.journeys)
    throw invalidInput(
      'plan-invalid',
      `${file} is not a compiled plan`,
      'give a plan.json written by peakday',
    );
  return plan;
}
