/**
 * The autoscaler's decision, shared unchanged by the live local stack and the event-scale simulator:
 * `decide(scaling, history, state, eventTime)` → `{state, activities}`. Pure: time is passed in,
 * randomness (task start latencies) comes from the seed in the state, and nothing is read or written.
 *
 * One decision, at a period boundary:
 * 1. Scheduled actions due by `eventTime` set min/max capacity, clamping desired into range, ignoring
 *    cooldowns (pre-warming).
 * 2. Every policy votes (policies/): scale out if ANY policy asks, to the largest capacity asked;
 *    otherwise scale in only if ALL policies that take part ask, to the largest capacity asked (the
 *    smallest reduction). Capacity is clamped to [min, max]; a scale-out ends every scale-in cooldown.
 * 3. Desired-count changes launch tasks (pending → running after a seeded start latency → healthy after
 *    a passing health check) or stop the tasks furthest from serving.
 * 4. Each scaling, and each attempt that could not scale (AlreadyAtMaxCapacity, AlreadyAtMinCapacity),
 *    becomes a ScalingActivity in DescribeScalingActivities' shape. A not-scaled reason is logged once
 *    until it changes (assumption: AWS does not log the same not-scaled reason every minute). A
 *    scale-out also records its `boundary`: the metric's value and where the deciding policy would
 *    have asked for another capacity (none when clamped at the maximum), which AWS does not report.
 */
import { PeakdayError } from '../../core/errors.ts';
import { hash32 } from '../../core/rng.ts';
import type { DecisionBoundary, ScalingActivity } from '../../core/run-format.ts';
import { evaluatePolicy } from './policies/index.ts';
import type { PolicyVote } from './policies/vote.ts';
import { countTasks, initialTask, launchTask, stopTasks } from './tasks.ts';
import type { MetricDatapoint, ScalingState, ServiceScaling, TaskCounts, TaskRecord } from './types.ts';

/** Options of a decision that do not change what is decided. */
export interface DecideOptions {
  /** StartTime for an event time (the live stack maps to wall time; default: epoch + event seconds). */
  timestamp?: (eventTime: number) => string;
}

/** A decision's result: the new state and what happened. */
export interface DecideResult {
  state: ScalingState;
  activities: ScalingActivity[];
}

const defaultTimestamp = (t: number) => new Date(Math.round(t * 1000)).toISOString();

/** The state of a service before its first decision: `initialDesired` tasks, already healthy. */
export function createScalingState(
  scaling: ServiceScaling,
  options: { seed: number; eventTime: number },
): ScalingState {
  const desired = Math.min(scaling.maxCapacity, Math.max(scaling.minCapacity, scaling.initialDesired));
  const tasks = Array.from({ length: desired }, (_, i) => initialTask(i, options.eventTime));
  return {
    service: scaling.service,
    resourceId: scaling.resourceId,
    minCapacity: scaling.minCapacity,
    maxCapacity: scaling.maxCapacity,
    desired,
    tasks,
    nextTaskId: desired,
    policies: Object.fromEntries(scaling.policies.map((p) => [p.name, {}])),
    appliedScheduledActions: [],
    lastEventTime: options.eventTime,
    activitySeq: 0,
    seed: options.seed,
  };
}

/**
 * Moves a state onto a clock that jumped by `delta` event seconds (the stack's clock re-anchored by a
 * run: `POST /_peakday/clock`). Task lifecycles and cooldowns keep their remaining event time; min/max
 * go back to the scalable target's and scheduled actions become due again, so that a pre-warm at 55m
 * applies when the run reaches 55m whatever the stack did before. Pure.
 */
export function shiftScalingState(state: ScalingState, scaling: ServiceScaling, delta: number): ScalingState {
  const s = cloneState(state);
  s.tasks = s.tasks.map((t) => ({
    ...t,
    launchedAt: t.launchedAt + delta,
    runningAt: t.runningAt + delta,
    healthyAt: t.healthyAt + delta,
  }));
  for (const ps of Object.values(s.policies)) {
    if (ps.lastScaleOut) ps.lastScaleOut.at += delta;
    if (ps.lastScaleIn) ps.lastScaleIn.at += delta;
  }
  s.lastEventTime += delta;
  s.minCapacity = scaling.minCapacity;
  s.maxCapacity = scaling.maxCapacity;
  s.appliedScheduledActions = [];
  return s;
}

/** Task counts of a state at an event time (for the timeline and for routing traffic). */
export function tasksAt(state: ScalingState, eventTime: number): TaskCounts {
  return countTasks(state.desired, state.tasks, eventTime);
}

