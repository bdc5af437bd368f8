/**
 * Budgets file parser. Pure: it takes a parsed YAML/JSON source (core/yaml-source.ts) and returns
 * every budget, or throws one PeakdayError (`budgets-invalid`, exit 2) listing every problem with its
 * file:line:column, path, what was expected and a hint. `readBudgets(file)` is the I/O edge.
 *
 * File grammar (YAML or JSON; either section may be absent, not both):
 *
 *   file       := { version?: 1, defaults?: defaults, budgets?: [native*], thresholds?: k6thresholds,
 *                   <k6 option keys such as scenarios, stages, vus: ignored> }
 *   defaults   := { window?: window, warmup?: duration, minSamples?: int }
 *   native     := { name?: string, channel?: string, journey?: string, step?: string,
 *                   metric: "latency" | "latency_send" | "error_rate" | "dropped_rate" | "check_pass_rate",
 *                   threshold: nativeExpr | [nativeExpr+],          (expression-ts grammar)
 *                   window?: window, warmup?: duration, minSamples?: int,
 *                   abortOnFail?: bool, delayAbortEval?: duration }
 *   window     := duration (event time; every sliding window of that length) | "run" (whole run)
 *   k6thresholds := { selector: [k6entry+] }                       exactly k6's options.thresholds
 *   k6entry    := k6Expr | { threshold: k6Expr, abortOnFail?: bool, delayAbortEval?: duration }
 *
 * k6 metric names keep k6's meaning: `http_req_duration` is send-time latency (ms), `http_req_failed`
 * the failed-request rate, `checks` the check pass rate, `dropped_iterations` a counter; peakday's
 * intended-start latency is `peakday_latency`. Tag filters select our tags (channel, journey, step);
 * `expected_response:true` is accepted with a caveat; other k6 metrics and tags parse but are
 * inconclusive, since peakday does not record them. In native budgets `latency` is intended-start
 * latency and `latency_send` send-time latency. Native windows default to the whole run; k6 thresholds
 * are whole-run, as in k6, unless `defaults.window` says otherwise.
 */
import { readFileSync } from 'node:fs';
import { type ErrorCode, validationError } from '../../core/errors.ts';
import {
  type Checker,
  createChecker,
  type DocPath,
  didYouMean,
  parseYamlSource,
  readYamlSource,
  type YamlSource,
} from '../../core/yaml-source.ts';
import type { Budget, BudgetMetric, BudgetScope, BudgetSet, BudgetStat } from './budget.ts';
import { formatStat } from './budget.ts';
import { parseK6Selector, parseK6Threshold, parseNativeThreshold } from './expression.ts';
import { extractK6ThresholdsSource } from './k6-script.ts';
import { type TimelineMetric, timelineAggregations, timelineMetric } from './timeline-metrics.ts';

const ERROR_CODE: ErrorCode = 'budgets-invalid';

/** How native metrics read their thresholds. */
const nativeMetrics = {
  latency: { unit: 'duration', stats: 'latency' },
  latency_send: { unit: 'duration', stats: 'latency' },
  error_rate: { unit: 'fraction', stats: 'rate' },
  dropped_rate: { unit: 'fraction', stats: 'rate' },
  check_pass_rate: { unit: 'fraction', stats: 'rate' },
} as const satisfies Record<string, { unit: 'duration' | 'fraction'; stats: 'latency' | 'rate' }>;

type NativeMetricName = keyof typeof nativeMetrics;

/** k6 metric names peakday records, with the k6 metric type that decides valid aggregations. */
const k6Metrics = {
  http_req_duration: { metric: 'latency_send', type: 'trend' },
  peakday_latency: { metric: 'latency', type: 'trend' },
  http_req_failed: { metric: 'error_rate', type: 'rate' },
  checks: { metric: 'check_pass_rate', type: 'rate' },
  dropped_iterations: { metric: 'dropped_count', type: 'counter' },
} as const satisfies Record<string, { metric: BudgetMetric; type: 'trend' | 'rate' | 'counter' }>;

/** k6 built-in metrics that peakday does not record: accepted, evaluated as inconclusive. */
const k6Unrecorded = [
  'http_req_waiting',
  'http_req_blocked',
  'http_req_connecting',
  'http_req_tls_handshaking',
  'http_req_sending',
  'http_req_receiving',
  'http_reqs',
  'iteration_duration',
  'iterations',
  'group_duration',
  'data_sent',
  'data_received',
  'vus',
  'vus_max',
];

