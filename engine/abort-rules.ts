/**
 * Abort rules: called once per second with that second's series records; any rule may stop the load
 * (the run records why and exits with the rule's code). The circuit breaker protects a real system
 * from a test that is hurting it; the budgets gate plugs its own rule in (reports/budgets/).
 */
import { ExitCode } from '../core/errors.ts';
import type { SeriesRecord } from '../core/run-format.ts';

/** What an abort rule sees: one second of the run. */
export interface AbortSecond {
  /** Event time at the start of the second. */
  t: number;
  /** Wall offset at the start of the second. */
  wall: number;
  records: SeriesRecord[];
}

/** The decision of an abort rule. */
export type AbortDecision = { abort: false } | { abort: true; reason: string; exitCode: number };

/** The hook the budgets engineer implements with `createBudgetAbortRule(budgets)`. */
export type AbortRule = (second: AbortSecond) => AbortDecision;

/** Circuit-breaker settings: stop when the error rate exceeds `maxErrorRate` for `seconds` seconds in a row. */
export interface CircuitBreakerOptions {
  /** Failed requests / requests in a second, 0..1 (default 0.5). */
  maxErrorRate: number;
  /** Consecutive seconds over the rate (default 5). */
  seconds: number;
  /** Seconds with fewer requests than this neither trip nor reset the breaker (default 10). */
  minRequests: number;
}

/** Defaults: an assumption, overridable with `--circuit-breaker RATE:SECONDS`. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = {
  maxErrorRate: 0.5,
  seconds: 5,
  minRequests: 10,
};

/** A rule that stops the run (exit 97) when errors stay above the rate for the given seconds. */
export function createCircuitBreaker(options: Partial<CircuitBreakerOptions> = {}): AbortRule {
  const o = { ...DEFAULT_CIRCUIT_BREAKER, ...options };
  let over = 0;
  return ({ records }) => {
    let requests = 0;
    let failed = 0;
    for (const r of records) {
      requests += r.requests ?? 0;
      failed += r.failed ?? 0;
    }
    if (requests < o.minRequests) return { abort: false };
    const rate = failed / requests;
    over = rate > o.maxErrorRate ? over + 1 : 0;
    if (over >= o.seconds) {
      return {
        abort: true,
        reason: `circuit breaker: error rate above ${Math.round(o.maxErrorRate * 100)}% for ${o.seconds} s in a row (last second ${(rate * 100).toFixed(1)}%: ${failed} of ${requests} requests failed)`,
        exitCode: ExitCode.circuitBreaker,
      };
    }
    return { abort: false };
  };
}
