/**
 * What the bench scripts' discrete-event checks share (bench/balancer-queue.ts,
 * bench/finite-source-queue.ts): a heap of timed events and the CPU-ms of the doors-open monolith's
 * ordinary requests. Seeded, no stack, no clock: the checks are pure arithmetic.
 */
import type { Rng } from '../core/rng.ts';

/** Ordinary requests' CPU-ms and their shares (doors-open monolith, the demand table's steps). */
export const MIX: readonly [number, number][] = [
  [8, 0.25],
  [21, 0.1],
  [35, 0.15],
  [44, 0.3],
  [57, 0.2],
];

/** {@link MIX}'s mean CPU-ms and its squared coefficient of variation. */
export const MIX_MEAN_MS = MIX.reduce((s, [ms, p]) => s + ms * p, 0);
export const MIX_CS2 = MIX.reduce((s, [ms, p]) => s + ms * ms * p, 0) / (MIX_MEAN_MS * MIX_MEAN_MS) - 1;

/**
 * A script's positive-number options (`--seconds S`, `--seed N`) from its arguments, each its default
 * when absent, or the first that is not a positive number as a problem for the script to report (it
 * is the process's entry point: it sets the exit code). Pure.
 */
export function positiveFlags<K extends string>(
  argv: readonly string[],
  defaults: Record<K, number>,
): { values: Record<K, number> } | { problem: string } {
  const values = { ...defaults };
  for (const name of Object.keys(defaults) as K[]) {
    const i = argv.indexOf(name);
    if (i < 0) continue;
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) return { problem: `${name} must be a positive number` };
    values[name] = v;
  }
  return { values };
}

/** One request's CPU-ms drawn from {@link MIX}. */
export function drawCpu(rng: Rng): number {
  let u = rng.next();
  for (const [ms, share] of MIX) {
    u -= share;
    if (u < 0) return ms;
  }
  return MIX[MIX.length - 1]![0];
}

/** A binary heap of timed events (time, sequence for ties). */
export class Events {
  private items: { t: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  push(t: number, run: () => void): void {
    const a = this.items;
    a.push({ t, seq: this.seq++, run });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(i, p)) {
        [a[i], a[p]] = [a[p]!, a[i]!];
        i = p;
      } else break;
    }
  }
  pop(): { t: number; run: () => void } | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
  private less(i: number, j: number): boolean {
    const a = this.items[i]!;
    const b = this.items[j]!;
    return a.t < b.t || (a.t === b.t && a.seq < b.seq);
  }
}
