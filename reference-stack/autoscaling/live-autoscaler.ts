/**
 * The autoscaler of the local stack: an adapter from the stack's period hook to the pure decide().
 * The stack calls `onPeriod(metrics, eventTime)` at every event-time period boundary; the adapter
 * appends each service's datapoint to its history, decides, calls `setDesiredCount(service, n)` when
 * the desired count changes, and hands every activity to `recordActivity`. It knows nothing of the
 * stack's internals (callbacks in, activities out), so the same adapter can drive any fleet.
 */
import type { EventClockSpec } from '../../core/event-clock.ts';
import type { ScalingActivity } from '../../core/run-format.ts';
import { createScalingState, decide, shiftScalingState } from './decide.ts';
import type { ScalingConfig } from './scaling-file.ts';
import { serviceScalingFor } from './scaling-file.ts';
import type { MetricDatapoint, ScalingState, ServiceScaling } from './types.ts';

/** One service's metrics for one period, as the stack reports them (a subset of its period metrics). */
export interface LiveServiceMetrics {
  cpu: number | null;
  memory: number | null;
  requestCountPerTarget: number | null;
}

/** One period of the stack (structurally the stack's own StackPeriodMetrics). */
export interface LivePeriodMetrics {
  /** Event time at the start of the period (s). */
  eventTime: number;
  period: number;
  services: Record<string, LiveServiceMetrics>;
}

/** What the adapter needs: the scaling, the services it scales, and the stack's two callbacks. */
export interface LiveAutoscalerOptions {
  scaling: ScalingConfig;
  /** Services to scale (the stack's scalable ones); services the file does not list keep a fixed count. */
  services: readonly string[];
  seed: number;
  /** Event time at which the autoscaler starts (the stack's clock now). */
  startEventTime: number;
  setDesiredCount(service: string, n: number): void;
  recordActivity(activity: ScalingActivity): void;
  /** StartTime of activities (default: `wallTimestamp` is what a live stack wants). */
  timestamp?: (eventTime: number) => string;
  /**
   * A local cap on tasks per service (the host's cores): maxCapacity above it is lowered to it,
   * and the change is reported in `notes`.
   */
  maxTasks?: number;
  /** Fixed count for services the file does not list (default 1). */
  fallbackTasks?: number;
}

/** The running adapter. */
export interface LiveAutoscaler {
  /** The stack's period hook: decide every service at `eventTime` (the period's end). */
  onPeriod(metrics: LivePeriodMetrics, eventTime: number): ScalingActivity[];
  /** Current state per service (for status and tests). */
  states(): Record<string, ScalingState>;
  /** Every activity so far, in order. */
  activities(): ScalingActivity[];
  /** What was adapted to run locally (e.g. capped max capacities). */
  notes: string[];
}

/** Activity StartTimes in wall-clock time for a live run: event time mapped through the run's clock. */
export function wallTimestamp(
  clock: EventClockSpec,
  startedAtEpochMs: number,
): (eventTime: number) => string {
  return (t) => new Date(startedAtEpochMs + ((t - clock.eventStart) / clock.timeScale) * 1000).toISOString();
}

/** How many datapoints any policy of `s` can look back on (plus slack for lag and coarser periods). */
function historyNeeded(s: ServiceScaling): number {
  let n = 1;
  for (const p of s.policies) {
    const periods =
      p.type === 'TargetTrackingScaling'
        ? (Math.max(p.alarms.scaleOutDatapoints, p.alarms.scaleInDatapoints) * p.alarms.periodSeconds +
            p.alarms.metricLagSeconds) /
          60
        : (p.alarm.evaluationPeriods * p.alarm.periodSeconds + p.alarm.metricLagSeconds) / 60;
    n = Math.max(n, Math.ceil(periods));
  }
  return n * 2 + 2;
}

/** Creates the adapter and sets every service to its initial desired count. */
export function createLiveAutoscaler(options: LiveAutoscalerOptions): LiveAutoscaler {
  const notes: string[] = [];
  const scalings = new Map<string, ServiceScaling>();
  for (const name of options.services) {
    let s = serviceScalingFor(options.scaling, name, options.fallbackTasks ?? 1);
    const cap = options.maxTasks;
    if (cap !== undefined && s.maxCapacity > cap) {
      notes.push(`${name}: maxCapacity ${s.maxCapacity} lowered to the local cap of ${cap} tasks`);
      s = {
        ...s,
        maxCapacity: cap,
        minCapacity: Math.min(s.minCapacity, cap),
        initialDesired: Math.min(s.initialDesired, cap),
      };
    }
    scalings.set(name, s);
  }
  const states = new Map<string, ScalingState>();
  const histories = new Map<string, MetricDatapoint[]>();
  const all: ScalingActivity[] = [];
  for (const [name, s] of scalings) {
    const state = createScalingState(s, { seed: options.seed, eventTime: options.startEventTime });
    states.set(name, state);
    histories.set(name, []);
    options.setDesiredCount(name, state.desired);
  }
  return {
    notes,
    onPeriod(metrics, eventTime) {
      const out: ScalingActivity[] = [];
      for (const [name, s] of scalings) {
        const history = histories.get(name) as MetricDatapoint[];
        const last = history[history.length - 1];
        const expected = last ? last.t + last.period : metrics.eventTime;
        if (Math.abs(metrics.eventTime - expected) > 1e-6) {
          // The clock was re-anchored (a run set the stack's clock): start the alarms afresh on the
          // new clock, keeping what is in flight (tasks starting, cooldowns) in event time.
          const delta = metrics.eventTime - expected;
          states.set(name, shiftScalingState(states.get(name) as ScalingState, s, delta));
          history.length = 0;
          notes.push(
            `${name}: clock jumped by ${delta}s at event time ${metrics.eventTime}s; alarm history restarted`,
          );
        }
        const m = metrics.services[name];
        history.push({
          t: metrics.eventTime,
          period: metrics.period,
          cpu: m?.cpu ?? null,
          memory: m?.memory ?? null,
          requestsPerTarget: m?.requestCountPerTarget ?? null,
        });
        const keep = historyNeeded(s);
        if (history.length > keep) history.splice(0, history.length - keep);
        const before = states.get(name) as ScalingState;
        const r = decide(s, history, before, Math.max(eventTime, before.lastEventTime), {
          timestamp: options.timestamp,
        });
        states.set(name, r.state);
        if (r.state.desired !== before.desired) options.setDesiredCount(name, r.state.desired);
        for (const a of r.activities) {
          options.recordActivity(a);
          out.push(a);
        }
      }
      all.push(...out);
      return out;
    },
    states: () => Object.fromEntries(states),
    activities: () => [...all],
  };
}
