/**
 * Capacity per task, headroom at peak, the peak-to-baseline ratio each service saw, and a USL fit:
 * pure functions of the service series (and calibration.json when `probe` wrote one).
 */

import type { CalibrationFile } from '../../core/calibration-file.ts';
import type { Provenance } from '../../core/run-format.ts';
import type { ServiceSeries } from './service-series.ts';
import type { Finding } from './types.ts';
import { fitUsl, isUslFit, type UslPoint } from './usl.ts';

/** Capacity per task of one service and how it was obtained. */
export interface ServiceCapacity {
  service: string;
  /** Wall requests per second one task sustains at 100% CPU (or as probed), null when unknown. */
  rpsPerTask: number | null;
  /**
   * `derived-cpu`: the service's own request metric ÷ CPU; `estimated-cpu`: CPU alone against the
   * load run's rate × the service's share (no per-service request metric: an estimate, labelled).
   */
  method: 'calibration' | 'derived-cpu' | 'estimated-cpu' | 'unknown';
  provenance: Provenance;
  evidence: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Minimum CPU for a period to be used in the derivation (noise dominates below). */
export const MIN_CPU_FOR_DERIVATION = 0.2;

/**
 * Capacity per task: calibration.json when present (measured by `probe`), else derived from the run
 * as the median over periods with CPU ≥ 20% of (requests per task per second ÷ CPU) — a linear CPU
 * model, stated as such.
 */
export function computeCapacity(s: ServiceSeries, calibration: CalibrationFile | null): ServiceCapacity {
  const cal = calibration?.services[s.name];
  if (cal)
    return {
      service: s.name,
      rpsPerTask: cal.capacityRpsPerTask,
      method: 'calibration',
      provenance: 'measured',
      evidence: `calibration.json: ${cal.capacityRpsPerTask} rps per task${calibration?.source ? ` (${calibration.source})` : ''}`,
    };
  const ratios: number[] = [];
  for (let i = 0; i < s.times.length; i++) {
    const cpu = s.cpu[i];
    const rpt = s.rpsPerTask[i];
    if (
      cpu !== null &&
      cpu !== undefined &&
      rpt !== null &&
      rpt !== undefined &&
      cpu >= MIN_CPU_FOR_DERIVATION
    )
      ratios.push(rpt / cpu);
  }
  if (ratios.length === 0)
    return {
      service: s.name,
      rpsPerTask: null,
      method: 'unknown',
      provenance: s.provenance,
      evidence: `no period with CPU ≥ ${MIN_CPU_FOR_DERIVATION * 100}% and a request count; run \`peakday probe\``,
    };
  const v = median(ratios);
  if (s.rpsEstimate)
    return {
      service: s.name,
      rpsPerTask: v,
      method: 'estimated-cpu',
      provenance: s.provenance,
      evidence: `estimate from CPU alone: median of (the load run's rate × share ${s.rpsEstimate.share}, per task, ÷ CPU) over ${ratios.length} periods with CPU ≥ ${MIN_CPU_FOR_DERIVATION * 100}% (linear CPU model: an assumption)`,
    };
  return {
    service: s.name,
    rpsPerTask: v,
    method: 'derived-cpu',
    provenance: s.provenance,
    evidence: `median of (rps per task ÷ CPU) over ${ratios.length} periods with CPU ≥ ${MIN_CPU_FOR_DERIVATION * 100}% (linear CPU model: an assumption)`,
  };
}

/** Utilisation of a period: rps ÷ (running × capacity), else CPU. */
export function utilisation(s: ServiceSeries, cap: ServiceCapacity, i: number): number | null {
  const rps = s.rps[i];
  const running = s.running[i] ?? 0;
  // Tasks not reported in the period: unknown, not zero (which would read as infinite demand).
  if (s.missing?.[i]?.includes('running')) return s.cpu[i] ?? null;
  if (cap.rpsPerTask !== null && rps !== null && rps !== undefined) {
    if (running <= 0) return rps > 0 ? Number.POSITIVE_INFINITY : 0;
    return rps / (running * cap.rpsPerTask);
  }
  return s.cpu[i] ?? null;
}

/** A number with `d` decimals, grouped in thousands ("49,908.9"), ∞ when not finite. */
const fmt = (x: number, d = 1) =>
  Number.isFinite(x)
    ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : '∞';

/** Capacity findings, one per service. */
export function capacityFindings(caps: ServiceCapacity[]): Finding[] {
  return caps.map((c) => ({
    id: `capacity/${c.service}`,
    kind: 'capacity',
    severity: 'info',
    service: c.service,
    title:
      c.rpsPerTask === null
        ? `${c.service}: capacity per task unknown`
        : `${c.service}: ~${fmt(c.rpsPerTask)} rps per task`,
    ...(c.rpsPerTask !== null ? { value: c.rpsPerTask, unit: 'rps/task' } : {}),
    provenance: c.provenance,
    evidence: [c.evidence],
    data: { method: c.method, rpsPerTask: c.rpsPerTask },
  }));
}

/** Headroom at each service's peak request rate, and the peak-to-baseline ratio it saw. */
export function peakFindings(series: ServiceSeries[], caps: ServiceCapacity[]): Finding[] {
  const out: Finding[] = [];
  series.forEach((s, k) => {
    const cap = caps[k]!;
    let iPeak = -1;
    let peak = -1;
    s.rps.forEach((r, i) => {
      if (r !== null && r > peak) {
        peak = r;
        iPeak = i;
      }
    });
    if (iPeak < 0) return;
    const t = s.times[iPeak]!;
    const u = utilisation(s, cap, iPeak);
    if (u !== null) {
      const headroom = 1 - u;
      out.push({
        id: `headroom/${s.name}`,
        kind: 'headroom',
        severity: headroom < 0 ? 'critical' : headroom < 0.2 ? 'warning' : 'info',
        service: s.name,
        title:
          headroom >= 0
            ? `${s.name}: ${fmt(headroom * 100, 0)}% headroom at its peak (${fmt(peak)} rps on ${s.running[iPeak]} tasks)`
            : `${s.name}: no headroom at its peak — demand ${fmt(u * 100, 0)}% of capacity (${fmt(peak)} rps on ${s.running[iPeak]} tasks)`,
        window: { start: t, end: t + s.period },
        value: headroom,
        unit: 'fraction',
        provenance: s.provenance,
        evidence: [
          cap.rpsPerTask !== null
            ? `${fmt(peak)} rps ÷ (${s.running[iPeak]} tasks × ${fmt(cap.rpsPerTask)} rps/task) = ${fmt(u * 100, 0)}% utilised`
            : `CPU ${fmt(u * 100, 0)}% at the peak (capacity per task unknown)`,
        ],
        data: { peakRps: peak, running: s.running[iPeak], utilisation: u, t },
      });
    }
    const nonzero = s.rps.filter((r): r is number => r !== null && r > 0);
    if (nonzero.length > 0) {
      const base = median(nonzero);
      const ratio = peak / base;
      out.push({
        id: `peak-ratio/${s.name}`,
        kind: 'peak-ratio',
        severity: 'info',
        service: s.name,
        title: `${s.name}: peak ${fmt(ratio)}x its baseline`,
        window: { start: t, end: t + s.period },
        value: ratio,
        unit: 'x',
        provenance: s.provenance,
        evidence: [
          `peak ${fmt(peak)} rps vs baseline ${fmt(base)} rps (median over the run's periods with traffic)`,
        ],
        data: { peakRps: peak, baselineRps: base },
      });
    }
  });
  return out;
}

/**
 * USL fit per service from calibration points, else from the run: concurrency N = running tasks,
 * throughput X = rps, over periods where the service was saturated (utilisation ≥ 0.9), when
 * enough distinct N exist. Reported only when a fit exists, or why not for calibrated services.
 */
export function uslFindings(
  series: ServiceSeries[],
  caps: ServiceCapacity[],
  calibration: CalibrationFile | null,
): Finding[] {
  const out: Finding[] = [];
  series.forEach((s, k) => {
    const cal = calibration?.services[s.name]?.points;
    let pts: UslPoint[] = [];
    let from = '';
    let provenance: Provenance = s.provenance;
    if (cal && cal.length > 0) {
      pts = cal;
      from = 'calibration.json probe points';
      provenance = 'measured';
    } else {
      const cpuSat = s.cpu.map((c) => c !== null && c >= 0.9);
      for (let i = 0; i < s.times.length; i++) {
        const rps = s.rps[i];
        if (cpuSat[i] && rps !== null && rps !== undefined && (s.running[i] ?? 0) > 0)
          pts.push({ concurrency: s.running[i]!, throughput: rps });
      }
      from = 'saturated periods of the run (CPU ≥ 90%): tasks vs rps';
      void caps[k];
    }
    if (pts.length === 0) return;
    const fit = fitUsl(pts);
    if (!isUslFit(fit)) {
      if (cal)
        out.push({
          id: `usl/${s.name}`,
          kind: 'usl',
          severity: 'info',
          service: s.name,
          title: `${s.name}: no scalability fit (${fit.reason})`,
          provenance,
          evidence: [from],
        });
      return;
    }
    out.push({
      id: `usl/${s.name}`,
      kind: 'usl',
      severity:
        fit.peakConcurrency !== null && fit.peakConcurrency < Math.max(...pts.map((p) => p.concurrency)) * 2
          ? 'warning'
          : 'info',
      service: s.name,
      title: `${s.name}: USL σ=${fit.sigma.toFixed(3)} κ=${fit.kappa.toExponential(2)} λ=${fit.lambda.toFixed(1)} (R²=${fit.r2.toFixed(3)})`,
      provenance,
      evidence: [
        `least-squares fit over ${fit.points} points from ${from}`,
        fit.peakConcurrency !== null
          ? `throughput peaks at N≈${fit.peakConcurrency.toFixed(0)} (${fit.peakThroughput?.toFixed(0)} rps); beyond it adding units lowers throughput`
          : 'no retrograde region (κ = 0): throughput keeps growing with N',
      ],
      data: { ...fit },
    });
  });
  return out;
}
