/**
 * The simulator's validation table (docs/simulation.md "Validation against a live run"), from a set of
 * rehearsal directories: each live run is replayed through the CURRENT simulator, twice — with the
 * capacity per task measured from that live run (as `peakday rehearse` does, the calibration
 * recomputed by the current code) and with the model table — and compared with what it measured.
 * Prints the markdown table and, per run and per target (issue 19: p95 within 25% overall and per
 * channel, error rate within 2 points, running tasks within 15%), whether it is met. Each held live
 * p95 is shown with its 95% interval and request count; a p95 missed only where the live sample
 * cannot pin its own p95 within the bound is marked "met as far as the live sample tells"
 * (simulation/validate.ts `withinSampling`), and counted apart, never as met. A tasks miss on a service
 * the live run scaled out within 5% of another capacity (its activities' `boundary`, recorded since
 * 2026-12-04) is marked "a knee" (reports/findings/scaling-margin.ts), and also counted apart.
 *
 *   npx tsx bench/simulator-validation.ts [--scaling F] <rehearsal-dir | live-run-dir>... [--arch A] [--json]
 *
 * A rehearsal directory is what `peakday rehearse --out DIR` writes (its live run in `live/`, its
 * topology in rehearsal.json); a bare live run needs `--arch` unless its timeline names the monolith.
 * Each run is replayed with the scaling file its stack ran with: the copy a rehearsal keeps
 * (rehearsal.json `scalingFile`, since 2026-12-03 session 10), else the default one. `--scaling F`
 * names it for the ONE directory that follows (a rehearsal recorded before it kept its copy, e.g.
 * `--scaling monolith-4-tasks.yaml /work/qr10/s10-do-m4-1`), overriding what that one recorded.
 * Nothing is written into the directories: they may be read-only. Pure replays (no stack, no load):
 * a few seconds per run.
 */
import { basename } from 'node:path';
import { readActivities, readRun } from '../core/run-directory.ts';
import type { Arch } from '../reference-stack/topology.ts';
import {
  DEFAULT_DECISION_MARGIN,
  type ScalingMargin,
  scalingMargins,
} from '../reports/findings/scaling-margin.ts';
import { formatEventTime } from '../reports/renderers/format.ts';
import { type Agreement, type ValidationReport, validateAgainstLive } from '../simulation/validate.ts';
import { locateRehearsal, replaySetup } from './rehearsal-replay.ts';

interface Args {
  /** Each directory, with the scaling file `--scaling` named for it (if any). */
  dirs: { dir: string; scaling?: string }[];
  arch?: Arch;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const out: Args = { dirs: [], json: false };
  let scaling: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--json') out.json = true;
    else if (a === '--arch') out.arch = argv[++i] as Arch;
    else if (a === '--scaling') {
      scaling = argv[++i];
      if (!scaling || scaling.startsWith('--')) usage('--scaling needs a file, then the directory it is for');
    } else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else {
      out.dirs.push({ dir: a, ...(scaling ? { scaling } : {}) });
      scaling = undefined;
    }
  }
  if (scaling) usage(`--scaling ${scaling} names no directory after it`);
  if (out.dirs.length === 0) usage('name at least one rehearsal directory');
  if (out.arch && out.arch !== 'headless' && out.arch !== 'monolith')
    usage(`--arch must be headless or monolith, got ${out.arch}`);
  return out;
}

function usage(problem: string): never {
  process.stderr.write(
    `simulator-validation: ${problem}\nusage: npx tsx bench/simulator-validation.ts <rehearsal-dir>... [--arch headless|monolith] [--scaling FILE] [--json]\n`,
  );
  process.exit(2);
}

const ms = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US');
const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '—' : `${Math.round(x * 100)}%`;
const signed = (a: Agreement) =>
  a.live !== null && a.simulated !== null && a.live > 0
    ? `${a.simulated >= a.live ? '+' : '−'}${Math.round((Math.abs(a.simulated - a.live) / a.live) * 100)}%`
    : '—';
