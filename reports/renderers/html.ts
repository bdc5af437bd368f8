/**
 * `report.html`: one self-contained file (chart.js inlined from node_modules, data embedded as
 * JSON) that opens from disk offline. Load vs tasks vs latency with scaling activities marked, a
 * panel per service, findings with evidence, recommendations, cost; provenance badges throughout;
 * invalid and partial runs carry a banner.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Finding } from '../findings/types.ts';
import type { Report } from '../report-model.ts';
import { CHART_RUNTIME_JS } from './chart-runtime.ts';
import { buildChartSpecs, type ChartSpec } from './chart-specs.ts';
import { edgeMarkdown } from './edge-section.ts';
import { type FindingEntry, groupFindings } from './finding-groups.ts';
import {
  describeResimulation,
  formatEventTime,
  formatNumber,
  formatUsd,
  formatWindow,
  generatorLines,
  PROVENANCE_LABEL,
} from './format.ts';
import type { Renderer } from './types.ts';

let chartJsSource: string | null = null;

/** chart.js's UMD build, read once from node_modules. */
function chartJs(): string {
  if (chartJsSource === null) {
    const require = createRequire(import.meta.url);
    const main = require.resolve('chart.js');
    chartJsSource = readFileSync(main.replace(/chart\.c?js$/, 'chart.umd.js'), 'utf8');
  }
  return chartJsSource;
}

const esc = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** JSON safe inside a <script> element. */
const scriptJson = (v: unknown) =>
  JSON.stringify(v)
    .replace(/</g, '\\u003c')
    .replace(/\u2028|\u2029/g, '');

const badge = (p: string) => `<span class="badge ${esc(p.replace(/\s/g, '-'))}">${esc(p)}</span>`;

const chartBox = (s: ChartSpec) =>
  `<div class="chart" style="height:${s.height}px"><canvas id="chart-${esc(s.id)}" data-chart="${esc(s.id)}" aria-label="${esc(s.title)}"></canvas></div>`;

/** A folded group as one table row: the summary, with every folded finding listed inside. */
function foldedRow(e: Extract<FindingEntry, { type: 'folded' }>): string {
  return `<tr class="folded"><td></td><td colspan="3"><details><summary>${esc(e.summary)}</summary><ul>${e.findings.map((f) => `<li><span class="sev ${f.severity}">${f.severity}</span> ${esc(f.title)} <span class="small">${esc(formatWindow(f.window))}</span></li>`).join('')}</ul></details></td></tr>`;
}

