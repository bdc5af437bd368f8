/**
 * The iteration runner: starts an iteration (or drops it at its scenario's concurrency cap), runs its
 * journey's steps in order (templating, cookies, auth, checks and extraction, think time), records
 * every request in the aggregator, and says when an iteration ends. It knows nothing of when
 * iterations are due (engine/scheduler.ts) or of seconds (engine/second-close.ts); its state is its
 * own and passed in explicitly.
 *
 * Latency is recorded twice per request: from the intended start (coordinated-omission safe: the
 * iteration's due time for its first step, the end of the previous step plus think time for later
 * ones) and from the actual send. Each open-model start's lateness goes into the lag histograms and
 * the late-start counts validity is judged on.
 */
import { readJsonPath } from '../core/json-path.ts';
import type { Aggregator } from './aggregator.ts';
import { createLatencyHistogram, type LatencyHistogram } from './histogram.ts';
import type { HttpClient, HttpOutcome, OutgoingRequest } from './http-client.ts';
import type { CompiledJourney, CompiledStep } from './journey-program.ts';
import type { Segment } from './segments.ts';
import { renderTemplate, type TemplateVars, takeEmptySubstitutions } from './templates.ts';

/** A scenario as the runner plays it: its compiled journey, its cap and what is in flight. */
export interface RunnerScenario {
  journey: CompiledJourney;
  maxConcurrency: number;
  inFlight: number;
}

/** What the runner needs; all of it explicit. */
export interface IterationRunnerOptions {
  scenarios: RunnerScenario[];
  agg: Aggregator;
  client: HttpClient;
  /** The target URL's path, prefixed to every step's path. */
  basePath: string;
  /** Milliseconds since the run's clock started. */
  now: () => number;
  /** Open model: record each start's lateness (a closed loop has no schedule). */
  recordLag: boolean;
  /** A start later than this (µs) counts as late (validity's bound). */
  lateUs: number;
  /** Called after an iteration ended (completed, failed, or cut short by a stop). */
  onIterationEnd: (si: number) => void;
  /** Called after each response is handled (the open model's scheduler pokes here: ArrivalScheduler.poke). */
  afterResponse?: () => void;
  /**
   * The segment of the plan this runner plays (a worker's or a generator's): a closed loop numbers
   * its iterations offset + count × k from it, so that `{{iteration}}` is unique across them.
   */
  segment?: Segment;
}

/** A running iteration runner. */
export interface IterationRunner {
  /**
   * Starts an iteration of scenario `si` due at `dueMs` (or counts it dropped at the cap). `arrival`
   * is its number in the whole plan's arrival sequence of the scenario (the scheduler's); a closed
   * loop, which has no arrival sequence, leaves it out.
   */
  startIteration(si: number, dueMs: number, arrival?: number): void;
  /** Iterations in flight, all scenarios. */
  inFlight(): number;
  /** Scheduler lag of open-model starts: this second's and the run's (µs). */
  lag: { second: LatencyHistogram; total: LatencyHistogram };
  /** Late starts this second (reset by the second's close), in the run, and starts in the run. */
  late: { second: number; total: number; started: number };
  /** After a stop: an iteration ends once its current request is answered. */
  stop(): void;
  /** After the end: responses still arriving are ignored. */
  finish(): void;
}

/** One iteration in flight. */
interface IterationState {
  si: number;
  step: number;
  /** Intended start of the current step (ms since run start). */
  intendedMs: number;
  /** When the current step was handed to the HTTP client (fallback send time). */
  queuedAt: number;
  vars: TemplateVars | null;
  cookies: Map<string, string> | null;
  failed: boolean;
}

const EMPTY: TemplateVars = new Map();

/** judgeResponse's verdict bits: the request failed; a check (status, exists, equals, extraction) failed. */
export const FAILED = 1;
export const CHECK_FAILED = 2;

/**
 * Judges one response for its step: transport error, status (the step's accepted statuses, else
 * < 400), and for an accepted answer its checks and extractions (extracted values go into `vars`);
 * `set-cookie` values go into `cookies`. Returns FAILED | CHECK_FAILED bits (0 when it passed).
 */
