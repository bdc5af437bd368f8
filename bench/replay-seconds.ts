/**
 * A live run against its replay, second by second: where in time the replay's latency, load or
 * scaling parts from the live run's (docs/simulation.md "Validation against a live run", session 11).
 * `bench/simulator-validation.ts` says whether a run is in bound over its held periods; this says
 * when and where it is not. The replay is the validation's own (same options, the capacity measured
 * in the run unless `--model-table`), at a 1-event-second series resolution, its latency components
 * binned into the live series' wall seconds.
 *
 *   npx tsx bench/replay-seconds.ts <rehearsal-dir> [--scaling F] [--model-table] [--from W] [--to W]
 *       [--channel C] [--journey J] [--step S] [--services a,b]
 *
 * Prints three tables: (1) per wall second of the live run (from `--from` to `--to`), the selected steps'
 * requests, p50, mean and p95, live (merged HDR histograms) and replayed (the exact mixture of that
 * second's components); (2) per step over the held seconds of that range, the same figures; (3) per
 * metric period, each service's running tasks, CPU, requests and mean response time live and replayed, with the scaling
 * activities of both sides. A second marked `-` lies in a period where the emulation did not hold
 * (the validation leaves it out). Reads only the directory.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readActivities, readRun, readTimeline } from '../core/run-directory.ts';
import { RUN_FILES, type SeriesRecord } from '../core/run-format.ts';
import { mergeEncoded, percentilesMs } from '../engine/histogram.ts';
import type { Arch } from '../reference-stack/topology.ts';
import { percentilesOf } from '../simulation/client-latency.ts';
import type { MixtureComponent } from '../simulation/queueing.ts';
import { validateAgainstLive } from '../simulation/validate.ts';
import { heldPeriodStarts } from '../telemetry/emulation.ts';
import { locateRehearsal, replaySetup } from './rehearsal-replay.ts';

interface Args {
  dir: string;
  scaling?: string;
  arch?: Arch;
  modelTable: boolean;
  from: number;
  to: number;
  channel?: string;
  journey?: string;
  step?: string;
  services?: string[];
}

function usage(problem: string): never {
  process.stderr.write(
    `replay-seconds: ${problem}\nusage: npx tsx bench/replay-seconds.ts <rehearsal-dir> [--scaling FILE] [--arch A] [--model-table] [--from W] [--to W] [--channel C] [--journey J] [--step S] [--services a,b]\n`,
  );
  process.exit(2);
}

function parseArgs(argv: string[]): Args {
  const out: Partial<Args> & { modelTable: boolean; from: number; to: number } = {
    modelTable: false,
    from: 0,
    to: Number.POSITIVE_INFINITY,
  };
  const value = (i: number, name: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) usage(`${name} needs a value`);
    return v;
  };
  const num = (i: number, name: string) => {
    const v = Number(value(i, name));
    if (!Number.isFinite(v) || v < 0) usage(`${name} must be a wall second (a number ≥ 0)`);
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--model-table') out.modelTable = true;
    else if (a === '--scaling') out.scaling = value(++i, a);
    else if (a === '--arch') out.arch = value(++i, a) as Arch;
    else if (a === '--from') out.from = num(++i, a);
    else if (a === '--to') out.to = num(++i, a);
    else if (a === '--channel') out.channel = value(++i, a);
    else if (a === '--journey') out.journey = value(++i, a);
    else if (a === '--step') out.step = value(++i, a);
    else if (a === '--services') out.services = value(++i, a).split(',');
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else if (out.dir) usage(`one directory at a time (got ${out.dir} and ${a})`);
    else out.dir = a;
  }
  if (!out.dir) usage('name a rehearsal directory');
  if (out.arch && out.arch !== 'headless' && out.arch !== 'monolith')
    usage(`--arch must be headless or monolith, got ${out.arch}`);
  return out as Args;
}

const f0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toString() : '—');

function readSeries(dir: string): SeriesRecord[] {
  const file = join(dir, RUN_FILES.series);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as SeriesRecord);
}

/** Requests and latency of one side in one bin. */
interface Side {
  requests: number;
  p50: number;
  mean: number;
  p95: number;
}