function findingRow(f: Finding): string {
  return `<tr class="sev-${f.severity}"><td><span class="sev ${f.severity}">${f.severity}</span></td><td><details><summary>${esc(f.title)}</summary><ul>${f.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}${(f.assumptions ?? []).map((a) => `<li class="assumption">assumption: ${esc(a)}</li>`).join('')}</ul></details></td><td class="nowrap">${esc(formatWindow(f.window))}</td><td>${badge(PROVENANCE_LABEL[f.provenance])}</td></tr>`;
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#0f172a;background:#f8fafc}
main{max-width:1180px;margin:0 auto;padding:20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px;border-bottom:1px solid #e2e8f0;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}
.meta{color:#475569}
.banner{padding:10px 14px;border-radius:6px;margin:10px 0;font-weight:600}
.banner.invalid{background:#fee2e2;color:#991b1b;border:1px solid #fca5a5}
.banner.partial{background:#fef3c7;color:#92400e;border:1px solid #fcd34d}
.banner.emulation{background:#ffedd5;color:#9a3412;border:1px solid #fdba74}
.banner.note{background:#e0f2fe;color:#075985;border:1px solid #7dd3fc;font-weight:400}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:10px 14px;min-width:150px}
.card .v{font-size:20px;font-weight:700}.card .k{color:#64748b;font-size:12px}
.chart{position:relative;background:#fff;border:1px solid #e2e8f0;border-radius:8px;padding:6px;margin:10px 0}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #e2e8f0}
th,td{padding:6px 8px;border-bottom:1px solid #f1f5f9;text-align:left;vertical-align:top}
th{background:#f1f5f9;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.nowrap{white-space:nowrap}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:11px;font-weight:600;white-space:nowrap}
.badge.measured{background:#dcfce7;color:#166534}.badge.simulated{background:#e0e7ff;color:#3730a3}
.badge.model-input{background:#f1f5f9;color:#334155;border:1px solid #cbd5e1}
.badge.unverified{background:#fef3c7;color:#92400e}
.sev{font-weight:700;font-size:12px;text-transform:uppercase}.sev.critical{color:#b91c1c}.sev.warning{color:#b45309}.sev.info{color:#475569}
details summary{cursor:pointer}details ul{margin:6px 0 0 0;padding-left:18px;color:#334155}
li.assumption{color:#92400e}
.small{font-size:12px;color:#64748b}
`;

/** Builds the page. */
export function renderHtmlText(r: Report): string {
  const specs = buildChartSpecs(r);
  const byId = new Map(specs.map((s) => [s.id, s]));
  const parts: string[] = [];
  const runProv = r.run.mode === 'simulated' ? 'simulated' : 'measured';
  parts.push(
    `<header><h1>Peak-day report: ${esc(r.run.profile)}</h1><div class="meta">run <code>${esc(r.run.id)}</code> · ${badge(runProv)} · ${esc(r.run.topologyLabel)} · event ${esc(formatEventTime(r.run.eventStart))}–${esc(formatEventTime(r.run.eventEnd))}${r.run.window ? ` (window ${esc(r.run.window)})` : ''} · time scale ${r.run.timeScale}x · seed ${r.run.seed} · generated ${esc(r.generatedAt)}</div></header>`,
  );
  for (const b of r.banners) parts.push(`<div class="banner ${b.level}" role="alert">${esc(b.text)}</div>`);
  const totalBreach = Object.values(r.breachMinutes).reduce((a, b) => a + b, 0);
  const nChannels = Object.keys(r.breachMinutes).length;
  const ts = r.run.timeScale;
  const cards = [
    [
      ts === 1 ? 'requests' : 'requests sent (rehearsal)',
      formatNumber(r.load.all.totals.requests, 0),
      runProv,
    ],
    ['p95 overall', `${formatNumber(r.load.all.overall.p95)} ms`, r.run.latencyProvenance],
    [
      nChannels > 1 ? `budget breach minutes (sum of ${nChannels} channels)` : 'budget breach minutes',
      formatNumber(totalBreach),
      r.run.latencyProvenance,
    ],
    // The cost per 1,000 orders uses orders at event scale; the card must show the same count.
    [
      ts === 1 ? 'orders' : `orders at event scale (${formatNumber(r.load.ordersTotal, 0)} × ${ts})`,
      formatNumber(r.load.ordersTotal * ts, 0),
      runProv,
    ],
    ...(r.cost
      ? [
          ['event cost (autoscaled)', formatUsd(r.cost.total), 'model input'],
          ['provisioned for peak', formatUsd(r.cost.provisionedForPeak.total), 'model input'],
          ...(r.cost.costPer1000Orders !== null
            ? [['per 1,000 orders', formatUsd(r.cost.costPer1000Orders), 'model input']]
            : []),
        ]
      : []),
  ];
  parts.push(
    `<section class="cards">${cards.map(([k, v, p]) => `<div class="card"><div class="k">${esc(k!)}</div><div class="v">${esc(v!)}</div>${badge(p!)}</div>`).join('')}</section>`,
  );
  parts.push('<h2>Load vs tasks vs latency</h2>');
  const tl = byId.get('timeline');
  if (tl) parts.push(chartBox(tl));
  const lat = byId.get('latency');
  if (lat) parts.push(chartBox(lat));
  parts.push(
    `<p class="small">Latency is ${esc(r.run.latencyKind)} (${esc(r.run.latencyProvenance)}). Budgets: ${esc([...new Set(r.budgets.map((b) => b.source))].join('; '))}.</p>`,
  );
  parts.push(
    '<table><tr><th>channel</th><th>requests</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>dropped</th><th>breach min</th></tr>',
  );
  for (const [ch, c] of Object.entries(r.load.channels))
    parts.push(
      `<tr><td>${esc(ch)}</td><td class="num">${formatNumber(c.totals.requests, 0)}</td><td class="num">${formatNumber(c.overall.p95)}</td><td class="num">${formatNumber(c.overall.p99)}</td><td class="num">${c.totals.requests > 0 ? ((100 * c.totals.failed) / c.totals.requests).toFixed(2) : '0.00'}%</td><td class="num">${formatNumber(c.totals.dropped, 0)}</td><td class="num">${formatNumber(r.breachMinutes[ch] ?? 0)}</td></tr>`,
    );
  parts.push('</table>');
  parts.push(`<h2>Findings (${r.findings.length})</h2>`);
  parts.push(
    '<table><tr><th>severity</th><th>finding (click for evidence)</th><th>window</th><th>provenance</th></tr>',
  );
  parts.push(
    ...groupFindings(r.findings).map((e) => (e.type === 'finding' ? findingRow(e.finding) : foldedRow(e))),
  );
  parts.push('</table>');
  parts.push('<h2>Recommendations</h2>');
  const rs = r.recommendations.resimulation;
  parts.push(
    rs.status === 're-simulated'
      ? `<p>${esc(describeResimulation(rs.outcome))}</p>`
      : `<p><b>Not re-simulated</b>: ${esc(rs.reason)}.</p>`,
  );
  parts.push(
    '<table><tr><th>service</th><th>min</th><th>max</th><th>pre-warm at</th><th>why</th><th>provenance</th></tr>',
  );
  for (const x of r.recommendations.items)
    parts.push(
      `<tr><td>${esc(x.service)}</td><td class="num">${x.minCapacity}</td><td class="num">${x.maxCapacity}</td><td class="nowrap">${x.preWarmAt === null ? '—' : esc(formatEventTime(x.preWarmAt))}</td><td>${esc(x.reasons.join('; '))}<div class="small">${esc(x.assumptions.join('; '))}</div></td><td>${badge(PROVENANCE_LABEL[x.provenance])}</td></tr>`,
    );
  parts.push('</table>');
  parts.push(
    `<ul class="small">${r.recommendations.quotaNotes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`,
  );
  if (r.services.length > 0) {
    parts.push('<h2>Services</h2>');
    for (const s of r.services) {
      const sf = r.findings.filter((f) => f.service === s.name && f.kind !== 'capacity');
      parts.push(
        `<h3>${esc(s.name)} ${badge(PROVENANCE_LABEL[s.provenance])}${s.partial ? ' <span class="badge unverified">partial</span>' : ''}</h3><p class="small">capacity: ${esc(s.capacity.evidence)}</p>`,
      );
      const spec = byId.get(`service-${s.name}`);
      if (spec) parts.push(chartBox(spec));
      if (sf.length > 0)
        parts.push(
          `<ul>${groupFindings(sf)
            .map((e) =>
              e.type === 'finding'
                ? `<li><span class="sev ${e.finding.severity}">${e.finding.severity}</span> ${esc(e.finding.title)}</li>`
                : `<li class="small">${esc(e.summary)} (listed under Findings)</li>`,
            )
            .join('')}</ul>`,
        );
    }
  } else
    parts.push(
      '<h2>Services</h2><p>No timeline in this run (collect one with <code>peakday collect</code>).</p>',
    );
  if (r.edge) {
    // The same section as Markdown's, as HTML.
    const md = edgeMarkdown(r.edge);
    const rows = md.filter((l) => l.startsWith('| ') && !l.startsWith('| route'));
    parts.push(
      '<h2>Edge (CloudFront)</h2>',
      `<p>${esc(md[2] ?? '')}</p>`,
      '<table><tr><th>route</th><th>requests</th><th>hits</th><th>misses</th><th>passed</th><th>to origin</th><th>CacheHitRate</th><th>offload</th></tr>',
      ...rows.map(
        (l) =>
          `<tr>${l
            .slice(2, -2)
            .split(' | ')
            .map((c) => `<td>${esc(c)}</td>`)
            .join('')}</tr>`,
      ),
      '</table>',
    );
  }
  if (r.cost) {
    const c = r.cost;
    parts.push('<h2>Cost</h2>');
    parts.push(
      `<p>${formatUsd(c.total)} autoscaled vs ${formatUsd(c.provisionedForPeak.total)} provisioned for peak all event long, over ${formatNumber(c.eventHours)} h of event (${esc(c.region)}, pricing table ${esc(c.pricingVersion)})${c.costPer1000Orders !== null ? `; ${formatUsd(c.costPer1000Orders)} per 1,000 orders` : ''}${c.headlessExtra > 0 ? `; headless adds ${formatUsd(c.headlessExtra)}` : ''}.</p>`,
    );
    const cs = byId.get('cost');
    if (cs) parts.push(chartBox(cs));
    parts.push(
      '<table><tr><th>service</th><th>item</th><th>quantity</th><th>USD</th><th>provenance</th><th>price source</th></tr>',
    );
    for (const l of c.lines)
      parts.push(
        `<tr><td>${esc(l.service)}</td><td>${esc(l.item)}${l.headlessOnly ? ' <span class="badge model-input">headless</span>' : ''}${l.note ? `<div class="small">${esc(l.note)}</div>` : ''}</td><td class="num">${formatNumber(l.quantity, 2)} ${esc(l.unit)}</td><td class="num">${formatUsd(l.usd)}</td><td>${badge(PROVENANCE_LABEL[l.provenance])}</td><td class="small">${l.priceVerified ? '' : '<span class="badge unverified">unverified</span> '}${esc(l.priceSource)}</td></tr>`,
      );
    parts.push('</table>');
    parts.push(`<p class="small">Assumptions: ${esc(c.assumptions.join('; '))}.</p>`);
    if (c.notes.length > 0)
      parts.push(`<ul class="small">${c.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  }
  const gen = generatorLines(r.run);
  if (gen)
    parts.push(
      `<h2>Load generator</h2><p>${esc(gen.head)}</p><ul class="small">${gen.evidence.map((e) => `<li>${esc(e)}</li>`).join('')}</ul>`,
    );
  if (r.run.notes.length > 0)
    parts.push(`<h2>Notes</h2><ul>${r.run.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`);
  const charts = Object.fromEntries(specs.map((s) => [s.id, s.config]));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>peakday report: ${esc(r.run.profile)} (${esc(r.run.id)})</title>
<style>${CSS}</style></head>
<body><main>
${parts.join('\n')}
<p class="small">Generated by peakday. Every figure carries its provenance: measured, simulated, or model input (with its source).</p>
</main>
<script type="application/json" id="peakday-charts">${scriptJson(charts)}</script>
<script>${chartJs()}</script>
<script>${CHART_RUNTIME_JS}
(function () {
  var charts = JSON.parse(document.getElementById('peakday-charts').textContent);
  document.querySelectorAll('canvas[data-chart]').forEach(function (el) {
    var cfg = peakdayPrepare(charts[el.getAttribute('data-chart')]);
    cfg.options.responsive = true;
    cfg.options.maintainAspectRatio = false;
    new Chart(el, cfg);
  });
  document.documentElement.setAttribute('data-charts-drawn', String(Object.keys(charts).length));
})();
</script>
</body></html>
`;
}

/** Writes report.html. */
export const htmlRenderer: Renderer = {
  description: 'report.html: self-contained, opens offline',
  render: (report) => [{ name: 'report.html', content: renderHtmlText(report) }],
};
