/** `report.md` with PNG charts (charts/*.png) drawn by chart.js on @napi-rs/canvas: for PRs and wikis. */

import type { Report } from '../report-model.ts';
import { buildChartSpecs } from './chart-specs.ts';
import { edgeMarkdown } from './edge-section.ts';
import { groupFindings } from './finding-groups.ts';
import {
  describeResimulation,
  formatEventTime,
  formatNumber,
  formatUsd,
  formatWindow,
  generatorLines,
  PROVENANCE_LABEL,
} from './format.ts';
import { renderChartPng } from './png-charts.ts';
import { bannerLine } from './terminal.ts';
import type { RenderedFile, Renderer } from './types.ts';

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Builds the Markdown text (charts referenced as charts/<id>.png). */
export function renderMarkdownText(r: Report, chartIds: string[]): string {
  const out: string[] = [];
  out.push(`# Peak-day report: ${r.run.profile}`);
  out.push('');
  out.push(
    `Run \`${r.run.id}\` · ${r.run.mode} · ${r.run.topologyLabel} · event ${formatEventTime(r.run.eventStart)}–${formatEventTime(r.run.eventEnd)} · time scale ${r.run.timeScale}x · seed ${r.run.seed} · generated ${r.generatedAt}`,
  );
  out.push('');
  for (const b of r.banners) {
    const line = bannerLine(b);
    const colon = line.indexOf(': ');
    out.push(`> **${line.slice(0, colon)}**: ${line.slice(colon + 2)}`, '');
  }
  out.push('## Summary', '');
  out.push(
    '| channel | requests | p95 ms | p99 ms | errors | breach minutes |',
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const [ch, c] of Object.entries(r.load.channels))
    out.push(
      `| ${cell(ch)} | ${formatNumber(c.totals.requests, 0)} | ${formatNumber(c.overall.p95)} | ${formatNumber(c.overall.p99)} | ${c.totals.requests > 0 ? ((100 * c.totals.failed) / c.totals.requests).toFixed(2) : '0.00'}% | ${formatNumber(r.breachMinutes[ch] ?? 0)} |`,
    );
  out.push(
    '',
    `Latency: ${r.run.latencyKind} (${r.run.latencyProvenance}). Budgets: ${[...new Set(r.budgets.map((b) => b.source))].join('; ')}`,
    '',
  );
  for (const id of chartIds.filter((i) => i === 'timeline' || i === 'latency'))
    out.push(`![${id}](charts/${id}.png)`, '');
  out.push('## Findings', '', '| severity | finding | window | provenance |', '|---|---|---|---|');
  for (const e of groupFindings(r.findings))
    out.push(
      e.type === 'finding'
        ? `| ${e.finding.severity} | ${cell(e.finding.title)} | ${formatWindow(e.finding.window)} | ${PROVENANCE_LABEL[e.finding.provenance]} |`
        : `| | ${cell(e.summary)} (all in report.json) | | |`,
    );
  out.push('');
  out.push('## Recommendations', '');
  out.push(
    r.recommendations.resimulation.status === 're-simulated'
      ? describeResimulation(r.recommendations.resimulation.outcome)
      : `Not re-simulated: ${r.recommendations.resimulation.reason}.`,
    '',
  );
  out.push('| service | min | max | pre-warm at | why |', '|---|---:|---:|---|---|');
  for (const x of r.recommendations.items)
    out.push(
      `| ${x.service} | ${x.minCapacity} | ${x.maxCapacity} | ${x.preWarmAt === null ? '—' : formatEventTime(x.preWarmAt)} | ${cell(x.reasons.join('; '))} |`,
    );
  for (const n of r.recommendations.quotaNotes) out.push(`- ${n}`);
  out.push('');
  if (r.services.length > 0) {
    out.push('## Services', '');
    for (const s of r.services) {
      out.push(
        `### ${s.name}`,
        '',
        `Capacity: ${s.capacity.evidence} (${PROVENANCE_LABEL[s.capacity.provenance]}).`,
        '',
      );
      if (chartIds.includes(`service-${s.name}`)) out.push(`![${s.name}](charts/service-${s.name}.png)`, '');
    }
  }
  if (r.edge) out.push(...edgeMarkdown(r.edge));
  if (r.cost) {
    out.push('## Cost', '');
    out.push(
      `${formatUsd(r.cost.total)} autoscaled vs ${formatUsd(r.cost.provisionedForPeak.total)} provisioned for peak all event long (${r.cost.region}, pricing table ${r.cost.pricingVersion}, ${formatNumber(r.cost.eventHours)} h).` +
        (r.cost.costPer1000Orders !== null
          ? ` ${formatUsd(r.cost.costPer1000Orders)} per 1,000 orders.`
          : ''),
      '',
    );
    if (chartIds.includes('cost')) out.push('![cost](charts/cost.png)', '');
    out.push('| service | item | quantity | USD | provenance | price |', '|---|---|---:|---:|---|---|');
    for (const l of r.cost.lines)
      out.push(
        `| ${l.service} | ${cell(l.item)} | ${formatNumber(l.quantity, 2)} ${l.unit} | ${formatUsd(l.usd)} | ${PROVENANCE_LABEL[l.provenance]} | ${l.priceVerified ? '' : '**unverified** '}${cell(l.priceSource)} |`,
      );
    out.push('', `Assumptions: ${r.cost.assumptions.join('; ')}.`, '');
    for (const n of r.cost.notes) out.push(`- ${n}`);
  }
  const gen = generatorLines(r.run);
  if (gen) out.push('', '## Load generator', '', gen.head, '', ...gen.evidence.map((e) => `- ${e}`));
  if (r.run.notes.length > 0) out.push('', '## Notes', '', ...r.run.notes.map((n) => `- ${n}`));
  return `${out.join('\n')}\n`;
}

/** Points per series in a PNG chart (960 px wide: two points per pixel column at most). */
export const PNG_MAX_POINTS = 480;

/** Writes report.md and charts/*.png. */
export const markdownRenderer: Renderer = {
  description: 'report.md with PNG charts in charts/',
  async render(report) {
    const specs = buildChartSpecs(report, { maxPoints: PNG_MAX_POINTS });
    const pngs = await Promise.all(specs.map((s) => renderChartPng(s)));
    const files: RenderedFile[] = specs.map((s, i) => ({ name: `charts/${s.id}.png`, content: pngs[i]! }));
    files.push({
      name: 'report.md',
      content: renderMarkdownText(
        report,
        specs.map((s) => s.id),
      ),
    });
    return files;
  },
};
