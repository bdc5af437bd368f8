/**
 * Run validity: can the engine's own measurements be trusted? A load generator that fell behind its
 * schedule, whose event loop stalled, or whose threads waited for a CPU, reports latencies that are
 * partly its own. Pure: the engine passes in what each of its threads measured (the main thread, or
 * every worker); this decides, says why, and says on what evidence.
 *
 * Each criterion is a share with a minimum count, so that one outlier in a short run (one iteration
 * 21.6 ms late out of 130, the p99 of a 10-s `ci-smoke` run) cannot invalidate it, and a real fault
 * in a long run cannot hide in a percentile:
 * - late starts: more than 1% of a thread's iterations started more than 10 ms after they were due,
 *   and at least 10 of them;
 * - event-loop stalls: more than 1% of a thread's event-loop delay samples (perf_hooks, one per
 *   10 ms) over 50 ms, and at least 5 of them;
 * - CPU starvation: a thread was runnable but waiting for a CPU (Linux schedstat run delay) for more
 *   than 25% of the run's wall time and more than 1 ms per time slice on average (each wake-up, a
 *   response or a due arrival, was handled that much late), over at least 200 time slices.
 * Host CPU is recorded and shown, but a busy host does not by itself invalidate a run: on a local
 * rehearsal the stack under test shares the host, and what matters is whether the engine kept its
 * own timing. Whose late starts were, when there were any, is said from the seconds they fell in:
 * the engine's wait for a CPU there against the other seconds (the host's other processes), the
 * hypervisor's steal likewise (a virtual machine whose neighbours took its CPUs), and the engine's
 * own longest GC pause there (its heap). The numbers behind the bounds are in docs/run-directory.md (Run validity).
 */
import type { EngineHealthRecord } from '../core/run-format.ts';

/** The limits a run must stay within to be valid (defaults: DEFAULT_VALIDITY_BOUNDS). */
export interface ValidityBounds {
  /** An iteration started more than this after it was due is late (ms). */
  lateMs: number;
  /** Share of a thread's started iterations that may be late. */
  maxLateShare: number;
  /** Late starts below this count never invalidate. */
  minLate: number;
  /** An event-loop delay sample over this is a stall (ms). */
  stallMs: number;
  /** Share of a thread's event-loop samples that may be stalls. */
  maxStallShare: number;
  /** Stalls below this count never invalidate. */
  minStalls: number;
  /** Share of wall time a thread may spend runnable but waiting for a CPU... */
  maxCpuWaitShare: number;
  /** ...or, if over that share, the mean wait per time slice it may have (ms). */
  maxCpuWaitPerSliceMs: number;
  /** Time slices below this count never invalidate. */
  minSlices: number;
  /** Host CPU at or above this is "saturated" (shown; it invalidates only k6 runs, see k6/validity.ts). */
  hostCpuSaturated: number;
  /** Share of seconds the host may be saturated before it is noted (k6: before the run is invalid). */
  saturatedSecondsShare: number;
}

/** The documented defaults. */
export const DEFAULT_VALIDITY_BOUNDS: ValidityBounds = {
  lateMs: 10,
  maxLateShare: 0.01,
  minLate: 10,
  stallMs: 50,
  maxStallShare: 0.01,
  minStalls: 5,
  maxCpuWaitShare: 0.25,
  maxCpuWaitPerSliceMs: 1,
  minSlices: 200,
  hostCpuSaturated: 0.95,
  saturatedSecondsShare: 0.2,
};

/** What one engine thread (the main thread, or a worker) measured about itself over the run. */
export interface ThreadEvidence {
  /** How it is named in reasons: "engine", "worker 2". */
  name: string;
  /** Iterations it started on the plan's schedule; null in a closed loop (no schedule to keep). */
  started: number | null;
  /** Of those, started more than `lateMs` late. */
  late: number;
  /** Event-loop delay samples and how many were over `stallMs`. */
  loopSamples: number;
  loopStalls: number;
  /**
   * Time the thread waited for a CPU while runnable, the time slices it ran and the wall time
   * they were measured over; null where unreadable.
   */
  cpuWait: { ms: number; slices: number; wallMs: number } | null;
}

