/**
 * The event-scale simulator: a time-stepped fluid model of a topology over event time, driven by a
 * compiled plan and scaled by the very same decision function the live stack uses
 * (reference-stack/autoscaling/decide.ts). Pure: the plan, the scaling, the calibration and the seed
 * go in; series, timeline, scaling activities and a summary come out. docs/simulation.md explains
 * the model; every parameter below is a model input with its source or marked as an assumption.
 *
 * Per step (default 1 event-second):
 * 1. Demand: every (scenario, step) issues `rate(t − offset)` requests per wall second, where the
 *    offset is the mean think time before that step; each request charges the emulated CPU-ms of the
 *    topology's demand table to every deployable it touches.
 * 2. Stores: read/write units per table; a hot key (flash-sale SKU) is one partition, limited to
 *    3,000 RCU/s and 1,000 WCU/s; a table absorbs up to double its previous peak and throttles
 *    beyond until it adapts (docs/sources.md). Throttled requests fail.
 * 3. Deployables: capacity = healthy tasks × vCPU × 1000 CPU-ms/s × (1 − overhead) × efficiency
 *    (1 unless a probe measured otherwise). Each task is a queue whose length follows the load over
 *    time; what exceeds the tasks' bounded queues is rejected (503). Latency per simulation/queueing.ts.
 * 4. Every 60-s metric period: CPUUtilization and RequestCountPerTarget datapoints feed `decide()`
 *    per service; new tasks start after the seeded start latency and one health check, delayed
 *    further by Fargate's launch rate (burst 100, then 20 tasks/s) and blocked by a vCPU quota.
 *
 * The model's parts, each a pure function of the state it is given (simulation/simulate-state.ts):
 * the step (simulate-step.ts), the metric period with autoscaling and launches (simulate-period.ts),
 * the series interval (simulate-series.ts) and the summary (simulate-summary.ts).
 */
import type { SeriesRecord } from '../core/run-format.ts';
import type { Plan } from '../scenarios/plan.ts';
import { emptyPercentiles } from './client-latency.ts';
import type { SeriesColumns } from './series-columns.ts';
import { endPeriod } from './simulate-period.ts';
import { flushBucket, seriesColumnsOf } from './simulate-series.ts';
import { createSimState } from './simulate-state.ts';
import { countTasks, runStep } from './simulate-step.ts';
import { findingsOf, latencyBreakdown, runSummary } from './simulate-summary.ts';
import type { SimulateOptions, SimulationResult } from './simulate-types.ts';

export {
  MODEL_TABLE_SOURCE,
  type ModelInput,
  type ServiceEfficiency,
  SIMULATION_INPUTS,
  type SimulateOptions,
  type SimulationFindings,
  type SimulationResult,
  type StoreLimits,
  seriesResolution,
} from './simulate-types.ts';

/**
 * Stops a simulation early once its outcome is known (a sizing trial that already breached a
 * budget fails whatever comes after: simulation/sizing/compare.ts). At the first series interval
 * ending at or after each of `checkAt` (event times, ascending), `stop` reads the series so far;
 * true ends the run there (`SimulationResult.stoppedAt`).
 */
export interface SimulateControl {
  checkAt: readonly number[];
  /**
   * `at`: the event time the series reaches (the end of its last interval); `columns`: the series,
   * when the run keeps it as columns (`series` is then empty).
   */
  stop: (series: readonly SeriesRecord[], at: number, columns?: SeriesColumns) => boolean;
  /**
   * After a stop, count the fleet's task-hours (the findings' `vcpuHours` and `memoryGbHours`, what
   * compute is priced from) to the end of the event, as the whole run would: for a fixed fleet (no
   * scaling policy, no scheduled action, minimum = maximum, no vCPU quota), whose tasks never change,
   * they are the same steps' same sums. A sizing search's most generous fleet needs its cost even
   * when it fails. A fleet that is not fixed is never stopped (its cost needs the whole run).
   */
  costToEnd?: boolean;
}

/** Whether no task of the run can ever start or stop: every service's count is fixed, no quota. */
function fleetIsFixed(st: ReturnType<typeof createSimState>): boolean {
  if (st.options.vcpuQuota !== undefined) return false;
  return st.svcList.every(
    (s) =>
      s.scaling.policies.length === 0 &&
      s.scaling.scheduledActions.length === 0 &&
      s.scaling.minCapacity === s.scaling.maxCapacity &&
      s.state.desired === s.scaling.minCapacity,
  );
}

/**
 * Runs the simulation. Pure and deterministic for (plan, options); with `control`, the run may end
 * early, and then only its series up to `stoppedAt` are the whole run's (the totals, findings and
 * summary are the prefix's).
 */
export function simulate(plan: Plan, options: SimulateOptions, control?: SimulateControl): SimulationResult {
  const st = createSimState(plan, options);
  const { t0, dtE, nSteps, periodS, resolution } = st.inputs;
  let check = 0;
  let stoppedAt: number | undefined;
  const costToEnd = control?.costToEnd === true;
  const mayStop = control !== undefined && (!costToEnd || fleetIsFixed(st));
  for (let i = 0; i < nSteps; i++) {
    runStep(st, i);
    const tNext = t0 + i * dtE + dtE;
    if (tNext - st.periodStart >= periodS - 1e-9 || i === nSteps - 1) endPeriod(st, tNext);
    if (tNext - st.bucketStart >= resolution - 1e-9 || i === nSteps - 1) {
      flushBucket(st, tNext);
      if (mayStop && i < nSteps - 1 && check < control.checkAt.length && tNext >= control.checkAt[check]!) {
        while (check < control.checkAt.length && tNext >= control.checkAt[check]!) check++;
        if (control.stop(st.series, tNext, seriesColumnsOf(st))) {
          stoppedAt = tNext;
          // The remaining steps' task counts (step 1 of each), nothing else: a fixed fleet's
          // task-hours are then the whole run's, the same additions in the same order.
          if (costToEnd) for (let j = i + 1; j < nSteps; j++) countTasks(st, t0 + j * dtE);
          break;
        }
      }
    }
  }
  const summary = runSummary(
    st,
    options.summaryLatency === false || stoppedAt !== undefined
      ? { overall: emptyPercentiles(), byChannel: {}, byJourney: {} }
      : latencyBreakdown(st),
  );
  const findings = findingsOf(st);
  const { series, timeline, activities } = st;
  const columns = seriesColumnsOf(st);
  return {
    series,
    ...(columns ? { seriesColumns: columns } : {}),
    timeline,
    activities,
    summary,
    findings,
    ...(options.latencyComponents === false ? {} : { latencyComponents: st.intervalLatency }),
    edge: st.edgeTimeline,
    ...(stoppedAt !== undefined ? { stoppedAt } : {}),
  };
}
