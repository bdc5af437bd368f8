/**
 * `peakday simulate <profile>`: plays the whole event (or a window) at real scale through the
 * event-scale simulator and writes a run directory that `report` and `gate` read like a live run.
 */
import type { Command } from 'commander';
import { type ArchFlag, createFlagChecker } from '../flags.ts';
import { createOutput } from '../output.ts';

interface SimulateFlags {
  arch: string;
  peakRps?: string;
  baselineRps?: string;
  window?: string;
  seed?: string;
  seeds: string;
  calibration: string[];
  capacity: string;
  scaling?: string;
  out?: string;
  step?: string;
  vcpuQuota?: string;
  hotKeys?: string;
  validate?: string;
  json?: boolean;
}

/** Registers `peakday simulate`. */
export function register(program: Command): void {
  program
    .command('simulate [profile]')
    .description(
      'play a whole peak event at real scale in seconds (fluid model + the same autoscaling logic)',
    )
    .option(
      '--arch <arch>',
      "topology: headless or monolith (default headless; with --validate, the live run's own)",
    )
    .option('--peak-rps <rps>', 'HTTP requests per second at the event peak (real scale, e.g. 500000)')
    .option('--baseline-rps <rps>', 'HTTP requests per second at the baseline level')
    .option('--window <names>', 'simulate only these windows (comma list); default: the whole event')
    .option('--seed <n>', 'seed (task start latencies, noise); default 1')
    .option('--seeds <n>', 'run this many seeds and report the spread', '1')
    .option(
      '--calibration <file>',
      "capacity per task: a probe's calibration.json (or its run directory), or a run directory with a collected timeline (repeatable; measured on the real system wins)",
      (v: string, prev: string[]) => [...prev, v],
      [] as string[],
    )
    .option(
      '--capacity <source>',
      'where capacity comes from when no calibration measured it: auto (the local emulation at the profile’s own rates, documented production defaults at --peak-rps/--baseline-rps), defaults, emulated',
      'auto',
    )
    .option(
      '--scaling <file>',
      'scaling policies (default: reference-stack/autoscaling/default-scaling.yaml)',
    )
    .option('--step <duration>', 'simulation step in event time (default 1s)')
    .option('--vcpu-quota <n>', 'Fargate vCPU quota of the account; tasks beyond it stay pending')
    .option('--hot-keys <n>', 'hot SKUs the hot pools spread over (default 20, the catalog)')
    .option('--out <dir>', 'run directory to write (default runs/<id>)')
    .option(
      '--validate <live-run-dir>',
      "replay a live run's plan and compare tasks, p95, errors and scale-out times",
    )
    .option('--json', 'print the summary as JSON')
    .action(async (profile: string | undefined, flags: SimulateFlags) => {
      if (flags.validate) {
        await validate(flags.validate, flags);
        return;
      }
      const [{ simulateProfile }, { parseDuration }] = await Promise.all([
        import('../../simulation/run-simulation.ts'),
        import('../../core/duration.ts'),
      ]);
      const f = createFlagChecker('simulate');
      if (!profile)
        f.add({
          message: 'simulate needs a profile',
          hint: 'peakday simulate <profile> [options], or --validate <live-run-dir>',
        });
      const arch = f.arch(flags.arch ?? 'headless');
      const seeds = f.number('--seeds', flags.seeds, { positive: true, integer: true });
      const stepSeconds = f.parse('--step', flags.step || undefined, (v) => parseDuration(v, '--step'));
      const vcpuQuota = f.number('--vcpu-quota', flags.vcpuQuota, { positive: true });
      const hotKeys = f.number('--hot-keys', flags.hotKeys, { positive: true, integer: true });
      const { CAPACITY_MODES } = await import('../../simulation/capacity-sources.ts');
      const capacity = f.oneOf('--capacity', flags.capacity, CAPACITY_MODES);
      f.done();
      const outcome = simulateProfile({
        profile: profile as string,
        arch: arch as ArchFlag,
        flags: {
          peakRps: flags.peakRps,
          baselineRps: flags.baselineRps,
          window: flags.window,
          seed: flags.seed,
        },
        scalingFile: flags.scaling,
        ...(flags.calibration.length > 0
          ? { calibrationFile: flags.calibration[0], calibrationFiles: flags.calibration.slice(1) }
          : {}),
        ...(capacity ? { capacity } : {}),
        seeds: seeds ?? 1,
        out: flags.out,
        stepSeconds,
        vcpuQuota,
        hotKeys,
      });
      const o = createOutput();
      const { plan, result, dir, spread } = outcome;
      if (flags.json) {
        o.json({
          dir,
          summary: result.summary,
          findings: result.findings,
          spread,
          elapsedMs: Math.round(outcome.elapsedMs),
        });
        return;
      }
      const s = result.summary;
      const hours = (plan.eventEnd - plan.eventStart) / 3600;
      o.out(
        `${o.bold('simulated')} ${plan.profile.name} (${result.findings.arch}) — ${hours.toFixed(1)} h of event in ${(outcome.elapsedMs / 1000).toFixed(1)} s, peak ${Math.round(plan.peakRps).toLocaleString('en-US')} req/s`,
      );
      o.out(
        `requests ${s.requests.total.toLocaleString('en-US')}, failed ${((100 * s.requests.failed) / Math.max(1, s.requests.total)).toFixed(2)}%, p95 ${s.latency.intended?.overall.p95 ?? 0} ms, p99 ${s.latency.intended?.overall.p99 ?? 0} ms (estimated)`,
      );
      for (const [name, v] of Object.entries(result.findings.services)) {
        o.out(
          `  ${name.padEnd(10)} peak ${String(v.peakTasks).padStart(5)} tasks  at max ${String(v.minutesAtMaxCapacity).padStart(5)} min  rejected ${v.rejected.toLocaleString('en-US')}  capacity ${v.capacityProvenance} (${outcome.capacity.services[name]?.kind ?? 'model'}, ×${v.efficiency})`,
        );
      }
      for (const [name, t] of Object.entries(result.findings.tables)) {
        if (t.hotThrottled > 0 || t.throttled > 0)
          o.out(
            o.yellow(
              `  table ${name}: ${Math.round(t.hotThrottled).toLocaleString('en-US')} requests throttled on hot keys, ${Math.round(t.throttled).toLocaleString('en-US')} by the table ceiling`,
            ),
          );
      }
      for (const w of result.findings.warnings) o.out(o.yellow(`  ! ${w}`));
      if (result.findings.quota.exceeded)
        o.out(o.yellow(`  vCPU quota ${result.findings.quota.vcpu} exceeded: tasks stayed pending`));
      if (spread)
        o.out(`  over seeds ${spread.seeds.join(',')}: p95 ${spread.p95Ms.min}–${spread.p95Ms.max} ms`);
      o.out(`run directory: ${dir}`);
    });
}