const args = parseArgs(process.argv.slice(2));
const setup = replaySetup(locateRehearsal(args.dir, args.arch, usage), args.scaling);
const run = readRun(setup.live);
const k = run.plan?.timeScale ?? 1;
const t0 = run.plan?.eventStart ?? 0;
const timeoutMs = typeof run.meta.options.timeoutMs === 'number' ? run.meta.options.timeoutMs : 10_000;
const { result } = validateAgainstLive(setup.live, {
  arch: setup.arch,
  scaling: setup.scaling,
  ...(setup.efficiency && !args.modelTable ? { efficiency: setup.efficiency } : {}),
  resolutionSeconds: 1,
});
const timeline = readTimeline(setup.live);
const held = heldPeriodStarts(timeline);
const period = timeline.find((r) => r.period > 0)?.period ?? 60;
const isHeld = (t: number) =>
  held.notHeld.size === 0 || held.held.has(Math.floor((t - t0) / period + 1e-9) * period + t0);
const picked = (r: { channel: string; journey?: string; step?: string | null }) =>
  (!args.channel || r.channel === args.channel) &&
  (!args.journey || r.journey === args.journey) &&
  (!args.step || r.step === args.step);
const secondOf = (t: number) => Math.floor((t - t0) / k + 1e-6);
const inRange = (w: number) => w >= args.from && w <= args.to;

// Live: per wall second and per step, the merged histograms of the picked steps.
const liveBy = new Map<string, { requests: number; enc: string[] }>();
const add = (key: string, r: SeriesRecord) => {
  const e = liveBy.get(key) ?? { requests: 0, enc: [] };
  e.requests += r.requests ?? 0;
  if (r.latency) e.enc.push(r.latency);
  liveBy.set(key, e);
};
for (const r of readSeries(setup.live)) {
  if (r.step === null || !picked(r)) continue;
  const w = Math.round(r.wall);
  if (!inRange(w)) continue;
  add(`w:${w}`, r);
  if (isHeld(r.t)) add(`step ${r.journey}/${r.step}`, r);
}
const liveSide = (key: string): Side | null => {
  const e = liveBy.get(key);
  if (!e) return null;
  const p = percentilesMs(mergeEncoded(e.enc));
  return { requests: e.requests, p50: p.p50, mean: p.mean, p95: p.p95 };
};

// Replay: the same bins, from the components (1-event-second intervals) and the series' requests.
const simComps = new Map<string, MixtureComponent[]>();
const simReq = new Map<string, number>();
for (const iv of result.latencyComponents ?? []) {
  if (!picked(iv)) continue;
  const w = secondOf(iv.t);
  if (!inRange(w)) continue;
  const keys = [`w:${w}`, ...(isHeld(iv.t) ? [`step ${iv.journey}/${iv.step}`] : [])];
  for (const key of keys) simComps.set(key, [...(simComps.get(key) ?? []), ...iv.components]);
}
for (const r of result.series) {
  if (r.step === null || !picked(r)) continue;
  const w = secondOf(r.t);
  if (!inRange(w)) continue;
  const keys = [`w:${w}`, ...(isHeld(r.t) ? [`step ${r.journey}/${r.step}`] : [])];
  for (const key of keys) simReq.set(key, (simReq.get(key) ?? 0) + (r.requests ?? 0));
}
const simSide = (key: string): Side | null => {
  const comps = simComps.get(key);
  if (!comps || comps.length === 0) return null;
  const p = percentilesOf(comps, timeoutMs);
  return { requests: simReq.get(key) ?? 0, p50: p.p50, mean: p.mean, p95: p.p95 };
};
const cells = (s: Side | null) =>
  s ? `${f0(s.requests)} | ${f0(s.p50)} | ${f0(s.mean)} | ${f0(s.p95)}` : '— | — | — | —';

