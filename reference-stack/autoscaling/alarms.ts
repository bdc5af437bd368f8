/**
 * The CloudWatch side of the emulation: turns a service's per-period metric history into the
 * datapoints an alarm sees at an event time, and evaluates "M out of N datapoints breaching". Pure.
 */
import type { ComparisonOperator, MetricDatapoint, MetricKey } from './types.ts';

/** How datapoints inside one alarm period are combined (the alarm's statistic). */
export type Aggregation = 'Average' | 'Minimum' | 'Maximum';

const EPS = 1e-9;

/**
 * The last `count` alarm-period values visible at `eventTime`, oldest first; `null` where the period
 * has no datapoint. A period is visible once it has ended and `lagSeconds` have passed. Alarm periods
 * are aligned to the history's own grid (its first datapoint), so a 60-s alarm reads 60-s datapoints
 * one to one and a 300-s alarm combines five.
 */
export function alarmDatapoints(
  history: readonly MetricDatapoint[],
  key: MetricKey,
  periodSeconds: number,
  lagSeconds: number,
  eventTime: number,
  count: number,
  aggregation: Aggregation = 'Average',
): (number | null)[] {
  const out: (number | null)[] = new Array(count).fill(null);
  const first = history[0];
  if (!first || count <= 0) return out;
  const anchor = first.t;
  const horizon = eventTime - lagSeconds;
  const end0 = anchor + Math.floor((horizon - anchor + EPS) / periodSeconds) * periodSeconds;
  const start = end0 - count * periodSeconds;
  const sums = new Array<number>(count).fill(0);
  const ns = new Array<number>(count).fill(0);
  const mins = new Array<number>(count).fill(Number.POSITIVE_INFINITY);
  const maxs = new Array<number>(count).fill(Number.NEGATIVE_INFINITY);
  for (let i = history.length - 1; i >= 0; i--) {
    const d = history[i] as MetricDatapoint;
    if (d.t < start - EPS) break;
    if (d.t + d.period > end0 + EPS) continue;
    const v = d[key];
    if (v === null || !Number.isFinite(v)) continue;
    const j = Math.floor((end0 - d.t - EPS) / periodSeconds);
    if (j < 0 || j >= count) continue;
    sums[j] = (sums[j] as number) + v;
    ns[j] = (ns[j] as number) + 1;
    mins[j] = Math.min(mins[j] as number, v);
    maxs[j] = Math.max(maxs[j] as number, v);
  }
  for (let j = 0; j < count; j++) {
    const n = ns[j] as number;
    if (n === 0) continue;
    const value =
      aggregation === 'Minimum' ? mins[j] : aggregation === 'Maximum' ? maxs[j] : (sums[j] as number) / n;
    out[count - 1 - j] = value as number;
  }
  return out;
}

/** The comparison operators of CloudWatch alarms. */
export const comparisons = {
  GreaterThanOrEqualToThreshold: (v: number, th: number) => v >= th,
  GreaterThanThreshold: (v: number, th: number) => v > th,
  LessThanThreshold: (v: number, th: number) => v < th,
  LessThanOrEqualToThreshold: (v: number, th: number) => v <= th,
} satisfies Record<ComparisonOperator, (v: number, th: number) => boolean>;

/** CloudWatch alarm states. */
export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/**
 * Evaluates "`datapointsToAlarm` of the last N datapoints breach". With no datapoint at all the alarm
 * is INSUFFICIENT_DATA; missing datapoints otherwise count as not breaching (CloudWatch's
 * TreatMissingData=missing keeps the state, which for a steady series amounts to the same).
 */
export function evaluateAlarm(
  values: readonly (number | null)[],
  breaches: (v: number) => boolean,
  datapointsToAlarm: number,
): AlarmState {
  let present = 0;
  let breaching = 0;
  for (const v of values) {
    if (v === null) continue;
    present++;
    if (breaches(v)) breaching++;
  }
  if (present === 0) return 'INSUFFICIENT_DATA';
  if (breaching >= datapointsToAlarm) return 'ALARM';
  return 'OK';
}
