/**
 * Report benchmark: a constructed 48-hour simulated-style run with 8 services (60-s series and
 * timeline resolution; 5 channels × 4 journeys × 3 steps: 230,400 series records, 23,040 timeline
 * records, a scaling activity per scale-out) -> `generateReport` (read, model, HTML, Markdown with
 * PNG charts, JSON, summary). Target: under 10 s and under 1 GB. Prints time and peak RSS.
 */

import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { RUN_FILES, RUN_FORMAT_VERSION, type RunMeta, type ScalingActivity } from '../core/run-format.ts';
import { generateReport } from '../reports/generate.ts';
import { fixtureActivity } from '../reports/testing/fixture-run.ts';

const HOURS = 48;
const STEP = 60;
const SERVICES = ['gateway', 'catalog', 'search', 'pricing', 'cart', 'inventory', 'checkout', 'orders'];
const CHANNELS = ['web', 'mobile-app', 'pos', 'voice', 'social'];
const JOURNEYS = ['browse', 'search', 'add-to-cart', 'checkout'];
const end = HOURS * 3600;

/** Daily wave plus a 10x doors-open burst at hour 12 and a 6x one at hour 36. */
const rate = (t: number) => {
  const h = t / 3600;
  const wave = 1 + 0.6 * Math.sin((2 * Math.PI * (h - 6)) / 24);
  const burst = (at: number, x: number) => (h >= at && h < at + 2 ? x : 1);
  return 200 * wave * Math.max(burst(12, 10), burst(36, 6));
};

const dir = mkdtempSync(join(tmpdir(), 'peakday-report-bench-'));
try {
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: 'bench-48h',
    mode: 'simulated',
    driver: 'simulator',
    tool: { name: 'peakday', version: 'bench' },
    profile: { name: 'prime-day', hash: 'bench' },
    options: { arch: 'headless' },
    timeScale: 1,
    eventStart: 0,
    eventEnd: end,
    seed: 1,
    startedAt: '2026-11-25T00:00:00.000Z',
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: false, sendLatency: false },
    notes: [],
  };
  writeFileSync(join(dir, RUN_FILES.meta), JSON.stringify(meta));
  writeFileSync(
    join(dir, RUN_FILES.summary),
    JSON.stringify({
      formatVersion: 1,
      mode: 'simulated',
      valid: true,
      invalidReasons: [],
      endReason: 'completed',
      partial: false,
    }),
  );
  const series = createWriteStream(join(dir, RUN_FILES.series));
  let records = 0;
  for (let t = 0; t < end; t += STEP) {
    const r = rate(t);
    const lines: string[] = [];
    for (const channel of CHANNELS)
      for (const journey of JOURNEYS) {
        const it = Math.round((r * STEP) / 60);
        lines.push(
          JSON.stringify({
            t,
            wall: t,
            dt: STEP,
            channel,
            journey,
            step: null,
            planned: it,
            started: it,
            completed: it,
            dropped: 0,
            failedIterations: 0,
          }),
        );
        for (let s = 0; s < 3; s++) {
          const p95 = 80 + (r > 1500 ? 900 : 0) + s * 10;
          lines.push(
            JSON.stringify({
              t,
              wall: t,
              dt: STEP,
              channel,
              journey,
              step: `step-${s}`,
              requests: it,
              failed: 0,
              latencyEstimate: { p50: p95 / 2, p90: p95 * 0.9, p95, p99: p95 * 1.5, max: p95 * 2 },
            }),
          );
        }
        records += 4;
      }
    if (!series.write(`${lines.join('\n')}\n`)) await once(series, 'drain');
  }
  series.end();
  await once(series, 'finish');
  const timeline = createWriteStream(join(dir, RUN_FILES.timeline));
  const activities: ScalingActivity[] = [];
  const running = SERVICES.map(() => 2);
  for (let t = 0; t < end; t += STEP) {
    const lines: string[] = [];
    SERVICES.forEach((service, i) => {
      const rps = rate(t) * (0.5 + i / 8);
      const need = Math.max(2, Math.ceil(rps / 60));
      // Scale out 5 minutes late, scale in at once.
      const lagged = Math.max(2, Math.ceil((rate(Math.max(0, t - 300)) * (0.5 + i / 8)) / 60));
      const next = need > running[i]! ? Math.max(running[i]!, lagged) : need;
      if (next !== running[i]) activities.push(fixtureActivity(service, t, running[i]!, next));
      running[i] = next;
      lines.push(
        JSON.stringify({
          t,
          period: STEP,
          service,
          desired: need,
          running: next,
          pending: Math.max(0, need - next),
          cpu: Math.min(1, rps / (next * 100)),
          memory: 0.4,
          requests: rps * STEP,
          requestsPerTarget: (rps * STEP) / next,
          responseTimeMs: 40,
          http5xx: 0,
          source: 'simulator',
          provenance: 'simulated',
          ...(service === 'catalog'
            ? { store: { table: 'catalog', readUnits: rps * STEP, writeUnits: 10, throttles: 0 } }
            : {}),
        }),
      );
    });
    if (!timeline.write(`${lines.join('\n')}\n`)) await once(timeline, 'drain');
  }
  timeline.end();
  await once(timeline, 'finish');
  writeFileSync(join(dir, RUN_FILES.activities), JSON.stringify(activities));

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const result = await generateReport(dir, { outDir: join(dir, 'report'), now: new Date().toISOString() });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(
    `report of a ${HOURS}-h run, ${SERVICES.length} services: ${records} series records, ${SERVICES.length * (end / STEP)} timeline records, ${activities.length} activities, ${result.report.findings.length} findings\n`,
  );
  process.stdout.write(
    `time ${seconds.toFixed(2)} s wall, ${cpuSeconds.toFixed(2)} s CPU (target < 10 s), peak RSS ${rssMb.toFixed(0)} MB (target < 1024 MB); host load average ${loadavg()[0]?.toFixed(1)} on ${availableParallelism()} CPUs\n`,
  );
  if (seconds >= 10 || rssMb >= 1024) {
    process.stderr.write('report benchmark missed its target\n');
    process.exitCode = 1;
  }
} finally {
  if (!process.env.KEEP) rmSync(dir, { recursive: true, force: true });
  else process.stdout.write(`kept ${dir}\n`);
}
