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
