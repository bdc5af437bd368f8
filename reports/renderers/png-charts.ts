/**
 * Draws chart specs to PNG with chart.js on @napi-rs/canvas (no DOM, no chartjs-node-canvas), using
 * the same runtime as the HTML page so both look the same.
 */
import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables } from 'chart.js';
import { loadChartRuntime } from './chart-runtime.ts';
import type { ChartSpec } from './chart-specs.ts';

let registered = false;

/** Renders one chart to a PNG buffer; drawing is synchronous, PNG encoding runs off the main thread. */
export async function renderChartPng(spec: ChartSpec, width = 960): Promise<Buffer> {
  if (!registered) {
    Chart.register(...registerables);
    registered = true;
  }
  const runtime = loadChartRuntime();
  const canvas = createCanvas(width, spec.height);
  const config = runtime.peakdayPrepare(structuredClone(spec.config)) as ConstructorParameters<
    typeof Chart
  >[1];
  // chart.js draws on any 2D context; @napi-rs/canvas provides one without a DOM.
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], config);
  const png = canvas.encode('png');
  chart.destroy();
  return png;
}