/** What the validity decision rests on. */
export interface ValidityInput {
  threads: readonly ThreadEvidence[];
  /** Per-second health records (host CPU; late starts, steal and GC pauses when measured). */
  health: readonly (Pick<EngineHealthRecord, 'hostCpu'> &
    Partial<Pick<EngineHealthRecord, 'lateStarts' | 'steal' | 'gc' | 'cpuWait'>>)[];
}

/** The decision: `reasons` when invalid, `evidence` always (what each criterion measured), `notes` for the host. */
export interface Validity {
  valid: boolean;
  reasons: string[];
  evidence: string[];
  notes: string[];
}

const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;

/** Decides validity; every reason and every piece of evidence names the figure and its bound. */
export function computeValidity(
  input: ValidityInput,
  bounds: ValidityBounds = DEFAULT_VALIDITY_BOUNDS,
): Validity {
  const reasons: string[] = [];
  const evidence: string[] = [];
  const notes: string[] = [];
  const b = bounds;
  // Whose the late starts were, from the run's seconds: the same for every thread's reason and the evidence.
  const causes = lateCauses(input.health);
  for (const th of input.threads) {
    if (th.started === null) evidence.push(`${th.name}: late starts not judged (closed loop: no schedule)`);
    else {
      const share = th.started > 0 ? th.late / th.started : 0;
      const line = `${th.name}: ${th.late} of ${th.started} iterations started more than ${b.lateMs} ms late (${pct(share)}; invalid above ${pct(b.maxLateShare)} and at least ${b.minLate})`;
      evidence.push(line);
      if (share > b.maxLateShare && th.late >= b.minLate)
        reasons.push(`engine fell behind its schedule: ${line}${causes ? `; ${causes}` : ''}`);
    }
    const stallShare = th.loopSamples > 0 ? th.loopStalls / th.loopSamples : 0;
    const loopLine = `${th.name}: ${th.loopStalls} of ${th.loopSamples} event-loop samples over ${b.stallMs} ms (${pct(stallShare)}; invalid above ${pct(b.maxStallShare)} and at least ${b.minStalls})`;
    evidence.push(loopLine);
    if (stallShare > b.maxStallShare && th.loopStalls >= b.minStalls)
      reasons.push(`engine event loop stalled: ${loopLine}`);
    if (th.cpuWait === null) evidence.push(`${th.name}: CPU wait not measured (no /proc schedstat)`);
    else {
      const w = th.cpuWait;
      const share = w.wallMs > 0 ? w.ms / w.wallMs : 0;
      const per = w.slices > 0 ? w.ms / w.slices : 0;
      const cpuLine = `${th.name}: runnable but waiting for a CPU ${Math.round(w.ms)} ms of ${Math.round(w.wallMs)} ms (${pct(share)}), ${per.toFixed(2)} ms per time slice over ${w.slices} (invalid above ${pct(b.maxCpuWaitShare)} and ${b.maxCpuWaitPerSliceMs} ms per slice, over at least ${b.minSlices})`;
      evidence.push(cpuLine);
      if (share > b.maxCpuWaitShare && per > b.maxCpuWaitPerSliceMs && w.slices >= b.minSlices)
        reasons.push(`engine was starved of CPU: ${cpuLine}`);
    }
  }
  if (causes) evidence.push(`late starts, by second: ${causes}`);
  const n = input.health.length;
  if (n > 0) {
    const saturated = input.health.filter((h) => h.hostCpu >= b.hostCpuSaturated).length;
    evidence.push(
      `host CPU ≥ ${Math.round(b.hostCpuSaturated * 100)}% in ${saturated} of ${n} seconds (shown, not a verdict: the engine's own timing above decides)`,
    );
    if (saturated / n > b.saturatedSecondsShare)
      notes.push(
        `the host's CPU was saturated (≥ ${Math.round(b.hostCpuSaturated * 100)}%) in ${saturated} of ${n} seconds; the run is judged by the engine's own timing (${reasons.length === 0 ? 'which held' : 'which did not hold'}), but the target may have shared the CPU with other processes`,
      );
  }
  return { valid: reasons.length === 0, reasons, evidence, notes };
}

