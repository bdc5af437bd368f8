/**
 * Emulation fidelity: whether the host gave the local stack's emulated tasks the capacity they
 * emulate. Each replica charges every request a hold of emulated CPU and knows when a hold ended
 * later than the emulation said (reference-stack/capacity/emulator.ts, `STRETCH_BOUND_MS`); the
 * timeline carries, per service and period, the holds, those stretched beyond the bound, the emulated
 * service time and the time the host added. A service-period HELD when at most
 * {@link HELD_MAX_STRETCHED_SHARE} of its holds were stretched: its latencies are the emulated
 * system's. Where it did not hold, latency is partly this machine's (docs/reference-stack.md
 * "Emulation fidelity"). Pure.
 */
import type { TimelineRecord } from '../core/run-format.ts';
import { HELD_MAX_STRETCHED_SHARE, STRETCH_BOUND_MS } from '../reference-stack/capacity/emulator.ts';

export { HELD_MAX_STRETCHED_SHARE };

/** One service-period's fidelity. */
export interface PeriodFidelity {
  service: string;
  /** Event time at the period's start (s) and its length (event s). */
  t: number;
  period: number;
  holds: number;
  /** Share of holds that ended beyond the bound. */
  stretchedShare: number;
  /** Time the host added ÷ the emulated service time. */
  addedFraction: number;
  held: boolean;
}

/** What telemetry.json says about the emulation (`emulation`). */
export interface EmulationSummary {
  /** Share of service-periods with requests where the emulation held; null when none reported. */
  heldFraction: number | null;
  /** Service-periods judged (with at least one hold) and how many held. */
  periods: number;
  heldPeriods: number;
  /** The service-periods where the host added most, worst first (at most 5). */
  worstPeriods: PeriodFidelity[];
  notes: string[];
}

/** A run of consecutive service-periods of one service where the emulation did not hold. */
export interface EmulationWindow {
  service: string;
  /** Event seconds [start, end). */
  start: number;
  end: number;
  stretchedShare: number;
  addedFraction: number;
}

/** Fidelity of each service-period that had holds, by time then service. */
export function periodFidelity(timeline: readonly TimelineRecord[]): PeriodFidelity[] {
  const out: PeriodFidelity[] = [];
  for (const r of timeline) {
    const e = r.emulation;
    if (!e || e.holds <= 0) continue;
    const stretchedShare = e.stretched / e.holds;
    out.push({
      service: r.service,
      t: r.t,
      period: r.period,
      holds: e.holds,
      stretchedShare,
      addedFraction: e.emulatedMs > 0 ? e.addedMs / e.emulatedMs : 0,
      held: stretchedShare <= HELD_MAX_STRETCHED_SHARE,
    });
  }
  return out.sort((a, b) => a.t - b.t || a.service.localeCompare(b.service));
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The telemetry.json summary; null when the timeline carries no emulation data (not the local stack). */
export function summariseEmulation(timeline: readonly TimelineRecord[]): EmulationSummary | null {
  if (!timeline.some((r) => r.emulation)) return null;
  const periods = periodFidelity(timeline);
  const held = periods.filter((p) => p.held).length;
  const worst = periods
    .filter((p) => !p.held)
    .sort((a, b) => b.addedFraction - a.addedFraction || b.stretchedShare - a.stretchedShare)
    .slice(0, 5)
    .map((p) => ({
      ...p,
      stretchedShare: Math.round(p.stretchedShare * 1000) / 1000,
      addedFraction: Math.round(p.addedFraction * 1000) / 1000,
    }));
  const notes = [
    `a hold of emulated CPU is stretched when it ends more than ${STRETCH_BOUND_MS} ms after the emulation said; a service-period holds when at most ${pct(HELD_MAX_STRETCHED_SHARE)} of its holds were stretched`,
  ];
  if (periods.length === 0) notes.push('no service-period had a request: nothing to judge');
  else
    notes.push(
      `the emulation held in ${held} of ${periods.length} service-periods with requests${held < periods.length ? `; elsewhere the host (its cores shared with the load generator and other work) added service time the emulated tasks would not have had: latency there is partly this machine's` : ''}`,
    );
  return {
    heldFraction: periods.length > 0 ? Math.round((held / periods.length) * 1000) / 1000 : null,
    periods: periods.length,
    heldPeriods: held,
    worstPeriods: worst,
    notes,
  };
}

/** Consecutive not-held periods of each service, merged into windows (sorted by start). */
export function emulationWindows(timeline: readonly TimelineRecord[]): EmulationWindow[] {
  const out: EmulationWindow[] = [];
  const byService = new Map<string, PeriodFidelity[]>();
  for (const p of periodFidelity(timeline))
    byService.set(p.service, [...(byService.get(p.service) ?? []), p]);
  const recs = new Map(timeline.map((r) => [`${r.service}\u0000${r.t}`, r]));
  for (const [service, list] of byService) {
    let cur: {
      start: number;
      end: number;
      holds: number;
      stretched: number;
      em: number;
      add: number;
    } | null = null;
    const flush = () => {
      if (!cur) return;
      out.push({
        service,
        start: cur.start,
        end: cur.end,
        stretchedShare: cur.holds > 0 ? cur.stretched / cur.holds : 0,
        addedFraction: cur.em > 0 ? cur.add / cur.em : 0,
      });
      cur = null;
    };
    for (const p of list) {
      if (p.held) {
        flush();
        continue;
      }
      const e = recs.get(`${service}\u0000${p.t}`)?.emulation;
      if (cur && Math.abs(cur.end - p.t) < 1e-6) {
        cur.end = p.t + p.period;
        cur.holds += e?.holds ?? 0;
        cur.stretched += e?.stretched ?? 0;
        cur.em += e?.emulatedMs ?? 0;
        cur.add += e?.addedMs ?? 0;
      } else {
        flush();
        cur = {
          start: p.t,
          end: p.t + p.period,
          holds: e?.holds ?? 0,
          stretched: e?.stretched ?? 0,
          em: e?.emulatedMs ?? 0,
          add: e?.addedMs ?? 0,
        };
      }
    }
    flush();
  }
  return out.sort((a, b) => a.start - b.start || a.service.localeCompare(b.service));
}

/** Event times (period starts) at which the emulation held for every service that had requests. */
export function heldPeriodStarts(timeline: readonly TimelineRecord[]): {
  held: Set<number>;
  notHeld: Set<number>;
} {
  const notHeld = new Set<number>();
  const all = new Set<number>();
  for (const p of periodFidelity(timeline)) {
    all.add(p.t);
    if (!p.held) notHeld.add(p.t);
  }
  return { held: new Set([...all].filter((t) => !notHeld.has(t))), notHeld };
}
