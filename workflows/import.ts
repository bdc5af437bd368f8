/**
 * The body of `peakday import k6` (cli/commands/import.ts stays a thin flag list): reads the script's
 * thresholds with the budgets parser, imports the run (engine/k6/import.ts) and prints what was
 * imported, k6's counts against ours, the budgets it brought and the notes.
 */
import { readFileSync } from 'node:fs';
import { createOutput } from '../cli/output.ts';
import { readConfig } from '../core/config.ts';
import { PeakdayError } from '../core/errors.ts';
import { importK6Run } from '../engine/k6/import.ts';
import { readBudgets } from '../scenarios/budgets/parse-budgets.ts';

/** The flags `peakday import k6` takes. */
export interface ImportK6Flags {
  summary?: string;
  script?: string;
  out?: string;
  channelTag: string;
  journeyTag: string;
  stepTag: string;
  json?: boolean;
}

/** Imports a k6 output as a run directory and prints the outcome. */
export async function executeImportK6(output: string, flags: ImportK6Flags): Promise<void> {
  let scriptThresholds: Record<string, string[]> | undefined;
  if (flags.script) scriptThresholds = await readScriptThresholds(flags.script);
  const r = await importK6Run({
    output,
    summary: flags.summary,
    script: flags.script,
    scriptThresholds,
    outDir: flags.out,
    runsDir: readConfig().runsDir,
    mapping: { channel: flags.channelTag, journey: flags.journeyTag, step: flags.stepTag },
  });
  const out = createOutput();
  if (flags.json) {
    out.json({
      dir: r.dir,
      startedAt: r.meta.startedAt,
      endedAt: r.meta.endedAt,
      format: r.info.format,
      gzip: r.info.gzip,
      summary: r.summary,
      budgetsFrom: r.budgetsFrom,
      budgets: r.budgets,
      checks: r.checks,
      metrics: r.metricNames,
      notes: r.meta.notes,
    });
    return;
  }
  const s = r.summary;
  out.out(`${out.bold('imported')} ${output} into ${r.dir}`);
  out.out(`  window: ${r.meta.startedAt} to ${r.meta.endedAt} (${s.durationSeconds} s)`);
  out.out(
    `  iterations: ${s.iterations.completed} completed, ${s.iterations.dropped} dropped; requests ${s.requests.total}, failed ${s.requests.failed}`,
  );
  const l = s.latency.send?.overall;
  if (l) out.out(`  http_req_duration: p50 ${l.p50} ms, p95 ${l.p95} ms, p99 ${l.p99} ms (send time)`);
  if (r.checks.length > 0) {
    const off = r.checks.filter((c) => c.k6 !== c.peakday);
    out.out(
      off.length === 0
        ? `  counts match k6's summary (${r.checks.map((c) => c.metric).join(', ')})`
        : out.yellow(
            `  counts differ from k6's summary: ${off.map((c) => `${c.metric} ${c.k6} vs ${c.peakday}`).join('; ')}`,
          ),
    );
  }
  out.out(
    r.budgetsFrom
      ? `  budgets: ${r.budgets} thresholds from the ${r.budgetsFrom} (gate uses them by default)`
      : '  budgets: none (the run had no thresholds; pass --budgets to gate)',
  );
  if (r.metricNames.length > 0) out.out(`  metrics kept per second: ${r.metricNames.join(', ')}`);
  for (const n of r.meta.notes) out.out(out.dim(`  note: ${n}`));
  out.out(
    `next: peakday collect ${r.dir} --source cloudwatch --cluster <name>; peakday report ${r.dir}; peakday gate ${r.dir}`,
  );
}

/** The k6 script's `options.thresholds` as `{selector: [expression]}` (budgets module parser). */
async function readScriptThresholds(file: string): Promise<Record<string, string[]> | undefined> {
  try {
    readFileSync(file);
  } catch (e) {
    throw new PeakdayError('k6-script-unreadable', `cannot read ${file}: ${(e as Error).message}`, {
      hint: 'pass the k6 script the run used, or leave --script out',
    });
  }
  let set: ReturnType<typeof readBudgets>;
  try {
    set = readBudgets(file);
  } catch (e) {
    // A script without thresholds is fine; any other problem is reported as the budgets parser says.
    if ((e as { problems?: { message: string }[] }).problems?.some((p) => /no `thresholds/.test(p.message)))
      return undefined;
    throw e;
  }
  const out: Record<string, string[]> = {};
  for (const b of set.budgets) {
    if (b.form !== 'k6') continue;
    const key = b.name.slice(0, b.name.length - b.expression.length - 2);
    const list = out[key] ?? [];
    list.push(b.expression);
    out[key] = list;
  }
  return out;
}