const agree = (a: Agreement) =>
  `${ms(a.live)}${a.liveInterval ? ` [${ms(a.liveInterval[0])}–${ms(a.liveInterval[1])}, n ${a.liveSamples}]` : ''} / ${ms(a.simulated)} (${signed(a)})`;

interface Row {
  label: string;
  profile: string;
  /** The scaling file's name when the replay did not use the default one. */
  scaling: string | null;
  arch: Arch;
  valid: boolean;
  lagP99: number | null;
  /**
   * The host's mean CPU over the live run (engine.ndjson `hostCpu`, a share of all its cores): the
   * engine's and the stack's own work and anything else the host ran beside them, which the stack
   * under test competes with and the replay does not model. Null without health records.
   */
  hostCpu: number | null;
  dropped: { live: number; simulated: number; planned: number };
  measured: ValidationReport;
  model: ValidationReport;
  /** The live run's scale-outs within the decision margin of another capacity (recorded since session 16). */
  knees: ScalingMargin[];
}

async function replay(entry: Args['dirs'][number], args: Args): Promise<Row> {
  const { live, arch, label, scalingFile, scaling, efficiency } = replaySetup(
    locateRehearsal(entry.dir, args.arch, usage),
    entry.scaling,
  );
  const run = readRun(live);
  const measured = validateAgainstLive(live, { arch, scaling, ...(efficiency ? { efficiency } : {}) });
  const model = validateAgainstLive(live, { arch, scaling });
  const window = typeof run.meta.options.window === 'string' ? ` ${run.meta.options.window}` : '';
  return {
    label,
    profile: `${run.meta.profile?.name ?? '?'}${window}`,
    scaling: scalingFile ? basename(scalingFile) : null,
    arch,
    valid: run.meta.valid !== false,
    lagP99: run.summary?.schedulerLag?.p99 ?? null,
    hostCpu: await meanHostCpu(run),
    dropped: {
      live: run.summary?.iterations.dropped ?? 0,
      simulated: measured.result.summary.iterations.dropped,
      planned: run.summary?.iterations.planned ?? 0,
    },
    measured: measured.report,
    model: model.report,
    knees: scalingMargins(readActivities(live)).filter((m) => m.margin < DEFAULT_DECISION_MARGIN),
  };
}

/** The mean of the live run's per-second host CPU (null if it recorded none). */
async function meanHostCpu(run: ReturnType<typeof readRun>): Promise<number | null> {
  let sum = 0;
  let n = 0;
  for await (const h of run.engine())
    if (typeof h.hostCpu === 'number') {
      sum += h.hostCpu;
      n++;
    }
  return n > 0 ? sum / n : null;
}

/** The service whose mean running tasks the replay missed most. */
function worstTasks(r: ValidationReport): string {
  let worst: [string, Agreement] | undefined;
  for (const e of Object.entries(r.tasks))
    if (!worst || (e[1].relativeError ?? 0) > (worst[1].relativeError ?? 0)) worst = e;
  if (!worst) return '—';
  const [s, a] = worst;
  return `${s} ${a.live?.toFixed(2)} / ${a.simulated?.toFixed(2)} (${pct(a.relativeError)})`;
}

/** A tasks miss on a service the live run scaled at a knee: said, never counted as met. */
function kneeNote(row: Row, r: ValidationReport): string {
  if (r.withinBound.tasks) return '';
  const missed = new Set(
    Object.entries(r.tasks)
      .filter(([, a]) => (a.relativeError ?? 0) > r.bounds.tasks)
      .map(([svc]) => svc),
  );
  const at = row.knees.filter((k) => missed.has(k.service));
  if (at.length === 0) return '';
  const k = at.reduce((a, b) => (b.margin < a.margin ? b : a));
  return ` (the live run scaled ${k.service} to ${k.to} at ${formatEventTime(k.eventTime)} ${(k.margin * 100).toFixed(1)}% from asking for ${k.side === 'lower' ? 'fewer' : 'more'}: a knee)`;
}

