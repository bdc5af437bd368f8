/**
 * The emulated Fargate task: N vCPUs are N concurrent "virtual CPUs". A request holds one for its
 * service demand (emulated CPU-ms from the demand table), in real wall milliseconds (service
 * times are never compressed by the event clock). When every vCPU is busy, requests wait in a
 * bounded FIFO queue; when the queue is full the request is rejected (the caller answers 503 with
 * Retry-After). A fractional task (0.25 or 0.5 vCPU) is one virtual CPU under a CPU quota, as a
 * Fargate task is a cgroup with a CFS quota: it runs at full speed while it has quota left and is
 * throttled once it used vcpu × 100 ms in a 100-ms period (Linux's default CFS period; assumption).
 * So a lone request on a 0.25-vCPU task takes its demand, while sustained load gets 0.25 vCPU.
 *
 * Emulated CPUUtilization = busy vCPU-ms / (vCPU × period) + the task's own overhead: exactly what
 * the AWS/ECS metric reports for a task that is busy that long, independent of the host's cores.
 *
 * Pure core: time and timers are passed in (`now`, `schedule`), so tests drive it by hand.
 */

/**
 * How late (wall ms after its emulated end) a hold may end before it counts as stretched by the host.
 * Node's timers fire within ~1–2 ms of their due time on an idle host (they run at 1-ms resolution
 * and on the event loop's next turn); 5 ms is beyond that jitter and already more than the emulated
 * service time of most single calls (0.1–10 ms), so a stretched hold is one the host, not the
 * emulation, made slower (docs/reference-stack.md "Emulation fidelity").
 */
export const STRETCH_BOUND_MS = 5;

/**
 * The largest share of a service-period's holds the host may stretch for the emulation to count as
 * held there (telemetry/emulation.ts): beyond it, the period's latency is partly the host's.
 */
export const HELD_MAX_STRETCHED_SHARE = 0.05;

/**
 * What one period's holds say about the host: the emulation charged `emulatedMs` of service time in
 * `holds` holds; `stretched` of them ended more than {@link STRETCH_BOUND_MS} after their emulated
 * end, adding `addedMs` (their lateness) that the emulated task would not have had; `queuedMs` is how
 * long holds that began in the period waited for the virtual CPU (the task's own queue).
 */
export interface EmulationFidelity {
  holds: number;
  stretched: number;
  emulatedMs: number;
  addedMs: number;
  /** Wall ms the period's holds waited in the task's queue for its virtual CPU before they began. */
  queuedMs: number;
}

/** A period's counters before any hold. */
const noFidelity = (): EmulationFidelity => ({
  holds: 0,
  stretched: 0,
  emulatedMs: 0,
  addedMs: 0,
  queuedMs: 0,
});

/** Adds two fidelity counters (replicas of a service, or consecutive periods). Pure. */
export function addFidelity(
  a: EmulationFidelity | undefined,
  b: EmulationFidelity | undefined,
): EmulationFidelity {
  return {
    holds: (a?.holds ?? 0) + (b?.holds ?? 0),
    stretched: (a?.stretched ?? 0) + (b?.stretched ?? 0),
    emulatedMs: (a?.emulatedMs ?? 0) + (b?.emulatedMs ?? 0),
    addedMs: (a?.addedMs ?? 0) + (b?.addedMs ?? 0),
    queuedMs: (a?.queuedMs ?? 0) + (b?.queuedMs ?? 0),
  };
}

/** How a replica emulates its task's CPU. */
export interface EmulatorOptions {
  /** Task vCPUs (Fargate: 0.25, 0.5, 1, 2, 4, 8, 16). */
  vcpu: number;
  /** Requests allowed to wait; beyond this they are rejected. */
  queueLimit: number;
  /** Constant CPU the task spends on itself, % of its vCPUs (assumption). */
  overheadPct: number;
  /** Wall clock in ms (monotonic). */
  now: () => number;
  /** Runs `fn` after `ms` wall milliseconds. */
  schedule: (ms: number, fn: () => void) => void;
}

/** Counters of one period. */
export interface EmulatorPeriod {
  /** Emulated vCPU-ms busy in the period, overhead included. */
  busyCpuMs: number;
  /** Emulated CPUUtilization of the period, % (0–100). */
  cpuUtilization: number;
  queueLength: number;
  queuePeak: number;
  /** Requests holding a vCPU now. */
  running: number;
  rejected: number;
  /** Whether the host let the holds that ended in the period end when the emulation said. */
  fidelity: EmulationFidelity;
}

