/**
 * `peakday import k6` on a large k6 JSON output: throughput (MB/s, points/s) and peak RSS, to show the
 * import streams (memory flat in the file's size). The output is synthesised from the repository's real
 * k6 fixture (channels.out.ndjson, k6 v0.48), its points repeated with their times shifted one run
 * length later each time, so the file is a long run of real-shaped points.
 *
 *   PEAKDAY_BENCH_IMPORT_MB=1024 npx tsx bench/import-k6.bench.ts     (default 256 MB)
 *
 * Prints the size, the wall time, MB/s, points/s and the peak RSS sampled every 100 ms (and the RSS at
 * a quarter of the size, to compare: flat memory means both are about the same).
 *
 * Measured 2026-12-02 on the shared 2-core host, load average 16-18 (so times are pessimistic):
 *   256 MB (897,124 points):   17.1 s, 14.9 MB/s, 52,318 points/s, peak RSS 182 MB
 *   1025 MB (3,588,496 points): 56.4 s, 18.2 MB/s, 63,581 points/s, peak RSS 194 MB (flat: +12 MB for 4x the file)
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importK6Run } from '../engine/k6/import.ts';
import { K6_FIXTURES } from '../engine/k6/stand-in.ts';

const targetMb = Number(process.env.PEAKDAY_BENCH_IMPORT_MB ?? 256);

async function synthesise(file: string, mb: number): Promise<number> {
  const lines = readFileSync(join(K6_FIXTURES, 'channels.out.ndjson'), 'utf8').split('\n').filter(Boolean);
  const parsed = lines.map((l) => JSON.parse(l) as { type: string; data: { time?: string } });
  const times = parsed.filter((p) => p.type === 'Point').map((p) => Date.parse(p.data.time as string));
  const t0 = Math.min(...times);
  const span = Math.ceil((Math.max(...times) - t0) / 1000 + 1) * 1000;
  const out = createWriteStream(file);
  let bytes = 0;
  let points = 0;
  for (let round = 0; bytes < mb * 1024 * 1024; round++) {
    let chunk = '';
    for (const p of parsed) {
      if (p.type !== 'Point') {
        if (round === 0) chunk += `${JSON.stringify(p)}\n`;
        continue;
      }
      const at = new Date(Date.parse(p.data.time as string) + round * span).toISOString();
      chunk += `${JSON.stringify({ ...p, data: { ...p.data, time: at } })}\n`;
      points++;
    }
    bytes += Buffer.byteLength(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return points;
}

async function measure(mb: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-import-'));
  try {
    const file = join(dir, 'out.json');
    const points = await synthesise(file, mb);
    const size = statSync(file).size;
    global.gc?.();
    let peak = process.memoryUsage().rss;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 100);
    const t = performance.now();
    const r = await importK6Run({ output: file, outDir: join(dir, 'run') });
    const s = (performance.now() - t) / 1000;
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    console.log(
      `import k6 ${(size / 1048576).toFixed(0)} MB (${points.toLocaleString('en-US')} points, ${r.summary.durationSeconds.toFixed(0)} s of run): ${s.toFixed(1)} s, ${(size / 1048576 / s).toFixed(1)} MB/s, ${Math.round(points / s).toLocaleString('en-US')} points/s, peak RSS ${(peak / 1048576).toFixed(0)} MB`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await measure(Math.max(16, Math.round(targetMb / 4)));
await measure(targetMb);
