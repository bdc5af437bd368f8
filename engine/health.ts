/**
 * Engine health, sampled once per second: scheduler lag (from the engine's own histogram), late
 * starts, event-loop delay (perf_hooks monitorEventLoopDelay), the time this thread waited for a CPU
 * while runnable (Linux schedstat), host CPU (os.cpus() deltas), the hypervisor's steal (/proc/stat),
 * this thread's GC pauses (perf_hooks 'gc' entries) and this process's CPU (process.cpuUsage
 * deltas, in cores). Steal and GC say whose a late start was: the host's, or the engine's own heap. This is the I/O edge of run validity (engine/validity.ts):
 * `evidence()` gives the run-wide figures one thread's validity rests on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, getPriority } from 'node:os';
import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import type { EngineHealthRecord } from '../core/run-format.ts';
import type { LatencyHistogram } from './histogram.ts';
import type { PriorityReading, ThreadEvidence } from './validity.ts';

/** Samples health records and keeps the run-wide evidence of one thread. */
export interface HealthSampler {
  /** The second's record; `late` is the iterations started more than the late bound late in it. */
  sample(
    t: number,
    wall: number,
    lagUs: LatencyHistogram,
    inFlight: number,
    late: number,
  ): EngineHealthRecord;
  /** Run-wide event-loop delay p99 (ms). */
  loopDelayP99Ms(): number;
  /** This thread's evidence for validity, except its iteration counts. */
  evidence(): Pick<ThreadEvidence, 'loopSamples' | 'loopStalls' | 'cpuWait'>;
  stop(): void;
}

