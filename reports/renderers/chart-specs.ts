/**
 * Chart.js configurations built from the report model, as plain JSON (the HTML page embeds them,
 * the PNG renderer draws them). Long runs are reduced to at most {@link MAX_POINTS} points per
 * series by taking each bucket's maximum, so peaks are never averaged away.
 */
import type { Report } from '../report-model.ts';
import { formatEventTime } from './format.ts';

/** Points per series above which series are reduced. */
export const MAX_POINTS = 1200;

/** One chart. */
export interface ChartSpec {
  id: string;
  title: string;
  /** Chart.js config (JSON only; `peakdayPrepare` attaches functions). */
  config: Record<string, unknown>;
  height: number;
}

type Point = { x: number; y: number | null };

/** Reduces (t, v) to at most `max` points by bucket maximum; nulls are skipped. */
export function reduceSeriesTo(times: number[], values: (number | null)[], max = MAX_POINTS): Point[] {
  const n = times.length;
  if (n <= max) return times.map((t, i) => ({ x: t, y: values[i] ?? null }));
  const size = Math.ceil(n / max);
  const out: Point[] = [];
  for (let i = 0; i < n; i += size) {
    let best: number | null = null;
    for (let j = i; j < Math.min(n, i + size); j++) {
      const v = values[j];
      if (v !== null && v !== undefined && (best === null || v > best)) best = v;
    }
    out.push({ x: times[i]!, y: best });
  }
  return out;
}

const COLORS = ['#2563eb', '#ea580c', '#16a34a', '#9333ea', '#0891b2', '#ca8a04', '#db2777', '#4b5563'];

/** Tick steps (s) that read well on an event clock. */
const TIME_STEPS = [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];

/** The x range of the data and a tick step from {@link TIME_STEPS} giving at most 12 ticks. */
function timeAxis(r: Report) {
  const starts = [r.load.times[0], ...r.services.map((s) => s.times[0])].filter(
    (x): x is number => x !== undefined,
  );
  const ends = [
    r.load.times.length > 0 ? r.load.times[r.load.times.length - 1]! + r.load.intervalSeconds : undefined,
    ...r.services.map((s) => (s.times.length > 0 ? s.times[s.times.length - 1]! + s.period : undefined)),
  ].filter((x): x is number => x !== undefined);
  const min = starts.length > 0 ? Math.min(...starts) : r.run.eventStart;
  const max = ends.length > 0 ? Math.max(...ends) : r.run.eventEnd;
  const step = TIME_STEPS.find((s) => (max - min) / s <= 12) ?? 86400 * Math.ceil((max - min) / 86400 / 12);
  return {
    type: 'linear',
    peakdayTime: true,
    min,
    max,
    title: { display: true, text: 'event time (hh:mm from the event start)' },
    ticks: { stepSize: step, maxTicksLimit: 14 },
  };
}

const base = (title: string) => ({
  responsive: false,
  animation: false,
  parsed: false,
  normalized: true,
  spanGaps: true,
  interaction: { mode: 'nearest', axis: 'x', intersect: false },
  plugins: { title: { display: true, text: title, font: { size: 14 } }, legend: { position: 'bottom' } },
  elements: { point: { radius: 0 }, line: { borderWidth: 1.5 } },
});

/** Budget-breach windows of every channel, merged where they overlap (one band, one shade). */
function breachBands(r: Report): { start: number; end: number }[] {
  const ws = r.findings
    .filter((f) => f.kind === 'budget-breach' && f.window)
    .map((f) => ({ start: f.window!.start, end: f.window!.end }))
    .sort((a, b) => a.start - b.start);
  const out: { start: number; end: number }[] = [];
  for (const w of ws) {
    const last = out[out.length - 1];
    if (last && w.start <= last.end) last.end = Math.max(last.end, w.end);
    else out.push({ ...w });
  }
  return out;
}

/** A task-count axis: whole tasks only, with room above the highest count so its line stays visible. */
function tasksAxis(): Record<string, unknown> {
  return {
    type: 'linear',
    position: 'right',
    beginAtZero: true,
    grace: '10%',
    ticks: { precision: 0 },
    title: { display: true, text: 'tasks' },
    grid: { drawOnChartArea: false },
  };
}

/** The requests axis says which clock its rates use: a compressed rehearsal's rates are wall rates. */
function rpsTitle(r: Report): string {
  return r.run.timeScale === 1 ? 'requests/s' : `req/s (wall, ${r.run.timeScale}x)`;
}

function activityLines(r: Report, service?: string) {
  const acts = r.activities.filter((a) => !service || a.service === service);
  const label = acts.length <= 16;
  return acts.map((a) => ({
    t: a.t,
    ...(label ? { label: `${service ? '' : `${a.service} `}${a.from ?? '?'}→${a.to ?? '?'}` } : {}),
  }));
}