/** k6 options keys a file may carry beside `thresholds` (a k6 options object saved as JSON). */
const k6OptionKeys = [
  'scenarios',
  'stages',
  'vus',
  'duration',
  'iterations',
  'tags',
  'summaryTrendStats',
  'summaryTimeUnit',
  'ext',
  'cloud',
  'discardResponseBodies',
  'noConnectionReuse',
  'userAgent',
  'insecureSkipTLSVerify',
  'setupTimeout',
  'teardownTimeout',
];

const aggregationsByType = {
  trend: ['avg', 'min', 'max', 'percentile'],
  rate: ['rate'],
  counter: ['count'],
} as const satisfies Record<string, readonly BudgetStat['kind'][]>;

const SUPPORTED_TAGS = ['channel', 'journey', 'step'] as const;

/** Tags a k6 threshold may filter on: peakday's, plus k6's scenario and group (kept by `import k6`). */
const K6_TAGS = [...SUPPORTED_TAGS, 'scenario', 'group'] as const;

interface Defaults {
  windowSeconds: number | null | undefined;
  warmupSeconds: number;
  minSamples: number | undefined;
}

/**
 * The minimum sample count when the user gives none (docs/budgets.md "Minimum samples"):
 * a percentile pX needs 5 samples above it, n >= 5 / (1 - X/100), and never fewer than 20 (p95: 100,
 * p99: 500); max, min and avg need 20; a rate needs enough events that one event moves the rate by
 * no more than its limit, n >= 1 / min(limit, 1 - limit), between 20 and 1000; counts need none.
 */
export function defaultMinSamples(stat: BudgetStat, limit: number): number {
  switch (stat.kind) {
    case 'percentile':
      return Math.max(20, Math.ceil(5 / (1 - stat.p / 100) - 1e-9));
    case 'rate': {
      const edge = Math.min(limit, 1 - limit);
      if (!(edge > 0)) return 20;
      return Math.min(1000, Math.max(20, Math.ceil(1 / edge - 1e-9)));
    }
    case 'count':
      return 0;
    default:
      return 20;
  }
}

/**
 * Reads and parses a budgets file: YAML or JSON, or a k6 script (`.js`, `.mjs`, `.ts`) whose
 * `options.thresholds` object is taken as it is (k6-script.ts).
 */
export function readBudgets(file: string): BudgetSet {
  if (/\.(c|m)?[jt]s$/.test(file)) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return parseBudgets(readYamlSource(file, ERROR_CODE)); // reports the missing file as every input does
    }
    const yaml = extractK6ThresholdsSource(text);
    if (yaml === undefined) {
      throw validationError(ERROR_CODE, `${file}: no k6 thresholds`, [
        {
          file,
          message: 'no `thresholds: { ... }` object found in the k6 script',
          expected: 'export const options = { thresholds: { ... } }',
          hint: 'add thresholds to the script, or pass a budgets YAML file (docs/budgets.md)',
        },
      ]);
    }
    return parseBudgets(parseYamlSource(yaml, file, ERROR_CODE));
  }
  return parseBudgets(readYamlSource(file, ERROR_CODE));
}

/** Parses budgets from text; `file` names it in messages. */
export function parseBudgetsText(text: string, file: string): BudgetSet {
  return parseBudgets(parseYamlSource(text, file, ERROR_CODE));
}

/** Parses a budgets document; throws a PeakdayError (exit 2) listing every problem. */
export function parseBudgets(source: YamlSource): BudgetSet {
  const c = createChecker(source, ERROR_CODE, 'budgets file');
  const root = c.object([], source.data, ['version', 'defaults', 'budgets', 'thresholds', ...k6OptionKeys]);
  const budgets: Budget[] = [];
  if (root) {
    if (root.version !== undefined && root.version !== 1) {
      c.add(['version'], `is ${JSON.stringify(root.version)}`, { expected: '1' });
    }
    const defaults = parseDefaults(c, root.defaults);
    if (root.budgets === undefined && root.thresholds === undefined) {
      c.add([], 'has neither "budgets" nor "thresholds"', {
        expected: 'a "budgets" list (peakday form) or a "thresholds" map (k6 form)',
        hint: 'see docs/budgets.md for both forms',
      });
    }
    if (root.budgets !== undefined) {
      const list = c.array(['budgets'], root.budgets);
      list?.forEach((entry, i) => {
        budgets.push(...parseNative(c, ['budgets', i], entry, defaults));
      });
    }
    if (root.thresholds !== undefined) {
      const map = c.object(['thresholds'], root.thresholds);
      if (map) {
        for (const [key, value] of Object.entries(map)) {
          budgets.push(...parseK6Entry(c, key, value, defaults));
        }
      }
    }
  }
  c.throwIfAny(`${source.file}: invalid budgets`);
  return { file: source.file, budgets: uniqueIds(budgets) };
}

