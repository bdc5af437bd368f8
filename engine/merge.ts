/**
 * `peakday merge <dir>... --out DIR`: merges the run directories of a split run (one per load
 * generator, `--segment i/N`) into one. Series records are aligned by event time (never wall clock:
 * generators start at slightly different instants) and tag set; counts are sums; histograms are the
 * exact merge of the inputs' HDR histograms, so the merged percentiles are those of all requests.
 * The merged run is valid only if every input was; it records where each part came from.
 */

import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { invalidInput, PeakdayError } from '../core/errors.ts';
import { createRunDirectory, type RunReader, readRun } from '../core/run-directory.ts';
import {
  type EndReason,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type SeriesRecord,
} from '../core/run-format.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import type { Plan } from '../scenarios/plan.ts';
import { planIdentity } from '../scenarios/plan-identity.ts';

import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  type LatencyHistogram,
  percentilesMs,
} from './histogram.ts';
import { countArrivals, type Segment } from './segments.ts';
import { createSummaryAccumulator } from './summary.ts';

interface MergedRecord {
  rec: SeriesRecord;
  latency: LatencyHistogram | null;
  latencySend: LatencyHistogram | null;
}

const COUNT_FIELDS = [
  'planned',
  'started',
  'completed',
  'dropped',
  'failedIterations',
  'requests',
  'failed',
] as const;

/** Merges one record into an accumulator record with the same (t, channel, journey, step). */
function mergeInto(m: MergedRecord, r: SeriesRecord): void {
  const a = m.rec;
  a.dt = Math.max(a.dt, r.dt);
  a.wall = Math.min(a.wall, r.wall);
  for (const f of COUNT_FIELDS) if (r[f] !== undefined) a[f] = (a[f] ?? 0) + (r[f] as number);
  // Answers 429, a subset of 4xx that the circuit breaker counts as overload; absent when none.
  if (r.rateLimited) a.rateLimited = (a.rateLimited ?? 0) + r.rateLimited;
  if (r.status) {
    const s = a.status ?? { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 };
    if (r.status['1xx']) s['1xx'] = (s['1xx'] ?? 0) + r.status['1xx'];
    s['2xx'] += r.status['2xx'];
    s['3xx'] += r.status['3xx'];
    s['4xx'] += r.status['4xx'];
    s['5xx'] += r.status['5xx'];
    a.status = s;
  }
  if (r.errors) {
    const e = a.errors ?? { timeout: 0, refused: 0, reset: 0, check: 0, other: 0 };
    for (const k of ['timeout', 'refused', 'reset', 'check', 'other'] as const) e[k] += r.errors[k] ?? 0;
    if (r.errors.emptyValue) e.emptyValue = (e.emptyValue ?? 0) + r.errors.emptyValue;
    a.errors = e;
  }
  if (r.checks) {
    const c = a.checks ?? { passed: 0, failed: 0 };
    c.passed += r.checks.passed;
    c.failed += r.checks.failed;
    a.checks = c;
  }
  if (r.latency) {
    if (!m.latency) m.latency = createLatencyHistogram();
    m.latency.add(decodeHistogram(r.latency));
  }
  if (r.latencySend) {
    if (!m.latencySend) m.latencySend = createLatencyHistogram();
    m.latencySend.add(decodeHistogram(r.latencySend));
  }
}

/**
 * Merges series records from several runs, aligned by event time; output sorted by t then tag set.
 * Stops (merge-interrupted) when `signal` fires while it reads.
 */
export async function mergeSeries(runs: readonly RunReader[], signal?: AbortSignal): Promise<SeriesRecord[]> {
  const byKey = new Map<string, MergedRecord>();
  for (const run of runs) {
    for await (const r of run.series()) {
      if (signal?.aborted) throw mergeInterrupted(`reading ${run.dir}`);
      const key = JSON.stringify([Math.round(r.t * 1000) / 1000, r.channel, r.journey, r.step]);
      let m = byKey.get(key);
      if (!m) {
        const { latency: _l, latencySend: _s, ...rest } = r;
        m = { rec: { ...rest }, latency: null, latencySend: null };
        for (const f of COUNT_FIELDS) if (m.rec[f] !== undefined) m.rec[f] = 0;
        delete m.rec.status;
        delete m.rec.rateLimited;
        delete m.rec.errors;
        delete m.rec.checks;
        byKey.set(key, m);
      }
      mergeInto(m, r);
    }
  }
  const out = [...byKey.values()].map((m) => {
    if (m.latency) m.rec.latency = encodeHistogram(m.latency);
    if (m.latencySend) m.rec.latencySend = encodeHistogram(m.latencySend);
    return m.rec;
  });
  const tagOrder = (r: SeriesRecord) => `${r.channel}\u0000${r.journey}\u0000${r.step ?? ''}`;
  return out.sort((a, b) => a.t - b.t || tagOrder(a).localeCompare(tagOrder(b)));
}

