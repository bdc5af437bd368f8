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

/**
 * Circuit-breaker settings: stop when more than `maxErrorRate` of the requests failed the way an
 * overloaded or dead target fails (OVERLOAD_CAUSES) in each of `seconds` consecutive seconds.
 */
export interface CircuitBreakerOptions {
  /** Overload failures / requests in a second, 0..1 (default 0.5). */
  maxErrorRate: number;
  /** Consecutive seconds over the rate (default 5). Seconds without a finished request do not count. */
  seconds: number;
  /**
   * Requests the whole streak must hold before it can trip (default 5): at 1 request/s a dead target
   * is stopped after 5 s, and one failed request at a low rate is never enough on its own.
   */
  minRequests: number;
  /** The target's `host:port`, named in the reason ("connection refused on 127.0.0.1:18099"). */
  target?: string;
  /**
   * Which failures count (default every OVERLOAD_CAUSES). A probe, whose steps are meant to
   * overload the target, counts only a target that is not there (refused, reset, transport).
   */
  causes?: readonly OverloadCause[];
}

/** Defaults: an assumption, overridable with `--circuit-breaker RATE:SECONDS`. */
export const DEFAULT_CIRCUIT_BREAKER: CircuitBreakerOptions = {
  maxErrorRate: 0.5,
  seconds: 5,
  minRequests: 5,
};

/**
 * What overload looks like, counted per step record: answers 5xx and 429 (`rateLimited`), and
 * requests without an answer (timeout, connection refused, connection reset, other transport
 * errors). Failed content checks, failed extractions and other 4xx are the test's or the data's
 * problem, not the target's distress: they are reported and gated by budgets, never tripped on.
 */
export const OVERLOAD_CAUSES = ['refused', 'reset', 'timeout', 'other', '5xx', '429'] as const;
/** One kind of overload failure. */
export type OverloadCause = (typeof OVERLOAD_CAUSES)[number];

/** A second's requests and overload failures by cause. */
export interface OverloadTally {
  requests: number;
  overload: number;
  causes: Record<OverloadCause, number>;
}

const zeroCauses = (): Record<OverloadCause, number> => ({
  refused: 0,
  reset: 0,
  timeout: 0,
  other: 0,
  '5xx': 0,
  '429': 0,
});

/**
 * Counts a second's overload failures from its step records (iteration records hold no requests);
 * only the `counted` causes (default all) count, the others are left at zero.
 */
export function tallyOverload(
  records: readonly SeriesRecord[],
  counted: readonly OverloadCause[] = OVERLOAD_CAUSES,
): OverloadTally {
  const causes = zeroCauses();
  let requests = 0;
  for (const r of records) {
    if (r.step === null || !r.requests) continue;
    requests += r.requests;
    if (r.errors) {
      causes.refused += r.errors.refused;
      causes.reset += r.errors.reset;
      causes.timeout += r.errors.timeout;
      causes.other += r.errors.other;
    }
    if (r.status) causes['5xx'] += r.status['5xx'];
    causes['429'] += r.rateLimited ?? 0;
  }
  let overload = 0;
  for (const c of OVERLOAD_CAUSES)
    if (counted.includes(c)) overload += causes[c];
    else causes[c] = 0;
  return { requests, overload, causes };
}

/** The cause with the most failures (first in OVERLOAD_CAUSES on a tie). */
export function dominantCause(causes: Record<OverloadCause, number>): OverloadCause {
  let best: OverloadCause = OVERLOAD_CAUSES[0];
  for (const c of OVERLOAD_CAUSES) if (causes[c] > causes[best]) best = c;
  return best;
}

/** One sentence per cause: what it means and what to look at. */
export function describeCause(cause: OverloadCause, target: string): string {
  switch (cause) {
    case 'refused':
      return `connection refused on ${target}: is the target running?`;
    case 'reset':
      return `connections reset by ${target}: the target or a proxy in front of it is dropping connections`;
    case 'timeout':
      return `requests to ${target} timed out: the target is not answering in time (--timeout)`;
    case 'other':
      return `requests to ${target} failed without an answer (transport errors: name resolution, TLS — a certificate from a private CA needs it in NODE_EXTRA_CA_CERTS — or the connection): is the host reachable?`;
    case '5xx':
      return `${target} answered 5xx: the target is failing under this load`;
    case '429':
      return `${target} answered 429 Too Many Requests: the target is rate-limiting this test`;
  }
}

/**
 * A rule that stops the run (exit 97) when overload failures stay above the rate for the given
 * seconds, whatever the request rate; the reason names the dominant cause.
 */
export function createCircuitBreaker(options: Partial<CircuitBreakerOptions> = {}): AbortRule {
  const o = { ...DEFAULT_CIRCUIT_BREAKER, ...options };
  const target = o.target ?? 'the target';
  let over = 0;
  let streak = { requests: 0, overload: 0, causes: zeroCauses() };
  return ({ records }) => {
    const s = tallyOverload(records, o.causes);
    // A second in which no request finished says nothing either way (a low rate, long responses).
    if (s.requests === 0) return { abort: false };
    if (s.overload / s.requests <= o.maxErrorRate) {
      over = 0;
      streak = { requests: 0, overload: 0, causes: zeroCauses() };
      return { abort: false };
    }
    over++;
    streak.requests += s.requests;
    streak.overload += s.overload;
    for (const c of OVERLOAD_CAUSES) streak.causes[c] += s.causes[c];
    if (over < o.seconds || streak.requests < o.minRequests) return { abort: false };
    const cause = dominantCause(streak.causes);
    const byCause = OVERLOAD_CAUSES.filter((c) => streak.causes[c] > 0)
      .map((c) => `${streak.causes[c]} ${c}`)
      .join(', ');
    return {
      abort: true,
      reason: `circuit breaker: ${describeCause(cause, target)} (${streak.overload} of ${streak.requests} requests failed in the last ${over} s: ${byCause}; more than ${Math.round(o.maxErrorRate * 100)}% in each of ${o.seconds} s in a row)`,
      exitCode: ExitCode.circuitBreaker,
    };
  };
}