function parseDefaults(c: Checker, value: unknown): Defaults {
  const d: Defaults = { windowSeconds: undefined, warmupSeconds: 0, minSamples: undefined };
  if (value === undefined) return d;
  const obj = c.object(['defaults'], value, ['window', 'warmup', 'minSamples']);
  if (!obj) return d;
  if (obj.window !== undefined) d.windowSeconds = parseWindow(c, ['defaults', 'window'], obj.window);
  if (obj.warmup !== undefined) d.warmupSeconds = c.duration(['defaults', 'warmup'], obj.warmup) ?? 0;
  if (obj.minSamples !== undefined)
    d.minSamples = c.number(['defaults', 'minSamples'], obj.minSamples, { min: 0, integer: true });
  return d;
}

function parseWindow(c: Checker, path: DocPath, value: unknown): number | null | undefined {
  if (value === 'run') return null;
  const s = c.duration(path, value, { allowZero: false });
  if (s !== undefined && s <= 0) {
    c.add(path, 'is not a positive duration', { expected: 'a duration like 1m, or "run"' });
    return undefined;
  }
  return s;
}

function sourceOf(c: Checker, path: DocPath): Budget['source'] {
  const pos = c.source.locate(path);
  return { file: c.source.file, line: pos?.line, column: pos?.column, path: formatDocPath(path) };
}

