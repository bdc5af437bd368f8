/**
 * `peakday profile plot`: the plan's request rate over event time as a PNG, stacked by channel, with
 * bursts shaded and named. chart.js draws on @napi-rs/canvas (no browser, no native build step).
 * `computePlotSeries` is pure (and tested); `renderPlanPng` is the drawing edge.
 */
import type { Plan } from './plan.ts';
import { evaluate } from './rate-function.ts';

/** The stacked series of a plot: x in event hours, y in requests per wall second per channel. */
export interface PlotSeries {
  hours: number[];
  channels: { name: string; rps: number[] }[];
  bursts: { name: string; startHour: number; endHour: number; multiplier: number }[];
}

/** Samples a plan's per-channel request rate at `points` evenly spaced event times plus every burst edge. */
export function computePlotSeries(plan: Plan, points = 1200): PlotSeries {
  const times: number[] = [];
  for (let i = 0; i <= points; i++)
    times.push(plan.eventStart + ((plan.eventEnd - plan.eventStart) * i) / points);
  for (const b of plan.bursts)
    for (const t of [b.start, b.peakStart, b.peakEnd, b.end])
      if (t >= plan.eventStart && t <= plan.eventEnd) times.push(t);
  times.sort((a, b) => a - b);
  const names = [...new Set(plan.scenarios.map((s) => s.channel))];
  const channels = names.map((name) => ({
    name,
    rps: times.map((t) =>
      plan.scenarios
        .filter((s) => s.channel === name)
        .reduce(
          (sum, s) => sum + evaluate({ times: s.times, values: s.rates }, t) * s.requestsPerIteration,
          0,
        ),
    ),
  }));
  return {
    hours: times.map((t) => t / 3600),
    channels,
    bursts: plan.bursts.map((b) => ({
      name: b.name,
      startHour: b.start / 3600,
      endHour: b.end / 3600,
      multiplier: b.multiplier,
    })),
  };
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7'];

/** Renders the plot to PNG bytes (width × height pixels). */
export async function renderPlanPng(
  plan: Plan,
  opts: { width?: number; height?: number } = {},
): Promise<Buffer> {
  const width = opts.width ?? 1400;
  const height = opts.height ?? 700;
  const [{ createCanvas }, chartjs] = await Promise.all([import('@napi-rs/canvas'), import('chart.js')]);
  const { Chart, registerables } = chartjs;
  Chart.register(...registerables);
  const series = computePlotSeries(plan);
  const canvas = createCanvas(width, height);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  const burstPlugin = {
    id: 'bursts',
    beforeDatasetsDraw(chart: InstanceType<typeof Chart>) {
      const x = chart.scales.x;
      const area = chart.chartArea;
      if (!x || !area) return;
      const c = chart.ctx;
      c.save();
      c.font = '12px sans-serif';
      let labelRight = Number.NEGATIVE_INFINITY;
      for (const b of series.bursts) {
        const x0 = x.getPixelForValue(b.startHour);
        const x1 = Math.max(x0 + 1, x.getPixelForValue(b.endHour));
        c.fillStyle = 'rgba(220, 40, 40, 0.10)';
        c.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
        c.strokeStyle = 'rgba(220, 40, 40, 0.6)';
        c.beginPath();
        c.moveTo(x0, area.top);
        c.lineTo(x0, area.bottom);
        c.stroke();
        // Label a burst only where it does not overlap the previous label.
        const label = `${b.name} ${b.multiplier}x`;
        if (x0 + 3 > labelRight + 6) {
          c.fillStyle = '#a01818';
          c.fillText(label, x0 + 3, area.top + 14);
          labelRight = x0 + 3 + c.measureText(label).width;
        }
      }
      c.restore();
    },
  };
  const window = plan.window ? ` window ${plan.window}` : '';
  const chart = new Chart(ctx as unknown as ConstructorParameters<typeof Chart>[0], {
    type: 'line',
    data: {
      labels: series.hours,
      datasets: series.channels.map((ch, i) => ({
        label: ch.name,
        data: ch.rps.map((y, j) => ({ x: series.hours[j] as number, y })),
        fill: i === 0 ? 'origin' : '-1',
        borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: `${PALETTE[i % PALETTE.length]}99`,
        pointRadius: 0,
        borderWidth: 1,
      })),
    },
    options: {
      animation: false,
      responsive: false,
      devicePixelRatio: 1,
      plugins: {
        title: {
          display: true,
          text: `${plan.profile.name}${window}: requests/s by channel (peak ${plan.peakRps.toFixed(1)}, baseline ${plan.baselineRps.toFixed(1)}; bursts shaded)`,
        },
        legend: { position: 'bottom' },
      },
      scales: {
        x: {
          type: 'linear',
          title: { display: true, text: 'event time (hours)' },
          min: series.hours[0],
          max: series.hours[series.hours.length - 1],
        },
        y: {
          stacked: true,
          beginAtZero: true,
          title: { display: true, text: 'HTTP requests per wall second' },
        },
      },
    },
    plugins: [burstPlugin],
  });
  const png = await canvas.encode('png');
  chart.destroy();
  return png;
}
