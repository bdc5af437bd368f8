/**
 * Validity of a k6 run: what peakday can judge from k6's own outputs, and what it cannot. Pure: the
 * driver passes in k6's per-second gauges and drops (engine/k6/convert.ts), k6's log (its console)
 * and the host CPU it sampled while k6 ran; this decides and says why.
 *
 * What is judged (each failure is a reason the run is `valid: false`):
 * - Dropped iterations that the concurrency cap does not explain. k6 drops an arrival-rate
 *   iteration only when no initialized VU is free; below `maxVUs` it then initializes one more in
 *   the background (k6 lib/executor, constant_arrival_rate.go). So drops are the cap's doing (a
 *   finding about the target, counted in iterations.dropped, as with the embedded engine) only when
 *   k6 logged "Insufficient VUs, reached N active VUs" for that scenario or `vus_max` had reached
 *   the plan's total cap in that second (k6 samples its gauges once a second; a second without a
 *   sample takes the next one); any other drop means k6 could not bring VUs up fast enough: the
 *   generator fell behind the plan.
 * - k6's own CPU starvation, as for the embedded engine's threads (engine/validity.ts): k6's threads
 *   runnable but waiting for a CPU more than 25% of the wall time and more than 1 ms per time slice
 *   (Linux schedstat of the k6 process, sampled by the driver). Measured, it decides, and a busy
 *   host is only noted; where it cannot be measured (no schedstat), the host's CPU decides as before:
 *   saturated (≥ 95%) in more than 20% of the seconds invalidates the run.
 * - Generator-side failures in k6's log: file descriptors or ephemeral ports exhausted on the
 *   load-generating host (`too many open files`, `cannot assign requested address`).
 * - Iterations of the plan k6 never accounted for. k6's arrival-rate loop walks the schedule in
 *   order and starts each iteration when it is due, or at once when the loop is behind; when the
 *   scenario's time is up it returns, and whatever it had not reached is neither started nor counted
 *   in `dropped_iterations` (k6 lib/executor/ramping_arrival_rate.go, `Run`). A k6 that cannot keep
 *   up (CPU-bound: at 20,000/s on a 2-core host it started 26% of the plan and reported 0 dropped)
 *   therefore looks complete by its own counters. The plan's count minus what k6 completed, dropped
 *   or interrupted (its console's last `N complete and M interrupted iterations`) is the iterations
 *   that never started: each was later than any lateness bound, so they are judged like the embedded
 *   engine's late starts (more than 1% of the plan and at least 10 invalidate). Judged only on a run
 *   that played to its end (an interrupted or failed run is partial anyway).
 *
 * What is NOT measurable with k6 and is listed in `unmeasured` (never read as valid):
 * - scheduler lag: k6 reports neither when an iteration was due nor when it started, so how late it
 *   started the iterations it did not drop is unknown;
 * - the event-loop delay of the embedded engine has no k6 counterpart (k6 is a Go program);
 * - host CPU, when the driver got no sample (a run under a second), and the VU gauges, when k6
 *   wrote no `vus`/`vus_max` points.
 */
import { DEFAULT_VALIDITY_BOUNDS, type ValidityBounds } from '../validity.ts';
import type { K6GeneratorSecond } from './convert.ts';

/** What k6's log says about the generator. */
export interface K6LogFindings {
  /** k6 scenarios that reached their maxVUs (k6's "Insufficient VUs" warning), with the VU count. */
  capReached: Record<string, number>;
  /** Generator-side failures found in the log, one sentence each. */
  generatorFailures: string[];
  /** Lines at level error that are neither (for notes). */
  otherErrors: string[];
}

/** One kind of k6 log line that matters for validity. */
interface LogRule {
  pattern: RegExp;
  apply(line: string, match: RegExpExecArray, into: K6LogFindings): void;
}

const scenarioField = (line: string): string => /\bscenario=("?)([^"\s]+)\1/.exec(line)?.[2] ?? 'default';

/** The k6 log lines peakday understands; a new one is a new entry here. */
const logRules: LogRule[] = [
  {
    pattern: /Insufficient VUs, reached (\d+) active VUs/,
    apply: (line, m, into) => {
      into.capReached[scenarioField(line)] = Number(m[1]);
    },
  },
  {
    // Thresholds crossed are the run's verdict on the target (k6 exits 99), not a generator problem.
    pattern: /thresholds on metrics .* have been crossed/,
    apply: () => undefined,
  },
  {
    pattern: /too many open files/i,
    apply: (_l, _m, into) => {
      into.generatorFailures.push(
        'k6 ran out of file descriptors on the load-generating host (too many open files): raise `ulimit -n`',
      );
    },
  },
  {
    pattern: /cannot assign requested address/i,
    apply: (_l, _m, into) => {
      into.generatorFailures.push(
        'the load-generating host ran out of ephemeral ports (cannot assign requested address)',
      );
    },
  },
];

