/**
 * Scale-out lag per service: from a step in the traffic a service receives to the time the capacity
 * it scaled to is running (in service). A step is a period whose rate is at least
 * {@link STEP_RATIO}× the median of the preceding periods; the capacity it needed is the most tasks
 * running before the next step. Scaling activities (DescribeScalingActivities) add the decision time.
 */
import type { ScalingActivity } from '../../core/run-format.ts';
import type { ServiceSeries } from './service-series.ts';
import type { Finding } from './types.ts';

/** A rise to at least this multiple of the preceding level counts as a step. */
export const STEP_RATIO = 1.5;
/** Event seconds of history that define the level before a step. */
export const STEP_LOOKBACK_SECONDS = 300;

/** One measured scale-out. */
export interface ScaleOut {
  service: string;
  stepAt: number;
  rateBefore: number;
  rateAfter: number;
  tasksBefore: number;
  tasksAfter: number;
  /** Event seconds from the step until `tasksAfter` were running; null if never reached in the run. */
  lagSeconds: number | null;
  /** Event seconds from the step to the first scaling activity for the service, if any. */
  decisionSeconds: number | null;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The service name inside an activity's ResourceId `service/<cluster>/<service>`. */
export function activityService(a: ScalingActivity): string {
  const parts = a.ResourceId.split('/');
  return parts[parts.length - 1] ?? a.ResourceId;
}

/**
 * Finds steps and measures each one's lag. A step needs a measured rate: periods without the
 * service's request metric are no data, never zero (a rise from an unknown level is not a step), and
 * a service with no request metric at all has no steps (see {@link unknownScaleOutFindings}).
 */
export function computeScaleOuts(s: ServiceSeries, activities: ScalingActivity[]): ScaleOut[] {
  const n = s.times.length;
  const look = Math.max(2, Math.ceil(STEP_LOOKBACK_SECONDS / (s.period || 60)));
  const rate = s.rps.map((r) => r ?? 0);
  const measured = s.rps.map((r) => r !== null);
  const maxRate = Math.max(0, ...rate);
  const steps: number[] = [];
  if (maxRate <= 0) return [];
  for (let i = 1; i < n; i++) {
    if (!measured[i]) continue;
    const known = rate.slice(Math.max(0, i - look), i).filter((_, k) => measured[Math.max(0, i - look) + k]);
    if (known.length === 0) continue;
    const level = median(known);
    if (rate[i]! > level && rate[i]! >= STEP_RATIO * level && rate[i]! - level >= 0.1 * maxRate) {
      const last = steps[steps.length - 1];
      // A ramp over consecutive periods is one step.
      if (last !== undefined && i - last <= look) continue;
      steps.push(i);
    }
  }
  const acts = activities
    .filter((a) => activityService(a) === s.name && (a.toCapacity ?? 0) >= (a.fromCapacity ?? 0))
    .sort((a, b) => a.eventTime - b.eventTime);
  return steps.map((i, k) => {
    const end = steps[k + 1] ?? n;
    const before = s.running[i - 1] ?? s.running[i]!;
    const hist = rate.slice(Math.max(0, i - look), i);
    let target = before;
    let peakRate = 0;
    for (let j = i; j < end; j++) {
      target = Math.max(target, s.running[j]!);
      peakRate = Math.max(peakRate, rate[j]!);
    }
    let lag: number | null = 0;
    if (target > before) {
      lag = null;
      for (let j = i; j < end; j++)
        if (s.running[j]! >= target) {
          lag = s.times[j]! - s.times[i]!;
          break;
        }
    }
    const stepAt = s.times[i]!;
    const act = acts.find(
      (a) =>
        a.eventTime >= stepAt - (s.period || 60) && a.eventTime < (s.times[end] ?? Number.POSITIVE_INFINITY),
    );
    return {
      service: s.name,
      stepAt,
      rateBefore: median(hist),
      rateAfter: peakRate,
      tasksBefore: before,
      tasksAfter: target,
      lagSeconds: lag,
      decisionSeconds: act ? Math.max(0, act.eventTime - stepAt) : null,
    };
  });
}

const mins = (s: number) => `${(s / 60).toFixed(1)} min`;

/**
 * Services whose tasks rose while no traffic step could be measured for them: their scale-out lag is
 * unknown, and the finding says why (no request metric: neither a load balancer target group nor
 * Service Connect; or no step in the measured traffic), never "0 min".
 */
export function unknownScaleOutFindings(
  series: readonly ServiceSeries[],
  outs: readonly ScaleOut[][],
  provenance: (s: ServiceSeries) => Finding['provenance'],
): Finding[] {
  const found: Finding[] = [];
  series.forEach((s, k) => {
    if ((outs[k] ?? []).some((o) => o.tasksAfter > o.tasksBefore)) return;
    const first = s.running.find((x) => x > 0) ?? 0;
    const peak = Math.max(0, ...s.running);
    if (!(peak > first)) return;
    const noMetric = s.rps.every((r) => r === null);
    found.push({
      id: `scale-out-lag/${s.name}@unknown`,
      kind: 'scale-out-lag',
      severity: 'info',
      service: s.name,
      title: `${s.name}: scale-out lag unknown (tasks ${first} → ${peak})`,
      provenance: provenance(s),
      evidence: [
        noMetric
          ? 'no per-service request metric: the service has neither a load balancer target group nor Service Connect metrics in the timeline, so no traffic step can be measured'
          : 'no traffic step (a rise to 1.5× the preceding level) in the measured request rate before the tasks rose',
        `tasks rose from ${first} to ${peak} in the window`,
      ],
      data: {
        service: s.name,
        tasksBefore: first,
        tasksAfter: peak,
        reason: noMetric ? 'no-request-metric' : 'no-step',
      },
    });
  });
  return found;
}

/** One finding per step that needed more tasks. */
export function scaleOutFindings(
  outs: ScaleOut[],
  period: number,
  provenance: Finding['provenance'],
): Finding[] {
  return outs
    .filter((o) => o.tasksAfter > o.tasksBefore)
    .map((o) => ({
      id: `scale-out-lag/${o.service}@${o.stepAt}`,
      kind: 'scale-out-lag',
      severity: o.lagSeconds === null || o.lagSeconds > 300 ? 'warning' : 'info',
      service: o.service,
      title:
        o.lagSeconds === null
          ? `${o.service}: scaled out from ${o.tasksBefore} tasks after the step but never reached ${o.tasksAfter} in the run`
          : `${o.service}: ${mins(o.lagSeconds)} from a traffic step to ${o.tasksAfter} tasks in service`,
      window: { start: o.stepAt, end: o.stepAt + (o.lagSeconds ?? 0) + period },
      ...(o.lagSeconds !== null ? { value: o.lagSeconds, unit: 's' } : {}),
      provenance,
      evidence: [
        `traffic ${o.rateBefore.toFixed(1)} → ${o.rateAfter.toFixed(1)} rps at event ${o.stepAt}s`,
        `tasks ${o.tasksBefore} → ${o.tasksAfter}`,
        o.decisionSeconds === null
          ? 'no scaling activity recorded for this step'
          : `first scaling activity ${mins(o.decisionSeconds)} after the step (the rest is task start and health checks)`,
        `resolution: ${period} s timeline periods`,
      ],
      data: { ...o },
    }));
}
