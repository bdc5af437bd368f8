/**
 * compare.md: the comparison as an architect reads it — the 2×2, tasks, the spread over seeds, the
 * break-even of each deciding parameter and the live check — with every model input named. Pure.
 */
import type { Comparison } from '../../simulation/sizing/compare.ts';
import type { BreakEvenResult } from '../../simulation/sizing/compare-break-even.ts';

const f = (x: number | null, d = 2) =>
  x === null ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: d });
const pct = (x: number | null) => (x === null ? 'n/a' : `${(100 * x).toFixed(1)}%`);

/** The reported value of a parameter in its unit. */
function value(r: Pick<BreakEvenResult, 'unit'>, v: number | null): string {
  if (v === null) return '—';
  return r.unit === 'share' ? pct(v) : `${f(v, 3)} ${r.unit}`;
}

/** One parameter's break-even as Markdown lines. */
function renderBreakEven(r: BreakEvenResult): string[] {
  const seedLines = r.seeds.map((s) => {
    const ends = s.ends
      .map(
        (e) => `${e.at} ${value(r, e.value)}: headless $${f(e.headless, 3)}, monolith $${f(e.monolith, 3)}`,
      )
      .join('; ');
    const answer =
      s.value === null
        ? `none in [${value(r, r.range[0])}, ${value(r, r.range[1])}]`
        : `**${value(r, s.value)}** (${s.cheaperBelow === 'headless' ? 'headless costs no more than the monolith below it' : 'the monolith costs less below it'})`;
    return `- seed ${s.seed}: ${answer} — ${ends}`;
  });
  const spread = r.spread
    ? `${value(r, r.spread.min)}–${value(r, r.spread.max)} over ${r.seeds.length - r.none} seed(s)${r.none > 0 ? `; none in range for ${r.none}` : ''}`
    : `none in [${value(r, r.range[0])}, ${value(r, r.range[1])}] for any seed`;
  return [
    `### ${r.label}${r.hotService ? ` (hottest service: ${r.hotService})` : ''}`,
    '',
    `Compares the cells ${r.provisioning === 'provisioned' ? 'provisioned for peak' : 'autoscaled'}; current value ${value(r, r.current)}. Break-even: ${spread}. ${r.simulations} trials judged (memoised ones included).`,
    '',
    ...seedLines,
    '',
  ];
}

/** Where capacity went, what limited it, the fix and the blast radius, as Markdown lines. */
function renderAnswers(c: Comparison): string[] {
  const a = c.answers;
  if (!a) return [];
  const lines = ['## Where the capacity went and what limited it', ''];
  for (const x of a.configurations) {
    const spend = Object.entries(x.capacity)
      .sort((p, q) => q[1].vcpuHours - p[1].vcpuHours)
      .map(
        ([s, v]) =>
          `${s} ${f(v.vcpuHours, v.vcpuHours < 10 ? 2 : 0)} vCPU-h (${pct(v.share)}, peak ${v.peakTasks} tasks, capacity ×${v.efficiency})`,
      )
      .join('; ');
    const limits =
      x.limits.length === 0
        ? `no failed requests; sized by the load's CPU${x.atFloor.length > 0 ? ` (at the 2-task availability floor: ${x.atFloor.join(', ')})` : ''}`
        : x.limits
            .map(
              (l) =>
                `${l.cause}${l.where.length > 0 ? ` at ${l.where.join(', ')}` : ''}: ${f(l.failedRequests, 0)} requests (${pct(l.share)})${l.minutes !== null ? `, ${f(l.minutes, 1)} throttled min` : ''}`,
            )
            .join('; ');
    lines.push(`- **${x.key}**: ${spend}. Limited by: ${limits}.`);
  }
  lines.push('', `Topology: ${a.topology.sentence}.`, '');
  if (a.fix) {
    lines.push(
      `### The fix, re-simulated: ${a.fix.fix}`,
      '',
      `Inputs changed: ${Object.entries(a.fix.change)
        .map(([k, v]) => `${k} ${v.before} → ${v.after}`)
        .join(', ')}.`,
      '',
      '| configuration | throttled min before → after | failed before → after | breach min before → after | compute $ before → after | meets budgets after |',
      '|---|---|---|---|---|---|',
      ...Object.entries(a.fix.configurations).map(
        ([k, v]) =>
          `| ${k} | ${f(v.before.throttledMinutes, 1)} → ${f(v.after.throttledMinutes, 1)} | ${pct(v.before.failedRate)} → ${pct(v.after.failedRate)} | ${f(v.before.breachMinutes)} → ${f(v.after.breachMinutes)} | ${f(v.before.computeCostUsd)} → ${f(v.after.computeCostUsd)} | ${v.after.meetsBudgets ? 'yes' : 'no'} |`,
      ),
      '',
    );
  }
  const b = a.blastRadius;
  lines.push(
    `## Blast radius of a ${b.service} outage`,
    '',
    '| topology | host | code fault: requests failing | process fault: requests failing | journeys hit by a process fault |',
    '|---|---|---|---|---|',
    ...Object.entries(b.byArch).map(
      ([arch, v]) =>
        `| ${arch} | ${v.host} | ${pct(v.codeFault.requestShare)} | ${pct(v.processFault.requestShare)} | ${v.processFault.journeys.length} (${pct(v.processFault.iterationShare)} of iterations) |`,
    ),
    '',
    'A code fault fails the requests that run the service’s code; a process fault (crash, out of memory, CPU starved, a bad deploy) fails everything its process hosts: in the monolith that is every request.',
    '',
  );
  return lines;
}