/**
 * What the seconds with late starts had that the others did not: the engine's wait for a CPU
 * (mean ms per second there and elsewhere), the hypervisor's steal (mean share of the host's CPU
 * there and elsewhere) and the engine's longest GC pause there. Null when no second had a late
 * start or none of these was measured. Evidence for the reader, not a bound: a late start is late
 * whoever caused it, and the run's latencies carry it either way.
 */
export function lateCauses(health: ValidityInput['health']): string | null {
  const isLate = (h: ValidityInput['health'][number]) => (h.lateStarts ?? 0) > 0;
  const late = health.filter(isLate);
  if (late.length === 0) return null;
  const others = health.filter((h) => !isLate(h));
  const mean = (
    xs: readonly ValidityInput['health'][number][],
    f: (h: ValidityInput['health'][number]) => number,
  ) => xs.reduce((a, h) => a + f(h), 0) / Math.max(1, xs.length);
  const parts: string[] = [];
  const secs = `${late.length} second${late.length === 1 ? '' : 's'} with late starts`;
  if (health.some((h) => h.cpuWait)) {
    const wait = (h: ValidityInput['health'][number]) => h.cpuWait?.ms ?? 0;
    parts.push(
      `the engine waited for a CPU ${Math.round(mean(late, wait))} ms a second in the ${secs}, ${Math.round(mean(others, wait))} ms in the other ${others.length}`,
    );
  }
  if (health.some((h) => h.steal !== undefined)) {
    const steal = (h: ValidityInput['health'][number]) => h.steal ?? 0;
    parts.push(
      `the hypervisor took ${pct(mean(late, steal))} of the host's CPU (steal) in the ${secs}, ${pct(mean(others, steal))} in the other ${others.length}`,
    );
  }
  if (late.some((h) => h.gc)) {
    const longest = Math.max(...late.map((h) => h.gc?.maxMs ?? 0));
    parts.push(`the engine's longest GC pause in those seconds was ${longest.toFixed(1)} ms`);
  }
  return parts.length > 0 ? parts.join('; ') : null;
}

/**
 * How Linux ranks a process's CPU time against other processes': its own niceness, and, where the
 * kernel groups tasks by session (autogroups, sched(7)), its session's niceness, which alone ranks
 * one session against another. Null where a figure could not be read.
 */
export interface PriorityReading {
  /** The process's niceness (getpriority), -20..19. */
  nice: number | null;
  /** Its session's autogroup niceness (`/proc/<pid>/autogroup`), -20..19; null without autogroups. */
  autogroupNice: number | null;
}

/** Whether a local stack runs strictly below the engine on the host's CPUs, and the sentence saying so. */
export interface StackPriorityVerdict {
  /** True: below on every figure that may rank them; false: not; null: a figure could not be read. */
  below: boolean | null;
  sentence: string;
  /** Both processes' figures: "the stack's session (autogroup) niceness 10, process niceness 10; the engine's ...". */
  figures: string;
}

/**
 * Whether the local stack runs strictly below the engine, from both processes' readings: with
 * autogroups on, the sessions' niceness ranks them, and the process niceness does too wherever a CPU
 * cgroup overrides autogroups (sched(7)): the stack is below only when it is below on both; without
 * autogroups, the process niceness alone. A stack the supervisor lowered by 10 from a session niced
 * to 19 (`echo 19 > /proc/$$/autogroup`) ends at best level with the engine: the two then compete
 * on equal terms, and the engine's schedule slips (a run invalid for scheduler lag) with nothing
 * else to say why. Pure.
 */
