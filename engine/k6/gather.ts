/**
 * `peakday fleet gather`: the k6 outputs a fleet left in folders (k6-operator runner pods copied out
 * of their results volume, one folder per pod) found, checked and merged into one run. Each output's
 * segment and plan come from the tags k6 put on its points: `instance_id` (the operator's runner
 * index, 1..N), `peakday_segments` (N) and `peakday_plan` (the plan's identity, set by
 * `profile export-k6 --k6-operator`). An output of another plan is refused; a segment without output
 * is a missing segment the merge names.
 */
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { invalidInput, PeakdayError } from '../../core/errors.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { planIdentity } from '../../scenarios/plan-identity.ts';
import { type GeneratorOutput, mergeGeneratorOutputs } from './generator-runs.ts';

/** The names a generator's files have in its folder. */
export const GATHER_FILES = {
  output: 'k6-out.ndjson',
  summary: 'k6-summary.json',
  console: 'k6-console.txt',
} as const;

/** The peakday tags on the first point that carries them (null when none in the first 10,000 lines). */
export async function readFleetTags(
  file: string,
): Promise<{ instance: number; segments: number; plan: string } | null> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  try {
    for await (const line of rl) {
      if (++n > 10_000) break;
      if (!line.includes('peakday_plan')) continue;
      const tags = (JSON.parse(line) as { data?: { tags?: Record<string, string> } }).data?.tags;
      if (!tags?.peakday_plan) continue;
      return {
        instance: Number(tags.instance_id),
        segments: Number(tags.peakday_segments),
        plan: tags.peakday_plan,
      };
    }
    return null;
  } finally {
    rl.close();
  }
}

/** Folders under `dir` (itself included) holding a k6 output, depth-first, sorted. */
function findOutputs(dir: string, depth = 0): string[] {
  const out: string[] = [];
  if (existsSync(join(dir, GATHER_FILES.output))) out.push(dir);
  if (depth >= 4) return out;
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)))
    if (e.isDirectory()) out.push(...findOutputs(join(dir, e.name), depth + 1));
  return out;
}

/** Finds the generators' outputs under `dir`, checks them against the plan and merges them into `outDir`. */
export async function gatherFleetOutputs(dir: string, plan: Plan, outDir: string) {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw invalidInput(
      'gather-no-dir',
      `${dir} is not a directory`,
      "give the folder the pods' results were copied to",
    );
  const folders = findOutputs(dir);
  if (folders.length === 0)
    throw invalidInput(
      'gather-no-output',
      `no ${GATHER_FILES.output} under ${dir}`,
      'copy the results volume out first (docs/fleet.md, "On Kubernetes")',
    );
  const id = planIdentity(plan);
  const problems: string[] = [];
  const found: { folder: string; instance: number; segments: number }[] = [];
  for (const folder of folders) {
    const file = join(folder, GATHER_FILES.output);
    const tags = await readFleetTags(file);
    if (!tags) {
      problems.push(
        `${file} carries no peakday_plan tag (not written by a script from profile export-k6 --k6-operator)`,
      );
      continue;
    }
    if (tags.plan !== id) {
      problems.push(`${file} played plan ${tags.plan}, not ${id} (the plan given)`);
      continue;
    }
    if (
      !Number.isInteger(tags.instance) ||
      !Number.isInteger(tags.segments) ||
      tags.instance < 1 ||
      tags.instance > tags.segments
    ) {
      problems.push(
        `${file} has no valid instance_id/peakday_segments tags (${tags.instance}/${tags.segments})`,
      );
      continue;
    }
    found.push({ folder, instance: tags.instance, segments: tags.segments });
  }
  const splits = [...new Set(found.map((f) => f.segments))];
  if (splits.length > 1)
    problems.push(`the outputs come from different splits (${splits.join(', ')} generators)`);
  for (const f of found) {
    const same = found.filter((x) => x.instance === f.instance);
    if (same[0] === f && same.length > 1)
      problems.push(
        `segment ${f.instance}/${f.segments} has ${same.length} outputs (${same.map((x) => x.folder).join(', ')}): keep the one of the run to merge`,
      );
  }
  if (problems.length > 0)
    throw new PeakdayError(
      'gather-mismatch',
      `these outputs are not the segments of this plan:\n  - ${problems.join('\n  - ')}`,
      {
        hint: 'gather the outputs of one TestRun with the plan.json written beside its manifests',
      },
    );
  const n = splits[0] as number;
  const generators: GeneratorOutput[] = [];
  for (let i = 1; i <= n; i++) {
    const x = found.find((f) => f.instance === i);
    generators.push(
      x
        ? {
            segment: { index: i, count: n },
            output: join(x.folder, GATHER_FILES.output),
            summary: join(x.folder, GATHER_FILES.summary),
            console: join(x.folder, GATHER_FILES.console),
            where: x.folder,
          }
        : { segment: { index: i, count: n }, endDetail: 'no output was found for it' },
    );
  }
  return mergeGeneratorOutputs(plan, generators, outDir, {
    options: { gathered: dir, generators: n },
    notes: [`k6 fleet of ${n} generators gathered from ${dir}, merged exactly`],
  });
}
