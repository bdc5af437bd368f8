/**
 * Scale-outs decided near a boundary: a scale-out whose metric read within a small share of the value
 * at which its policy would have asked for another capacity (the activity's `boundary`, recorded by
 * peakday's autoscaler; AWS's activities carry none). Such a decision is a knee: a capacity per task
 * or a demand per request off by that share changes how many tasks the service reached, so a replay,
 * a plan or the next rehearsal can land on either side of it. Worth knowing at a peak: the fleet the
 * event ran on hung on that margin.
 */
import type { CalibrationFile } from '../../core/calibration-file.ts';
import type { Provenance, ScalingActivity } from '../../core/run-format.ts';
import { formatEventTime } from '../renderers/format.ts';
import { activityService } from './scale-out-lag.ts';
import type { Finding } from './types.ts';

/**
 * A scale-out within this share of the value it read from another capacity is reported (assumption,
 * `assumptions.decisionMargin`): the capacity per task a rehearsal measures moves by 1–2% between
 * runs (docs/simulation.md, "the knee"), a host's speed by more.
 */
export const DEFAULT_DECISION_MARGIN = 0.05;

/** One scale-out and how far its metric was from another capacity. */
export interface ScalingMargin {
  service: string;
  eventTime: number;
  from: number;
  to: number;
  metric: string;
  value: number;
  /** At or below it (target tracking; below it for a step) the policy asks for fewer tasks. */
  lower: number | null;
  /** Above it (at or above it for a step) the policy asks for more. */
  upper: number | null;
  /** The nearer boundary's distance from the value, as a share of the value. */
  margin: number;
  side: 'lower' | 'upper';
}

/** The margin of every successful scale-out that recorded a boundary, in event-time order. Pure. */
export function scalingMargins(activities: readonly ScalingActivity[]): ScalingMargin[] {
  const out: ScalingMargin[] = [];
  for (const a of activities) {
    const b = a.boundary;
    if (a.StatusCode !== 'Successful' || !b || !(b.value > 0)) continue;
    const below = b.lower === null ? Number.POSITIVE_INFINITY : (b.value - b.lower) / b.value;
    const above = b.upper === null ? Number.POSITIVE_INFINITY : (b.upper - b.value) / b.value;
    if (!Number.isFinite(Math.min(below, above))) continue;
    out.push({
      service: activityService(a),
      eventTime: a.eventTime,
      from: a.fromCapacity ?? 0,
      to: a.toCapacity ?? 0,
      metric: b.metric,
      value: b.value,
      lower: b.lower,
      upper: b.upper,
      margin: Math.max(0, Math.min(below, above)),
      side: below <= above ? 'lower' : 'upper',
    });
  }
  return out.sort((x, y) => x.eventTime - y.eventTime);
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const num = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));
/**
 * A finding per scale-out within `threshold` of another capacity. `calibration`, when the run has
 * one, says whether the capacity's own measured uncertainty spans the margin. Pure.
 */
