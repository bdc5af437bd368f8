/**
 * The two small expression languages budgets are written in: peakday's native `p95 < 2s` and k6's
 * `p(95)<500`, plus k6 metric selectors `http_req_duration{channel:web}`. Pure string parsing; the
 * file parser (parse-budgets.ts) places the errors in the file.
 *
 * Native threshold grammar:
 *
 *   threshold := stat? ws* op ws* value          (stat may be omitted only for rate metrics)
 *   stat      := "p" number | "max" | "min" | "avg" | "med" | "rate"
 *   op        := "<" | "<=" | ">" | ">="
 *   value     := duration                        latencies: 250ms, 2s, 1.5s (a unit is required)
 *              | number "%" | number             rates: 1% or 0.01
 *
 * k6 threshold grammar (k6 v0.48 `thresholds` values, unchanged):
 *
 *   threshold := aggr ws* op ws* number          e.g. p(95)<500, rate<0.01, count<10
 *   aggr      := "avg" | "min" | "max" | "med" | "p(" number ")" | "rate" | "count" | "value"
 *   op        := "<" | "<=" | ">" | ">=" | "==" | "===" | "!="
 *   selector  := name ("{" tag ("," tag)* "}")?  tag := key ":" value (the value may contain ':')
 */
import { tryParseDuration } from '../../core/duration.ts';
import type { BudgetOp, BudgetStat } from './budget.ts';

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string; hint?: string };

const NATIVE = /^\s*(p\d+(?:\.\d+)?|max|min|avg|med|rate)?\s*(<=|>=|<|>)\s*(\S+)\s*$/;
const K6 =
  /^\s*(avg|min|max|med|rate|count|value|p\(\s*\d+(?:\.\d+)?\s*\))\s*(<=|>=|===|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

/** A parsed native threshold; `value` is already in the metric's unit (ms or a fraction). */
export interface NativeThreshold {
  stat: BudgetStat | undefined;
  op: BudgetOp;
  value: number;
}

/** Parses a statistic name (`p95`, `p99.9`, `max`, `med` = p50). */
export function parseNativeStat(text: string): ParseResult<BudgetStat> {
  if (text === 'med') return { ok: true, value: { kind: 'percentile', p: 50 } };
  if (text === 'max' || text === 'min' || text === 'avg' || text === 'rate')
    return { ok: true, value: { kind: text } };
  const m = /^p(\d+(?:\.\d+)?)$/.exec(text);
  if (m) {
    const p = Number(m[1]);
    if (p > 0 && p < 100) return { ok: true, value: { kind: 'percentile', p } };
    return { ok: false, error: `percentile ${text} is out of range`, hint: 'use p1..p99.99, or max' };
  }
  return {
    ok: false,
    error: `unknown statistic "${text}"`,
    hint: 'use p50, p90, p95, p99, max, min, avg or rate',
  };
}

/** Parses `p95 < 2s` or `< 1%`; `unit` says how to read the value. */
export function parseNativeThreshold(
  text: string,
  unit: 'duration' | 'fraction',
): ParseResult<NativeThreshold> {
  const m = NATIVE.exec(text);
  if (!m) {
    return {
      ok: false,
      error: `"${text}" is not a threshold`,
      hint: unit === 'duration' ? 'write it like "p95 < 2s" or "max <= 5s"' : 'write it like "rate < 1%"',
    };
  }
  let stat: BudgetStat | undefined;
  if (m[1] !== undefined) {
    const s = parseNativeStat(m[1]);
    if (!s.ok) return s;
    stat = s.value;
  }
  const raw = m[3] as string;
  const value = unit === 'duration' ? parseLatencyValue(raw) : parseFraction(raw);
  if (!value.ok) return value;
  return { ok: true, value: { stat, op: m[2] as BudgetOp, value: value.value } };
}

function parseLatencyValue(raw: string): ParseResult<number> {
  if (/^\d+(\.\d+)?$/.test(raw)) {
    return {
      ok: false,
      error: `latency limit "${raw}" has no unit`,
      hint: `write "${raw}ms" or "${raw}s"`,
    };
  }
  const d = tryParseDuration(raw);
  if ('error' in d) return { ok: false, error: d.error, hint: 'write latencies like 250ms or 2s' };
  return { ok: true, value: d.seconds * 1000 };
}

/** `1%` -> 0.01, `0.01` -> 0.01; values outside 0..1 are rejected. */
export function parseFraction(raw: string): ParseResult<number> {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(raw);
  const v = pct ? Number(pct[1]) / 100 : /^\d+(\.\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isFinite(v)) return { ok: false, error: `"${raw}" is not a rate`, hint: 'write 1% or 0.01' };
  if (v < 0 || v > 1) return { ok: false, error: `rate ${raw} is outside 0..100%`, hint: 'write 1% or 0.01' };
  return { ok: true, value: v };
}

/** A parsed k6 threshold expression. */
export interface K6Threshold {
  stat: BudgetStat;
  /** k6's aggregation name as written (`p(95)`, `rate`, `value`). */
  aggregation: string;
  op: BudgetOp;
  value: number;
}

/** Parses a k6 threshold expression exactly as k6 v0.48 accepts it. */
export function parseK6Threshold(text: string): ParseResult<K6Threshold> {
  const m = K6.exec(text);
  if (!m) {
    return {
      ok: false,
      error: `"${text}" is not a k6 threshold expression`,
      hint: 'k6 thresholds look like "p(95)<500", "rate<0.01", "count<10" or "avg<200"',
    };
  }
  const aggr = (m[1] as string).toLowerCase().replace(/\s+/g, '');
  const op = (m[2] === '===' ? '==' : m[2]) as BudgetOp;
  const value = Number(m[3]);
  let stat: BudgetStat;
  const p = /^p\((\d+(?:\.\d+)?)\)$/.exec(aggr);
  if (p) {
    const pv = Number(p[1]);
    if (!(pv > 0 && pv <= 100))
      return { ok: false, error: `percentile ${aggr} is out of range`, hint: 'use p(1)..p(99.99)' };
    stat = pv === 100 ? { kind: 'max' } : { kind: 'percentile', p: pv };
  } else if (aggr === 'med') stat = { kind: 'percentile', p: 50 };
  else stat = { kind: aggr as 'avg' | 'min' | 'max' | 'rate' | 'count' | 'value' };
  return { ok: true, value: { stat, aggregation: aggr, op, value } };
}

/** A parsed k6 metric selector. */
export interface K6Selector {
  name: string;
  tags: [string, string][];
}

/** Parses `http_req_duration{channel:web,journey:checkout}`. */
export function parseK6Selector(text: string): ParseResult<K6Selector> {
  const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\{(.*)\})?\s*$/.exec(text);
  if (!m) {
    return {
      ok: false,
      error: `"${text}" is not a k6 metric name`,
      hint: 'write a metric with optional tag filters, like http_req_duration{channel:web}',
    };
  }
  const tags: [string, string][] = [];
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const i = part.indexOf(':');
      const key = (i < 0 ? part : part.slice(0, i)).trim();
      const value = i < 0 ? '' : part.slice(i + 1).trim();
      if (i < 0 || key === '' || value === '') {
        return {
          ok: false,
          error: `tag filter "${part.trim()}" in "${text}" is not key:value`,
          hint: 'write {channel:web}',
        };
      }
      tags.push([key, value]);
    }
  }
  return { ok: true, value: { name: m[1] as string, tags } };
}
