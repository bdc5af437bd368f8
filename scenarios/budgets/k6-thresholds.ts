/**
 * `exportK6Thresholds(budgets)`: budgets as a k6 `options.thresholds` object, for `peakday profile
 * export-k6 --budgets`. Every difference in meaning becomes a warning rather than a silent change:
 * k6 measures latency from send time (so intended-start budgets become `http_req_duration`, which
 * hides coordinated omission), evaluates thresholds over the whole run (no sliding windows, no
 * warm-up; k6 issue #2379), has no minimum sample count, and has no dropped-iteration rate.
 * Budgets written in k6 form come back exactly as written.
 */
import { formatDuration } from '../../core/duration.ts';
import type { Budget, BudgetMetric, BudgetStat } from './budget.ts';

/** A k6 threshold: an expression, or the object form with abortOnFail. */
export type K6ThresholdEntry = string | { threshold: string; abortOnFail: boolean; delayAbortEval?: string };

/** The k6 thresholds object and what the user must know about it. */
export interface K6ThresholdsExport {
  thresholds: Record<string, K6ThresholdEntry[]>;
  warnings: string[];
}

/** k6 metric for each budget metric; null when k6 has no equivalent. */
const k6MetricFor = {
  latency: 'http_req_duration',
  latency_send: 'http_req_duration',
  error_rate: 'http_req_failed',
  check_pass_rate: 'checks',
  dropped_count: 'dropped_iterations',
  dropped_rate: null,
  k6_metric: null,
  timeline: null,
  unsupported: null,
} as const satisfies Record<BudgetMetric, string | null>;

function k6Aggregation(stat: BudgetStat): string {
  return stat.kind === 'percentile' ? `p(${stat.p})` : stat.kind;
}

function k6Number(x: number): string {
  return String(Math.round(x * 1e9) / 1e9);
}

/** Converts budgets to k6 thresholds plus warnings for everything k6 cannot express the same way. */
export function exportK6Thresholds(budgets: readonly Budget[]): K6ThresholdsExport {
  const thresholds: Record<string, K6ThresholdEntry[]> = {};
  const warnings: string[] = [];
  let sendTimeWarned = false;
  let minSamplesWarned = false;
  const add = (key: string, entry: K6ThresholdEntry) => {
    const list = thresholds[key] ?? [];
    list.push(entry);
    thresholds[key] = list;
  };
  for (const b of budgets) {
    const where = `budget "${b.name}" (${b.source.file}${b.source.line ? `:${b.source.line}` : ''})`;
    let key: string;
    let expression: string;
    if (b.form === 'k6') {
      const tags = Object.entries(b.scope).map(([k, v]) => `${k}:${v}`);
      key = b.source.path.startsWith('thresholds.')
        ? keyFromPath(b)
        : `${b.metricName}${tags.length ? `{${tags.join(',')}}` : ''}`;
      expression = b.expression;
      if (b.metric === 'latency') {
        warnings.push(
          `${where}: peakday_latency is a peakday metric; a k6 script must define it as a custom Trend or k6 will ignore the threshold`,
        );
      }
    } else {
      const metric = k6MetricFor[b.metric];
      if (metric === null) {
        warnings.push(
          `${where}: k6 has no dropped-iteration rate (dropped_iterations is a counter); not exported`,
        );
        continue;
      }
      const tags = (['channel', 'journey', 'step'] as const)
        .filter((k) => b.scope[k] !== undefined)
        .map((k) => `${k}:${b.scope[k]}`);
      key = `${metric}${tags.length > 0 ? `{${tags.join(',')}}` : ''}`;
      expression = `${k6Aggregation(b.stat)}${b.op}${k6Number(b.limit)}`;
      if (b.metric === 'latency' && !sendTimeWarned) {
        sendTimeWarned = true;
        warnings.push(
          'k6 measures latency from send time: intended-start (latency) budgets are exported as http_req_duration, which leaves out the time a request waited to be sent (coordinated omission), so k6 may pass a run peakday would fail',
        );
      }
    }
    if (b.windowSeconds !== null) {
      warnings.push(
        `${where}: k6 thresholds cover the whole run; the ${formatDuration(b.windowSeconds)} sliding window is not exported (a bad minute can average away, k6 issue #2379)`,
      );
    }
    if (b.warmupSeconds > 0) {
      warnings.push(
        `${where}: k6 thresholds have no warm-up; the first ${formatDuration(b.warmupSeconds)} are included`,
      );
    }
    if (b.minSamples > 0 && !minSamplesWarned && b.form === 'native') {
      minSamplesWarned = true;
      warnings.push(
        'k6 thresholds have no minimum sample count: on thin data k6 passes or fails where peakday says inconclusive',
      );
    }
    if (b.abortOnFail) {
      const delay = b.delayAbortEvalSeconds + b.warmupSeconds;
      add(key, {
        threshold: expression,
        abortOnFail: true,
        ...(delay > 0 ? { delayAbortEval: formatDuration(delay) } : {}),
      });
      if (delay > 0)
        warnings.push(
          `${where}: k6's delayAbortEval counts wall time; ${formatDuration(delay)} of event time was written as is`,
        );
    } else add(key, expression);
  }
  return { thresholds, warnings };
}

/** The k6 form's original key (`http_req_duration{channel:web}`), recovered from the budget's name. */
function keyFromPath(b: Budget): string {
  const suffix = `: ${b.expression}`;
  return b.name.endsWith(suffix) ? b.name.slice(0, -suffix.length) : b.metricName;
}
