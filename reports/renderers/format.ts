/** Formatting shared by every renderer, so the HTML, Markdown and terminal say the same thing. */
import type { Provenance } from '../../core/run-format.ts';

/** Event seconds as `[Nd ]hh:mm` from the event's start; before the start as `start−hh:mm`. */
export function formatEventTime(seconds: number): string {
  const s = Math.round(seconds);
  const sign = s < 0 ? 'start−' : '';
  const a = Math.abs(s);
  const d = Math.floor(a / 86400);
  const h = Math.floor((a % 86400) / 3600);
  const m = Math.floor((a % 3600) / 60);
  return `${sign}${d ? `${d}d ` : ''}${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** A window as `hh:mm–hh:mm`. */
export function formatWindow(w: { start: number; end: number } | undefined): string {
  return w ? `${formatEventTime(w.start)}–${formatEventTime(w.end)}` : '';
}

/** US dollars with cents below $100, whole dollars above. */
export function formatUsd(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  const abs = Math.abs(x);
  const digits = abs < 1 ? 4 : abs < 100 ? 2 : 0;
  return `$${x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
}

/** A number with sensible precision. */
export function formatNumber(x: number | null | undefined, digits = 1): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return 'n/a';
  if (x !== 0 && Math.abs(x) < 0.01) return x.toPrecision(2);
  return x.toLocaleString('en-US', { maximumFractionDigits: Math.abs(x) >= 100 ? 0 : digits });
}

/** A short label for a provenance. */
export const PROVENANCE_LABEL = {
  measured: 'measured',
  simulated: 'simulated',
  'model-input': 'model input',
} satisfies Record<Provenance, string>;

/**
 * One sentence for a re-simulation's before and after, shared by the HTML and Markdown so neither
 * can claim more than the simulator showed: "before" is the simulator's own run of the plan (not
 * the measured breach minutes above it), and remaining breach minutes are said plainly.
 */
export function describeResimulation(o: {
  before: { breachMinutes: number; costUsd?: number };
  after: { breachMinutes: number; costUsd?: number };
}): string {
  const cost =
    o.before.costUsd !== undefined && o.after.costUsd !== undefined
      ? `, Fargate compute ${formatUsd(o.before.costUsd)} → ${formatUsd(o.after.costUsd)}`
      : '';
  const verdict =
    o.after.breachMinutes <= 0
      ? 'With them the budgets hold.'
      : `The budgets still do not hold with them: ${formatNumber(o.after.breachMinutes)} breach minutes remain.`;
  return `Re-simulated (the simulator runs the same plan without and with the recommendations): breach minutes summed over channels ${formatNumber(o.before.breachMinutes)} → ${formatNumber(o.after.breachMinutes)}${cost}. ${verdict}`;
}

/**
 * The load generator's section as lines of text (the same in every renderer): its validity, its
 * scheduler lag, and each piece of evidence the verdict rests on. Empty when the run has none.
 */
export function generatorLines(run: {
  valid: boolean;
  generator: { schedulerLag: { p50: number; p99: number; max: number } | null; evidence: string[] } | null;
}): { head: string; evidence: string[] } | null {
  const g = run.generator;
  if (!g) return null;
  const lag = g.schedulerLag
    ? `scheduler lag (actual start minus intended start) p50 ${formatNumber(g.schedulerLag.p50, 2)} ms, p99 ${formatNumber(g.schedulerLag.p99, 2)} ms, max ${formatNumber(g.schedulerLag.max, 2)} ms`
    : 'scheduler lag not measured';
  return {
    head: `${run.valid ? 'Valid' : 'INVALID'}: ${lag}. The verdict rests on:`,
    evidence: g.evidence,
  };
}
