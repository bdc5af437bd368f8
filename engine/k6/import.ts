/**
 * `peakday import k6`: any k6 run, made anywhere, as a run directory that collect, report and gate
 * read (docs/run-directory.md, docs/bring-your-own.md). k6's `--out json` (plain or gzip) or
 * `--out csv` output is streamed through the k6 converter (convert.ts) into `series.ndjson` and
 * `metrics.ndjson` (every other k6 metric, custom ones included, per second), then `summary.json` and
 * `meta.json` are written. The optional `--summary-export` (or handleSummary JSON) gives metric types a
 * CSV lacks, k6's own counts to check ours against, and the thresholds; the optional script gives
 * thresholds when no summary does. Thresholds become `budgets.json`, which `gate` uses by default.
 *
 * Clocks: the event clock of an imported run is its wall clock: `startedAt` is the second of the first
 * point, `t` = seconds since then (timeScale 1, eventStart 0), `endedAt` the last point. So collect
 * reads the account's metrics over exactly the run's window.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PeakdayError, validationError } from '../../core/errors.ts';
import { createRunDirectory, createRunId } from '../../core/run-directory.ts';
import {
  type MetricRecord,
  RUN_FILES,
  RUN_FORMAT_VERSION,
  type RunMeta,
  type RunSummary,
  type SeriesRecord,
} from '../../core/run-format.ts';
import { PEAKDAY_VERSION } from '../../core/version.ts';
import { createSummaryAccumulator } from '../summary.ts';
import {
  createK6SeriesBuilder,
  DEFAULT_K6_TAG_MAPPING,
  K6_LATENESS_SECONDS,
  type K6TagMapping,
} from './convert.ts';
import { type K6ReadInfo, readK6Points, typesFromSummary } from './points.ts';

/** What to import. */
export interface K6ImportRequest {
  /** k6's `--out json=` or `--out csv=` file, plain or gzip. */
  output: string;
  /** k6's `--summary-export` file or handleSummary JSON. */
  summary?: string;
  /** The k6 script (named in meta; its hash is the run's profile hash). */
  script?: string;
  /**
   * The script's `options.thresholds` (read by the caller with reports/budgets/k6-script.ts): the
   * run's budgets when the summary has none.
   */
  scriptThresholds?: Record<string, string[]>;
  /** The run directory to write (must not hold a run); default `<runsDir>/<id>`. */
  outDir?: string;
  runsDir?: string;
  mapping?: Partial<K6TagMapping>;
  now?: Date;
  /**
   * Ctrl-C: stops reading the output between points (import-interrupted, exit 130); the run directory
   * already begun is left without summary.json, a run that did not finish. The output is only read.
   */
  signal?: AbortSignal;
}

/** k6's own counts, from its summary, beside ours. */
export interface K6CountCheck {
  metric: string;
  k6: number;
  peakday: number;
}

/** What the import wrote. */
export interface K6ImportResult {
  dir: string;
  meta: RunMeta;
  summary: RunSummary;
  /** Where the run's budgets came from, when it brought any. */
  budgetsFrom: 'summary' | 'script' | 'output' | null;
  budgets: number;
  /** k6's summary counts against ours (empty without a summary). */
  checks: K6CountCheck[];
  metricNames: string[];
  info: K6ReadInfo;
}

type Thresholds = Record<string, string[]>;

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new PeakdayError('k6-summary-unreadable', `cannot read ${what} ${file}: ${(e as Error).message}`, {
      hint: 'pass the file k6 wrote with --summary-export FILE',
    });
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m ? Number(m[1]) : 0;
    const before = text.slice(0, pos);
    const line = before.split('\n').length;
    const column = pos - before.lastIndexOf('\n');
    throw validationError('k6-summary-invalid', `${file} is not JSON`, [
      {
        file,
        line,
        column,
        message: (e as Error).message,
        expected: "k6's --summary-export JSON",
        hint: 'pass the file k6 wrote with --summary-export FILE (or handleSummary JSON)',
      },
    ]);
  }
}

/**
 * The thresholds of a k6 summary: `--summary-export` (`metrics[key].thresholds = {expr: failed}`) or
 * handleSummary data (`metrics[key].thresholds = {expr: {ok}}`). With k6's verdicts (true = crossed).
 */
export function thresholdsFromSummary(summary: unknown): { thresholds: Thresholds; crossed: string[] } {
  const thresholds: Thresholds = {};
  const crossed: string[] = [];
  const metrics = (summary as { metrics?: Record<string, { thresholds?: Record<string, unknown> }> })
    ?.metrics;
  for (const [key, m] of Object.entries(metrics ?? {})) {
    if (!m?.thresholds || typeof m.thresholds !== 'object') continue;
    for (const [expr, v] of Object.entries(m.thresholds)) {
      const list = thresholds[key] ?? [];
      list.push(expr);
      thresholds[key] = list;
      const failed = typeof v === 'boolean' ? v : (v as { ok?: boolean })?.ok === false;
      if (failed) crossed.push(`${key}: ${expr}`);
    }
  }
  return { thresholds, crossed };
}

