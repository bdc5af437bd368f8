/**
 * `peakday profile list|validate|show|plot|export-k6`: thin commands over scenarios/ (load, compile,
 * plot, export). Heavy modules (chart.js, the k6 exporter) load inside the actions.
 */
import type { Command } from 'commander';
import type { ProfileFlags } from '../../scenarios/compile-options.ts';
import type { Plan } from '../../scenarios/plan.ts';
import { createFlagChecker } from '../flags.ts';

interface ShowFlags extends ProfileFlags {
  json?: boolean;
}

function addPlanOptions(cmd: Command): Command {
  return cmd
    .option(
      '--duration <duration>',
      "wall-clock length of the run (k6 form: 90s, 3m); default: the profile's local.duration",
    )
    .option('--peak-rps <rps>', 'HTTP requests per wall second at the highest level')
    .option('--baseline-rps <rps>', 'HTTP requests per wall second at the baseline level')
    .option('--window <names>', 'play these windows (comma list) instead of the default range')
    .option('--whole', 'play the whole event even when that exceeds 60x compression')
    .option('--seed <n>', 'seed for noise and arrivals (default 1)')
    .option(
      '--max-rps <rps>',
      'raise the live peak-rate limit (default 20000 requests/s; also limits.maxRps in peakday.config.yaml)',
    );
}

async function planFor(nameOrFile: string, flags: ProfileFlags, overrideWhole = false): Promise<Plan> {
  return (await loadAndPlan(nameOrFile, flags, overrideWhole)).plan;
}

async function loadAndPlan(
  nameOrFile: string,
  flags: ProfileFlags,
  overrideWhole = false,
): Promise<{ plan: Plan; rehearsal: string[] }> {
  const [{ loadProfile }, { compilePlan }, { compileOptionsFrom }, { readConfig }] = await Promise.all([
    import('../../scenarios/profile.ts'),
    import('../../scenarios/compile.ts'),
    import('../../scenarios/compile-options.ts'),
    import('../../core/config.ts'),
  ]);
  const opts = compileOptionsFrom(flags, readConfig(), { live: true });
  if (overrideWhole && opts.window === undefined) opts.whole = true;
  const profile = loadProfile(nameOrFile);
  return { plan: compilePlan(profile, opts), rehearsal: profile.model.rehearsal };
}

const SPARKS = '▁▂▃▄▅▆▇█';

/** A terminal sparkline of the plan's request rate over the played range. */
export function sparkline(plan: Plan, width: number, rateAt: (t: number) => number): string {
  const values: number[] = [];
  for (let i = 0; i < width; i++) {
    const a = plan.eventStart + ((plan.eventEnd - plan.eventStart) * i) / width;
    const b = plan.eventStart + ((plan.eventEnd - plan.eventStart) * (i + 1)) / width;
    let m = 0;
    for (let k = 0; k <= 8; k++) m = Math.max(m, rateAt(a + ((b - a) * k) / 8));
    values.push(m);
  }
  const max = Math.max(...values, 1e-9);
  return values.map((v) => SPARKS[Math.min(7, Math.floor((v / max) * 7.999))]).join('');
}

function fmt(n: number, digits = 1): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);
}