/** A UUID-shaped activity id that is the same for the same seed, service and sequence number. */
function activityId(state: ScalingState): string {
  const label = `${state.seed}:${state.service}:${state.activitySeq}`;
  const hex = [0, 1, 2, 3].map((i) => hash32(`${label}:${i}`).toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

interface Draft {
  state: ScalingState;
  scaling: ServiceScaling;
  eventTime: number;
  timestamp: (t: number) => string;
  activities: ScalingActivity[];
}

function record(
  d: Draft,
  a: Omit<
    ScalingActivity,
    'ActivityId' | 'ServiceNamespace' | 'ResourceId' | 'ScalableDimension' | 'StartTime' | 'eventTime'
  >,
): void {
  const stamp = d.timestamp(d.eventTime);
  d.activities.push({
    ActivityId: activityId(d.state),
    ServiceNamespace: 'ecs',
    ResourceId: d.state.resourceId,
    ScalableDimension: 'ecs:service:DesiredCount',
    StartTime: stamp,
    ...(a.StatusCode === 'Successful' ? { EndTime: stamp } : {}),
    eventTime: d.eventTime,
    ...a,
  });
  d.state.activitySeq++;
}

/** Sets the desired count, launching or stopping tasks. */
function setDesired(d: Draft, desired: number): void {
  const s = d.state;
  if (desired > s.desired) {
    const added: TaskRecord[] = [];
    for (let i = s.desired; i < desired; i++) {
      added.push(launchTask(d.scaling.launch, s.seed, s.service, s.nextTaskId++, d.eventTime));
    }
    s.tasks = s.tasks.concat(added);
  } else if (desired < s.desired) {
    s.tasks = stopTasks(s.tasks, s.tasks.length - desired, d.eventTime);
  }
  s.desired = desired;
}

function applyScheduledActions(d: Draft): void {
  const s = d.state;
  const due = d.scaling.scheduledActions
    .filter((a) => a.at <= d.eventTime && !s.appliedScheduledActions.includes(a.name))
    .sort((a, b) => a.at - b.at);
  for (const action of due) {
    s.appliedScheduledActions.push(action.name);
    if (action.minCapacity !== undefined) s.minCapacity = action.minCapacity;
    if (action.maxCapacity !== undefined) s.maxCapacity = action.maxCapacity;
    if (s.minCapacity > s.maxCapacity) s.maxCapacity = s.minCapacity;
    const from = s.desired;
    const to = Math.min(s.maxCapacity, Math.max(s.minCapacity, from));
    setDesired(d, to);
    record(d, {
      Description:
        to === from
          ? `Setting min capacity to ${s.minCapacity} and max capacity to ${s.maxCapacity}`
          : `Setting desired count to ${to}.`,
      Cause: `scheduled action name ${action.name} was triggered (min ${s.minCapacity}, max ${s.maxCapacity})`,
      StatusCode: 'Successful',
      StatusMessage: `Successfully set min capacity to ${s.minCapacity} and max capacity to ${s.maxCapacity}`,
      fromCapacity: from,
      toCapacity: to,
    });
  }
}

type Named<V> = { name: string; vote: V };

function notScaled(
  d: Draft,
  winner: string,
  cause: string,
  direction: 'out' | 'in',
  wanted: number,
  code: 'AlreadyAtMaxCapacity' | 'AlreadyAtMinCapacity',
): void {
  const s = d.state;
  const ps = s.policies[winner] ?? {};
  s.policies[winner] = ps;
  const key = `${code}:${s.desired}`;
  if (ps.lastNotScaled === key) return;
  ps.lastNotScaled = key;
  record(d, {
    Description: `Attempting to scale ${direction} ${d.scaling.service} to ${wanted} tasks`,
    Cause: cause,
    StatusCode: 'Failed',
    StatusMessage: `Failed to set desired count to ${wanted}`,
    NotScaledReasons: [
      code === 'AlreadyAtMaxCapacity'
        ? { Code: code, MaxCapacity: s.maxCapacity, CurrentCapacity: s.desired }
        : { Code: code, MinCapacity: s.minCapacity, CurrentCapacity: s.desired },
    ],
    fromCapacity: s.desired,
    toCapacity: s.desired,
  });
}

function scale(d: Draft, cause: string, to: number, boundary?: DecisionBoundary): void {
  const from = d.state.desired;
  setDesired(d, to);
  record(d, {
    Description: `Setting desired count to ${to}.`,
    Cause: `${cause} changing the desired capacity from ${from} to ${to}.`,
    StatusCode: 'Successful',
    StatusMessage: `Successfully set desired count to ${to}. Change successfully fulfilled by ecs.`,
    fromCapacity: from,
    toCapacity: to,
    ...(boundary ? { boundary } : {}),
  });
  for (const ps of Object.values(d.state.policies)) ps.lastNotScaled = undefined;
}

function combine(d: Draft, votes: Named<PolicyVote>[]): void {
  const s = d.state;
  const outs = votes.filter((v): v is Named<Extract<PolicyVote, { kind: 'out' }>> => v.vote.kind === 'out');
  if (outs.length > 0) {
    const best = outs.reduce((a, b) => (b.vote.capacity > a.vote.capacity ? b : a));
    const wanted = best.vote.capacity;
    const to = Math.min(s.maxCapacity, wanted);
    if (to > s.desired) {
      const before = s.desired;
      // Clamped at the maximum, the policy's boundaries are not the decision's: none is recorded.
      scale(d, best.vote.cause, to, to === wanted ? best.vote.boundary : undefined);
      const ps = s.policies[best.name] ?? {};
      const last = ps.lastScaleOut;
      const fromCapacity = best.vote.withinCooldown && last ? last.fromCapacity : before;
      // A scale-out starts (or, within cooldown, extends) this policy's cooldown and ends every scale-in cooldown.
      ps.lastScaleOut = { at: d.eventTime, fromCapacity, toCapacity: to };
      s.policies[best.name] = ps;
      for (const other of Object.values(s.policies)) other.lastScaleIn = undefined;
    } else if (wanted > s.desired && s.desired >= s.maxCapacity) {
      notScaled(d, best.name, best.vote.cause, 'out', wanted, 'AlreadyAtMaxCapacity');
    }
    return;
  }
  const participants = votes.filter((v) => v.vote.kind !== 'abstain');
  const ins = participants.filter(
    (v): v is Named<Extract<PolicyVote, { kind: 'in' }>> => v.vote.kind === 'in',
  );
  for (const v of votes)
    if (v.vote.kind !== 'in' && v.vote.kind !== 'out') {
      const ps = s.policies[v.name];
      if (ps) ps.lastNotScaled = undefined;
    }
  if (ins.length === 0 || ins.length !== participants.length) return;
  const best = ins.reduce((a, b) => (b.vote.capacity > a.vote.capacity ? b : a));
  const wanted = best.vote.capacity;
  const to = Math.max(s.minCapacity, wanted);
  if (to < s.desired) {
    scale(d, best.vote.cause, to);
    for (const v of ins) {
      const ps = s.policies[v.name] ?? {};
      ps.lastScaleIn = { at: d.eventTime };
      s.policies[v.name] = ps;
    }
  } else if (s.desired <= s.minCapacity) {
    notScaled(d, best.name, best.vote.cause, 'in', wanted, 'AlreadyAtMinCapacity');
  }
}

function cloneState(s: ScalingState): ScalingState {
  return {
    ...s,
    // Task records are never changed in place (setDesired builds a new list), so they are shared.
    tasks: s.tasks,
    policies: Object.fromEntries(
      Object.entries(s.policies).map(([k, v]) => [
        k,
        {
          ...v,
          ...(v.lastScaleOut ? { lastScaleOut: { ...v.lastScaleOut } } : {}),
          ...(v.lastScaleIn ? { lastScaleIn: { ...v.lastScaleIn } } : {}),
        },
      ]),
    ),
    appliedScheduledActions: [...s.appliedScheduledActions],
  };
}

/**
 * Decides one period boundary for one service. `history` holds the service's completed periods
 * (oldest first); only those visible by `eventTime` (after the alarm's metric lag) are read.
 */
export function decide(
  scaling: ServiceScaling,
  history: readonly MetricDatapoint[],
  state: ScalingState,
  eventTime: number,
  options: DecideOptions = {},
): DecideResult {
  if (eventTime < state.lastEventTime) {
    throw new PeakdayError(
      'autoscaler-time-reversed',
      `autoscaler for ${state.service} asked to decide at event time ${eventTime}s after deciding at ${state.lastEventTime}s`,
      { hint: 'decisions must be made in event-time order' },
    );
  }
  const d: Draft = {
    state: cloneState(state),
    scaling,
    eventTime,
    timestamp: options.timestamp ?? defaultTimestamp,
    activities: [],
  };
  d.state.lastEventTime = eventTime;
  applyScheduledActions(d);
  const votes = scaling.policies.map((policy) => {
    const ps = d.state.policies[policy.name] ?? {};
    d.state.policies[policy.name] = ps;
    const vote = evaluatePolicy({
      policy,
      resourceId: d.state.resourceId,
      desired: d.state.desired,
      eventTime,
      history,
      state: ps,
    });
    return { name: policy.name, vote };
  });
  combine(d, votes);
  return { state: d.state, activities: d.activities };
}