/** k6's own counts in a summary (either form); absent metrics are zero (k6 omits zero drops). */
function summaryCount(summary: unknown, metric: string, field: 'count' | 'passes' | 'fails'): number | null {
  const m = (summary as { metrics?: Record<string, Record<string, unknown>> })?.metrics?.[metric];
  if (!m) return metric === 'dropped_iterations' ? 0 : null;
  const values = (m.values as Record<string, unknown> | undefined) ?? m;
  const v = values[field];
  return typeof v === 'number' ? v : null;
}

/** Imports one k6 run into a new run directory. */
export async function importK6Run(req: K6ImportRequest): Promise<K6ImportResult> {
  if (!existsSync(req.output)) {
    throw new PeakdayError('k6-output-missing', `${req.output} does not exist`, {
      hint: 'run k6 with --out json=FILE (or --out csv=FILE) and pass that FILE',
    });
  }
  const summaryJson = req.summary ? readJsonFile(req.summary, 'k6 summary') : undefined;
  const types = summaryJson ? typesFromSummary(summaryJson) : {};
  const scriptThresholds = req.scriptThresholds;
  let scriptText: string | undefined;
  if (req.script) {
    try {
      scriptText = readFileSync(req.script, 'utf8');
    } catch (e) {
      throw new PeakdayError('k6-script-unreadable', `cannot read ${req.script}: ${(e as Error).message}`, {
        hint: 'pass the k6 script the run used, or leave --script out',
      });
    }
  }
  const mapping: K6TagMapping = { ...DEFAULT_K6_TAG_MAPPING, ...req.mapping };
  const now = req.now ?? new Date();
  const label = basename(req.script ?? req.output).replace(
    /\.(out\.)?(ndjson|json|csv|js|ts|mjs)(\.gz)?$/i,
    '',
  );
  const id = createRunId(label || 'k6-import', now);
  const dir = req.outDir ?? join(req.runsDir ?? 'runs', id);
  const hash = createHash('sha256')
    .update(scriptText ?? `k6-import:${basename(req.output)}`)
    .digest('hex')
    .slice(0, 16);
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: basename(dir),
    mode: 'live',
    driver: 'k6',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: { name: label || 'k6-import', hash, ...(req.script ? { file: req.script } : {}) },
    options: {
      imported: 'k6',
      output: req.output,
      summary: req.summary ?? null,
      script: req.script ?? null,
      tags: mapping,
    },
    timeScale: 1,
    eventStart: 0,
    eventEnd: 0,
    seed: 0,
    startedAt: now.toISOString(),
    endReason: 'running',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: false, sendLatency: true },
    notes: [],
  };
  const writer = createRunDirectory(dir, { meta, plan: null });
  const acc = createSummaryAccumulator();
  const metricNames = new Set<string>();
  const checkCounts = { passed: 0, failed: 0 };
  const info: K6ReadInfo = { format: 'json', gzip: false, lines: 0, tornLastLine: false };
  const builder = createK6SeriesBuilder({
    eventStart: 0,
    timeScale: 1,
    mapping,
    keepScenarioAndGroup: true,
    types,
    onRecords: (rs: SeriesRecord[]) => {
      for (const r of rs) {
        acc.add(r);
        if (r.checks) {
          checkCounts.passed += r.checks.passed;
          checkCounts.failed += r.checks.failed;
        }
      }
      writer.appendSeries(rs);
    },
    onMetrics: (rs: MetricRecord[]) => {
      for (const r of rs) metricNames.add(r.metric);
      writer.appendLines(RUN_FILES.metrics, rs);
    },
  });
  for await (const p of readK6Points(req.output, { onMetric: (d) => builder.declare(d), info })) {
    if (req.signal?.aborted)
      throw new PeakdayError(
        'import-interrupted',
        `import of ${req.output} was interrupted: ${dir} has no summary.json`,
        {
          hint: 'import again into a new --out',
        },
      );
    builder.add(p);
  }
  const conv = builder.finish();
  if (Number.isNaN(conv.firstMs)) {
    throw new PeakdayError('k6-output-empty', `${req.output} holds no k6 samples`, {
      hint: 'k6 wrote no points: did the run send anything? (k6 run --out json=FILE script.js)',
    });
  }
  const durationSeconds = Math.round(conv.durationSeconds * 1000) / 1000;
  meta.startedAt = new Date(conv.startMs).toISOString();
  meta.endedAt = new Date(conv.lastMs).toISOString();
  meta.eventEnd = Math.max(1, Math.ceil(durationSeconds));
  meta.endReason = 'completed';
  meta.notes.push(
    `imported from k6's ${info.format.toUpperCase()} output ${basename(req.output)}${info.gzip ? ' (gzip)' : ''}: the event clock is the run's wall clock (${meta.startedAt} to ${meta.endedAt})`,
    'k6 measures latency from the actual send (http_req_duration); it cannot measure intended-start (coordinated-omission-safe) latency, so latency budgets are judged on send-time latency',
  );
  if (info.tornLastLine)
    meta.notes.push('the last line of the k6 output was torn (k6 stopped mid-write) and was skipped');
  if (conv.latePoints > 0)
    meta.notes.push(
      `${conv.latePoints} points arrived more than ${K6_LATENESS_SECONDS} s after later ones; they are counted in extra records for their seconds`,
    );
  const validityUnmeasured = [
    'scheduler lag: k6 reports neither when an iteration was due nor when it started',
    'event-loop delay: no k6 counterpart',
    'host CPU: the run was made elsewhere; peakday did not sample the load generator',
    "whether dropped iterations were the generator's doing: the import does not know the scenarios' maxVUs",
  ];
  meta.validityUnmeasured = validityUnmeasured;
  if (info.format === 'csv' && !summaryJson) {
    const unknown = [...metricNames].filter((m) => !(m in types) && !conv.metrics[m]);
    const custom = unknown.filter((m) => !['vus', 'vus_max', 'http_reqs', 'iterations'].includes(m));
    if (custom.length > 0)
      meta.notes.push(
        `k6's CSV output does not say what type custom metrics are (${custom.slice(0, 5).join(', ')}${custom.length > 5 ? ', ...' : ''}); pass --summary to type them`,
      );
  }
  const summary = acc.finish({
    mode: 'live',
    endReason: 'completed',
    valid: true,
    invalidReasons: [],
    durationSeconds,
    eventStart: 0,
    eventEnd: meta.eventEnd,
    timeScale: 1,
    planned: 0,
    intendedStartLatency: false,
    schedulerLag: null,
  });
  summary.iterations.planned = summary.iterations.completed + summary.iterations.dropped;
  summary.partial = false;
  summary.validityUnmeasured = validityUnmeasured;

  const checks: K6CountCheck[] = [];
  if (summaryJson) {
    const compare = (metric: string, field: 'count' | 'passes' | 'fails', ours: number) => {
      const k6 = summaryCount(summaryJson, metric, field);
      if (k6 !== null) checks.push({ metric: `${metric}.${field}`, k6, peakday: ours });
    };
    compare('http_reqs', 'count', summary.requests.total);
    compare('http_req_failed', 'passes', summary.requests.failed);
    compare('iterations', 'count', summary.iterations.completed);
    compare('dropped_iterations', 'count', summary.iterations.dropped);
    compare('checks', 'passes', checkCounts.passed);
    compare('checks', 'fails', checkCounts.failed);
    const off = checks.filter((c) => c.k6 !== c.peakday);
    if (off.length > 0)
      meta.notes.push(
        `k6's summary and its output disagree: ${off.map((c) => `${c.metric} ${c.k6} in the summary, ${c.peakday} in the output`).join('; ')} (was the output cut short?)`,
      );
  }

  let thresholds: Thresholds | undefined;
  let budgetsFrom: K6ImportResult['budgetsFrom'] = null;
  if (summaryJson) {
    const t = thresholdsFromSummary(summaryJson);
    if (Object.keys(t.thresholds).length > 0) {
      thresholds = t.thresholds;
      budgetsFrom = 'summary';
      if (t.crossed.length > 0) meta.notes.push(`k6 reported thresholds crossed: ${t.crossed.join('; ')}`);
    }
  }
  if (!thresholds && scriptThresholds && Object.keys(scriptThresholds).length > 0) {
    thresholds = scriptThresholds;
    budgetsFrom = 'script';
  }
  if (!thresholds) {
    const declared: Thresholds = {};
    for (const d of Object.values(conv.metrics))
      if (d.thresholds && d.thresholds.length > 0) declared[d.name] = [...d.thresholds];
    if (Object.keys(declared).length > 0) {
      thresholds = declared;
      budgetsFrom = 'output';
      meta.notes.push(
        "thresholds taken from k6's JSON output, which declares only those on whole metrics (not on tag-filtered submetrics); pass --summary or --script for all of them",
      );
    }
  }
  let budgets = 0;
  if (thresholds) {
    writer.writeFile(RUN_FILES.budgets, `${JSON.stringify({ thresholds }, null, 2)}\n`);
    budgets = Object.values(thresholds).reduce((a, l) => a + l.length, 0);
    meta.options.budgetsFrom = budgetsFrom;
  }
  writer.writeSummary(summary);
  writer.writeMeta(meta);
  return {
    dir,
    meta,
    summary,
    budgetsFrom,
    budgets,
    checks,
    metricNames: [...metricNames].sort(),
    info,
  };
}