/** The whole plan's planned iterations (integer arrivals of every scenario, no segment). */
export function wholePlanned(plan: Plan): number {
  const { segment: _s, ...whole } = plan;
  return countArrivals(whole).reduce((a, b) => a + b, 0);
}

/** What `checkMergeInputs` found: refusals (exit 2), missing segments and unfinished inputs. */
export interface MergeCheck {
  /** Reasons the inputs are not distinct segments of one plan; any one refuses the merge. */
  problems: string[];
  /** Segments of the split absent from the inputs, as `i/N`. */
  missingSegments: string[];
  /** Inputs that did not play their whole segment (no summary, not completed, or partial), with why. */
  unfinished: string[];
}

/**
 * Decides whether run directories can be merged into one run: they must play the same plan (same
 * plan identity, clock and profile), be distinct directories, and be distinct, non-overlapping
 * segments of one split (`--segment i/N` with one N); a run without a segment overlaps every other
 * run of its plan. Pure: the readers' meta, plan and summary are all it looks at.
 */
export function checkMergeInputs(
  runs: readonly Pick<RunReader, 'dir' | 'meta' | 'plan' | 'summary'>[],
): MergeCheck {
  const problems: string[] = [];
  const first = runs[0];
  if (!first) return { problems: ['no run directory given'], missingSegments: [], unfinished: [] };
  const seen = new Map<string, string>();
  for (const r of runs) {
    const key = realOrResolved(r.dir);
    const before = seen.get(key);
    if (before !== undefined) problems.push(`${r.dir} is given twice (as ${before} and ${r.dir})`);
    else seen.set(key, r.dir);
  }
  const firstKey = first.plan ? planIdentity(first.plan) : null;
  for (const r of runs.slice(1)) {
    if (r.meta.timeScale !== first.meta.timeScale || r.meta.eventStart !== first.meta.eventStart)
      problems.push(
        `${r.dir} plays a different clock (time scale ${r.meta.timeScale}, event start ${r.meta.eventStart}) than ${first.dir} (time scale ${first.meta.timeScale}, event start ${first.meta.eventStart})`,
      );
    if (r.meta.profile.hash !== first.meta.profile.hash)
      problems.push(
        `${r.dir} played profile ${r.meta.profile.name}@${r.meta.profile.hash}, not ${first.meta.profile.name}@${first.meta.profile.hash}`,
      );
    else if (firstKey !== null && r.plan && planIdentity(r.plan) !== firstKey)
      problems.push(
        `${r.dir} played another plan of profile ${r.meta.profile.name} (plan ${planIdentity(r.plan)}, not ${firstKey}: different rates, seed, windows or options)`,
      );
  }
  const segOf = (r: (typeof runs)[number]) => r.meta.segment ?? r.plan?.segment;
  const missingSegments: string[] = [];
  if (runs.length > 1) {
    const whole = runs.filter((r) => !segOf(r));
    for (const r of whole)
      problems.push(`${r.dir} is not a segment (it played the whole plan), so it overlaps every other input`);
    const counts = [
      ...new Set(
        runs
          .map(segOf)
          .filter((s) => s !== undefined)
          .map((s) => s.count),
      ),
    ];
    if (counts.length > 1)
      problems.push(
        `the inputs come from different splits (${counts.map((n) => `i/${n}`).join(', ')}), whose segments overlap`,
      );
    if (whole.length === 0 && counts.length === 1) {
      const n = counts[0] as number;
      const byIndex = new Map<number, string>();
      for (const r of runs) {
        const s = segOf(r) as Segment;
        const other = byIndex.get(s.index);
        if (other !== undefined)
          problems.push(`segment ${s.index}/${n} is given twice (${other} and ${r.dir})`);
        else byIndex.set(s.index, r.dir);
      }
      for (let i = 1; i <= n; i++) if (!byIndex.has(i)) missingSegments.push(`${i}/${n}`);
    }
  } else {
    const s = segOf(first);
    if (s) for (let i = 1; i <= s.count; i++) if (i !== s.index) missingSegments.push(`${i}/${s.count}`);
  }
  const unfinished: string[] = [];
  for (const r of runs) {
    if (!r.summary)
      unfinished.push(`${r.dir} did not finish (no summary.json; meta says ${r.meta.endReason})`);
    else if (r.summary.endReason !== 'completed')
      unfinished.push(
        `${r.dir} ended ${r.summary.endReason}${r.meta.endDetail ? ` (${r.meta.endDetail})` : ''}`,
      );
  }
  return { problems, missingSegments, unfinished };
}

