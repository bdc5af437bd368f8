/**
 * Universal Scalability Law fit (Gunther): X(N) = λN / (1 + σ(N−1) + κN(N−1)), where N is
 * concurrency, X throughput, λ the throughput of one unit, σ contention and κ coherency cost.
 * Least squares on X: a linear fit of N/X = a + b(N−1) + cN(N−1) (a = 1/λ, b = σ/λ, c = κ/λ) seeds
 * Levenberg–Marquardt iterations on the residuals of X itself, with σ, κ ≥ 0. Pure.
 */

/** One measured point. */
export interface UslPoint {
  concurrency: number;
  throughput: number;
}

/** A fit with its goodness. */
export interface UslFit {
  sigma: number;
  kappa: number;
  lambda: number;
  /** Coefficient of determination on throughput. */
  r2: number;
  points: number;
  /** Concurrency of peak throughput, √((1−σ)/κ) when κ > 0. */
  peakConcurrency: number | null;
  peakThroughput: number | null;
}

/** Why there is no fit. */
export interface UslNoFit {
  reason: string;
}

/** Needs this many distinct concurrency levels, spanning at least this ratio. */
export const USL_MIN_LEVELS = 4;
export const USL_MIN_SPAN = 2;

/** X(N) under the law. */
export function uslThroughput(n: number, p: { sigma: number; kappa: number; lambda: number }): number {
  return (p.lambda * n) / (1 + p.sigma * (n - 1) + p.kappa * n * (n - 1));
}

function solve3(m: number[][], v: number[]): number[] | null {
  // Gaussian elimination with partial pivoting on a 3x3 system.
  const a = m.map((row, i) => [...row, v[i] ?? 0]);
  for (let c = 0; c < 3; c++) {
    let p = c;
    for (let r = c + 1; r < 3; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-300) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < 3; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let k = c; k < 4; k++) a[r]![k]! -= f * a[c]![k]!;
    }
  }
  return [0, 1, 2].map((i) => a[i]![3]! / a[i]![i]!);
}

function sse(pts: UslPoint[], p: { sigma: number; kappa: number; lambda: number }): number {
  let s = 0;
  for (const q of pts) s += (q.throughput - uslThroughput(q.concurrency, p)) ** 2;
  return s;
}

/** Fits the law; returns a reason instead when the data cannot support a fit. */
export function fitUsl(input: UslPoint[]): UslFit | UslNoFit {
  const pts = input.filter((p) => p.concurrency > 0 && p.throughput > 0 && Number.isFinite(p.throughput));
  const levels = new Set(pts.map((p) => Math.round(p.concurrency * 1000) / 1000));
  if (levels.size < USL_MIN_LEVELS)
    return { reason: `needs ${USL_MIN_LEVELS} distinct concurrency levels, data has ${levels.size}` };
  const ns = pts.map((p) => p.concurrency);
  const span = Math.max(...ns) / Math.min(...ns);
  if (span < USL_MIN_SPAN)
    return { reason: `concurrency spans ${span.toFixed(2)}x, needs at least ${USL_MIN_SPAN}x` };
  // Linear seed: y = N/X = a + b(N-1) + c N(N-1).
  const ata = [
    [0, 0, 0],
    [0, 0, 0],
    [0, 0, 0],
  ];
  const aty = [0, 0, 0];
  for (const p of pts) {
    const row = [1, p.concurrency - 1, p.concurrency * (p.concurrency - 1)];
    const y = p.concurrency / p.throughput;
    for (let i = 0; i < 3; i++) {
      aty[i]! += row[i]! * y;
      for (let j = 0; j < 3; j++) ata[i]![j]! += row[i]! * row[j]!;
    }
  }
  const lin = solve3(ata, aty);
  let par =
    lin && lin[0]! > 0
      ? { lambda: 1 / lin[0]!, sigma: Math.max(0, lin[1]! / lin[0]!), kappa: Math.max(0, lin[2]! / lin[0]!) }
      : { lambda: Math.max(...pts.map((p) => p.throughput / p.concurrency)), sigma: 0, kappa: 0 };
  // Levenberg–Marquardt on X residuals, parameters (lambda, sigma, kappa), projected to sigma,kappa >= 0.
  let mu = 1e-3;
  let cur = sse(pts, par);
  for (let iter = 0; iter < 200; iter++) {
    const jtj = [
      [0, 0, 0],
      [0, 0, 0],
      [0, 0, 0],
    ];
    const jtr = [0, 0, 0];
    for (const q of pts) {
      const n = q.concurrency;
      const d = 1 + par.sigma * (n - 1) + par.kappa * n * (n - 1);
      const x = (par.lambda * n) / d;
      const g = [n / d, (-x * (n - 1)) / d, (-x * n * (n - 1)) / d];
      const r = q.throughput - x;
      for (let i = 0; i < 3; i++) {
        jtr[i]! += g[i]! * r;
        for (let j = 0; j < 3; j++) jtj[i]![j]! += g[i]! * g[j]!;
      }
    }
    const damped = jtj.map((row, i) => row.map((v, j) => (i === j ? v * (1 + mu) + 1e-30 : v)));
    const step = solve3(damped, jtr);
    if (!step) break;
    const next = {
      lambda: Math.max(1e-12, par.lambda + step[0]!),
      sigma: Math.max(0, par.sigma + step[1]!),
      kappa: Math.max(0, par.kappa + step[2]!),
    };
    const s = sse(pts, next);
    if (s < cur) {
      const gain = cur - s;
      par = next;
      cur = s;
      mu = Math.max(mu / 10, 1e-12);
      if (gain < 1e-14 * (1 + cur)) break;
    } else {
      mu *= 10;
      if (mu > 1e12) break;
    }
  }
  const mean = pts.reduce((a, p) => a + p.throughput, 0) / pts.length;
  const sst = pts.reduce((a, p) => a + (p.throughput - mean) ** 2, 0);
  const r2 = sst > 0 ? 1 - cur / sst : 1;
  const peakN = par.kappa > 0 && par.sigma < 1 ? Math.sqrt((1 - par.sigma) / par.kappa) : null;
  return {
    ...par,
    r2,
    points: pts.length,
    peakConcurrency: peakN,
    peakThroughput: peakN === null ? null : uslThroughput(peakN, par),
  };
}

/** Narrows a fit result. */
export function isUslFit(x: UslFit | UslNoFit): x is UslFit {
  return 'sigma' in x;
}