const pct = (x: number | null) => (x === null ? '   n/a' : `${(100 * x).toFixed(1).padStart(5)}%`);

async function validate(liveDir: string, flags: SimulateFlags): Promise<void> {
  const [
    { validateAgainstLive, writeValidation },
    { loadScaling },
    { writeSimulationRun },
    { createRunId },
    { readConfig },
    { join },
    { recordedScaling, recordedArch },
  ] = await Promise.all([
    import('../../simulation/validate.ts'),
    import('../../reference-stack/autoscaling/scaling-file.ts'),
    import('../../simulation/write-run.ts'),
    import('../../core/run-directory.ts'),
    import('../../core/config.ts'),
    import('node:path'),
    import('../../workflows/rehearse.ts'),
  ]);
  const f = createFlagChecker('simulate --validate');
  const given = f.arch(flags.arch);
  const seed = f.number('--seed', flags.seed, { integer: true, min: 0 });
  // The replay runs on the live run's topology: on the other one no service would be compared.
  const recorded = recordedArch(liveDir);
  if (given && recorded && given !== recorded.arch)
    f.add({
      path: '--arch',
      message: `the live run ran on the ${recorded.arch} topology (${recorded.from}), not ${given}`,
      hint: 'drop --arch: the replay takes the live run’s topology',
    });
  const arch = given ?? recorded?.arch;
  if (!given && !recorded)
    f.add({
      path: '--arch',
      message: 'the live run does not say which topology it ran on (no rehearsal.json, no timeline)',
      hint: 'pass --arch headless or --arch monolith',
    });
  f.done();
  const started = new Date();
  // A rehearsal's live run is replayed with the scaling its stack ran with, unless told otherwise.
  const scalingFile = flags.scaling ?? recordedScaling(liveDir) ?? undefined;
  const { report, result, plan } = validateAgainstLive(liveDir, {
    arch: arch as ArchFlag,
    scaling: loadScaling(scalingFile),
    ...(seed !== undefined ? { seed } : {}),
  });
  const dir = flags.out ?? join(readConfig().runsDir, createRunId(`${plan.profile.name}-validate`));
  writeSimulationRun(
    dir,
    plan,
    result,
    { validate: liveDir, arch: report.arch, scaling: scalingFile ?? null },
    started,
  );
  writeValidation(dir, report);
  const o = createOutput();
  if (flags.json) {
    o.json({ dir, scaling: scalingFile ?? null, validation: report });
    return;
  }
  o.out(
    `${o.bold('validation')} of the simulator against ${liveDir} (${report.arch}), bound ±${report.bound * 100}%`,
  );
  if (!given && recorded) o.out(`  topology: ${recorded.arch}, the live run's own (${recorded.from})`);
  if (scalingFile && !flags.scaling) o.out(`  scaling: ${scalingFile} (the rehearsal's own, rehearsal.json)`);
  o.out('  running tasks (mean over the run)     live   simulated   error');
  for (const [s, a] of Object.entries(report.tasks))
    o.out(
      `    ${s.padEnd(32)} ${String(a.live?.toFixed(2)).padStart(6)} ${String(a.simulated?.toFixed(2)).padStart(10)}  ${pct(a.relativeError)}`,
    );
  o.out('  p95 latency (ms)');
  o.out(
    `    ${'all'.padEnd(32)} ${String(report.p95.live).padStart(6)} ${String(report.p95.simulated).padStart(10)}  ${pct(report.p95.relativeError)}`,
  );
  for (const [c, a] of Object.entries(report.p95ByChannel))
    o.out(
      `    ${c.padEnd(32)} ${String(a.live).padStart(6)} ${String(a.simulated).padStart(10)}  ${pct(a.relativeError)}`,
    );
  o.out(`  error rate: live ${pct(report.errorRate.live)}, simulated ${pct(report.errorRate.simulated)}`);
  for (const [s, f] of Object.entries(report.firstScaleOut))
    o.out(`  first scale-out ${s}: live ${f.live ?? '—'} s, simulated ${f.simulated ?? '—'} s (event time)`);
  for (const n of report.notes) o.out(o.yellow(`  note: ${n}`));
  o.out(
    `within the targets (tasks ±${report.bounds.tasks * 100}%, p95 ±${report.bounds.p95 * 100}%, errors ±${report.bounds.errorPoints * 100} points): tasks ${report.withinBound.tasks ? 'yes' : 'no'}, p95 ${report.withinBound.p95 ? 'yes' : 'no'}, errors ${report.withinBound.errors ? 'yes' : 'no'}`,
  );
  o.out(`run directory: ${dir}`);
}