function realOrResolved(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return resolve(dir);
  }
}

/** What the merged run says it is, when a fleet (not `peakday merge`) merges its generators' runs. */
export interface MergeAs {
  /** The driver the generators ran (default `merge`). */
  driver?: RunMeta['driver'];
  /** The fleet run's options as given (default `{merged: dirs}`; `merged` is always added). */
  options?: Record<string, unknown>;
  /** Notes put first (e.g. how the fleet ran). */
  notes?: string[];
}

/** What mergeRuns throws when its AbortSignal (Ctrl-C) fired: the inputs are untouched (exit 130). */
function mergeInterrupted(during: string): PeakdayError {
  return new PeakdayError('merge-interrupted', `merge was interrupted while ${during}`, {
    hint: 'merge again into a new --out',
  });
}

/**
 * Merges run directories into `outDir`; returns the merged meta and summary. Refuses (exit 2) inputs
 * that are not distinct segments of one plan (`checkMergeInputs`); a missing segment or an unfinished
 * input makes the merge partial and is named in its notes. `planned` is the whole plan's. `signal`
 * (Ctrl-C) stops it between records: before anything is written nothing is; after, the merged
 * directory has no summary.json (a run that did not finish). The inputs are only read.
 */
export async function mergeRuns(
  dirs: readonly string[],
  outDir: string,
  as: MergeAs = {},
  signal?: AbortSignal,
): Promise<{ meta: RunMeta; summary: RunSummary; missingSegments: string[]; unfinished: string[] }> {
  if (dirs.length < 1)
    throw invalidInput(
      'merge-no-input',
      'give at least one run directory to merge',
      'peakday merge runs/a runs/b --out runs/ab',
    );
  const runs = dirs.map((d) => readRun(d));
  const first = runs[0] as RunReader;
  const check = checkMergeInputs(runs);
  const out = realOrResolved(outDir);
  for (const r of runs)
    if (realOrResolved(r.dir) === out) check.problems.push(`--out ${outDir} is one of the inputs (${r.dir})`);
  if (check.problems.length > 0) {
    throw new PeakdayError(
      'merge-mismatch',
      `these runs are not distinct segments of one plan:\n  - ${check.problems.join('\n  - ')}`,
      {
        hint: 'merge each segment of one split run once (peakday run ... --segment i/N on each generator, same profile and options), into a new --out directory',
      },
    );
  }
  const { missingSegments, unfinished } = check;
  const records = await mergeSeries(runs, signal);
  const acc = createSummaryAccumulator();
  for (const r of records) acc.add(r);
  const lag = createLatencyHistogram();
  for (const r of runs)
    if (r.summary?.schedulerLagHistogram) lag.add(decodeHistogram(r.summary.schedulerLagHistogram));
  const notCompleted = runs.find((r) => (r.summary?.endReason ?? r.meta.endReason) !== 'completed');
  const inputEnd = notCompleted
    ? (notCompleted.summary?.endReason ?? notCompleted.meta.endReason)
    : 'completed';
  // An input still marked `running` died without finishing: the merge is over, its input was not.
  const endReason: EndReason = inputEnd === 'running' ? 'error' : inputEnd;
  const invalidReasons = runs.flatMap((r) =>
    (r.summary?.invalidReasons ?? r.meta.invalidReasons).map((x) => `${r.dir}: ${x}`),
  );
  const intended = runs.every((r) => r.meta.capabilities.intendedStartLatency);
  // The whole plan's integer arrivals when the plan is known (every segment's plan.json computes the
  // same); else the inputs' own planned counts.
  const planned = first.plan
    ? wholePlanned(first.plan)
    : runs.reduce((a, r) => a + (r.summary?.iterations.planned ?? 0), 0);
  const summary = acc.finish({
    mode: first.meta.mode,
    endReason,
    valid: invalidReasons.length === 0,
    invalidReasons,
    durationSeconds: Math.max(...runs.map((r) => r.summary?.durationSeconds ?? 0)),
    eventStart: first.meta.eventStart,
    eventEnd: Math.max(...runs.map((r) => r.meta.eventEnd)),
    timeScale: first.meta.timeScale,
    planned,
    intendedStartLatency: intended,
    schedulerLag: lag.totalCount > 0 ? percentilesMs(lag) : null,
  });
  if (lag.totalCount > 0) summary.schedulerLagHistogram = encodeHistogram(lag);
  if (missingSegments.length > 0 || unfinished.length > 0) summary.partial = true;
  // What any input could not judge (k6 segments, an input that never finished) stays unjudged.
  const unmeasured = [
    ...new Set(runs.flatMap((r) => r.summary?.validityUnmeasured ?? r.meta.validityUnmeasured ?? [])),
    ...runs
      .filter((r) => !r.summary)
      .map((r) => `${r.dir}: its validity was never judged (the run did not finish)`),
  ];
  if (unmeasured.length > 0) summary.validityUnmeasured = unmeasured;
  const segments = runs.map((r) => r.meta.segment).filter((s) => s !== undefined);
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: outDir.split(/[\\/]/).filter(Boolean).pop() ?? 'merged',
    mode: first.meta.mode,
    driver: as.driver ?? 'merge',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: first.meta.profile,
    options: { ...as.options, merged: [...dirs] },
    ...(first.meta.target ? { target: first.meta.target } : {}),
    timeScale: first.meta.timeScale,
    eventStart: first.meta.eventStart,
    eventEnd: summary.eventEnd,
    ...(first.meta.window ? { window: first.meta.window } : {}),
    seed: first.meta.seed,
    startedAt: runs.map((r) => r.meta.startedAt).sort()[0] as string,
    endedAt: new Date().toISOString(),
    endReason,
    ...(endReason !== 'completed' && notCompleted
      ? {
          endDetail: `input ${notCompleted.dir} ended ${inputEnd}${notCompleted.meta.endDetail ? `: ${notCompleted.meta.endDetail}` : ''}`,
        }
      : {}),
    valid: summary.valid,
    invalidReasons,
    ...(unmeasured.length > 0 ? { validityUnmeasured: unmeasured } : {}),
    capabilities: {
      intendedStartLatency: intended,
      sendLatency: runs.every((r) => r.meta.capabilities.sendLatency),
    },
    notes: [
      ...(as.notes ?? []),
      `merged from ${dirs.length} run(s): ${dirs.join(', ')}${segments.length ? ` (segments ${segments.map((s) => `${s.index}/${s.count}`).join(', ')})` : ''}`,
      ...(missingSegments.length > 0
        ? [
            `partial: segment${missingSegments.length > 1 ? 's' : ''} ${missingSegments.join(', ')} missing (planned iterations are the whole plan's; the missing segments' were never played here)`,
          ]
        : []),
      ...unfinished.map((u) => `partial: ${u}`),
      ...[...new Set(runs.flatMap((r) => r.meta.notes))],
    ],
  };
  // The merged plan is the whole plan: no segment, each scenario's integer arrivals.
  let plan: Plan | null = null;
  if (first.plan) {
    const { segment: _s, ...whole } = first.plan;
    const counts = countArrivals(whole);
    const scenarios = whole.scenarios.map((s, i) => ({ ...s, iterations: counts[i] ?? 0 }));
    plan = {
      ...whole,
      scenarios,
      iterations: scenarios.reduce((a, s) => a + s.iterations, 0),
      requests: scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
    };
  }
  if (signal?.aborted) throw mergeInterrupted('about to write (nothing written)');
  const writer = createRunDirectory(outDir, { meta, plan: plan ?? ({} as Plan) });
  writer.appendSeries(records);
  for (const r of runs) {
    const health = [];
    for await (const h of r.engine()) {
      if (signal?.aborted)
        throw mergeInterrupted(`reading ${r.dir}'s engine health (${outDir} has no summary.json)`);
      health.push({ ...h, source: r.dir });
    }
    writer.appendEngine(health);
  }
  if (signal?.aborted) throw mergeInterrupted(`writing ${outDir} (it has no summary.json)`);
  writer.writeSummary(summary);
  return { meta, summary, missingSegments, unfinished };
}