/**
 * Reads k6's console (logfmt `level=warning msg="..."` lines when not on a terminal, `WARN[0004]
 * ...` on one). Request failures are the target's, not the generator's, and are not findings.
 */
export function readK6Log(text: string): K6LogFindings {
  const into: K6LogFindings = { capReached: {}, generatorFailures: [], otherErrors: [] };
  for (const line of text.split('\n')) {
    const isLog = /\blevel=(warning|error|fatal)\b|^(WARN|ERRO|FATA)\[/.test(line);
    if (!isLog) continue;
    let matched = false;
    for (const rule of logRules) {
      const m = rule.pattern.exec(line);
      if (!m) continue;
      matched = true;
      rule.apply(line, m, into);
    }
    if (!matched && /\blevel=(error|fatal)\b|^(ERRO|FATA)\[/.test(line) && into.otherErrors.length < 20)
      into.otherErrors.push(line.trim());
  }
  into.generatorFailures = [...new Set(into.generatorFailures)];
  return into;
}

/**
 * k6's own final iteration counts from its console: the last progress line, `running (…), 000/400
 * VUs, 105640 complete and 0 interrupted iterations` (printed whether or not k6 is on a terminal);
 * null when there is none.
 */
export function readK6Progress(text: string): { complete: number; interrupted: number } | null {
  const re = /(\d+) complete and (\d+) interrupted iterations/g;
  let last: RegExpExecArray | null = null;
  for (let m = re.exec(text); m !== null; m = re.exec(text)) last = m;
  return last ? { complete: Number(last[1]), interrupted: Number(last[2]) } : null;
}

/**
 * The plan's iterations against what k6 did with them: `planned` is the plan's (or segment's)
 * integer count, `completed` and `dropped` k6's `iterations` and `dropped_iterations` (its NDJSON),
 * `interrupted` its console's count (null when unread), `playedToEnd` whether the run ended on its
 * own (not interrupted, not failed).
 */
export interface K6IterationAccount {
  planned: number;
  completed: number;
  dropped: number;
  interrupted: number | null;
  playedToEnd: boolean;
}

/** What the decision rests on. */
export interface K6ValidityInput {
  /** k6's gauges and drops per wall second (engine/k6/convert.ts). */
  generator: readonly K6GeneratorSecond[];
  /** Sum of the plan scenarios' concurrency caps (the exported scripts' maxVUs). */
  totalCap: number;
  /** Findings in k6's console; null when there was no console to read. */
  log: K6LogFindings | null;
  /** Host CPU use (0..1), one sample per second while k6 ran. */
  hostCpu: readonly number[];
  /** k6's threads' time runnable but waiting for a CPU (engine/health.ts sampleProcessCpuWait); null or absent when unmeasured. */
  cpuWait?: { ms: number; slices: number; wallMs: number } | null;
  /** The plan's iterations against k6's counts; absent when unknown (listed as unmeasured). */
  iterations?: K6IterationAccount;
}

/** The decision: `valid` covers only what was measured; `unmeasured` says what was not. */
export interface K6Validity {
  valid: boolean;
  reasons: string[];
  unmeasured: string[];
  /** Dropped iterations the concurrency cap explains (not a reason to distrust the run). */
  droppedAtCap: number;
  /** Iterations of the plan k6 neither started nor dropped (null when not judged). */
  neverStarted: number | null;
  /** Sentences for meta.notes: k6's CPU wait, a busy host that did not decide. */
  notes: string[];
}

/** The criteria k6 cannot give, whatever the run: stated on every k6 run. */
export const K6_NEVER_MEASURED = [
  'scheduler lag: k6 reports neither when an iteration was due nor when it started, so how late it started the iterations it did not drop is unknown',
  'engine event-loop delay: no k6 counterpart (k6 is a Go program)',
];

/** Judges a k6 run; every reason names the figure and its bound. */
export function judgeK6Run(
  input: K6ValidityInput,
  bounds: ValidityBounds = DEFAULT_VALIDITY_BOUNDS,
): K6Validity {
  const reasons: string[] = [];
  const unmeasured = [...K6_NEVER_MEASURED];
  const capReached = input.log?.capReached ?? {};
  let droppedAtCap = 0;
  const behind = new Map<string, { dropped: number; vusMax: number | null }>();
  let unknownDrops = 0;
  const gauges = input.generator.some((g) => g.vus !== null || g.vusMax !== null);
  // k6 samples its gauges once a second, not in step with the drops: a second without a sample
  // takes the next sample (the state at the end of that stretch), else the last one before it.
  const vusMaxAt: (number | null)[] = input.generator.map((g) => g.vusMax);
  for (let i = vusMaxAt.length - 2; i >= 0; i--) vusMaxAt[i] ??= vusMaxAt[i + 1] ?? null;
  for (let i = 1; i < vusMaxAt.length; i++) vusMaxAt[i] ??= vusMaxAt[i - 1] ?? null;
  for (const [i, g] of input.generator.entries()) {
    const vusMax = vusMaxAt[i] ?? null;
    for (const [scenario, n] of Object.entries(g.dropped)) {
      if (n <= 0) continue;
      if (capReached[scenario] !== undefined || (vusMax !== null && vusMax >= input.totalCap)) {
        droppedAtCap += n;
      } else if (vusMax === null && input.log === null) {
        unknownDrops += n;
      } else {
        const b = behind.get(scenario) ?? { dropped: 0, vusMax: null };
        b.dropped += n;
        if (vusMax !== null) b.vusMax = Math.max(b.vusMax ?? 0, vusMax);
        behind.set(scenario, b);
      }
    }
  }
  for (const [scenario, b] of behind) {
    reasons.push(
      `k6 fell behind the plan: it dropped ${b.dropped} iterations of scenario ${scenario} before reaching maxVUs (${b.vusMax === null ? 'no vus_max sample' : `${b.vusMax} VUs initialized`} of the cap ${input.totalCap}, and no "Insufficient VUs" warning), so it could not start VUs fast enough`,
    );
  }
  if (unknownDrops > 0)
    unmeasured.push(
      `why k6 dropped ${unknownDrops} iterations: neither a vus_max sample nor k6's log was available to tell the cap from a generator that fell behind`,
    );
  const neverStarted = judgeNeverStarted(input.iterations, bounds, reasons, unmeasured);
  if (!gauges) unmeasured.push('VU use: k6 wrote no vus or vus_max points');
  if (input.log === null) unmeasured.push("generator failures in k6's log: no console output was captured");
  else reasons.push(...input.log.generatorFailures);
  const notes: string[] = [];
  const w = input.cpuWait ?? null;
  const n = input.hostCpu.length;
  const saturated = input.hostCpu.filter((c) => c >= bounds.hostCpuSaturated).length;
  const hostBusy = n > 0 && saturated / n > bounds.saturatedSecondsShare;
  if (w !== null) {
    const share = w.wallMs > 0 ? w.ms / w.wallMs : 0;
    const per = w.slices > 0 ? w.ms / w.slices : 0;
    const line = `k6's threads were runnable but waiting for a CPU ${Math.round(w.ms)} ms of ${Math.round(w.wallMs)} ms of CPU-wall time (${(share * 100).toFixed(1)}%), ${per.toFixed(2)} ms per time slice over ${w.slices} (invalid above ${Math.round(bounds.maxCpuWaitShare * 100)}% and ${bounds.maxCpuWaitPerSliceMs} ms per slice, over at least ${bounds.minSlices})`;
    if (share > bounds.maxCpuWaitShare && per > bounds.maxCpuWaitPerSliceMs && w.slices >= bounds.minSlices)
      reasons.push(`k6 was starved of CPU: ${line}`);
    else notes.push(`driver k6: ${line}`);
    if (hostBusy)
      notes.push(
        `the host's CPU was saturated (≥ ${Math.round(bounds.hostCpuSaturated * 100)}%) in ${saturated} of ${n} seconds while k6 ran; k6's own CPU wait decided validity`,
      );
  } else if (n === 0) unmeasured.push('host CPU: no sample was taken while k6 ran');
  else {
    unmeasured.push("k6's CPU wait: no schedstat for the k6 process, so the host's CPU decided");
    if (hostBusy) {
      reasons.push(
        `host CPU saturated (≥ ${Math.round(bounds.hostCpuSaturated * 100)}%) in ${saturated} of ${n} seconds while k6 ran (> ${Math.round(bounds.saturatedSecondsShare * 100)}%)`,
      );
    }
  }
  return { valid: reasons.length === 0, reasons, unmeasured, droppedAtCap, neverStarted, notes };
}

/**
 * The iterations of the plan k6 never reached (K6IterationAccount), judged as late starts: invalid
 * above `maxLateShare` of the plan and at least `minLate`. Returns the count, or null when not judged.
 */
function judgeNeverStarted(
  it: K6IterationAccount | undefined,
  bounds: ValidityBounds,
  reasons: string[],
  unmeasured: string[],
): number | null {
  if (!it) {
    unmeasured.push("iterations never started: the plan's count was not given");
    return null;
  }
  if (!it.playedToEnd || it.planned <= 0) return null;
  const missing = Math.max(0, it.planned - it.completed - it.dropped - (it.interrupted ?? 0));
  const share = missing / it.planned;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  if (share > bounds.maxLateShare && missing >= bounds.minLate)
    reasons.push(
      `k6 fell behind its schedule: it never started ${missing} of the plan's ${it.planned} iterations (${pct(share)}; invalid above ${pct(bounds.maxLateShare)} and at least ${bounds.minLate}): it completed ${it.completed}, dropped ${it.dropped}${it.interrupted === null ? '' : ` and interrupted ${it.interrupted}`}; k6 stops at the scenario's end without starting or counting the iterations it had not reached`,
    );
  if (it.interrupted === null)
    unmeasured.push(
      "k6's interrupted iterations: no progress line in its console, so iterations in flight at the end count as never started",
    );
  return missing;
}
