/**
 * Splitting a plan across load generators (`--segment i/N`). Every generator computes the same
 * arrival sequence per scenario and keeps the arrivals whose index k satisfies k mod N = i − 1, so
 * the segments' planned iterations add up exactly to the whole plan's and their union is exactly
 * the whole plan's arrivals. For k6 the same split maps onto `--execution-segment` with an equal
 * `--execution-segment-sequence` (k6 stripes arrival-rate iterations across equal segments).
 */
import { invalidInput } from '../core/errors.ts';
import { createRng } from '../core/rng.ts';
import type { Plan } from '../scenarios/plan.ts';
import { arrivalModels } from './executors/index.ts';

/** A segment: `index` is 1-based (1..count), as the user writes `--segment 1/4`. */
export interface Segment {
  index: number;
  count: number;
}

/** Parses `i/N` (1 ≤ i ≤ N); bad input is an exit-2 error with a hint. */
export function parseSegment(text: string): Segment {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : Number.NaN;
  const count = m ? Number(m[2]) : Number.NaN;
  if (!m || count < 1 || index < 1 || index > count) {
    throw invalidInput(
      'segment-invalid',
      `--segment ${text} is not i/N with 1 ≤ i ≤ N`,
      'e.g. --segment 1/4 on the first of four load generators, 2/4 on the second, ...',
    );
  }
  return { index, count };
}

/** Whether arrival number `k` (0-based, per scenario) belongs to the segment. */
export function segmentKeeps(k: number, seg: Segment): boolean {
  return k % seg.count === seg.index - 1;
}

/** Number of arrivals the plan's arrival model yields per scenario (the whole plan, no segment). */
export function countArrivals(plan: Plan): number[] {
  const rng = createRng(plan.seed);
  return plan.scenarios.map((s) => {
    const it = arrivalModels[plan.arrivals](s, plan, rng);
    let n = 0;
    while (!it.next().done) n++;
    return n;
  });
}

/** Iterations of the scenario that segment keeps out of `whole` arrivals. */
export function segmentCount(whole: number, seg: Segment): number {
  return Math.max(0, Math.floor((whole - seg.index) / seg.count) + 1);
}

/**
 * The plan for one segment: rates and breakpoints stay those of the whole plan (every segment needs
 * them to compute the shared arrival sequence); `segment` is set and `iterations`/`requests` are the
 * segment's exact integer counts.
 */
export function segmentPlan(plan: Plan, seg: Segment): Plan {
  if (plan.segment)
    throw invalidInput('segment-invalid', 'this plan is already a segment', 'split the whole plan');
  const counts = countArrivals(plan);
  const scenarios = plan.scenarios.map((s, i) => ({ ...s, iterations: segmentCount(counts[i] ?? 0, seg) }));
  return {
    ...plan,
    segment: { index: seg.index, count: seg.count },
    scenarios,
    iterations: scenarios.reduce((a, s) => a + s.iterations, 0),
    requests: scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
  };
}

/** k6's flags for the segment: `--execution-segment a:b --execution-segment-sequence 0,1/N,...,1`. */
export function k6SegmentArgs(seg: Segment): string[] {
  const f = (k: number) => (k === 0 ? '0' : k === seg.count ? '1' : `${k}/${seg.count}`);
  const seq = Array.from({ length: seg.count + 1 }, (_, k) => f(k)).join(',');
  return ['--execution-segment', `${f(seg.index - 1)}:${f(seg.index)}`, '--execution-segment-sequence', seq];
}