function verdicts(row: Row, r: ValidationReport): string {
  const yes = (b: boolean) => (b ? 'met' : 'NOT met');
  const tasks = `${yes(r.withinBound.tasks)}${kneeNote(row, r)}`;
  if (!r.liveValid) return `tasks ${tasks}; p95 and errors not judged (live run invalid)`;
  const sampling =
    !r.withinBound.p95 && r.p95WithinSampling
      ? ' (met as far as the live sample tells: a p95 its requests leave open)'
      : '';
  return `tasks ${tasks}, p95 ${yes(r.withinBound.p95)}${sampling}, errors ${yes(r.withinBound.errors)}`;
}

function table(rows: Row[], side: 'measured' | 'model'): string {
  const lines = [
    '| run | profile × topology | live valid (lag p99) | host CPU | held periods | p95 all: live / sim | p95 per channel: live / sim | errors live / sim | tasks, worst service: live / sim | dropped iterations live / sim | targets |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const r = row[side];
    const channels = Object.entries(r.p95ByChannel)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([c, a]) => `${c} ${agree(a)}`)
      .join('; ');
    const held = r.emulation ? `${r.emulation.heldPeriods} of ${r.emulation.periods}` : '—';
    lines.push(
      `| ${row.label} | ${row.profile} × ${row.arch}${row.scaling ? ` (scaling ${row.scaling})` : ''} | ${row.valid ? 'yes' : 'no'} (${row.lagP99 === null ? '—' : `${row.lagP99.toFixed(1)} ms`}) | ${row.hostCpu === null ? '—' : `${(row.hostCpu * 100).toFixed(1)}%`} | ${held} | ${agree(r.p95)} | ${channels} | ${(r.errorRate.live * 100).toFixed(1)}% / ${(r.errorRate.simulated * 100).toFixed(1)}% | ${worstTasks(r)} | ${row.dropped.live} / ${Math.round(row.dropped.simulated)} of ${row.dropped.planned} | ${verdicts(row, r)} |`,
    );
  }
  return lines.join('\n');
}

function tally(rows: Row[], side: 'measured' | 'model'): string {
  const n = rows.length;
  const valid = rows.filter((r) => r[side].liveValid);
  const count = (k: 'tasks' | 'p95' | 'errors', among: Row[]) =>
    among.filter((r) => r[side].withinBound[k]).length;
  const sampling = valid.filter((r) => r[side].p95WithinSampling).length;
  const knees = rows.filter((r) => kneeNote(r, r[side]) !== '').length;
  return `targets met (${side === 'measured' ? 'capacity measured in each live run' : 'model table'}): tasks ${count('tasks', rows)} of ${n}${knees > 0 ? ` (${knees} missed at a live knee)` : ''}; p95 ${count('p95', valid)} of ${valid.length} valid (${sampling} as far as the live samples tell); errors ${count('errors', valid)} of ${valid.length} valid`;
}

const args = parseArgs(process.argv.slice(2));
const rows: Row[] = [];
for (const d of args.dirs) rows.push(await replay(d, args));
if (args.json) {
  process.stdout.write(
    `${JSON.stringify(
      rows.map(({ measured, model, ...rest }) => ({ ...rest, measured, model })),
      null,
      2,
    )}\n`,
  );
} else {
  process.stdout.write(
    'Replay with the capacity per task measured in each live run (as `peakday rehearse` does):\n\n',
  );
  process.stdout.write(`${table(rows, 'measured')}\n\n${tally(rows, 'measured')}\n\n`);
  process.stdout.write('Replay with the model table:\n\n');
  process.stdout.write(`${table(rows, 'model')}\n\n${tally(rows, 'model')}\n`);
}