export function judgeResponse(
  step: CompiledStep,
  o: HttpOutcome,
  vars: TemplateVars | null,
  cookies: Map<string, string> | null,
): number {
  if (o.error !== null) return FAILED;
  let failed = false;
  let checkFailed = false;
  const ok = step.acceptStatus ? step.acceptStatus.has(o.status) : o.status < 400;
  if (!ok) {
    failed = true;
    if (step.acceptStatus) checkFailed = true;
  }
  if (o.setCookie && cookies) {
    for (const sc of o.setCookie) {
      const eq = sc.indexOf('=');
      const semi = sc.indexOf(';');
      if (eq > 0) cookies.set(sc.slice(0, eq).trim(), sc.slice(eq + 1, semi < 0 ? undefined : semi).trim());
    }
  }
  if (!failed && (step.extract.length > 0 || step.exists.length > 0 || step.equals.length > 0)) {
    let doc: unknown;
    try {
      doc = JSON.parse((o.body ?? Buffer.alloc(0)).toString('utf8'));
    } catch {
      doc = undefined;
    }
    for (const p of step.exists) if (readJsonPath(doc, p) === undefined) checkFailed = true;
    for (const [p, v] of step.equals) if (readJsonPath(doc, p) !== v) checkFailed = true;
    for (const [name, p] of step.extract) {
      const v = readJsonPath(doc, p);
      if (v === undefined || v === null) checkFailed = true;
      else vars?.set(name, typeof v === 'string' ? v : JSON.stringify(v));
    }
    if (checkFailed) failed = true;
  }
  return (failed ? FAILED : 0) | (checkFailed ? CHECK_FAILED : 0);
}

/**
 * The request for a step of an iteration: its path and body templated with the iteration's
 * variables, its headers (one pre-built object per step in the common case: no templated headers,
 * cookies or auth), the journey's auth header and the iteration's cookies.
 */
export function buildRequest(
  step: CompiledStep,
  journey: CompiledJourney,
  vars: TemplateVars | null,
  cookies: Map<string, string> | null,
  basePath: string,
): OutgoingRequest {
  const stat = step.staticHeaders;
  if (stat && !journey.auth && !(cookies && cookies.size > 0)) {
    const path = basePath + renderTemplate(step.path, vars ?? EMPTY);
    const body = step.body ? renderTemplate(step.body, vars ?? EMPTY) : null;
    return { method: step.method, path, headers: stat, body };
  }
  const headers: Record<string, string> = {};
  for (const [k, t] of step.headers)
    headers[k] = vars ? renderTemplate(t, vars) : 'constant' in t ? t.constant : '';
  if (journey.auth) headers[journey.auth[0]] = journey.auth[1];
  if (cookies && cookies.size > 0) {
    let c = '';
    for (const [k, v] of cookies) c += `${c ? '; ' : ''}${k}=${v}`;
    headers.cookie = c;
  }
  const path =
    basePath + (vars ? renderTemplate(step.path, vars) : 'constant' in step.path ? step.path.constant : '');
  const body = step.body
    ? vars
      ? renderTemplate(step.body, vars)
      : 'constant' in step.body
        ? step.body.constant
        : null
    : null;
  return { method: step.method, path, headers, body };
}