/** Sum of running tasks across services at each distinct time. */
function totalTasks(r: Report): { times: number[]; values: number[] } {
  const m = new Map<number, number>();
  for (const s of r.services)
    s.times.forEach((t, i) => {
      m.set(t, (m.get(t) ?? 0) + (s.running[i] ?? 0));
    });
  const times = [...m.keys()].sort((a, b) => a - b);
  return { times, values: times.map((t) => m.get(t) ?? 0) };
}

/** Options of {@link buildChartSpecs}. */
export interface ChartSpecOptions {
  /** Points per series (default {@link MAX_POINTS}); a 960-px PNG needs fewer than a browser. */
  maxPoints?: number;
}

/** The charts of a report, in display order. */
export function buildChartSpecs(r: Report, options: ChartSpecOptions = {}): ChartSpec[] {
  const max = options.maxPoints ?? MAX_POINTS;
  const reduceSeries = (times: number[], values: (number | null)[]) => reduceSeriesTo(times, values, max);
  const specs: ChartSpec[] = [];
  const tasks = totalTasks(r);
  const datasets: Record<string, unknown>[] = [
    {
      label: 'requests/s (all channels)',
      data: reduceSeries(r.load.times, r.load.all.rps),
      borderColor: COLORS[0],
      backgroundColor: COLORS[0],
      yAxisID: 'rps',
    },
    {
      label: 'p95 latency (ms)',
      data: reduceSeries(r.load.times, r.load.all.p95Ms),
      borderColor: COLORS[1],
      backgroundColor: COLORS[1],
      yAxisID: 'ms',
    },
  ];
  if (r.load.all.totals.dropped > 0)
    datasets.push({
      label: 'dropped iterations/s',
      data: reduceSeries(r.load.times, r.load.all.droppedPerSecond),
      borderColor: '#dc2626',
      backgroundColor: '#dc2626',
      yAxisID: 'rps',
    });
  if (tasks.times.length > 0)
    datasets.push({
      label: 'tasks running (all services)',
      data: reduceSeries(tasks.times, tasks.values),
      borderColor: COLORS[2],
      backgroundColor: COLORS[2],
      stepped: true,
      yAxisID: 'tasks',
    });
  specs.push({
    id: 'timeline',
    title: 'Load vs tasks vs latency',
    height: 340,
    config: {
      type: 'line',
      data: { datasets },
      options: {
        ...base('Load vs tasks vs latency (dashed: scaling activities; red: budget breaches)'),
        scales: {
          x: timeAxis(r),
          rps: {
            type: 'linear',
            position: 'left',
            beginAtZero: true,
            title: { display: true, text: rpsTitle(r) },
          },
          ms: {
            type: 'linear',
            position: 'right',
            beginAtZero: true,
            title: { display: true, text: 'p95 ms' },
            grid: { drawOnChartArea: false },
          },
          ...(tasks.times.length > 0 ? { tasks: tasksAxis() } : {}),
        },
        plugins: {
          ...base('Load vs tasks vs latency (dashed: scaling activities; red: budget breaches)').plugins,
          peakdayMarkers: { lines: activityLines(r), bands: breachBands(r) },
        },
      },
    },
  });
  const channels = Object.keys(r.load.channels);
  if (channels.length > 0) {
    const lat: Record<string, unknown>[] = channels.map((ch, k) => ({
      label: `${ch} p95 (ms)`,
      data: reduceSeries(r.load.times, r.load.channels[ch]!.p95Ms),
      borderColor: COLORS[k % COLORS.length],
      backgroundColor: COLORS[k % COLORS.length],
    }));
    // One dashed line per distinct p95 budget (a channel's own, else the unscoped one).
    const limits = new Map<number, string[]>();
    for (const ch of channels) {
      const p95 = (r.budgets.find((x) => x.channel === ch) ?? r.budgets.find((x) => x.channel === '*'))
        ?.p95Ms;
      if (p95 !== undefined) limits.set(p95, [...(limits.get(p95) ?? []), ch]);
    }
    if (r.load.times.length > 0)
      for (const [p95, chs] of limits)
        lat.push({
          label: `budget p95 ${p95} ms (${chs.length === channels.length ? 'all channels' : chs.join(', ')})`,
          data: [
            { x: r.load.times[0], y: p95 },
            { x: r.load.times[r.load.times.length - 1]! + r.load.intervalSeconds, y: p95 },
          ],
          borderColor: '#dc2626',
          backgroundColor: '#dc2626',
          borderDash: [6, 4],
        });
    specs.push({
      id: 'latency',
      title: 'Latency per channel',
      height: 280,
      config: {
        type: 'line',
        data: { datasets: lat },
        options: {
          ...base(`p95 latency per channel (${r.run.latencyKind}, ${r.run.latencyProvenance})`),
          scales: {
            x: timeAxis(r),
            y: { type: 'linear', beginAtZero: true, title: { display: true, text: 'ms' } },
          },
          plugins: {
            ...base(`p95 latency per channel (${r.run.latencyKind}, ${r.run.latencyProvenance})`).plugins,
            peakdayMarkers: { bands: breachBands(r) },
          },
        },
      },
    });
  }
  for (const s of r.services) {
    const bands = r.findings
      .filter(
        (f) =>
          f.service === s.name && (f.kind === 'under-provisioned' || f.kind === 'hot-partition') && f.window,
      )
      .map((f) => ({ start: f.window!.start, end: f.window!.end, color: 'rgba(234,88,12,0.15)' }));
    const cap = s.capacity.rpsPerTask;
    const ds: Record<string, unknown>[] = [
      {
        label: 'requests/s',
        data: reduceSeries(s.times, s.rps),
        borderColor: COLORS[0],
        backgroundColor: COLORS[0],
        yAxisID: 'rps',
      },
    ];
    if (cap !== null)
      ds.push({
        label: `capacity in service (running × ${cap.toFixed(0)} rps)`,
        data: reduceSeries(
          s.times,
          s.running.map((n) => n * cap),
        ),
        borderColor: '#64748b',
        backgroundColor: '#64748b',
        borderDash: [5, 3],
        stepped: true,
        yAxisID: 'rps',
      });
    ds.push(
      {
        label: 'tasks running',
        data: reduceSeries(s.times, s.running),
        borderColor: COLORS[2],
        backgroundColor: COLORS[2],
        stepped: true,
        yAxisID: 'tasks',
      },
      {
        label: 'tasks desired',
        data: reduceSeries(s.times, s.desired),
        borderColor: '#86efac',
        backgroundColor: '#86efac',
        borderDash: [3, 3],
        stepped: true,
        yAxisID: 'tasks',
      },
    );
    if (s.cpu.some((c) => c !== null))
      ds.push({
        label: 'CPU %',
        data: reduceSeries(
          s.times,
          s.cpu.map((c) => (c === null ? null : c * 100)),
        ),
        borderColor: COLORS[3],
        backgroundColor: COLORS[3],
        yAxisID: 'pct',
      });
    specs.push({
      id: `service-${s.name}`,
      title: `Service ${s.name}`,
      height: 240,
      config: {
        type: 'line',
        data: { datasets: ds },
        options: {
          ...base(`${s.name}: demand vs capacity (orange: under-provisioned)`),
          scales: {
            x: timeAxis(r),
            rps: {
              type: 'linear',
              position: 'left',
              beginAtZero: true,
              title: { display: true, text: rpsTitle(r) },
            },
            tasks: tasksAxis(),
            pct: {
              type: 'linear',
              position: 'right',
              min: 0,
              // 100% at least; more when the emulated CPU ran hotter, so the line is never clipped.
              suggestedMax: 100,
              grace: '5%',
              title: { display: true, text: 'CPU %' },
              grid: { drawOnChartArea: false },
            },
          },
          plugins: {
            ...base(`${s.name}: demand vs capacity (orange: under-provisioned)`).plugins,
            peakdayMarkers: { lines: activityLines(r, s.name), bands },
          },
        },
      },
    });
  }
  if (r.cost) {
    const names = Object.keys(r.cost.byService);
    specs.push({
      id: 'cost',
      title: 'Cost per service',
      height: 260,
      config: {
        type: 'bar',
        data: {
          labels: names,
          datasets: [
            {
              label: 'autoscaled (as ran)',
              data: names.map((n) => r.cost!.byService[n] ?? 0),
              backgroundColor: COLORS[0],
            },
            {
              label: 'provisioned for peak all event',
              data: names.map((n) => r.cost!.provisionedForPeak.byService[n] ?? 0),
              backgroundColor: '#94a3b8',
            },
          ],
        },
        options: {
          ...base(`Event cost per service, USD (${r.cost.region}, pricing ${r.cost.pricingVersion})`),
          interaction: { mode: 'index', intersect: false },
          scales: { y: { beginAtZero: true, title: { display: true, text: 'USD' } } },
        },
      },
    });
  }
  // Interval data: each value holds from its time to the next (step), so peaks keep their width.
  for (const spec of specs) {
    if (spec.config.type !== 'line') continue;
    const ds = (spec.config.data as { datasets: Record<string, unknown>[] }).datasets;
    for (const d of ds) if (d.stepped === undefined && d.borderDash === undefined) d.stepped = true;
  }
  return specs;
}

/** A caption for a chart's x range, for text renderers. */
export function describeRange(r: Report): string {
  return `event ${formatEventTime(r.run.eventStart)}–${formatEventTime(r.run.eventEnd)}`;
}
