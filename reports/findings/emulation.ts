/**
 * Where the local stack's emulation did not hold (telemetry/emulation.ts): the report's banner says
 * when and where the host could not give the emulated tasks their capacity, and every finding whose
 * window overlaps such a window says that its latency there is partly this machine's. Pure.
 */
import type { TimelineRecord } from '../../core/run-format.ts';
import { type EmulationWindow, emulationWindows, summariseEmulation } from '../../telemetry/emulation.ts';
import { formatWindow } from '../renderers/format.ts';
import type { Finding } from './types.ts';

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** One window as the banner and the findings say it. */
export function describeEmulationWindow(w: EmulationWindow): string {
  return `${w.service}, ${formatWindow(w)}: the host added ${pct(w.addedFraction)} to service time (${pct(w.stretchedShare)} of requests stretched)`;
}

/** The banner text, or null when the emulation held everywhere or the run has no such data. */
export function emulationBannerText(timeline: readonly TimelineRecord[]): string | null {
  const summary = summariseEmulation(timeline);
  if (!summary || summary.heldPeriods === summary.periods) return null;
  const windows = emulationWindows(timeline).sort((a, b) => b.addedFraction - a.addedFraction);
  const shown = windows.slice(0, 4).map(describeEmulationWindow);
  const more = windows.length > shown.length ? `; and ${windows.length - shown.length} more windows` : '';
  return `not held in ${summary.periods - summary.heldPeriods} of ${summary.periods} service-periods (held: ${pct(summary.heldFraction ?? 0)}): ${shown.join('; ')}${more}. Latency there is partly this machine's, not the emulated system's: its cores could not run every replica when the emulation said (docs/reference-stack.md "Emulation fidelity").`;
}

/**
 * Adds to each finding whose window overlaps a window where the emulation did not hold (of the
 * finding's service, or of any service for findings about a channel) an evidence line saying so, and
 * `data.emulationNotHeld`. Returns how many findings it marked.
 */
export function markEmulationAffected(findings: Finding[], timeline: readonly TimelineRecord[]): number {
  const windows = emulationWindows(timeline);
  if (windows.length === 0) return 0;
  let marked = 0;
  for (const f of findings) {
    if (!f.window) continue;
    const w = f.window;
    const hit = windows.filter(
      (x) => (f.service === undefined || f.service === x.service) && x.start < w.end && w.start < x.end,
    );
    if (hit.length === 0) continue;
    f.evidence.push(
      `the emulation did not hold here: ${hit.map(describeEmulationWindow).join('; ')}: latency here is partly this machine's`,
    );
    f.data = { ...f.data, emulationNotHeld: true };
    marked++;
  }
  return marked;
}
