/**
 * What a simulated run cost and how long it breached: Fargate compute priced from the simulator's
 * task-hours, and breach minutes. Used by the sizing search (simulation/sizing/) and by the
 * re-simulation of a report's recommendations (workflows/resimulate.ts).
 *
 * A breach minute here is a series interval in which more than 1% of requests failed or a step's
 * estimated p95 exceeded `p95Ms` (default 2 s, the page budget of docs/sources.md), counted in
 * event minutes.
 */
import type { PricingTable } from './pricing/pricing-table.ts';
import type { SimulationResult } from './simulate.ts';

/** Breach minutes of a simulation (see the module comment). */
export function breachMinutes(
  r: SimulationResult,
  p95Ms: number,
): { total: number; byChannel: Record<string, number> } {
  const byT = new Map<string, { req: number; failed: number; slow: boolean; dt: number }>();
  for (const rec of r.series) {
    if (rec.step === null) continue;
    const key = `${rec.t}|${rec.channel}`;
    const e = byT.get(key) ?? { req: 0, failed: 0, slow: false, dt: r.findings.resolutionSeconds };
    e.req += rec.requests ?? 0;
    e.failed += rec.failed ?? 0;
    if ((rec.requests ?? 0) > 0 && (rec.latencyEstimate?.p95 ?? 0) > p95Ms) e.slow = true;
    byT.set(key, e);
  }
  const byChannel: Record<string, number> = {};
  const times = new Set<string>();
  for (const [key, e] of byT) {
    if (e.req <= 0 || !(e.slow || e.failed / e.req > 0.01)) continue;
    const [t, ch] = key.split('|') as [string, string];
    byChannel[ch] = (byChannel[ch] ?? 0) + e.dt / 60;
    times.add(t);
  }
  return { total: (times.size * r.findings.resolutionSeconds) / 60, byChannel };
}

/** Fargate compute (x86 vCPU-hours and GB-hours) of a simulation, priced; the part a topology decides. */
export function fargateComputeCost(
  r: SimulationResult,
  pricing: PricingTable,
): { vcpuHours: number; gbHours: number; usd: number } {
  let vcpuHours = 0;
  let gbHours = 0;
  for (const s of Object.values(r.findings.services)) {
    vcpuHours += s.vcpuHours;
    gbHours += s.memoryGbHours;
  }
  const usd =
    vcpuHours * pricing.prices['fargate.x86.vcpuHour'].value +
    gbHours * pricing.prices['fargate.x86.gbHour'].value;
  return { vcpuHours, gbHours, usd };
}
