/**
 * Reading a k6 metric threshold (`cart_value: ['med>0']`, `orders_placed: ['count>10']`,
 * `vus: ['value<100']`, `iteration_duration: ['p(95)<2000']`) from a run's per-second metric
 * records (`metrics.ndjson`, written by `peakday import k6`). Pure. k6's semantics, over the whole run
 * after the warm-up (k6 thresholds are whole-run):
 *
 * - Trend: `avg` (sum / count, exact), `min`, `max` (exact), `med`, `p(N)` (HDR, 0.1%);
 * - Counter: `count` (the sum of the values), `rate` (the sum per second of the run);
 * - Rate: `rate` (non-zero samples / samples);
 * - Gauge: `value` (the last sample), `min`, `max`.
 *
 * A CSV output imported without a summary leaves custom metrics' type `unknown`; the aggregation then
 * decides (count → Counter, rate → Rate, value → Gauge, the rest → Trend) and the verdict says so.
 */
import type { K6MetricType, MetricRecord } from '../../core/run-format.ts';
import type { Budget } from '../../scenarios/budgets/budget.ts';
import type { Observation } from '../../scenarios/budgets/observe.ts';
import { inScope } from '../../scenarios/budgets/slices.ts';
import {
  addSparse,
  createDense,
  decodeSparse,
  valueAtPercentile,
} from '../../scenarios/budgets/sparse-histogram.ts';

/** Aggregations k6 allows per metric type. */
export const K6_AGGREGATIONS: Record<Exclude<K6MetricType, 'unknown'>, readonly string[]> = {
  trend: ['avg', 'min', 'max', 'percentile'],
  counter: ['count', 'rate'],
  rate: ['rate'],
  gauge: ['value', 'min', 'max'],
};

/** The type an aggregation implies when the metric's type is unknown. */
function assumedType(kind: string): Exclude<K6MetricType, 'unknown'> {
  return kind === 'count' ? 'counter' : kind === 'rate' ? 'rate' : kind === 'value' ? 'gauge' : 'trend';
}

/** What a k6 metric budget observed, plus caveats for the verdict. */
export interface K6MetricObservation {
  observation: Observation;
  notes: string[];
}

/**
 * Observes a k6 metric budget over `records` (every metric record of the run) from event time
 * `fromT`; `durationSeconds` is the run's length (a Counter's `rate`).
 */
export function observeK6Metric(
  budget: Pick<Budget, 'metricName' | 'stat' | 'scope'>,
  records: readonly MetricRecord[],
  fromT: number,
  durationSeconds: number,
): K6MetricObservation {
  const notes: string[] = [];
  const mine = records.filter(
    (r) => r.metric === budget.metricName && r.t >= fromT && inScope(r, budget.scope),
  );
  if (mine.length === 0) {
    return {
      observation: { ok: false, samples: 0, reason: `no ${budget.metricName} samples in scope` },
      notes,
    };
  }
  const declared = mine.find((r) => r.type !== 'unknown')?.type ?? 'unknown';
  const kind = budget.stat.kind;
  let type: Exclude<K6MetricType, 'unknown'>;
  if (declared === 'unknown') {
    type = assumedType(kind);
    notes.push(
      `k6's CSV output does not say what type ${budget.metricName} is; "${kind}" reads it as a ${type} (import with --summary to know)`,
    );
  } else type = declared;
  if (!K6_AGGREGATIONS[type].includes(kind)) {
    return {
      observation: {
        ok: false,
        samples: 0,
        reason: `"${kind === 'percentile' ? `p(${(budget.stat as { p: number }).p})` : kind}" does not apply to ${budget.metricName}, a k6 ${type} (it takes ${K6_AGGREGATIONS[type].join(', ')})`,
      },
      notes,
    };
  }
  let count = 0;
  let sum = 0;
  let nonZero = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let last = 0;
  let lastMs = Number.NEGATIVE_INFINITY;
  let negative = 0;
  for (const r of mine) {
    count += r.count;
    sum += r.sum;
    nonZero += r.nonZero;
    if (r.min < min) min = r.min;
    if (r.max > max) max = r.max;
    if (r.lastMs >= lastMs) {
      last = r.last;
      lastMs = r.lastMs;
    }
    negative += r.negative ?? 0;
  }
  const ok = (value: number, samples = count): K6MetricObservation => ({
    observation: { ok: true, samples, value, simulated: false },
    notes,
  });
  switch (kind) {
    case 'count':
      return ok(sum);
    case 'rate':
      if (type === 'counter') {
        if (!(durationSeconds > 0))
          return { observation: { ok: false, samples: count, reason: 'the run has no duration' }, notes };
        return ok(sum / durationSeconds);
      }
      return ok(nonZero / count);
    case 'value':
      return ok(last);
    case 'min':
      return ok(min);
    case 'max':
      return ok(max);
    case 'avg':
      return ok(sum / count);
    default: {
      if (negative > 0) {
        return {
          observation: {
            ok: false,
            samples: count,
            reason: `${negative} of ${budget.metricName}'s samples are negative; peakday keeps percentiles of non-negative values only`,
          },
          notes,
        };
      }
      const dense = createDense();
      for (const r of mine) if (r.hist) addSparse(dense, decodeSparse(r.hist), 1);
      const p = (budget.stat as { p: number }).p;
      return ok(valueAtPercentile(dense, p) / 1000);
    }
  }
}
