/** A short terminal summary: validity, breach minutes, the top findings, cost. Also written as summary.txt. */
import type { Report } from '../report-model.ts';
import { formatEventTime, formatNumber, formatUsd, formatWindow, PROVENANCE_LABEL } from './format.ts';
import type { Renderer } from './types.ts';

/** Lines of the summary (no colour: the CLI colours what it prints). */
export function summarizeReport(r: Report, maxFindings = 8): string[] {
  const lines: string[] = [];
  lines.push(
    `peakday report — ${r.run.profile} (${r.run.mode}, ${r.run.topologyLabel}), run ${r.run.id}, event ${formatEventTime(r.run.eventStart)}–${formatEventTime(r.run.eventEnd)}${r.run.timeScale !== 1 ? ` at ${r.run.timeScale}x` : ''}`,
  );
  for (const b of r.banners.filter((x) => x.level !== 'note')) lines.push(bannerLine(b));
  const breach = Object.entries(r.breachMinutes);
  lines.push(
    `budget breach minutes: ${breach.length === 0 ? 'none evaluated' : breach.map(([c, m]) => `${c} ${formatNumber(m)}`).join(', ')}`,
  );
  const shown = r.findings.filter((f) => f.severity !== 'info').slice(0, maxFindings);
  if (shown.length === 0) lines.push('findings: nothing critical or warning');
  for (const f of shown)
    lines.push(
      `  [${f.severity}] ${f.title}${f.window ? ` (${formatWindow(f.window)})` : ''} — ${PROVENANCE_LABEL[f.provenance]}`,
    );
  const more = r.findings.length - shown.length;
  if (more > 0) lines.push(`  … ${more} more finding(s) in the report`);
  if (r.cost)
    lines.push(
      `cost (${r.cost.region}): ${formatUsd(r.cost.total)} autoscaled vs ${formatUsd(r.cost.provisionedForPeak.total)} provisioned for peak${r.cost.costPer1000Orders !== null ? `; ${formatUsd(r.cost.costPer1000Orders)} per 1,000 orders` : ''}`,
    );
  lines.push(
    `recommendations: ${r.recommendations.items.map((x) => `${x.service} min ${x.minCapacity}/max ${x.maxCapacity}${x.preWarmAt !== null ? ` from ${formatEventTime(x.preWarmAt)}` : ''}`).join('; ') || 'none'} (${r.recommendations.resimulation.status})`,
  );
  return lines;
}

/** Writes summary.txt. */
export const terminalRenderer: Renderer = {
  description: 'summary.txt: the short summary the CLI prints',
  render: (report) => [{ name: 'summary.txt', content: `${summarizeReport(report).join('\n')}\n` }],
};

/**
 * A banner with its level said once: "INVALID RUN: ..." rather than "INVALID: INVALID RUN: ...",
 * whose text already opens with its level keeps it as it is.
 */
export function bannerLine(b: { level: string; text: string }): string {
  const level = b.level.toUpperCase();
  return b.text.startsWith(level) ? b.text : `${level}: ${b.text}`;
}
