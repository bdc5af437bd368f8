/**
 * Reading a timeline budget (`service_cpu{service:cart}: ['max<80']`, scenarios/budgets/timeline-metrics.ts)
 * from a run's timeline (`timeline.ndjson`, `peakday collect`). Pure. Each timeline period of the
 * service that overlaps the run after the warm-up is one reading; `max`, `min`, `avg`, `value` (the last period) and
 * `count` (the sum) aggregate them.
 *
 * Missing data is never a pass: a period whose datapoint is missing (the record's `missing`, or a
 * period the service reported nothing in, `noData`) is listed with its event-time range, and a budget
 * that holds on the periods that are there is "no verdict" (gate exit 98) because of the ones that are
 * not. A breach in the periods that are there is still a breach.
 */
import type { TimelineRecord } from '../../core/run-format.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import { timelineMetric } from '../../scenarios/budgets/timeline-metrics.ts';

/** What a timeline budget observed. */
export type TimelineObservation =
  | {
      ok: true;
      value: number;
      /** Periods read. */
      samples: number;
      /** Periods whose datapoint is missing, as one sentence naming service, metric and ranges; null when none. */
      missing: string | null;
    }
  | { ok: false; samples: number; reason: string };

/**
 * Observes a timeline budget over `timeline` (null: the run has none): the periods that overlap
 * event times [fromT, toT), the run after its warm-up (collect reads a period either side of it).
 */
export function observeTimelineMetric(
  budget: Pick<Budget, 'metricName' | 'stat' | 'scope'>,
  timeline: readonly TimelineRecord[] | null,
  fromT: number,
  toT = Number.POSITIVE_INFINITY,
  /** The run's clock, to name missing periods in UTC as well as event seconds. */
  clock?: { startedAtMs: number; eventStart: number; timeScale: number },
): TimelineObservation {
  const utc = (t: number) =>
    clock && Number.isFinite(clock.startedAtMs)
      ? new Date(clock.startedAtMs + ((t - clock.eventStart) / clock.timeScale) * 1000)
          .toISOString()
          .slice(11, 16)
      : null;
  const metric = timelineMetric(budget.metricName);
  const service = budget.scope.service;
  if (!metric || !service)
    return { ok: false, samples: 0, reason: `${budget.metricName} is not a timeline metric with a service` };
  if (!timeline || timeline.length === 0)
    return {
      ok: false,
      samples: 0,
      reason: `the run has no timeline (timeline.ndjson), so ${budget.metricName} of ${service} cannot be read: run \`peakday collect\` on the run directory first`,
    };
  const mine = timeline
    .filter((r) => r.service === service && r.t + r.period > fromT && r.t < toT)
    .sort((a, b) => a.t - b.t);
  if (mine.length === 0) {
    const services = [...new Set(timeline.map((r) => r.service))].sort();
    return {
      ok: false,
      samples: 0,
      reason: `the timeline has no period of service ${service} (it has ${services.join(', ') || 'none'})`,
    };
  }
  const values: number[] = [];
  const gaps: { start: number; end: number }[] = [];
  for (const r of mine) {
    const raw = (r as unknown as Record<string, number | null | undefined>)[metric.field];
    const absent = r.noData || r.missing?.includes(metric.field) || raw === null || raw === undefined;
    if (absent) {
      const last = gaps[gaps.length - 1];
      if (last && Math.abs(last.end - r.t) < 1e-9) last.end = r.t + r.period;
      else gaps.push({ start: r.t, end: r.t + r.period });
      continue;
    }
    values.push(raw as number);
  }
  const missingPeriods = mine.length - values.length;
  const missing =
    missingPeriods > 0
      ? `${service}: ${metric.what} (${metric.field}) missing in ${missingPeriods} of ${mine.length} periods (event ${gaps
          .map((g) => {
            const [a, b] = [utc(g.start), utc(g.end)];
            return `${g.start}–${g.end} s${a && b ? `, ${a}–${b} UTC` : ''}`;
          })
          .join('; ')})`
      : null;
  if (values.length === 0) return { ok: false, samples: 0, reason: `${missing}: no period has a datapoint` };
  let value: number;
  switch (budget.stat.kind) {
    case 'max':
      value = Math.max(...values);
      break;
    case 'min':
      value = Math.min(...values);
      break;
    case 'avg':
      value = values.reduce((a, b) => a + b, 0) / values.length;
      break;
    case 'count':
      value = values.reduce((a, b) => a + b, 0);
      break;
    case 'value':
      value = values[values.length - 1]!;
      break;
    default:
      return {
        ok: false,
        samples: values.length,
        reason: `${budget.metricName} takes max, min, avg, value or count`,
      };
  }
  return { ok: true, value, samples: values.length, missing };
}