const filter = [args.channel, args.journey, args.step].filter(Boolean).join(' / ') || 'every step';
process.stdout.write(
  `${setup.label} (${setup.arch}, ${args.modelTable || !setup.efficiency ? 'model table' : 'capacity measured in the run'}; time scale ${k.toFixed(2)}): ${filter}\n\n`,
);
process.stdout.write(
  '| wall s | event t | held | live req | p50 | mean | p95 | replay req | p50 | mean | p95 |\n|---|---|---|---|---|---|---|---|---|---|---|\n',
);
const seconds = [...new Set([...liveBy.keys(), ...simComps.keys()])]
  .filter((key) => key.startsWith('w:'))
  .map((key) => Number(key.slice(2)))
  .sort((a, b) => a - b);
for (const w of seconds) {
  const t = t0 + w * k;
  process.stdout.write(
    `| ${w} | ${f0(t)} | ${isHeld(t) ? 'yes' : '-'} | ${cells(liveSide(`w:${w}`))} | ${cells(simSide(`w:${w}`))} |\n`,
  );
}

process.stdout.write(
  '\nPer step over the held seconds of the range:\n\n| step | live req | p50 | mean | p95 | replay req | p50 | mean | p95 |\n|---|---|---|---|---|---|---|---|---|\n',
);
const steps = [...new Set([...liveBy.keys(), ...simComps.keys()])]
  .filter((key) => key.startsWith('step '))
  .sort();
for (const key of steps)
  process.stdout.write(`| ${key.slice(5)} | ${cells(liveSide(key))} | ${cells(simSide(key))} |\n`);

// Services per metric period: running tasks, CPU and requests, live and replayed.
const services = (
  args.services ?? [...new Set(timeline.map((r) => r.service))].filter((s) => !s.startsWith('store/'))
)
  .filter((s) => result.timeline.some((r) => r.service === s))
  .sort();
process.stdout.write(
  `\nPer metric period (${period} event s), running tasks / CPU % / requests / mean response time (ms) at its balancer, live → replay:\n\n| event t | wall s | ${services.join(' | ')} |\n|---|---|${services.map(() => '---|').join('')}\n`,
);
const periodKey = (t: number) => Math.round(t);
const liveP = new Map(timeline.map((r) => [`${r.service}@${periodKey(r.t)}`, r]));
const simP = new Map(result.timeline.map((r) => [`${r.service}@${periodKey(r.t)}`, r]));
const periods = [...new Set(timeline.map((r) => periodKey(r.t)))]
  .filter((t) => inRange(secondOf(t)) || inRange(secondOf(t + period) - 1))
  .sort((a, b) => a - b);
for (const t of periods) {
  const row = services.map((s) => {
    const l = liveP.get(`${s}@${t}`);
    const m = simP.get(`${s}@${t}`);
    const one = (r: typeof l) =>
      r
        ? `${r.running}/${f0(r.cpu ?? Number.NaN)}/${f0(r.requests ?? Number.NaN)}/${f0(r.responseTimeMs ?? Number.NaN)}`
        : '—';
    return `${one(l)} → ${one(m)}`;
  });
  process.stdout.write(
    `| ${t}${isHeld(t) ? '' : ' -'} | ${((t - t0) / k).toFixed(1)} | ${row.join(' | ')} |\n`,
  );
}

process.stdout.write('\nScaling activities (event time: service from → to), live | replay:\n\n');
const acts = (list: ReturnType<typeof readActivities>) =>
  list
    .filter((a) => a.fromCapacity !== a.toCapacity)
    .filter((a) => inRange(secondOf(a.eventTime)))
    .filter((a) => !args.services || args.services.some((s) => a.ResourceId.endsWith(`/${s}`)))
    .map((a) => `${a.eventTime}: ${a.ResourceId.split('/').pop()} ${a.fromCapacity} → ${a.toCapacity}`);
const liveActs = acts(readActivities(setup.live));
const simActs = acts(result.activities);
for (let i = 0; i < Math.max(liveActs.length, simActs.length); i++)
  process.stdout.write(`${(liveActs[i] ?? '').padEnd(40)} | ${simActs[i] ?? ''}\n`);
