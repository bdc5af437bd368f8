/**
 * The budget model: what a parsed budgets file (native `budgets:` or k6 `thresholds:`) becomes. The
 * parser, the evaluator, the abort rule, the k6 export and the renderers all share this one shape, so
 * the two input forms cannot drift apart in meaning.
 */

/**
 * What a budget measures. Latencies are in milliseconds; rates are fractions 0..1.
 * - `latency`: from the intended start (coordinated-omission safe; k6 runs cannot supply it)
 * - `latency_send`: from the actual send (k6's `http_req_duration`)
 * - `error_rate`: failed requests / requests (k6's `http_req_failed`)
 * - `dropped_rate`: dropped iterations / planned iterations
 * - `dropped_count`: dropped iterations (k6's `dropped_iterations`, a counter)
 * - `check_pass_rate`: passed checks / all checks (k6's `checks`)
 * - `k6_metric`: any other k6 metric (custom Trend/Counter/Rate/Gauge, `iteration_duration`, `vus`, ...)
 *   read from the run's per-second `metrics.ndjson` (`peakday import k6`), judged over the whole run
 * - `unsupported`: a k6 metric peakday does not record; always inconclusive, with the reason
 * - `timeline`: a service's metric from the run's timeline (`peakday collect`), in k6 form with a
 *   `service` tag (`service_cpu{service:cart}: ['max<80']`); periods without a datapoint give no verdict
 */
export type BudgetMetric =
  | 'latency'
  | 'latency_send'
  | 'error_rate'
  | 'dropped_rate'
  | 'dropped_count'
  | 'check_pass_rate'
  | 'k6_metric'
  | 'timeline'
  | 'unsupported';

/** Which aggregation of the metric the limit applies to. */
export type BudgetStat =
  | { kind: 'percentile'; p: number }
  | { kind: 'max' }
  | { kind: 'min' }
  | { kind: 'avg' }
  | { kind: 'rate' }
  | { kind: 'count' }
  | { kind: 'value' };

export type BudgetOp = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** Tag filter: every given tag must match a series record's tag. */
export interface BudgetScope {
  channel?: string;
  journey?: string;
  step?: string;
  /** k6 tags, kept by `peakday import k6` (k6 thresholds only). */
  scenario?: string;
  group?: string;
  /** The service a `timeline` budget reads (timeline budgets only). */
  service?: string;
}

/** One budget: one metric, one aggregation, one comparison, one scope. */
export interface Budget {
  /** Stable, unique within the file; used as the JUnit testcase name and in JSON output. */
  id: string;
  /** Human name as written (native `name`, or the k6 `metric{tags}: expression`). */
  name: string;
  form: 'native' | 'k6';
  /** Where it was written, for every message about it. */
  source: { file: string; line?: number; column?: number; path: string };
  metric: BudgetMetric;
  /** The metric as the user wrote it (`latency`, `http_req_duration`, `peakday_latency`, ...). */
  metricName: string;
  stat: BudgetStat;
  op: BudgetOp;
  /** Milliseconds for latencies, a fraction for rates, a number for counts. */
  limit: number;
  /** The comparison as written, e.g. `p95 < 2s` or `p(95)<500`. */
  expression: string;
  scope: BudgetScope;
  /** Sliding window length in event seconds; null evaluates the whole run at once. */
  windowSeconds: number | null;
  /** Event seconds from the run's start that are not evaluated. */
  warmupSeconds: number;
  /** Fewer samples than this (in the run, or in a window) cannot give a verdict. */
  minSamples: number;
  /** Whether `minSamples` was written by the user or derived from the statistic (docs/budgets.md). */
  minSamplesDerived: boolean;
  /** Stop the load as soon as it is breached (through the engine's AbortRule hook). */
  abortOnFail: boolean;
  /** k6 `delayAbortEval`: event seconds after the warm-up before abortOnFail may fire. */
  delayAbortEvalSeconds: number;
  /** Why peakday cannot evaluate this budget at all (unsupported k6 metric or tag); the verdict is inconclusive. */
  unsupported?: string;
  /** Caveats shown with the verdict (e.g. a k6 tag filter peakday approximates). */
  notes: string[];
}

/** A parsed budgets file. */
export interface BudgetSet {
  file: string;
  budgets: Budget[];
}

/** True when the metric is a latency (ms) and takes latency statistics. */
export function isLatencyMetric(metric: BudgetMetric): boolean {
  return metric === 'latency' || metric === 'latency_send';
}

/** `p95`, `p99.9`, `max`, `rate`...: the statistic as peakday writes it. */
export function formatStat(stat: BudgetStat): string {
  return stat.kind === 'percentile' ? `p${stat.p}` : stat.kind;
}

/** Formats a value in the budget's unit: `812ms`, `2.1s`, `0.45%`, `12`. */
export function formatBudgetValue(budget: Pick<Budget, 'metric' | 'stat'>, value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (isLatencyMetric(budget.metric)) {
    if (value >= 1000) return `${round(value / 1000, 3)}s`;
    return `${round(value, value < 10 ? 3 : 1)}ms`;
  }
  if (budget.stat.kind === 'rate') return `${round(value * 100, 3)}%`;
  return String(round(value, 3));
}

/** How one reading of a budget is judged: within its limit, breached, or too thin to say. */
export type Judgement = 'holds' | 'breached' | 'thin';

/**
 * Judges one reading (a window, the whole run, a report interval) of a budget: fewer samples than
 * `minSamples` give no verdict. The one rule the gate, the report's breach minutes and the sizing
 * search share, so they cannot disagree on the same reading.
 */
export function judgeReading(
  rule: Pick<Budget, 'op' | 'limit' | 'minSamples'>,
  samples: number,
  value: number,
): Judgement {
  if (samples < rule.minSamples) return 'thin';
  return holds(rule.op, value, rule.limit) ? 'holds' : 'breached';
}

/** Whether an observed value satisfies the comparison. */
export function holds(op: BudgetOp, observed: number, limit: number): boolean {
  return comparators[op](observed, limit);
}

const comparators = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
} satisfies Record<BudgetOp, (a: number, b: number) => boolean>;

/** For `<`/`<=` the worst value is the highest; for `>`/`>=` the lowest; for equality the farthest. */
export function worseThan(op: BudgetOp, a: number, b: number, limit: number): boolean {
  if (op === '<' || op === '<=') return a > b;
  if (op === '>' || op === '>=') return a < b;
  return Math.abs(a - limit) > Math.abs(b - limit);
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
