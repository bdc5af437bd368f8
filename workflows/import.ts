/**
 * The body of `peakday import k6` (cli/commands/import.ts parses the flags into a typed request and
 * prints the result): reads the script's thresholds with the budgets parser and imports the run
 * (engine/k6/import.ts). Progress goes to the caller's sink; the caller's AbortSignal (Ctrl-C) stops
 * waiting at once (workflows/abortable.ts).
 */
import { readFileSync } from 'node:fs';
import { PeakdayError } from '../core/errors.ts';
import type { K6TagMapping } from '../engine/k6/convert.ts';
import { importK6Run, type K6ImportResult } from '../engine/k6/import.ts';
import { readBudgets } from '../scenarios/budgets/parse-budgets.ts';
import { untilAborted } from './abortable.ts';
import { silentSink, type WorkflowSink } from './sink.ts';

/** What `peakday import k6` is asked to do, flags parsed. */
export interface ImportK6Request {
  /** k6's `--out json=` or `--out csv=` output (gzip accepted). */
  output: string;
  /** k6's `--summary-export` file: counts checked against it, its thresholds become budgets. */
  summary?: string;
  /** The k6 script: its `options.thresholds` become budgets when no summary has them. */
  script?: string;
  /** The run directory to write; default `<runsDir>/<id>`. */
  out?: string;
  /** Where runs go by default (the configuration's `runsDir`, resolved by the caller). */
  runsDir: string;
  /** Which k6 tags name the channel, journey and step. */
  mapping: K6TagMapping;
  /** Progress lines; default: none. */
  sink?: WorkflowSink;
  /** Ctrl-C: stops the import (exit 130); a run directory already begun has no summary.json. */
  signal?: AbortSignal;
}

/** Imports a k6 output as a run directory (the script's thresholds read here); returns what was written. */
export async function importK6Workflow(req: ImportK6Request): Promise<K6ImportResult> {
  const sink = req.sink ?? silentSink;
  const interrupted = () =>
    new PeakdayError('import-interrupted', `import of ${req.output} was interrupted`, {
      hint: 'import again into a new --out',
    });
  return untilAborted(req.signal, interrupted, async () => {
    let scriptThresholds: Record<string, string[]> | undefined;
    if (req.script) scriptThresholds = readScriptThresholds(req.script);
    sink.log(`importing ${req.output}`);
    return importK6Run({
      output: req.output,
      summary: req.summary,
      script: req.script,
      scriptThresholds,
      outDir: req.out,
      runsDir: req.runsDir,
      mapping: req.mapping,
      ...(req.signal ? { signal: req.signal } : {}),
    });
  });
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
