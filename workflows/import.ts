/**
 * The body of `peakday import k6` (cli/commands/import.ts stays a thin flag list): reads the script's
 * thresholds with the budgets parser and imports the run (engine/k6/import.ts); the command prints
 * the result.
 */
import { readFileSync } from 'node:fs';
import { readConfig } from '../core/config.ts';
import { PeakdayError } from '../core/errors.ts';
import type { K6TagMapping } from '../engine/k6/convert.ts';
import { importK6Run, type K6ImportResult } from '../engine/k6/import.ts';
import { readBudgets } from '../scenarios/budgets/parse-budgets.ts';

/** What `peakday import k6` is asked to do, flags parsed. */
export interface ImportK6Request {
  output: string;
  summary?: string;
  script?: string;
  out?: string;
  /** Which k6 tags name the channel, journey and step. */
  mapping: K6TagMapping;
}

/** Imports a k6 output as a run directory (the script's thresholds read here); returns what was written. */
export async function importK6Workflow(req: ImportK6Request): Promise<K6ImportResult> {
  let scriptThresholds: Record<string, string[]> | undefined;
  if (req.script) scriptThresholds = readScriptThresholds(req.script);
  const r = await importK6Run({
    output: req.output,
    summary: req.summary,
    script: req.script,
    scriptThresholds,
    outDir: req.out,
    runsDir: readConfig().runsDir,
    mapping: req.mapping,
  });
  return r;
}

/** The k6 script's `options.thresholds` as `{selector: [expression]}` (budgets module parser). */
function readScriptThresholds(file: string): Record<string, string[]> | undefined {
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
