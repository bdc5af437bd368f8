/**
 * The rate a host can emulate faithfully. The local stack's emulation holds only while a core is
 * free whenever a replica's hold of emulated CPU ends (telemetry/emulation.ts); every public request
 * costs the host REAL CPU in the engine, the supervisor's balancers (which proxy every internal call
 * of the headless topology) and the replicas. `bench/stack-cpu.bench.ts` measures that cost per
 * request and topology; a host of N cores keeps headroom for bursts (Poisson arrivals, replicas
 * starting on scale-out) at {@link UTILISATION_TARGET} of its cores, so it emulates faithfully up to
 * N × UTILISATION_TARGET ÷ CPU-s per request (docs/reference-stack.md "Emulation fidelity"). Pure.
 */
import type { Arch } from '../topology.ts';

/**
 * Share of the host's cores the rehearsal may keep busy on average (assumption): above it, bursts
 * leave replicas waiting for a core and the emulation stops holding.
 */
export const UTILISATION_TARGET = 0.5;

/**
 * Real host CPU (ms) per public request, stack and engine together: the marginal cost between two
 * runs of flash-sale's live window (20 and 60 req/s peak, 40 s) measured by bench/stack-cpu.bench.ts
 * on 2026-12-02 on a 2-core host shared with other work (load average 25–31, so contention may inflate
 * it; re-measure on a quiet host).
 */
export const HOST_CPU_MS_PER_REQUEST: Record<Arch, { value: number; source: string }> = {
  headless: {
    value: 14.2,
    source:
      'bench/stack-cpu.bench.ts 2026-12-02: stack 11.6 ms (balancers 2.0, replicas 9.6) + engine 2.7 ms per request, load average 25–31',
  },
  monolith: {
    value: 4.2,
    source:
      'bench/stack-cpu.bench.ts 2026-12-02: stack 3.2 ms (balancer 1.0, replica 2.2) + engine 1.1 ms per request, load average 24–31',
  },
};

/** Requests/s a host of `cores` cores emulates `arch` faithfully at (rounded down to 5). */
export function faithfulRate(arch: Arch, cores: number): number {
  const perRequestS = HOST_CPU_MS_PER_REQUEST[arch].value / 1000;
  return Math.floor((cores * UTILISATION_TARGET) / perRequestS / 5) * 5;
}

/**
 * The warning `rehearse` prints before it starts when the live window's peak exceeds what the host
 * emulates faithfully; null when it fits.
 */
export function hostFitWarning(arch: Arch, peakRps: number, cores: number): string | null {
  const fit = faithfulRate(arch, cores);
  if (peakRps <= fit) return null;
  return `the live window peaks at ${Math.round(peakRps)} req/s, above the ~${fit} req/s a ${cores}-core host emulates the ${arch} stack at faithfully (${HOST_CPU_MS_PER_REQUEST[arch].value} ms of real CPU per request for the stack and the engine, ${UTILISATION_TARGET * 100}% of the cores; docs/reference-stack.md "Emulation fidelity"): expect the emulation not to hold at the peak, and latency there to be partly this machine's. Lower it with --live-peak-rps ${fit}`;
}