/** Creates the runner over the given scenarios, aggregator and client. */
export function createIterationRunner(o: IterationRunnerOptions): IterationRunner {
  const { scenarios, agg, client, basePath } = o;
  const nowMs = o.now;
  const lag = { second: createLatencyHistogram(), total: createLatencyHistogram() };
  const late = { second: 0, total: 0, started: 0 };
  let inFlightTotal = 0;
  // A closed loop's iterations started per scenario, for `{{iteration}}`.
  const looped = scenarios.map(() => 0);
  const seg = o.segment ?? { index: 1, count: 1 };
  let stopped = false;
  let finished = false;
  // A step of an iteration without values or cookies (a stateless journey) sends the same request
  // every time: built once (buildRequest is a function of the step, the journey and the base path
  // alone then) and marked `reused`, so the connection keeps its encoded head.
  const fixed = new Map<CompiledStep, OutgoingRequest>();
  const fixedRequest = (step: CompiledStep, journey: CompiledJourney): OutgoingRequest => {
    const req: OutgoingRequest = { ...buildRequest(step, journey, null, null, basePath), reused: true };
    fixed.set(step, req);
    return req;
  };

  const endIteration = (it: IterationState): void => {
    const sc = scenarios[it.si] as RunnerScenario;
    const slot = agg.scenarios[it.si];
    sc.inFlight--;
    inFlightTotal--;
    if (slot) {
      slot.completed++;
      if (it.failed) slot.failedIterations++;
    }
    o.onIterationEnd(it.si);
  };

  const sendStep = (it: IterationState, intendedMs: number): void => {
    if (finished) return;
    const sc = scenarios[it.si] as RunnerScenario;
    const step = sc.journey.steps[it.step] as CompiledStep;
    if (it.vars) takeEmptySubstitutions();
    const req =
      it.vars === null && it.cookies === null
        ? (fixed.get(step) ?? fixedRequest(step, sc.journey))
        : buildRequest(step, sc.journey, it.vars, it.cookies, basePath);
    if (it.vars && takeEmptySubstitutions() > 0) {
      skipEmpty(it);
      return;
    }
    it.intendedMs = intendedMs;
    it.queuedAt = nowMs();
    client.send(req, step.wantBody, onResponse, it);
  };

  // A request whose template resolved to an empty value is not sent: it is counted as a failed
  // request of its own kind (errors.emptyValue) and ends its iteration, as a failed step does. The
  // end is deferred so a closed loop cannot recurse through a journey that always renders empty.
  function skipEmpty(it: IterationState): void {
    agg.unsent(it.si, it.step);
    it.failed = true;
    setImmediate(() => endIteration(it));
  }

  const afterResponse = o.afterResponse;
  const onResponse = afterResponse
    ? (r: HttpOutcome, it: IterationState): void => {
        handleResponse(r, it);
        afterResponse();
      }
    : handleResponse;

  function handleResponse(o: HttpOutcome, it: IterationState): void {
    if (finished) return;
    const step = (scenarios[it.si] as RunnerScenario).journey.steps[it.step] as CompiledStep;
    const intendedMs = it.intendedMs;
    const sentAt = Number.isNaN(o.sentAt) ? it.queuedAt : o.sentAt;
    const end = nowMs();
    const verdict = judgeResponse(step, o, it.vars, it.cookies);
    const failed = (verdict & FAILED) !== 0;
    const checkFailed = (verdict & CHECK_FAILED) !== 0;
    agg.request(
      it.si,
      it.step,
      o.status,
      o.error,
      checkFailed,
      step.hasCheck || step.acceptStatus !== null,
      failed,
      (end - intendedMs) * 1000,
      (end - sentAt) * 1000,
    );
    const sc = scenarios[it.si] as RunnerScenario;
    if (failed) it.failed = true;
    // A failed step ends the iteration: later steps depend on its result (cart id, order id).
    if (failed || it.step + 1 >= sc.journey.steps.length || stopped) {
      endIteration(it);
      return;
    }
    it.step++;
    const think = step.think ? step.think() : 0;
    if (think <= 0) sendStep(it, end);
    else setTimeout(() => (stopped ? endIteration(it) : sendStep(it, end + think)), think).unref();
  }

  const startIteration = (si: number, dueMs: number, arrival?: number): void => {
    const sc = scenarios[si] as RunnerScenario;
    const slot = agg.scenarios[si];
    if (!slot) return;
    slot.planned++;
    if (sc.inFlight >= sc.maxConcurrency) {
      slot.dropped++;
      return;
    }
    sc.inFlight++;
    inFlightTotal++;
    slot.started++;
    if (o.recordLag) {
      const lagUs = Math.round((nowMs() - dueMs) * 1000);
      lag.second.recordValue(Math.max(1, lagUs));
      lag.total.recordValue(Math.max(1, lagUs));
      late.started++;
      if (lagUs > o.lateUs) {
        late.second++;
        late.total++;
      }
    }
    const j = sc.journey;
    let vars: TemplateVars | null = null;
    let cookies: Map<string, string> | null = null;
    if (j.stateful) {
      vars = new Map();
      // `{{iteration}}`: unique per scenario across workers and generators, like k6's
      // exec.scenario.iterationInTest (0-based): the arrival's number in the whole plan (a dropped
      // arrival's number goes unused), or a closed loop's count striped by its segment.
      let n = arrival;
      if (n === undefined) {
        const k = looped[si] ?? 0;
        looped[si] = k + 1;
        n = seg.index - 1 + seg.count * k;
      }
      vars.set('iteration', String(n));
      vars.set('uuid', crypto.randomUUID());
      vars.set('channel', slot.channel);
      vars.set('vu', String(sc.inFlight));
      for (const [name, pick] of j.pickers) vars.set(name, pick());
      cookies = new Map();
    }
    sendStep({ si, step: 0, intendedMs: dueMs, queuedAt: dueMs, vars, cookies, failed: false }, dueMs);
  };

  return {
    startIteration,
    inFlight: () => inFlightTotal,
    lag,
    late,
    stop: () => {
      stopped = true;
    },
    finish: () => {
      stopped = true;
      finished = true;
    },
  };
}