/** The edge's bill, once: it is the same traffic in every configuration of one plan. */
function renderEdge(c: Comparison): string[] {
  const e = c.configurations[0]?.edge;
  if (!e || e.requests === 0) return [];
  const pages = Object.entries(e.pages)
    .map(([p, n]) => `${p.replace(/^get|Page$/g, '').toLowerCase()} ${f(n ?? 0, 0)}`)
    .join(', ');
  return [
    `CloudFront (every configuration): ${f(e.requests, 0)} requests (pages: ${pages}; API and GraphQL forwarded uncached: ${f(e.apiRequests ?? 0, 0)}) $${f(e.requestsUsd)}, ${f(e.bytesOut / 2 ** 30, 1)} GB out $${f(e.transferUsd)}, ${f(e.invalidationPaths, 0)} invalidation paths $${f(e.invalidationUsd)} (the first 1,000 a month are free): $${f(e.usd)}.`,
    '',
  ];
}

/** Markdown of a comparison (compare.md). */
export function renderComparisonMarkdown(c: Comparison): string {
  const channels = [...new Set(c.configurations.flatMap((x) => Object.keys(x.p95ByChannel)))];
  const lines = [
    `# Monolith vs headless: ${c.profile} at ${f(c.peakRps, 0)} req/s peak (simulated)`,
    '',
    ...(c.verdict ? [`**Verdict.** ${c.verdict}`, ''] : []),
    'Each configuration right-sized by the same search (docs/reports.md "Comparing topologies"):',
    'provisioned = the fewest fixed tasks that meet the budgets; autoscaled = default target tracking',
    'with the smallest pre-warmed minimum that meets them. Compute cost = Fargate vCPU-hours and GB-hours;',
    'CloudFront = the edge in front of the storefront’s pages (requests, GB out, invalidation paths), the same page traffic in both topologies.',
    'Breach minutes = event minutes covered by a breached window of a windowed budget, judged as the gate judges.',
    '',
    `| configuration | meets budgets | knob | vCPU-h | compute $ | CloudFront $ | total $ | $ per 1,000 orders | failed | breach min | ${channels.map((ch) => `p95 ${ch} (ms)`).join(' | ')} |`,
    `|---|---|---|---|---|---|---|---|---|---|${channels.map(() => '---').join('|')}|`,
    ...c.configurations.map(
      (x) =>
        `| ${x.arch} ${x.provisioning} | ${x.meetsBudgets ? 'yes' : 'no'}${x.inconclusive.length > 0 ? ` (${x.inconclusive.length} inconclusive)` : ''} | ${x.knob.name} ${x.knob.value} | ${f(x.vcpuHours)} | ${f(x.computeCostUsd)} | ${f(x.edge.usd)} | ${f(x.totalCostUsd)} | ${f(x.costPer1000Orders, 3)} | ${(100 * x.failedRate).toFixed(2)}% | ${f(x.breachMinutes)} | ${channels.map((ch) => f(x.p95ByChannel[ch] ?? null, 0)).join(' | ')} |`,
    ),
    '',
    ...renderEdge(c),
    '',
    '## Tasks per service (minimum – peak)',
    '',
    ...c.configurations.map(
      (x) =>
        `- ${x.arch} ${x.provisioning}: ${Object.entries(x.tasks)
          .map(([s, t]) => `${s} ${t.min}–${t.peak}`)
          .join(', ')}`,
    ),
    '',
    `Spread of compute cost over seeds ${c.seeds.join(', ')} (each seed: its own plan noise and task start latencies): ${Object.entries(
      c.costSpread,
    )
      .map(([k, v]) => `${k} $${f(v.min)}–$${f(v.max)}`)
      .join('; ')}.`,
    '',
    ...(c.answers ? renderAnswers(c) : []),
    ...(c.breakEven
      ? [
          '## Break-even of the deciding parameters',
          '',
          `Where headless stops (or starts) costing no more than the monolith, within 2% (Fargate compute), each side right-sized at every point; ${c.breakEven.steps} halvings around a crossing, ${c.breakEven.searchSteps} per sizing search.${c.breakEven.withFix ? ` Every simulation with the fix (${c.breakEven.withFix}).` : ''}`,
          '',
          ...c.breakEven.results.flatMap(renderBreakEven),
        ]
      : []),
    ...(c.live
      ? [
          '## Live check of the simulation',
          '',
          'A short live run of each topology on the local stack, replayed by the simulator on the same plan:',
          '',
          '| topology | live run | mean tasks error (worst service) | p95 live (ms) | p95 simulated (ms) | p95 error | error rate live / simulated | within bound |',
          '|---|---|---|---|---|---|---|---|',
          ...c.live.map(
            (l) =>
              `| ${l.arch} | ${l.valid ? 'valid' : `invalid (${l.invalidReasons.join('; ') || 'see its report'})`} | ${pct(l.worstTaskError)}${l.worstTaskService ? ` (${l.worstTaskService})` : ''} | ${f(l.p95.live, 0)} | ${f(l.p95.simulated, 0)} | ${pct(l.p95.relativeError)} | ${pct(l.errorRate.live)} / ${pct(l.errorRate.simulated)} | tasks ${l.withinBound.tasks ? 'yes' : 'no'}, p95 ${l.withinBound.p95 ? 'yes' : 'no'} |`,
          ),
          '',
          ...c.live.flatMap((l) => l.notes.map((n) => `- ${l.arch}: ${n}`)),
          '',
        ]
      : []),
    `Model inputs: per-hop CPU ${c.inputs.hopClientCpuMs} ms (client) + ${c.inputs.hopServerCpuMs} ms (server), measured (reference-stack/capacity/demand-table.ts); floor ${c.inputs.floor} tasks per deployable; prices ${c.inputs.pricing}.`,
    '',
  ];
  return lines.join('\n');
}
