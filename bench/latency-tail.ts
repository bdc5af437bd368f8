/**
 * Where a live run's latency tail comes from: every request's latency minus its step's live median
 * ("excess"), over the ordinary steps (all but the pay, reorder and order steps and the cached home
 * page), binned per wall second by what might drive it: the host's CPU and the engine's iterations
 * in flight (engine.ndjson), the entry deployable's CPU (timeline), the requests that second, and
 * the pay requests outstanding (each holds a balancer slot through its card authorization without
 * using the replica's CPU). Also whether the tail is the engine's own (`latencySend`) and how bursty
 * the arrivals are (per-second counts' variance over mean around a 9-s moving average; Poisson 1).
 * docs/simulation.md "Validation against a live run", session 9. Reads only the directories.
 *
 *   npx tsx bench/latency-tail.ts <rehearsal-dir | live-run-dir>... [--channels a,b]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readTimeline } from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import { decodeHistogram, mergeEncoded } from '../engine/histogram.ts';

/** Steps that wait for something besides the stack (a card authorization) or end a checkout. */
const SLOW_STEPS = new Set(['pay', 'reorder', 'order']);
/** Excess (ms) counted as a wait. */
const WAIT_MS = 15;

type Samples = [number, number][];

function ndjson<T>(file: string): T[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** The recorded values (ms) of an encoded µs histogram, with their counts. */
function samplesOf(encoded: string): Samples {
  const h = decodeHistogram(encoded) as unknown as {
    _counts: ArrayLike<number>;
    valueFromIndex(i: number): number;
  };
  const out: Samples = [];
  for (let i = 0; i < h._counts.length; i++) {
    const c = h._counts[i] as number;
    if (c > 0) out.push([h.valueFromIndex(i) / 1000, c]);
  }
  return out;
}

function describe(s: Samples): string {
  const n = s.reduce((a, b) => a + b[1], 0);
  if (n === 0) return 'n 0';
  const sorted = [...s].sort((a, b) => a[0] - b[0]);
  const q = (p: number) => {
    let acc = 0;
    for (const [v, c] of sorted) {
      acc += c;
      if (acc >= p * n) return v;
    }
    return sorted[sorted.length - 1]![0];
  };
  const over = sorted.filter((x) => x[0] > WAIT_MS).reduce((a, b) => a + b[1], 0) / n;
  return `n ${n}, ${(over * 100).toFixed(1)}% over ${WAIT_MS} ms, p90 ${q(0.9).toFixed(1)}, p95 ${q(0.95).toFixed(1)}, p99 ${q(0.99).toFixed(1)} ms`;
}

interface EngineSecond {
  wall: number;
  hostCpu?: number;
  inFlight?: number;
}

function analyse(dir: string, channels: Set<string> | null): void {
  const live = existsSync(join(dir, 'live', 'meta.json')) ? join(dir, 'live') : dir;
  const series = ndjson<SeriesRecord>(join(live, 'series.ndjson'));
  const engine = new Map(ndjson<EngineSecond>(join(live, 'engine.ndjson')).map((g) => [g.wall, g]));
  const timeline = readTimeline(live);
  const last = series.filter((r) => r.wall > 0).at(-1);
  const scale = last ? last.t / last.wall : 1;
  const ordinary = (r: SeriesRecord) =>
    r.step !== null &&
    !SLOW_STEPS.has(r.step) &&
    r.step !== 'home' &&
    (!channels || channels.has(r.channel)) &&
    (r.requests ?? 0) > 0;
  const key = (r: SeriesRecord) => `${r.channel}/${r.journey}/${r.step}`;
  const byStep = new Map<string, string[]>();
  for (const r of series)
    if (ordinary(r) && r.latency) byStep.set(key(r), [...(byStep.get(key(r)) ?? []), r.latency]);
  const median = new Map([...byStep].map(([k, e]) => [k, mergeEncoded(e).getValueAtPercentile(50) / 1000]));
  const seconds = new Map<number, { excess: Samples; sendExcess: Samples; all: number; payMs: number }>();
  for (const r of series) {
    if (r.step === null || !(r.requests ?? 0)) continue;
    let e = seconds.get(r.wall);
    if (!e) {
      e = { excess: [], sendExcess: [], all: 0, payMs: 0 };
      seconds.set(r.wall, e);
    }
    e.all += r.requests ?? 0;
    if (SLOW_STEPS.has(r.step) && r.latency)
      e.payMs += (r.requests ?? 0) * (decodeHistogram(r.latency).mean / 1000);
    if (!ordinary(r) || !r.latency) continue;
    const m = median.get(key(r)) ?? 0;
    for (const [v, c] of samplesOf(r.latency)) e.excess.push([v - m, c]);
    if (r.latencySend) for (const [v, c] of samplesOf(r.latencySend)) e.sendExcess.push([v - m, c]);
  }
  const entryCpu = new Map<number, number>();
  for (const r of timeline)
    if ((r.service === 'monolith' || r.service === 'gateway') && typeof r.cpu === 'number')
      entryCpu.set(Math.floor(r.t / scale + 1e-9), r.cpu);
  const rows = [...seconds].map(([wall, s]) => ({
    wall,
    s,
    g: engine.get(wall),
    cpu: entryCpu.get(wall) ?? entryCpu.get(wall - 1),
    // Pay requests outstanding: this second's (their mean latency) and half of the last second's.
    payOut: s.payMs / 1000 + (seconds.get(wall - 1)?.payMs ?? 0) / 2000,
  }));
  process.stdout.write(`\n${dir} (time scale ${scale.toFixed(2)})\n`);
  process.stdout.write(`  excess from the intended start: ${describe(rows.flatMap((r) => r.s.excess))}\n`);
  process.stdout.write(
    `  excess from the actual send:    ${describe(rows.flatMap((r) => r.s.sendExcess))}\n`,
  );
  const bin = (name: string, value: (r: (typeof rows)[number]) => number | undefined, edges: number[]) => {
    process.stdout.write(`  by ${name}:\n`);
    for (let i = 0; i < edges.length; i++) {
      const lo = edges[i]!;
      const hi = edges[i + 1] ?? Number.POSITIVE_INFINITY;
      const sel = rows.filter((r) => {
        const v = value(r);
        return v !== undefined && v >= lo && v < hi;
      });
      if (sel.length > 0)
        process.stdout.write(
          `    [${lo}, ${hi}): ${sel.length} s, ${describe(sel.flatMap((r) => r.s.excess))}\n`,
        );
    }
  };
  bin('host CPU (share of the host)', (r) => r.g?.hostCpu, [0, 0.2, 0.3, 0.45]);
  bin("the engine's iterations in flight", (r) => r.g?.inFlight, [0, 3, 5, 7]);
  bin("the entry deployable's CPU %", (r) => r.cpu, [0, 20, 35, 50, 65]);
  bin('requests that second', (r) => r.s.all, [0, 15, 30, 45]);
  bin('pay requests outstanding', (r) => r.payOut, [0, 0.25, 0.75, 1.5]);
  const counts = rows.map((r) => r.s.all);
  let num = 0;
  let den = 0;
  for (let i = 4; i < counts.length - 4; i++) {
    const m = counts.slice(i - 4, i + 5).reduce((a, b) => a + b, 0) / 9;
    num += (counts[i]! - m) ** 2;
    den += m;
  }
  process.stdout.write(
    `  arrivals: per-second counts' variance/mean around a 9-s moving average ${den > 0 ? (num / den).toFixed(2) : '—'} (Poisson 1, evenly spaced 0)\n`,
  );
}

const argv = process.argv.slice(2);
const at = argv.indexOf('--channels');
const channels = at >= 0 ? new Set((argv[at + 1] ?? '').split(',')) : null;
const dirs = argv.filter((a, i) => a !== '--channels' && (at < 0 || i !== at + 1));
if (dirs.length === 0) {
  process.stderr.write(
    'usage: npx tsx bench/latency-tail.ts <rehearsal-dir | live-run-dir>... [--channels a,b]\n',
  );
  process.exit(2);
}
for (const d of dirs) analyse(d, channels);
