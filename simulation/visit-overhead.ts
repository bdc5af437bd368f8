/**
 * What the live local stack spends on one visit outside its emulated CPU: the balancer's proxying, the
 * replica's real HTTP handling and store calls around the emulated hold. The simulator charges a visit
 * its emulated CPU and one network hop (`hopLatencyMs`: 0.5 ms, the same-Region assumption for AWS);
 * a replay of a local run measures the hop instead, from the run's own timeline, so that what this
 * host adds to every request is not read as a model error (docs/simulation.md, session 13).
 *
 * Measured on the leaves only, the deployables whose methods call no other deployable: there a
 * visit's response time at the balancer is its hold plus the overhead, with nothing downstream in it.
 * A composite's (the gateway's, the monolith's) also holds its calls and a checkout's external wait.
 * Only periods where the leaf was quiet count (CPU under `QUIET_CPU`, the emulation adding under
 * `HELD_ADDED_MS` a hold): there its response time has no queue in it. Pure.
 */
import type { TimelineRecord } from '../core/run-format.ts';
import {
  type Arch,
  METHODS,
  type ModuleName,
  moduleHostOf,
  type ServiceName,
} from '../reference-stack/topology.ts';

/** A leaf period counts when its CPU is under this (%): a quiet replica answers without a queue. */
export const QUIET_CPU = 40;
/** ... and the host stretched its holds by under this much each (ms): the emulation held. */
export const HELD_ADDED_MS = 0.5;
/** Fewer quiet leaf periods than this measure nothing (the default hop stands). */
export const MIN_PERIODS = 20;

/** The measured overhead of one visit, and what it rests on. */
export interface VisitOverhead {
  /** Median over the quiet leaf periods of (balancer response time − mean emulated hold), ms. */
  ms: number;
  periods: number;
  services: ServiceName[];
}

/** The deployables of `arch` that call no other deployable (none in the monolith). */
export function leafServices(arch: Arch): ServiceName[] {
  const host = moduleHostOf(arch);
  const calls = new Map<ServiceName, boolean>();
  for (const spec of Object.values(METHODS)) {
    const here = host[spec.module as ModuleName];
    calls.set(here, (calls.get(here) ?? false) || spec.calls.length > 0);
  }
  return [...calls].filter(([, c]) => !c).map(([s]) => s);
}

/** The overhead measured from a live run's timeline, or null when it has too few quiet leaf periods. */
export function measureVisitOverhead(timeline: readonly TimelineRecord[], arch: Arch): VisitOverhead | null {
  const leaves = new Set<string>(leafServices(arch));
  const d: number[] = [];
  const used = new Set<ServiceName>();
  for (const r of timeline) {
    const e = r.emulation;
    if (!leaves.has(r.service) || !e || e.holds === 0 || r.responseTimeMs === null) continue;
    if (r.cpu === null || r.cpu >= QUIET_CPU || e.addedMs / e.holds >= HELD_ADDED_MS) continue;
    d.push(r.responseTimeMs - e.emulatedMs / e.holds);
    used.add(r.service as ServiceName);
  }
  if (d.length < MIN_PERIODS) return null;
  d.sort((a, b) => a - b);
  const mid = d.length >> 1;
  const ms = d.length % 2 ? d[mid]! : (d[mid - 1]! + d[mid]!) / 2;
  return { ms: Math.max(0, Math.round(ms * 1000) / 1000), periods: d.length, services: [...used].sort() };
}