/** A replica's CPU: `acquire` resolves when the request has held a vCPU for its demand. */
export interface CapacityEmulator {
  /** Holds a vCPU for `demandCpuMs`; resolves `true` when done, `false` at once if the queue is full. */
  run(demandCpuMs: number): Promise<boolean>;
  /** Ends the current period and returns its counters. */
  takePeriod(): EmulatorPeriod;
  readonly slots: number;
  /** Quota (CPU-ms) a fractional task may burst before it is throttled; Infinity for whole vCPUs. */
  readonly burstCpuMs: number;
  queueLength(): number;
}

/** Creates an emulated task. */
export function createCapacityEmulator(options: EmulatorOptions): CapacityEmulator {
  const { vcpu, queueLimit, overheadPct, now, schedule } = options;
  if (!(vcpu > 0)) throw new Error(`vcpu must be > 0, got ${vcpu}`);
  const slots = Math.max(1, Math.floor(vcpu));
  const fractional = vcpu < 1;
  /** CFS period 100 ms (Linux default): a fractional task may use vcpu × 100 ms per period. */
  const burstCpuMs = fractional ? vcpu * 100 : Number.POSITIVE_INFINITY;
  let tokens = burstCpuMs;
  let refilledAt = now();
  let free = slots;
  const queue: Array<() => void> = [];
  /** Holds in progress: start and due end (wall ms), and CPU-ms consumed per wall ms. */
  const active = new Set<Hold>();
  let periodStart = now();
  let busySlotMs = 0;
  let queuePeak = 0;
  let rejected = 0;
  let fidelity = noFidelity();

  /** Wall time a demand takes now: its own CPU time, plus the throttled wait when the quota is spent. */
  const holdFor = (demand: number): number => {
    if (!fractional) return demand;
    const t = now();
    tokens = Math.min(burstCpuMs, tokens + (t - refilledAt) * vcpu);
    refilledAt = t;
    if (tokens >= demand) {
      tokens -= demand;
      return demand;
    }
    const deficit = demand - tokens;
    tokens = 0;
    refilledAt = t + deficit / vcpu;
    return demand + deficit / vcpu;
  };

  const startHold = (demand: number, done: () => void, queuedAt?: number) => {
    const holdMs = holdFor(demand);
    const start = now();
    if (queuedAt !== undefined) fidelity.queuedMs += start - queuedAt;
    const hold = { start, end: start + holdMs, rate: holdMs > 0 ? demand / holdMs : 0 };
    active.add(hold);
    schedule(holdMs, () => {
      active.delete(hold);
      const t = now();
      busySlotMs += heldWithin(hold, periodStart, t);
      // The timer fired `late` ms after the hold's emulated end: on a host with a free core, timer
      // jitter; beyond the bound, time the host added to this request's service time.
      const late = t - hold.end;
      fidelity.holds++;
      fidelity.emulatedMs += holdMs;
      if (late > STRETCH_BOUND_MS) {
        fidelity.stretched++;
        fidelity.addedMs += late;
      }
      const next = queue.shift();
      if (next) next();
      else free++;
      done();
    });
  };

  return {
    slots,
    burstCpuMs,
    queueLength: () => queue.length,
    run(demandCpuMs) {
      const demand = Math.max(0, demandCpuMs);
      if (free > 0) {
        free--;
        return new Promise((resolve) => startHold(demand, () => resolve(true)));
      }
      if (queue.length >= queueLimit) {
        rejected++;
        return Promise.resolve(false);
      }
      return new Promise((resolve) => {
        const queuedAt = now();
        queue.push(() => startHold(demand, () => resolve(true), queuedAt));
        if (queue.length > queuePeak) queuePeak = queue.length;
      });
    },
    takePeriod() {
      const t = now();
      let busy = busySlotMs;
      for (const h of active) busy += heldWithin(h, periodStart, t);
      const elapsed = Math.max(1e-9, t - periodStart);
      const busyCpuMs = busy + (overheadPct / 100) * vcpu * elapsed;
      const cpuUtilization = Math.min(100, (busyCpuMs / (vcpu * elapsed)) * 100);
      const out: EmulatorPeriod = {
        busyCpuMs,
        cpuUtilization,
        queueLength: queue.length,
        queuePeak: Math.max(queuePeak, queue.length),
        running: active.size,
        rejected,
        fidelity,
      };
      fidelity = noFidelity();
      periodStart = t;
      busySlotMs = 0;
      queuePeak = queue.length;
      rejected = 0;
      return out;
    },
  };
}

interface Hold {
  start: number;
  end: number;
  rate: number;
}

/**
 * CPU-ms a hold used within [from, to): only up to its due end, so a timer that fires late on a busy
 * host (the hold "ends" 90 ms after it was due) does not charge the task CPU it never used. Without
 * this, a loaded host inflated emulated CPUUtilization past 100% and the autoscaler over-scaled.
 */
function heldWithin(h: Hold, from: number, to: number): number {
  return Math.max(0, Math.min(to, h.end) - Math.max(h.start, from)) * h.rate;
}