export function judgeStackPriority(r: {
  autogroups: boolean;
  engine: PriorityReading;
  stack: PriorityReading;
}): StackPriorityVerdict {
  const { engine, stack } = r;
  const figures = (x: PriorityReading) =>
    r.autogroups
      ? `session (autogroup) niceness ${x.autogroupNice ?? 'unknown'}, process niceness ${x.nice ?? 'unknown'}`
      : `process niceness ${x.nice ?? 'unknown'}`;
  const both = `the stack's ${figures(stack)}; the engine's ${figures(engine)}`;
  const unread =
    stack.nice === null ||
    engine.nice === null ||
    (r.autogroups && (stack.autogroupNice === null || engine.autogroupNice === null));
  if (unread)
    return {
      below: null,
      sentence: `could not tell whether the stack runs below the engine (${both})`,
      figures: both,
    };
  const short: string[] = [];
  const lowest = (x: number) => (x >= 19 ? ', and 19 is the lowest priority there is' : '');
  if (r.autogroups && (stack.autogroupNice as number) <= (engine.autogroupNice as number))
    short.push(
      `its session (autogroup) niceness ${stack.autogroupNice} is not above the engine's ${engine.autogroupNice}${lowest(engine.autogroupNice as number)}`,
    );
  if ((stack.nice as number) <= (engine.nice as number))
    short.push(
      `its process niceness ${stack.nice} is not above the engine's ${engine.nice}${lowest(engine.nice as number)}${r.autogroups && short.length === 0 ? ' (the process niceness ranks them where a CPU cgroup overrides autogroups)' : ''}`,
    );
  if (short.length === 0)
    return {
      below: true,
      sentence: `the stack runs below the engine on the CPUs (${both}${r.autogroups ? '' : '; no autogroups on this kernel: the process niceness alone ranks them'})`,
      figures: both,
    };
  const remedy: string[] = [];
  if (r.autogroups && (engine.autogroupNice as number) > 0)
    remedy.push('start it from a session that is not niced (`cat /proc/$$/autogroup` shows its niceness)');
  if ((engine.nice as number) > 0) remedy.push('start it without nice');
  return {
    below: false,
    sentence: `the stack does not run below the engine on the CPUs: ${short.join('; ')}; the stack competes with the load generator for the CPUs, and on a busy host the engine's schedule slips (scheduler lag makes the run invalid)${remedy.length > 0 ? `; ${remedy.join(', and ')}` : ''}`,
    figures: both,
  };
}

/**
 * The warning for an engine started at lowered priority (its process niceness above 0, or with
 * autogroups its session's): other work on the host comes before the load generator's, so its
 * schedule slips first. Null when it runs at the default priority or better. Pure.
 */
export function enginePriorityWarning(engine: PriorityReading, autogroups: boolean): string | null {
  const lowered: string[] = [];
  if (autogroups && engine.autogroupNice !== null && engine.autogroupNice > 0)
    lowered.push(`its session's (autogroup) niceness is ${engine.autogroupNice}`);
  if (engine.nice !== null && engine.nice > 0) lowered.push(`its process niceness is ${engine.nice}`);
  if (lowered.length === 0) return null;
  const remedy = [
    ...(autogroups && (engine.autogroupNice ?? 0) > 0
      ? [
          'from a session that is not niced (`cat /proc/$$/autogroup` shows its niceness; a new login starts at 0)',
        ]
      : []),
    ...((engine.nice ?? 0) > 0 ? ['without nice'] : []),
  ];
  return `the load generator runs at lowered CPU priority: ${lowered.join(' and ')}, so other work on this host comes before it and its schedule slips first (scheduler lag makes a run invalid); start it ${remedy.join(' and ')}`;
}

/**
 * Warnings on the CPU priority the load runs at: the engine's own when it is lowered (a niced process,
 * or a niced session: enginePriorityWarning), and, against a local peakday stack whose supervisor
 * put it below the engine (its data directory holds the stack's priority: engine/health.ts
 * STACK_PRIORITY_FILE), the stack's when it did not end strictly below this engine
 * (judgeStackPriority). Pure: the readings are passed in (engine/run.ts and the stack's supervisor,
 * reference-stack/orchestrator/session-priority.ts, read them).
 */
export function priorityWarnings(
  autogroups: boolean,
  engine: PriorityReading,
  stack: (PriorityReading & { autogroups: boolean }) | null,
): string[] {
  const own = enginePriorityWarning(engine, autogroups);
  const verdict = stack ? judgeStackPriority({ autogroups: stack.autogroups, engine, stack }) : null;
  return [...(own ? [own] : []), ...(verdict && verdict.below !== true ? [verdict.sentence] : [])];
}