function formatDocPath(path: DocPath): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${k}` : String(k);
  return out;
}

const NATIVE_KEYS = [
  'name',
  'channel',
  'journey',
  'step',
  'metric',
  'threshold',
  'window',
  'warmup',
  'minSamples',
  'abortOnFail',
  'delayAbortEval',
];

/** The unit a native threshold's own text implies, for checking it when its metric is unknown. */
function guessThresholdUnit(text: string): 'duration' | 'fraction' | undefined {
  if (/^\s*rate\b/.test(text) || /%\s*$/.test(text)) return 'fraction';
  if (/^\s*(p\d|max|min|avg|med)/.test(text)) return 'duration';
  return undefined;
}

function parseNative(c: Checker, path: DocPath, entry: unknown, defaults: Defaults): Budget[] {
  const obj = c.object(path, entry, NATIVE_KEYS);
  if (!obj) return [];
  const before = c.problems.length;
  const name = obj.name === undefined ? undefined : c.string([...path, 'name'], obj.name);
  const scope: BudgetScope = {};
  for (const key of SUPPORTED_TAGS) {
    if (obj[key] !== undefined) {
      const v = c.string([...path, key], obj[key]);
      if (v !== undefined) scope[key] = v;
    }
  }
  const metricRaw = c.required(path, obj, 'metric', `one of ${Object.keys(nativeMetrics).join(', ')}`);
  let metric: NativeMetricName | undefined;
  if (typeof metricRaw === 'string' && metricRaw in k6Metrics) {
    const k6 = k6Metrics[metricRaw as keyof typeof k6Metrics];
    c.add([...path, 'metric'], `"${metricRaw}" is a k6 metric name`, {
      expected: `one of ${Object.keys(nativeMetrics).join(', ')}`,
      hint: `in the native form write "${k6.metric === 'dropped_count' ? 'dropped_rate' : k6.metric}", or put k6 thresholds under "thresholds:"`,
    });
  } else if (metricRaw !== undefined) {
    metric = c.oneOf([...path, 'metric'], metricRaw, Object.keys(nativeMetrics) as NativeMetricName[]);
  }
  if (metric === 'dropped_rate' && scope.step !== undefined) {
    c.add([...path, 'step'], 'dropped_rate has no step scope', {
      expected: 'channel and/or journey only',
      hint: 'iterations are dropped whole; remove "step"',
    });
  }
  const thrRaw = c.required(path, obj, 'threshold', 'an expression like "p95 < 2s" or a list of them');
  const exprs: { text: string; path: DocPath }[] = [];
  if (typeof thrRaw === 'string') exprs.push({ text: thrRaw, path: [...path, 'threshold'] });
  else if (Array.isArray(thrRaw)) {
    if (thrRaw.length === 0)
      c.add([...path, 'threshold'], 'is an empty list', { expected: 'one or more expressions' });
    thrRaw.forEach((t, i) => {
      const s = c.string([...path, 'threshold', i], t);
      if (s !== undefined) exprs.push({ text: s, path: [...path, 'threshold', i] });
    });
  } else if (thrRaw !== undefined) {
    c.add([...path, 'threshold'], `is ${typeof thrRaw}`, {
      expected: 'an expression like "p95 < 2s" or a list',
    });
  }
  const windowSeconds =
    obj.window === undefined ? defaults.windowSeconds : parseWindow(c, [...path, 'window'], obj.window);
  const warmupSeconds =
    obj.warmup === undefined ? defaults.warmupSeconds : (c.duration([...path, 'warmup'], obj.warmup) ?? 0);
  const minSamples =
    obj.minSamples === undefined
      ? defaults.minSamples
      : c.number([...path, 'minSamples'], obj.minSamples, { min: 0, integer: true });
  const abortOnFail =
    obj.abortOnFail === undefined ? false : (c.boolean([...path, 'abortOnFail'], obj.abortOnFail) ?? false);
  const delayAbortEvalSeconds =
    obj.delayAbortEval === undefined ? 0 : (c.duration([...path, 'delayAbortEval'], obj.delayAbortEval) ?? 0);
  if (!metric) {
    // An unknown metric must not hide the thresholds' own problems: each is read in the unit its
    // statistic implies (a percentile, max, min or avg is a latency; `rate` or a `%` a rate).
    for (const e of exprs) {
      const unit = guessThresholdUnit(e.text);
      if (!unit) continue;
      const r = parseNativeThreshold(e.text, unit);
      if (!r.ok)
        c.add(e.path, r.error, {
          expected: unit === 'duration' ? '"p95 < 2s"' : '"rate < 1%"',
          hint: r.hint,
        });
    }
    return [];
  }
  const spec = nativeMetrics[metric];
  const out: Budget[] = [];
  for (const e of exprs) {
    const r = parseNativeThreshold(e.text, spec.unit);
    if (!r.ok) {
      c.add(e.path, r.error, {
        expected: spec.unit === 'duration' ? '"p95 < 2s"' : '"rate < 1%"',
        hint: r.hint,
      });
      continue;
    }
    let stat = r.value.stat;
    if (spec.stats === 'rate') {
      if (stat && stat.kind !== 'rate') {
        c.add(e.path, `${metric} is a rate; "${formatStat(stat)}" does not apply`, {
          expected: '"rate < 1%" or "< 1%"',
        });
        continue;
      }
      stat = { kind: 'rate' };
    } else if (!stat || stat.kind === 'rate') {
      c.add(e.path, `${metric} needs a statistic`, {
        expected: 'p50..p99, max, min or avg before the comparison',
        hint: `write "p95 ${e.text.trim().replace(/^rate\s*/, '')}"`,
      });
      continue;
    }
    const limit = r.value.value;
    const scopeText = describeScope(scope);
    const baseName = name ?? `${metric}${scopeText ? ` ${scopeText}` : ''}`;
    out.push({
      id: slug(exprs.length > 1 || !name ? `${baseName} ${formatStat(stat)}` : baseName),
      name: exprs.length > 1 || !name ? `${baseName}: ${e.text.trim()}` : name,
      form: 'native',
      source: sourceOf(c, e.path),
      metric,
      metricName: metric,
      stat,
      op: r.value.op,
      limit,
      expression: e.text.trim(),
      scope: { ...scope },
      windowSeconds: windowSeconds ?? null,
      warmupSeconds,
      minSamples: minSamples ?? defaultMinSamples(stat, limit),
      minSamplesDerived: minSamples === undefined,
      abortOnFail,
      delayAbortEvalSeconds,
      notes: [],
    });
  }
  return c.problems.length > before ? [] : out;
}

function parseK6Entry(c: Checker, key: string, value: unknown, defaults: Defaults): Budget[] {
  const path: DocPath = ['thresholds', key];
  const sel = parseK6Selector(key);
  if (!sel.ok) {
    c.add(path, sel.error, { expected: 'metric{tag:value}', hint: sel.hint });
    return [];
  }
  const { name, tags } = sel.value;
  const tl = timelineMetric(name);
  if (tl) return parseTimelineThreshold(c, path, key, name, tl, tags, value, defaults);
  const known = name in k6Metrics ? k6Metrics[name as keyof typeof k6Metrics] : undefined;
  let unsupported: string | undefined;
  if (!known) {
    if (!k6Unrecorded.includes(name)) {
      const guess = didYouMean(name, [...Object.keys(k6Metrics), ...k6Unrecorded]);
      if (guess) {
        c.add(path, `unknown metric "${name}"`, {
          expected: `a k6 metric such as ${Object.keys(k6Metrics).join(', ')}`,
          hint: `did you mean "${guess}"?`,
        });
        return [];
      }
    }
  }
  // Any other k6 metric (built-in or custom) is read from the run's metrics.ndjson (`import k6`);
  // a run without it makes the budget inconclusive at evaluation, with the reason.
  const scope: BudgetScope = {};
  const notes: string[] = [];
  for (const [k, v] of tags) {
    if ((K6_TAGS as readonly string[]).includes(k)) scope[k as keyof BudgetScope] = v;
    else if (k === 'expected_response' && known?.type === 'trend') {
      notes.push(
        `{expected_response:${v}} is not applied: peakday's latency histograms include every response`,
      );
    } else {
      unsupported ??= `peakday's series have no "${k}" tag (they carry ${K6_TAGS.join(', ')})`;
    }
  }
  const entries: { value: unknown; path: DocPath }[] = [];
  if (Array.isArray(value)) {
    if (value.length === 0)
      c.add(path, 'is an empty list', { expected: 'one or more k6 threshold expressions' });
    value.forEach((v, i) => {
      entries.push({ value: v, path: [...path, i] });
    });
  } else {
    c.add(path, Array.isArray(value) ? 'is a list' : `is ${value === null ? 'null' : typeof value}`, {
      expected: 'a list of k6 threshold expressions, e.g. ["p(95)<500"]',
      hint: typeof value === 'string' ? `write ["${value}"]` : undefined,
    });
  }
  const out: Budget[] = [];
  for (const entry of entries) {
    let text: string | undefined;
    let abortOnFail = false;
    let delay = 0;
    let exprPath = entry.path;
    if (typeof entry.value === 'string') text = entry.value;
    else {
      const obj = c.object(entry.path, entry.value, ['threshold', 'abortOnFail', 'delayAbortEval']);
      if (!obj) continue;
      const t = c.required(entry.path, obj, 'threshold', 'a k6 threshold expression like "p(95)<500"');
      exprPath = [...entry.path, 'threshold'];
      text = t === undefined ? undefined : c.string(exprPath, t);
      if (obj.abortOnFail !== undefined)
        abortOnFail = c.boolean([...entry.path, 'abortOnFail'], obj.abortOnFail) ?? false;
      if (obj.delayAbortEval !== undefined)
        delay = c.duration([...entry.path, 'delayAbortEval'], obj.delayAbortEval) ?? 0;
    }
    if (text === undefined) continue;
    const r = parseK6Threshold(text);
    if (!r.ok) {
      c.add(exprPath, r.error, { expected: '"p(95)<500"', hint: r.hint });
      continue;
    }
    let metric: BudgetMetric = known?.metric ?? 'k6_metric';
    let why = unsupported;
    if (known) {
      const allowed = aggregationsByType[known.type] as readonly string[];
      if (!allowed.includes(r.value.stat.kind)) {
        if (known.type === 'counter' && r.value.stat.kind === 'rate') {
          why ??= `peakday evaluates ${name} as a count; "rate" (per second) is not supported`;
          metric = 'unsupported';
        } else {
          c.add(exprPath, `"${r.value.aggregation}" does not apply to ${name} (a k6 ${known.type})`, {
            expected:
              known.type === 'trend'
                ? 'avg, min, max, med or p(N)'
                : known.type === 'rate'
                  ? 'rate'
                  : 'count',
          });
          continue;
        }
      }
    }
    if (why) metric = 'unsupported';
    const exprText = text.trim();
    out.push({
      id: slug(`${key} ${exprText}`),
      name: `${key}: ${exprText}`,
      form: 'k6',
      source: sourceOf(c, exprPath),
      metric,
      metricName: name,
      stat: r.value.stat,
      op: r.value.op,
      limit: r.value.value,
      expression: exprText,
      scope: { ...scope },
      windowSeconds: defaults.windowSeconds ?? null,
      warmupSeconds: defaults.warmupSeconds,
      minSamples: defaults.minSamples ?? defaultMinSamples(r.value.stat, r.value.value),
      minSamplesDerived: defaults.minSamples === undefined,
      abortOnFail,
      delayAbortEvalSeconds: delay,
      unsupported: why,
      notes: [...notes],
    });
  }
  return out;
}

