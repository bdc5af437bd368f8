/**
 * `peakday merge <dir>... --out DIR`: merges the run directories of a split run (one per load
 * generator, `--segment i/N`) into one. Series records are aligned by event time (never wall clock:
 * generators start at slightly different instants) and tag set; counts are sums; histograms are the
 * exact merge of the inputs' HDR histograms, so the merged percentiles are those of all requests.
 * The merged run is valid only if every input was; it records where each part came from.
 */

import { invalidInput } from '../core/errors.ts';
import { createRunDirectory, type RunReader, readRun } from '../core/run-directory.ts';
import {
  type EndReason,
  type ErrorCounts,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type SeriesRecord,
} from '../core/run-format.ts';
import { PEAKDAY_VERSION } from '../core/version.ts';
import type { Plan } from '../scenarios/plan.ts';
import {
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  type LatencyHistogram,
  percentilesMs,
} from './histogram.ts';
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
    for (const k of Object.keys(e) as (keyof ErrorCounts)[]) e[k] += r.errors[k] ?? 0;
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

/** Merges series records from several runs, aligned by event time; output sorted by t then tag set. */
export async function mergeSeries(runs: readonly RunReader[]): Promise<SeriesRecord[]> {
  const byKey = new Map<string, MergedRecord>();
  for (const run of runs) {
    for await (const r of run.series()) {
      const key = JSON.stringify([Math.round(r.t * 1000) / 1000, r.channel, r.journey, r.step]);
      let m = byKey.get(key);
      if (!m) {
        const { latency: _l, latencySend: _s, ...rest } = r;
        m = { rec: { ...rest }, latency: null, latencySend: null };
        for (const f of COUNT_FIELDS) if (m.rec[f] !== undefined) m.rec[f] = 0;
        delete m.rec.status;
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

/** Merges run directories into `outDir`; returns the merged meta and summary. */
export async function mergeRuns(
  dirs: readonly string[],
  outDir: string,
): Promise<{ meta: RunMeta; summary: RunSummary }> {
  if (dirs.length < 1)
    throw invalidInput(
      'merge-no-input',
      'give at least one run directory to merge',
      'peakday merge runs/a runs/b --out runs/ab',
    );
  const runs = dirs.map((d) => readRun(d));
  const first = runs[0] as RunReader;
  const problems: string[] = [];
  for (const r of runs) {
    if (r.meta.timeScale !== first.meta.timeScale || r.meta.eventStart !== first.meta.eventStart)
      problems.push(
        `${r.dir} plays a different clock (time scale ${r.meta.timeScale}, event start ${r.meta.eventStart})`,
      );
    if (r.meta.profile.hash !== first.meta.profile.hash)
      problems.push(
        `${r.dir} played profile ${r.meta.profile.name}@${r.meta.profile.hash}, not ${first.meta.profile.name}@${first.meta.profile.hash}`,
      );
  }
  if (problems.length > 0) {
    throw invalidInput(
      'merge-mismatch',
      `these runs are not parts of one plan: ${problems.join('; ')}`,
      'merge only the segments of one run (same profile, options and time scale)',
    );
  }
  const records = await mergeSeries(runs);
  const acc = createSummaryAccumulator();
  for (const r of records) acc.add(r);
  const lag = createLatencyHistogram();
  for (const r of runs)
    if (r.summary?.schedulerLagHistogram) lag.add(decodeHistogram(r.summary.schedulerLagHistogram));
  const notCompleted = runs.find((r) => (r.summary?.endReason ?? r.meta.endReason) !== 'completed');
  const endReason: EndReason = notCompleted
    ? (notCompleted.summary?.endReason ?? notCompleted.meta.endReason)
    : 'completed';
  const invalidReasons = runs.flatMap((r) =>
    (r.summary?.invalidReasons ?? r.meta.invalidReasons).map((x) => `${r.dir}: ${x}`),
  );
  const missingSummary = runs
    .filter((r) => !r.summary)
    .map((r) => `${r.dir} has no summary (the run did not finish)`);
  invalidReasons.push(...missingSummary);
  const intended = runs.every((r) => r.meta.capabilities.intendedStartLatency);
  const planned = runs.reduce((a, r) => a + (r.summary?.iterations.planned ?? r.plan?.iterations ?? 0), 0);
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
  // What any input could not judge (k6 segments) stays unjudged in the merge.
  const unmeasured = [
    ...new Set(runs.flatMap((r) => r.summary?.validityUnmeasured ?? r.meta.validityUnmeasured ?? [])),
  ];
  if (unmeasured.length > 0) summary.validityUnmeasured = unmeasured;
  const segments = runs.map((r) => r.meta.segment).filter((s) => s !== undefined);
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: outDir.split(/[\\/]/).filter(Boolean).pop() ?? 'merged',
    mode: first.meta.mode,
    driver: 'merge',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: first.meta.profile,
    options: { merged: [...dirs] },
    ...(first.meta.target ? { target: first.meta.target } : {}),
    timeScale: first.meta.timeScale,
    eventStart: first.meta.eventStart,
    eventEnd: summary.eventEnd,
    ...(first.meta.window ? { window: first.meta.window } : {}),
    seed: first.meta.seed,
    startedAt: runs.map((r) => r.meta.startedAt).sort()[0] as string,
    endedAt: new Date().toISOString(),
    endReason,
    valid: summary.valid,
    invalidReasons,
    ...(unmeasured.length > 0 ? { validityUnmeasured: unmeasured } : {}),
    capabilities: {
      intendedStartLatency: intended,
      sendLatency: runs.every((r) => r.meta.capabilities.sendLatency),
    },
    notes: [
      `merged from ${dirs.length} run(s): ${dirs.join(', ')}${segments.length ? ` (segments ${segments.map((s) => `${s.index}/${s.count}`).join(', ')})` : ''}`,
      ...[...new Set(runs.flatMap((r) => r.meta.notes))],
    ],
  };
  const plan: Plan | null = first.plan ? { ...first.plan, iterations: planned } : null;
  if (plan) {
    delete plan.segment;
    const whole = runs.map((r) => r.plan).filter((p): p is Plan => p !== null);
    plan.scenarios = plan.scenarios.map((s, i) => ({
      ...s,
      iterations: whole.reduce((a, p) => a + (p.scenarios[i]?.iterations ?? 0), 0),
    }));
    plan.requests = plan.scenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0);
  }
  const writer = createRunDirectory(outDir, { meta, plan: plan ?? ({} as Plan) });
  writer.appendSeries(records);
  for (const r of runs) {
    const health = [];
    for await (const h of r.engine()) health.push({ ...h, source: r.dir });
    writer.appendEngine(health);
  }
  writer.writeSummary(summary);
  return { meta, summary };
}