/** Registers `peakday profile ...`. */
export function register(program: Command): void {
  const profile = program
    .command('profile')
    .description('peak-event traffic profiles: list, validate, show, plot, export to k6');

  profile
    .command('list')
    .description('list the built-in profiles')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const [{ listProfiles }, { createOutput }] = await Promise.all([
        import('../../scenarios/profile.ts'),
        import('../output.ts'),
      ]);
      const out = createOutput();
      const list = listProfiles();
      if (flags.json) return out.json(list.map(({ name, description }) => ({ name, description })));
      const w = Math.max(...list.map((p) => p.name.length));
      for (const p of list) out.out(`${out.bold(p.name.padEnd(w))}  ${p.description}`);
    });

  profile
    .command('validate <profile>')
    .description(
      'validate a built-in profile or a YAML file; every problem is reported with its location (exit 2)',
    )
    .action(async (nameOrFile: string) => {
      const [{ loadProfile }, { compilePlan }, { createOutput }, { readConfig }, { DEFAULT_MAX_LIVE_RPS }] =
        await Promise.all([
          import('../../scenarios/profile.ts'),
          import('../../scenarios/compile.ts'),
          import('../output.ts'),
          import('../../core/config.ts'),
          import('../../core/limits.ts'),
        ]);
      const p = loadProfile(nameOrFile);
      compilePlan(p, { maxPeakRps: readConfig().limits.maxRps ?? DEFAULT_MAX_LIVE_RPS });
      const m = p.model;
      createOutput().out(
        `ok: ${m.name} (${p.file}): ${m.channels.length} channels, ${Object.keys(m.journeys).length} journeys, ${m.shape.length} shape blocks`,
      );
    });

  addPlanOptions(
    profile
      .command('show <profile>')
      .description('event length, compression, rates, bursts, windows, iterations, shares and a sparkline'),
  )
    .option('--json', 'print one JSON object')
    .action(async (nameOrFile: string, flags: ShowFlags) => {
      const [{ summarizePlan, planRequestRate }, { formatDuration }, { createOutput }] = await Promise.all([
        import('../../scenarios/compile.ts'),
        import('../../core/duration.ts'),
        import('../output.ts'),
      ]);
      const { plan, rehearsal } = await loadAndPlan(nameOrFile, flags);
      const summary = summarizePlan(plan);
      const out = createOutput();
      const peakToBaseline = plan.peakRps / plan.baselineRps;
      if (flags.json) {
        return out.json({
          name: plan.profile.name,
          eventSeconds: plan.profile.eventSeconds,
          eventStart: plan.eventStart,
          eventEnd: plan.eventEnd,
          window: plan.window ?? null,
          durationSeconds: plan.durationSeconds,
          timeScale: plan.timeScale,
          baselineRps: plan.baselineRps,
          peakRps: plan.peakRps,
          peakToBaseline,
          iterations: plan.iterations,
          requests: plan.requests,
          channels: summary.channels,
          journeys: summary.journeys,
          bursts: plan.bursts,
          windows: plan.windows,
          rehearsal,
          seed: plan.seed,
          hash: plan.profile.hash,
        });
      }
      const played =
        plan.window !== undefined
          ? `window ${plan.window} (${formatDuration(plan.eventStart)}–${formatDuration(plan.eventEnd)})`
          : 'the whole event';
      const row = (k: string, v: string) => out.out(`${out.bold(k.padEnd(12))} ${v}`);
      out.out(out.bold(plan.profile.name));
      row(
        'event',
        `${formatDuration(plan.profile.eventSeconds)} (${plan.profile.eventSeconds} s); playing ${played}`,
      );
      row(
        'run',
        `${formatDuration(plan.durationSeconds)} wall at ${fmt(plan.timeScale, 2)}x (event seconds per wall second)`,
      );
      row(
        'rate',
        `baseline ${fmt(plan.baselineRps)} req/s, peak ${fmt(plan.peakRps)} req/s (peak/baseline ${fmt(peakToBaseline, 2)}x)`,
      );
      row('total', `${fmt(plan.iterations, 0)} iterations, ${fmt(plan.requests, 0)} requests`);
      const shown = plan.bursts.slice(0, 8);
      row(
        'bursts',
        plan.bursts.length === 0
          ? 'none'
          : shown
              .map(
                (b) =>
                  `${b.name} (${b.kind}) ${formatDuration(b.start)}–${formatDuration(b.end)} ${b.multiplier}x`,
              )
              .join(', ') + (plan.bursts.length > shown.length ? `, … ${plan.bursts.length} in all` : ''),
      );
      const ws = plan.windows.slice(0, 10);
      row(
        'windows',
        plan.windows.length === 0
          ? 'none'
          : ws.map((w) => `${w.name} ${formatDuration(w.start)}–${formatDuration(w.end)}`).join(', ') +
              (plan.windows.length > ws.length ? `, … ${plan.windows.length} in all` : ''),
      );
      row('rehearsal', rehearsal.length > 0 ? rehearsal.join(', ') : 'none (the whole event plays live)');
      out.out(out.bold('channels'));
      for (const [ch, share] of Object.entries(summary.channels)) {
        out.out(`  ${ch.padEnd(12)} ${(share * 100).toFixed(1).padStart(5)}% of requests`);
        for (const s of plan.scenarios.filter((x) => x.channel === ch)) {
          const j = summary.journeys[s.id];
          if (!j) continue;
          out.out(
            `    ${s.journey.padEnd(16)} ${(j.share * 100).toFixed(1).padStart(5)}%  ${fmt(j.iterations, 0).padStart(8)} iterations × ${s.requestsPerIteration} requests`,
          );
        }
      }
      out.out(`${out.bold('rate'.padEnd(12))} ${sparkline(plan, 60, (t) => planRequestRate(plan, t))}`);
      out.out(
        `${''.padEnd(12)} ${formatDuration(plan.eventStart)}${formatDuration(plan.eventEnd).padStart(60 - formatDuration(plan.eventStart).length)}`,
      );
    });

  addPlanOptions(
    profile
      .command('plot <profile>')
      .description(
        'PNG of the request rate over event time, stacked by channel, bursts marked (whole event by default)',
      ),
  )
    .requiredOption('--out <file>', 'PNG file to write')
    .option('--width <px>', 'image width', '1400')
    .option('--height <px>', 'image height', '700')
    .action(
      async (nameOrFile: string, flags: ProfileFlags & { out: string; width: string; height: string }) => {
        const [{ renderPlanPng }, { writeFileSync }, { createOutput }, { invalidInput }] = await Promise.all([
          import('../../scenarios/plot.ts'),
          import('node:fs'),
          import('../output.ts'),
          import('../../core/errors.ts'),
        ]);
        const f = createFlagChecker('profile plot');
        const size = { integer: true, max: 8000, expected: 'e.g. --width 1400 --height 700' };
        const width = f.number('--width', flags.width, { ...size, min: 200 }) as number;
        const height = f.number('--height', flags.height, { ...size, min: 150 }) as number;
        f.done();
        const plan = await planFor(nameOrFile, flags, true);
        const png = await renderPlanPng(plan, { width, height });
        try {
          writeFileSync(flags.out, png);
        } catch (e) {
          throw invalidInput(
            'output-unwritable',
            `cannot write ${flags.out}: ${(e as Error).message}`,
            'check the directory exists',
          );
        }
        createOutput().out(`wrote ${flags.out} (${png.length} bytes)`);
      },
    );

  addPlanOptions(
    profile
      .command('export-k6 <profile>')
      .description('a k6 script (ramping-arrival-rate scenarios following the plan; --ts for TypeScript)'),
  )
    .option(
      '--base-url <url>',
      "target base URL (default: the profile's target.baseUrl; the script also reads PEAKDAY_BASE_URL)",
    )
    .requiredOption('--out <file>', 'script file to write (with --k6-operator: a directory)')
    .option('--ts', 'emit TypeScript typed with @types/k6')
    .option('--segment <i/N>', 'one execution segment of N (1-based)')
    .option(
      '--k6-operator',
      'write Kubernetes manifests for the k6-operator into --out DIR: a TestRun, the script ConfigMap, a results volume claim, a gather pod and plan.json',
    )
    .option('--parallelism <n>', 'with --k6-operator: runner pods, one execution segment each', '1')
    .option('--name <name>', 'with --k6-operator: the TestRun name (default peakday-<profile>)')
    .option('--namespace <ns>', 'with --k6-operator: the namespace to put in the manifests')
    .option(
      '--storage-class <class>',
      'with --k6-operator: a ReadWriteMany storage class for the results volume',
    )
    .option('--cpu <cpu>', "with --k6-operator: each runner's CPU (requests = limits), e.g. 2")
    .option('--memory <mem>', "with --k6-operator: each runner's memory (requests = limits), e.g. 4Gi")
    .option('--budgets <file>', 'write these latency budgets as k6 thresholds (docs/budgets.md)')
    .action(
      async (
        nameOrFile: string,
        flags: ProfileFlags & {
          baseUrl?: string;
          out: string;
          ts?: boolean;
          segment?: string;
          budgets?: string;
          k6Operator?: boolean;
          parallelism: string;
          name?: string;
          namespace?: string;
          storageClass?: string;
          cpu?: string;
          memory?: string;
        },
      ) => {
        const [
          { exportK6Script },
          { writeFileSync },
          { createOutput },
          { invalidInput },
          { loadProfile },
          { readUserPool },
        ] = await Promise.all([
          import('../../scenarios/k6-export.ts'),
          import('node:fs'),
          import('../output.ts'),
          import('../../core/errors.ts'),
          import('../../scenarios/profile.ts'),
          import('../../scenarios/data-pools.ts'),
        ]);
        const loaded = loadProfile(nameOrFile);
        const f = createFlagChecker('profile export-k6');
        const baseUrl = flags.baseUrl ?? loaded.model.target?.baseUrl;
        if (baseUrl === undefined)
          f.add({
            path: '--base-url',
            message: 'is required (the profile names no target.baseUrl)',
            hint: 'e.g. --base-url http://127.0.0.1:8080',
          });
        else if (!/^https?:\/\/[^/\s]+/.test(baseUrl))
          f.add({
            path: '--base-url',
            message: `"${baseUrl}" is not an http(s) URL`,
            hint: 'e.g. --base-url http://127.0.0.1:8080',
          });
        let segment: { index: number; count: number } | undefined;
        if (flags.segment !== undefined) {
          const m = /^(\d+)\/(\d+)$/.exec(flags.segment);
          const index = Number(m?.[1]);
          const count = Number(m?.[2]);
          if (!m || count < 1 || index < 1 || index > count)
            f.add({
              path: '--segment',
              message: `"${flags.segment}" is not i/N with 1 ≤ i ≤ N`,
              hint: 'e.g. --segment 1/4',
            });
          else segment = { index, count };
        }
        f.done();
        const plan = await planFor(nameOrFile, flags);
        const pools: Record<string, readonly unknown[]> = {};
        for (const p of loaded.model.pools) {
          const r = readUserPool(p);
          if (r.values) pools[p.name] = r.values;
        }
        let thresholds: Parameters<typeof exportK6Script>[1]['thresholds'];
        const thresholdWarnings: string[] = [];
        // Load goes only to loopback unless the user names a host: a script aimed elsewhere says so.
        const { isLoopbackHost } = await import('../../engine/target-guard.ts');
        const targetHost = new URL(baseUrl as string).hostname;
        if (!isLoopbackHost(targetHost))
          thresholdWarnings.push(
            `the script sends load to ${targetHost}, which is not loopback: k6 loads it as soon as the script runs (set PEAKDAY_BASE_URL to aim it elsewhere); \`peakday run\` would refuse this host without --allow-host`,
          );
        if (flags.budgets !== undefined) {
          const [{ readBudgets }, { exportK6Thresholds }] = await Promise.all([
            import('../../scenarios/budgets/parse-budgets.ts'),
            import('../../scenarios/budgets/k6-thresholds.ts'),
          ]);
          const exported = exportK6Thresholds(readBudgets(flags.budgets).budgets);
          thresholds = exported.thresholds;
          thresholdWarnings.push(...exported.warnings);
        }
        if (flags.k6Operator) {
          const { writeK6OperatorExport } = await import('../../scenarios/k6-operator-files.ts');
          const r = writeK6OperatorExport(plan, {
            outDir: flags.out,
            baseUrl: baseUrl as string,
            pools,
            ...(thresholds ? { thresholds } : {}),
            parallelism: flags.parallelism,
            ...(segment ? { segment: flags.segment } : {}),
            ...(flags.name ? { name: flags.name } : {}),
            ...(flags.namespace ? { namespace: flags.namespace } : {}),
            ...(flags.storageClass ? { storageClass: flags.storageClass } : {}),
            ...(flags.cpu ? { cpu: flags.cpu } : {}),
            ...(flags.memory ? { memory: flags.memory } : {}),
            ...(flags.ts ? { typescript: true } : {}),
          });
          const out = createOutput();
          for (const w of [...r.warnings, ...thresholdWarnings]) out.err(`warning: ${w}`);
          for (const l of r.lines) out.out(l);
          return;
        }
        const exportedScript = exportK6Script(plan, {
          baseUrl: baseUrl as string,
          ...(flags.ts ? { typescript: true } : {}),
          ...(segment ? { segment } : {}),
          ...(thresholds ? { thresholds } : {}),
          pools,
        });
        const script = exportedScript.script;
        const warnings = [...exportedScript.warnings, ...thresholdWarnings];
        try {
          writeFileSync(flags.out, script);
        } catch (e) {
          throw invalidInput(
            'output-unwritable',
            `cannot write ${flags.out}: ${(e as Error).message}`,
            'check the directory exists',
          );
        }
        const out = createOutput();
        for (const w of warnings) out.err(`warning: ${w}`);
        out.out(
          `wrote ${flags.out}: ${plan.scenarios.length} scenarios, ${fmt(plan.iterations, 0)} iterations over ${plan.durationSeconds}s`,
        );
      },
    );
}