/**
 * A timeline budget in k6 form, `service_cpu{service:cart}: ['max<80']`: one `service` tag (required),
 * the aggregations the metric takes (timeline-metrics.ts); judged over the run's timeline periods.
 */
function parseTimelineThreshold(
  c: Checker,
  path: DocPath,
  key: string,
  name: string,
  metric: TimelineMetric,
  tags: [string, string][],
  value: unknown,
  defaults: Defaults,
): Budget[] {
  const service = tags.find(([k]) => k === 'service')?.[1];
  const others = tags.filter(([k]) => k !== 'service').map(([k]) => k);
  if (service === undefined)
    c.add(path, `${name} needs the service it reads`, {
      expected: `${name}{service:<name>}`,
      hint: `write ${name}{service:cart}: ['max<80'] (a service of the run's timeline)`,
    });
  if (others.length > 0)
    c.add(path, `${name} takes only the service tag, not ${others.join(', ')}`, {
      expected: `${name}{service:<name>}`,
    });
  if (!Array.isArray(value) || value.length === 0) {
    c.add(path, 'is not a list of k6 threshold expressions', { expected: `["max<80"]` });
    return [];
  }
  if (service === undefined || others.length > 0) return [];
  const allowed = timelineAggregations(metric);
  const out: Budget[] = [];
  value.forEach((entry, i) => {
    const exprPath: DocPath = [...path, i];
    const text = c.string(exprPath, entry);
    if (text === undefined) return;
    const r = parseK6Threshold(text);
    if (!r.ok) {
      c.add(exprPath, r.error, { expected: '"max<80"', hint: r.hint });
      return;
    }
    if (!allowed.includes(r.value.stat.kind)) {
      c.add(exprPath, `"${r.value.aggregation}" does not apply to ${name} (${metric.what}, per period)`, {
        expected: allowed.join(', '),
      });
      return;
    }
    const exprText = text.trim();
    out.push({
      id: slug(`${key} ${exprText}`),
      name: `${key}: ${exprText}`,
      form: 'k6',
      source: sourceOf(c, exprPath),
      metric: 'timeline',
      metricName: name,
      stat: r.value.stat,
      op: r.value.op,
      limit: r.value.value,
      expression: exprText,
      scope: { service },
      windowSeconds: null,
      warmupSeconds: defaults.warmupSeconds,
      // One period is a reading; a period without a datapoint is what gives no verdict.
      minSamples: defaults.minSamples ?? 1,
      minSamplesDerived: defaults.minSamples === undefined,
      abortOnFail: false,
      delayAbortEvalSeconds: 0,
      notes: [],
    });
  });
  return out;
}

/** `channel=web journey=checkout`, or '' for the whole run. */
export function describeScope(scope: BudgetScope): string {
  return [...K6_TAGS, 'service' as const]
    .filter((k) => scope[k] !== undefined)
    .map((k) => `${k}=${scope[k]}`)
    .join(' ');
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9.]+/g, '-')
      .replace(/^-+|-+$/g, '') || 'budget'
  );
}

function uniqueIds(budgets: Budget[]): Budget[] {
  const seen = new Map<string, number>();
  return budgets.map((b) => {
    const n = (seen.get(b.id) ?? 0) + 1;
    seen.set(b.id, n);
    return n === 1 ? b : { ...b, id: `${b.id}-${n}` };
  });
}
