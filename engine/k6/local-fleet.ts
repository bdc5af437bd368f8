/**
 * A local k6 fleet (`peakday run <profile> --driver k6 --generators N`): N real k6 processes on this
 * machine, generator i playing segment i/N of the one plan (`--execution-segment` with an equal
 * `--execution-segment-sequence`, engine/segments.ts), each into its own run directory under
 * `<out>/generators/`, then merged exactly into `<out>` (engine/merge.ts). It is how the split and the
 * merge are proven with a real k6, and how one machine's cores are used by more than one k6 process.
 * A generator that fails leaves its directory behind and makes the merged run partial, named.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, invalidInput } from '../../core/errors.ts';
import { mergeRuns } from '../merge.ts';
import type { RunOutcome, RunRequest } from '../run.ts';
import { segmentPlan } from '../segments.ts';
import { runK6 } from './driver.ts';

/** Where generator i of n writes its run, under the merged run directory. */
export function generatorDir(outDir: string, index: number, count: number): string {
  return join(outDir, 'generators', `${index}of${count}`);
}

/** The most generators a local fleet starts (k6 processes on one machine; beyond this, use a fleet). */
export const MAX_LOCAL_GENERATORS = 64;

/** Plays the plan on `generators` local k6 processes, one segment each, and merges them into `req.outDir`. */
export async function runLocalK6Fleet(
  req: RunRequest & { k6Bin?: string; generators: number },
): Promise<RunOutcome> {
  const n = req.generators;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LOCAL_GENERATORS)
    throw invalidInput(
      'generators-invalid',
      `--generators ${n} is not a whole number from 1 to ${MAX_LOCAL_GENERATORS}`,
      'e.g. --generators 3',
    );
  if (req.plan.segment)
    throw invalidInput(
      'generators-with-segment',
      `--generators splits the whole plan, but this plan is already segment ${req.plan.segment.index}/${req.plan.segment.count}`,
      'drop --segment (or play one segment with --segment i/N and no --generators)',
    );
  const dirs = Array.from({ length: n }, (_, k) => generatorDir(req.outDir, k + 1, n));
  const outcomes = await Promise.allSettled(
    dirs.map((dir, k) =>
      runK6({
        ...req,
        plan: segmentPlan(req.plan, { index: k + 1, count: n }),
        outDir: dir,
        options: { ...req.options, segment: `${k + 1}/${n}`, generators: n },
        // Only the first generator draws k6's progress; N interleaved progress bars say nothing.
        ...(k === 0 && req.progress ? { progress: req.progress } : { progress: undefined }),
      }),
    ),
  );
  const failures: string[] = [];
  outcomes.forEach((o, k) => {
    if (o.status === 'rejected') {
      const e = o.reason as Error;
      failures.push(`generator ${k + 1}/${n} (${dirs[k]}) failed: ${e.message}`);
    }
  });
  const played = dirs.filter((_, k) => {
    const o = outcomes[k];
    return o?.status === 'fulfilled';
  });
  // No generator played: its error (k6 missing, a bad script) is the run's.
  if (played.length === 0) throw (outcomes[0] as PromiseRejectedResult).reason;
  // Failed generators whose run directory exists still merge (as unfinished inputs, named);
  // those that never wrote one are the missing segments the merge names.
  const inputs = dirs.filter((d) => existsSync(join(d, 'meta.json')));
  const { meta, summary } = await mergeRuns(inputs, req.outDir, {
    driver: 'k6',
    options: { ...req.options, generators: n },
    notes: [
      `local k6 fleet: ${n} k6 processes on this machine, generator i playing segment i/${n} of the plan (--execution-segment), merged exactly; each generator's run is under ${join(req.outDir, 'generators')}`,
      ...failures,
    ],
  });
  const fulfilled = outcomes.filter((o): o is PromiseFulfilledResult<RunOutcome> => o.status === 'fulfilled');
  // As the single k6 driver: 130 when interrupted, else the first failed generator's exit code
  // (what its k6's exit code or error says: engine/k6/exit-codes.ts), else 0.
  const failedExit = [
    ...fulfilled.map((o) => o.value.exitCode),
    ...outcomes.flatMap((o) =>
      o.status === 'rejected' ? [(o.reason as { exitCode?: number }).exitCode ?? ExitCode.internal] : [],
    ),
  ].find((c) => c !== ExitCode.ok);
  const exitCode = fulfilled.some((o) => o.value.exitCode === ExitCode.interrupted)
    ? ExitCode.interrupted
    : (failedExit ?? ExitCode.ok);
  return { dir: req.outDir, meta, summary, exitCode };
}