function cpuTotals(): { idle: number; total: number } {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    const t = c.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * This process's resident memory (MB); the last value read when it cannot be read now. Node reads
 * it from /proc, which takes a file descriptor: a run that has used every one it may open (EMFILE,
 * ulimit -n) must still close its seconds and say why it stopped, not die on its own health record.
 */
let lastRssMb = 0;
function residentMb(): number {
  try {
    lastRssMb = Math.round(process.memoryUsage.rss() / 1048576);
  } catch {
    // kept: the last reading
  }
  return lastRssMb;
}

/**
 * The host's CPU time in all and the part the hypervisor stole (jiffies, Linux `/proc/stat`'s first
 * line: user nice system idle iowait irq softirq steal; guest time is already in user). Null where
 * unreadable (not Linux) or where the kernel gives no steal column.
 */
export function readHostSteal(path = '/proc/stat'): { steal: number; total: number } | null {
  try {
    const text = readFileSync(path, 'utf8');
    const line = text.slice(0, text.indexOf('\n'));
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    if (f.length < 8 || f.some((x) => !Number.isFinite(x))) return null;
    return { steal: f[7] as number, total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** Steal over an interval: the stolen share of the host's CPU time, 0..1 (0 when no time passed). */
export function stealShare(
  from: { steal: number; total: number },
  to: { steal: number; total: number },
): number {
  const dt = to.total - from.total;
  return dt > 0 ? Math.min(1, Math.max(0, (to.steal - from.steal) / dt)) : 0;
}

/**
 * A thread's scheduler statistics: time on a CPU and time runnable but waiting for one (ns), and
 * the time slices it ran (Linux `/proc/<pid>/task/<tid>/schedstat`; default the calling thread).
 * Null where there is no such file (not Linux, or schedstats off).
 */
export function readSchedstat(
  path = '/proc/thread-self/schedstat',
): { cpuNs: number; waitNs: number; slices: number } | null {
  try {
    const [cpu, wait, slices] = readFileSync(path, 'utf8').trim().split(/\s+/).map(Number);
    if (!Number.isFinite(cpu) || !Number.isFinite(wait) || !Number.isFinite(slices)) return null;
    return { cpuNs: cpu as number, waitNs: wait as number, slices: slices as number };
  } catch {
    return null;
  }
}

/**
 * Samples of an event-loop delay histogram over `thresholdMs`: its count times the share of
 * percentiles above the threshold (found by bisection; exact to 0.01 percentile).
 */
export function countAbove(h: IntervalHistogram, thresholdMs: number): number {
  const ns = thresholdMs * 1e6;
  if (h.count === 0 || h.max <= ns) return 0;
  let lo = 0;
  let hi = 100;
  while (hi - lo > 0.01) {
    const mid = (lo + hi) / 2;
    if (h.percentile(mid) > ns) hi = mid;
    else lo = mid;
  }
  return Math.max(1, Math.round((h.count * (100 - hi)) / 100));
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Starts sampling on the calling thread; `stallMs` is the validity bound for a stall; call `stop` at the end. */
export function createHealthSampler(stallMs = 50): HealthSampler {
  const second = monitorEventLoopDelay({ resolution: 10 });
  const whole = monitorEventLoopDelay({ resolution: 10 });
  second.enable();
  whole.enable();
  let lastCpu = cpuTotals();
  let lastProc = process.cpuUsage();
  let lastAt = performance.now();
  const firstSched = readSchedstat();
  const firstAt = performance.now();
  let lastSched = firstSched;
  let lastSteal = readHostSteal();
  // GC pauses on this thread (each isolate observes its own): summed and the longest, per second.
  const gc = { ms: 0, maxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.ms += e.duration;
      if (e.duration > gc.maxMs) gc.maxMs = e.duration;
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
  return {
    sample(t, wall, lag, inFlight, late) {
      const now = performance.now();
      const cpu = cpuTotals();
      const proc = process.cpuUsage();
      const sched = readSchedstat();
      const dTotal = cpu.total - lastCpu.total;
      const hostCpu = dTotal > 0 ? 1 - (cpu.idle - lastCpu.idle) / dTotal : 0;
      const procUs = proc.user - lastProc.user + proc.system - lastProc.system;
      const processCpu = now > lastAt ? procUs / 1000 / (now - lastAt) : 0;
      lastCpu = cpu;
      lastProc = proc;
      lastAt = now;
      const rec: EngineHealthRecord = {
        t: Math.round(t * 1000) / 1000,
        wall: Math.round(wall * 1000) / 1000,
        schedulerLag: {
          p50: r2(lag.totalCount ? lag.getValueAtPercentile(50) / 1000 : 0),
          p99: r2(lag.totalCount ? lag.getValueAtPercentile(99) / 1000 : 0),
          max: r2(lag.totalCount ? lag.maxValue / 1000 : 0),
        },
        lateStarts: late,
        eventLoopDelay: {
          p50: r2(ms(second.percentile(50))),
          p99: r2(ms(second.percentile(99))),
          max: r2(ms(second.max)),
        },
        loopStalls: countAbove(second, stallMs),
        hostCpu: r2(Math.min(1, Math.max(0, hostCpu))),
        processCpu: r2(processCpu),
        inFlight,
        rssMb: residentMb(),
      };
      if (sched && lastSched) {
        const slices = sched.slices - lastSched.slices;
        const waitMs = (sched.waitNs - lastSched.waitNs) / 1e6;
        rec.cpuWait = {
          ms: r2(waitMs),
          perSliceMs: slices > 0 ? Math.round((waitMs / slices) * 1000) / 1000 : 0,
        };
      }
      lastSched = sched;
      const steal = readHostSteal();
      if (steal && lastSteal) rec.steal = Math.round(stealShare(lastSteal, steal) * 1000) / 1000;
      lastSteal = steal;
      rec.gc = { ms: r2(gc.ms), maxMs: r2(gc.maxMs) };
      gc.ms = 0;
      gc.maxMs = 0;
      second.reset();
      return rec;
    },
    loopDelayP99Ms: () => ms(whole.percentile(99)),
    evidence() {
      const end = readSchedstat();
      return {
        loopSamples: whole.count,
        loopStalls: countAbove(whole, stallMs),
        cpuWait:
          firstSched && end
            ? {
                ms: (end.waitNs - firstSched.waitNs) / 1e6,
                slices: end.slices - firstSched.slices,
                wallMs: performance.now() - firstAt,
              }
            : null,
      };
    },
    stop() {
      second.disable();
      whole.disable();
      gcObserver.disconnect();
    },
  };
}

/**
 * Time another process's threads (a k6 child) were runnable but waiting for a CPU, sampled once a
 * second from `/proc/<pid>/task/<tid>/schedstat` while it lives (its /proc entry goes with it, so
 * the last sample is what counts): the same starvation evidence the engine's own threads give,
 * summed over the process's threads. Its `wallMs` is the wall time times the CPUs the process could
 * have run on at once (its threads that ran, at most the cores): a process with many threads can
 * wait longer than the wall in all. `stop()` returns null where there is no schedstat.
 */
export function sampleProcessCpuWait(pid: number): {
  stop(): { ms: number; slices: number; wallMs: number } | null;
} {
  const first = new Map<string, { waitNs: number; slices: number }>();
  const last = new Map<string, { waitNs: number; slices: number }>();
  const t0 = performance.now();
  let lastAt = t0;
  const take = (): void => {
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${pid}/task`);
    } catch {
      return;
    }
    for (const tid of tids) {
      const s = readSchedstat(`/proc/${pid}/task/${tid}/schedstat`);
      if (!s) continue;
      if (!first.has(tid)) first.set(tid, { waitNs: s.waitNs, slices: s.slices });
      last.set(tid, { waitNs: s.waitNs, slices: s.slices });
    }
    lastAt = performance.now();
  };
  take();
  const timer = setInterval(take, 1000);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      take();
      if (last.size === 0) return null;
      let waitNs = 0;
      let slices = 0;
      let ran = 0;
      for (const [tid, l] of last) {
        const f = first.get(tid) ?? { waitNs: 0, slices: 0 };
        waitNs += l.waitNs - f.waitNs;
        slices += l.slices - f.slices;
        if (l.slices > f.slices) ran++;
      }
      const lanes = Math.max(1, Math.min(availableParallelism(), ran));
      return { ms: waitNs / 1e6, slices, wallMs: (lastAt - t0) * lanes };
    },
  };
}

/**
 * Whether the kernel groups tasks by session for the CPU (Linux autogroups,
 * `/proc/sys/kernel/sched_autogroup_enabled` 1); false where it does not or cannot be read.
 */
export function readAutogroupsEnabled(path = '/proc/sys/kernel/sched_autogroup_enabled'): boolean {
  try {
    return readFileSync(path, 'utf8').trim() === '1';
  } catch {
    return false;
  }
}

/**
 * A process's CPU priority (default this one): its niceness and its session's autogroup niceness
 * (`/proc/<pid>/autogroup`, "/autogroup-42 nice 19"), each null where it cannot be read (another
 * user's process, a process gone, not Linux). The judgement is engine/validity.ts judgeStackPriority.
 */
export function readPriority(pid?: number, procDir = '/proc'): PriorityReading {
  let nice: number | null = null;
  try {
    nice = pid === undefined ? getPriority() : getPriority(pid);
  } catch {
    // unreadable: null
  }
  let autogroupNice: number | null = null;
  try {
    const m = /nice\s+(-?\d+)/.exec(readFileSync(`${procDir}/${pid ?? 'self'}/autogroup`, 'utf8'));
    if (m) autogroupNice = Number(m[1]);
  } catch {
    // no autogroups here: null
  }
  return { nice, autogroupNice };
}

/**
 * The file a local peakday stack's supervisor writes in its data directory (the `dataDir` of
 * `GET /_peakday/info`) when it put the stack below the engine's priority: what the stack ended up
 * with, so a run against it can compare its own (engine/run.ts).
 */
export const STACK_PRIORITY_FILE = 'session-priority.json';

/** What a stack's supervisor wrote in STACK_PRIORITY_FILE. */
export interface StackPriorityFile extends PriorityReading {
  pid: number;
  autogroups: boolean;
}

/** The stack's priority file in `dataDir`, or null (none, unreadable, not that shape). */
export function readStackPriority(dataDir: string): StackPriorityFile | null {
  try {
    const v = JSON.parse(
      readFileSync(`${dataDir}/${STACK_PRIORITY_FILE}`, 'utf8'),
    ) as Partial<StackPriorityFile>;
    const num = (x: unknown) => (typeof x === 'number' && Number.isInteger(x) ? x : null);
    if (num(v.pid) === null || typeof v.autogroups !== 'boolean') return null;
    return {
      pid: v.pid as number,
      autogroups: v.autogroups,
      nice: num(v.nice),
      autogroupNice: num(v.autogroupNice),
    };
  } catch {
    return null;
  }
}
