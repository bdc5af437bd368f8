/**
 * `peakday fleet ...`: load generators beyond one machine (docs/fleet.md). `gather` turns the k6
 * outputs a fleet left (k6-operator runner pods) into one run, checked against the plan and merged
 * exactly (engine/k6/gather.ts).
 */
import type { Command } from 'commander';

/** Registers `peakday fleet`. */
export function register(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('load generators beyond one machine: k6 on Kubernetes (k6-operator) and ECS Fargate');
  fleet
    .command('gather')
    .description(
      "merge the k6 outputs of a fleet's generators (one folder per runner pod) into one run, checked against the plan",
    )
    .argument(
      '<dir>',
      'folder holding one folder per generator with k6-out.ndjson (and k6-summary.json, k6-console.txt)',
    )
    .requiredOption('--plan <file>', 'the plan.json written by profile export-k6 --k6-operator')
    .requiredOption('--out <dir>', 'run directory to write')
    .option('--json', 'print the merged summary as JSON')
    .action(async (dir: string, flags: { plan: string; out: string; json?: boolean }) => {
      const [{ gatherFleetOutputs }, { readPlanFile }, { createOutput }] = await Promise.all([
        import('../../engine/k6/gather.ts'),
        import('../../scenarios/plan-file.ts'),
        import('../output.ts'),
      ]);
      const out = createOutput();
      const r = await gatherFleetOutputs(dir, readPlanFile(flags.plan), flags.out);
      if (flags.json) return out.json({ dir: flags.out, ...r });
      out.out(`gathered into ${flags.out}${r.summary.partial ? ' (partial)' : ''}`);
      if (r.missingSegments.length > 0) out.out(`missing segments: ${r.missingSegments.join(', ')}`);
      out.out(
        `iterations: planned ${r.summary.iterations.planned}, started ${r.summary.iterations.started}, dropped ${r.summary.iterations.dropped}; requests ${r.summary.requests.total}, failed ${r.summary.requests.failed}`,
      );
      out.out(r.summary.valid ? 'valid: yes' : `VALID: NO — ${r.summary.invalidReasons.join('; ')}`);
    });
}
