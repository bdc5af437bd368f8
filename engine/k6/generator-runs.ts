/**
 * The k6 outputs of a fleet's generators (k6-operator pods, ECS tasks: files gathered after the run)
 * turned into one run: each generator's `--out json` NDJSON, summary and console become a run
 * directory of its segment of the plan (`<out>/generators/<i>ofN/`, as the local fleet writes), judged
 * like the k6 driver judges a local k6 (engine/k6/validity.ts, with the CPU the platform reported for
 * the generator when there is one), then merged exactly into `<out>` (engine/merge.ts). A generator
 * without output is a missing segment the merge names.
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRunDirectory } from '../../core/run-directory.ts';
import { type EndReason, RUN_FORMAT_VERSION, type RunMeta, type RunSummary } from '../../core/run-format.ts';
import { PEAKDAY_VERSION } from '../../core/version.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { mergeRuns } from '../merge.ts';
import { type Segment, segmentPlan } from '../segments.ts';
import { createSummaryAccumulator } from '../summary.ts';
import { convertK6Output } from './convert.ts';
import { accountIterations, K6_FILES } from './driver.ts';
import { generatorDir } from './local-fleet.ts';
import { judgeK6Run, readK6Log } from './validity.ts';

/** One generator's gathered files and what the platform said about it. */
export interface GeneratorOutput {
  segment: Segment;
  /** k6's `--out json=` NDJSON; absent when the generator wrote none (then it is a missing segment). */
  output?: string;
  /** k6's `--summary-export`. */
  summary?: string;
  /** k6's console (stdout and stderr), for its warnings and errors. */
  console?: string;
  /** CPU use (0..1) of the generator's task or pod per sample, when the platform reports it. */
  cpu?: number[];
  /** How the generator ended, as the platform tells it (default `completed`). */
  endReason?: EndReason;
  /** Why it ended so, e.g. an ECS task's stoppedReason. */
  endDetail?: string;
  /** Where it ran (task ARN, pod name), for the notes. */
  where?: string;
  /** Epoch ms at which k6 started (wall 0); default the first point's second. */
  startedAtMs?: number;
}

/** Writes one generator's run directory from its k6 files; returns its meta and summary. */
export async function writeGeneratorRun(
  plan: Plan,
  g: GeneratorOutput & { output: string },
  outDir: string,
  base: { target?: string; options: Record<string, unknown> },
): Promise<{ meta: RunMeta; summary: RunSummary }> {
  const seg = segmentPlan(plan, g.segment);
  const meta: RunMeta = {
    formatVersion: RUN_FORMAT_VERSION,
    id: `${g.segment.index}of${g.segment.count}`,
    mode: 'live',
    driver: 'k6',
    tool: { name: 'peakday', version: PEAKDAY_VERSION },
    profile: {
      name: plan.profile.name,
      hash: plan.profile.hash,
      ...(plan.profile.file ? { file: plan.profile.file } : {}),
    },
    options: { ...base.options, segment: `${g.segment.index}/${g.segment.count}` },
    ...(base.target ? { target: base.target } : {}),
    timeScale: plan.timeScale,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    ...(plan.window ? { window: plan.window } : {}),
    seed: plan.seed,
    startedAt: new Date(g.startedAtMs ?? Date.now()).toISOString(),
    endReason: 'running',
    valid: true,
    invalidReasons: [],
    capabilities: { intendedStartLatency: false, sendLatency: true },
    notes: [
      `generator ${g.segment.index}/${g.segment.count}${g.where ? ` (${g.where})` : ''}: k6's outputs gathered after the run`,
    ],
    segment: g.segment,
  };
  const writer = createRunDirectory(outDir, { meta, plan: seg });
  copyFileSync(g.output, join(outDir, K6_FILES.output));
  if (g.summary && existsSync(g.summary)) copyFileSync(g.summary, join(outDir, K6_FILES.summary));
  const consoleText = g.console && existsSync(g.console) ? readFileSync(g.console, 'utf8') : null;
  if (consoleText !== null) writer.writeFile(K6_FILES.console, consoleText);
  const conv = await convertK6Output(g.output, {
    ...(g.startedAtMs !== undefined ? { startedAtMs: g.startedAtMs } : {}),
    eventStart: plan.eventStart,
    timeScale: plan.timeScale,
  });
  writer.appendSeries(conv.records);
  const acc = createSummaryAccumulator();
  for (const r of conv.records) acc.add(r);
  const endReason = g.endReason ?? 'completed';
  const validity = judgeK6Run({
    generator: conv.generator,
    totalCap: seg.scenarios.reduce((a, s) => a + s.maxConcurrency, 0),
    log: consoleText !== null ? readK6Log(consoleText) : null,
    hostCpu: g.cpu ?? [],
    iterations: accountIterations(conv.records, seg.iterations, consoleText ?? '', endReason === 'completed'),
  });
  const summary = acc.finish({
    mode: 'live',
    endReason,
    valid: validity.valid,
    invalidReasons: validity.reasons.map((r) => r.replace(/^host CPU/, 'generator CPU')),
    durationSeconds: Math.round(conv.durationSeconds * 1000) / 1000,
    eventStart: plan.eventStart,
    eventEnd: plan.eventEnd,
    timeScale: plan.timeScale,
    planned: seg.iterations,
    intendedStartLatency: false,
    schedulerLag: null,
  });
  summary.validityUnmeasured = validity.unmeasured;
  meta.valid = summary.valid;
  meta.invalidReasons = summary.invalidReasons;
  meta.validityUnmeasured = validity.unmeasured;
  meta.endReason = endReason;
  if (g.endDetail) meta.endDetail = g.endDetail;
  meta.endedAt = new Date().toISOString();
  writer.writeSummary(summary);
  writer.writeMeta(meta);
  return { meta, summary };
}

/**
 * Turns the gathered outputs of a fleet's generators into one run at `outDir`: one run directory per
 * generator with output, merged. Generators without output are the missing segments the merge names;
 * when none has output there is nothing to merge (a PeakdayError from the merge).
 */
export async function mergeGeneratorOutputs(
  plan: Plan,
  generators: readonly GeneratorOutput[],
  outDir: string,
  base: { target?: string; options: Record<string, unknown>; notes: string[] },
): Promise<{ meta: RunMeta; summary: RunSummary; missingSegments: string[]; unfinished: string[] }> {
  const dirs: string[] = [];
  const notes = [...base.notes];
  for (const g of generators) {
    if (!g.output || !existsSync(g.output)) {
      notes.push(
        `generator ${g.segment.index}/${g.segment.count}${g.where ? ` (${g.where})` : ''} left no k6 output${g.endDetail ? `: ${g.endDetail}` : ''}`,
      );
      continue;
    }
    const dir = generatorDir(outDir, g.segment.index, g.segment.count);
    await writeGeneratorRun(plan, { ...g, output: g.output }, dir, base);
    dirs.push(dir);
  }
  return mergeRuns(dirs, outDir, { driver: 'k6', options: base.options, notes });
}