export function scalingMarginFindings(
  margins: readonly ScalingMargin[],
  provenanceOf: (service: string) => Provenance,
  threshold: number,
  calibration: CalibrationFile | null,
): Finding[] {
  return margins
    .filter((m) => m.margin < threshold)
    .map((m) => {
      const fewer = m.side === 'lower';
      const boundary = (fewer ? m.lower : m.upper) as number;
      const uncertainty = calibration?.services[m.service]?.uncertainty;
      const evidence = [
        `${m.metric} read ${num(m.value)} at ${formatEventTime(m.eventTime)} and the policy scaled ${m.service} from ${m.from} to ${m.to} tasks`,
        fewer
          ? `at or below ${num(boundary)} (${pct(m.margin)} lower) it asks for fewer tasks`
          : `above ${num(boundary)} (${pct(m.margin)} higher) it asks for more tasks`,
        `a capacity per task or a demand per request ${pct(m.margin)} off changes the task count this run reached: a replay, a plan or the next rehearsal can land on either side of this decision`,
      ];
      if (uncertainty !== undefined)
        evidence.push(
          uncertainty >= m.margin
            ? `the capacity per task measured in this run is ±${pct(uncertainty)}: the margin is inside it`
            : `the capacity per task measured in this run is ±${pct(uncertainty)}: the margin is outside it`,
        );
      if (fewer)
        evidence.push(
          `for a fleet that does not hang on it: a scheduled minimum of ${m.to} tasks for ${m.service} from before ${formatEventTime(m.eventTime)}, or a lower target`,
        );
      return {
        id: `scaling-margin/${m.service}@${m.eventTime}`,
        kind: 'scaling-margin' as const,
        severity: 'info' as const,
        title: `${m.service}'s scale-out to ${m.to} tasks at ${formatEventTime(m.eventTime)} was ${pct(m.margin)} from asking for ${fewer ? 'fewer' : 'more'}`,
        service: m.service,
        window: { start: m.eventTime, end: m.eventTime },
        value: m.margin,
        unit: 'share of the metric',
        provenance: provenanceOf(m.service),
        evidence,
        assumptions: [
          `reported within ${pct(threshold)} of the value read (assumption: assumptions.decisionMargin)`,
        ],
        data: { ...m, threshold, ...(uncertainty !== undefined ? { uncertainty } : {}) },
      };
    });
}

/** How far from a live scale-out a replay's is still the same decision (s). */
const REPLAY_MATCH_SECONDS = 120;

/**
 * Lines for a rehearsal's agreement section: each of the live run's scale-outs within `threshold` of
 * another capacity, and what each replay decided at the same time (its scale-out of the service
 * nearest in time, within two minutes). A replay's task count can differ from the live run's at such a decision without a
 * bias in the model. Empty when none is that near. Pure.
 */
export function describeLiveMargins(
  live: readonly ScalingActivity[],
  replays: readonly { label: string; activities: readonly ScalingActivity[] }[],
  threshold: number,
  calibration: CalibrationFile | null,
): string[] {
  const near = scalingMargins(live).filter((m) => m.margin < threshold);
  if (near.length === 0) return [];
  const replayed = (acts: readonly ScalingActivity[], m: ScalingMargin): string => {
    // The replay's scale-out of the service nearest in time, within two minutes either side (a replay
    // may decide a period earlier or later than the live stack).
    let a: ScalingActivity | undefined;
    for (const x of acts)
      if (
        x.StatusCode === 'Successful' &&
        activityService(x) === m.service &&
        (x.toCapacity ?? 0) > (x.fromCapacity ?? 0) &&
        Math.abs(x.eventTime - m.eventTime) <= REPLAY_MATCH_SECONDS &&
        (!a || Math.abs(x.eventTime - m.eventTime) < Math.abs(a.eventTime - m.eventTime))
      )
        a = x;
    if (!a) return `no scale-out within ${REPLAY_MATCH_SECONDS / 60} min`;
    const when = a.eventTime === m.eventTime ? '' : ` at ${formatEventTime(a.eventTime)}`;
    return `${a.boundary ? `${num(a.boundary.value)} → ` : ''}${a.fromCapacity} to ${a.toCapacity} tasks${when}`;
  };
  return [
    `Scale-outs of the live run within ${pct(threshold)} of another capacity (a replay can land on either side of them; its tasks can differ there without a bias in the model):`,
    ...near.map((m) => {
      const fewer = m.side === 'lower';
      const boundary = (fewer ? m.lower : m.upper) as number;
      const u = calibration?.services[m.service]?.uncertainty;
      return `- ${m.service} at ${formatEventTime(m.eventTime)}: ${m.metric} ${num(m.value)} → ${m.from} to ${m.to} tasks; ${fewer ? `at or below ${num(boundary)} (${pct(m.margin)} lower) fewer` : `above ${num(boundary)} (${pct(m.margin)} higher) more`}${u !== undefined ? ` (capacity measured ±${pct(u)})` : ''}. ${replays.map((r) => `${r.label}: ${replayed(r.activities, m)}`).join('; ')}.`;
    }),
  ];
}
