/**
 * `peakday compare`: the whole job below the CLI. {@link compareWorkflow} compiles the plan (one per
 * seed), decides each topology's capacity per task (simulation/capacity-sources.ts), right-sizes
 * the 2×2 (simulation/sizing/compare.ts), searches the break-evens, answers what limited each
 * configuration and whether that depends on the topology, re-simulates the fix, computes the blast
 * radius of a failing service and the verdict (simulation/sizing/compare-answers.ts), and writes
 * each configuration's run directory and report, comparison.json and compare.md.
 *
 * `compare --live`: a short live run of each topology checks the simulation the comparison rests
 * on. One topology at a time: the local stack up, a short live run of the profile's rehearsal window,
 * telemetry, stack down (`runLiveWindow`, the rehearsal's own steps 1–3), then the simulator replays
 * that run's own plan on the same topology and scaling (`validateAgainstLive`, simulation/validate.ts)
 * and the agreement is reported. Torn down on Ctrl-C and on error (by `runLiveWindow`); after
 * Ctrl-C the next topology is not started. Layout:
 *
 *   <dir>/live-<arch>/run/      the live run (with its telemetry)
 *   <dir>/live-<arch>/replay/   the simulator's replay, with validation.json
 */
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import type { Arch } from '../reference-stack/topology.ts';
import type { CompileOptions } from '../scenarios/compile.ts';
import type { CapacityMode, CapacityResolution } from '../simulation/capacity-sources.ts';
import type { SimulateOptions, SimulationResult } from '../simulation/simulate.ts';
import type {
  ComparedConfiguration,
  Comparison,
  FullRun,
  FullRunCache,
  LiveCheck,
} from '../simulation/sizing/compare.ts';
import type { BreakEvenName } from '../simulation/sizing/compare-break-even.ts';
import type { SizingUnit } from '../simulation/sizing/compare-units.ts';
import type { GivenOptions } from './run.ts';
import type { WorkflowSink } from './sink.ts';

/** What `compare --live` asks for. */
export interface LiveCheckRequest {
  profile: string;
  dir: string;
  /** Each live run's compile options (window, wall duration, seed; the config file's defaults applied). */
  live: CompileOptions;
  /** The live runs' options as the user wrote them, for their meta.json. */
  given?: GivenOptions;
  budgets?: string;
  scaling?: string;
  archs?: readonly Arch[];
  /** Progress lines and each live run's summary (the CLI prints the summaries on stderr). */
  sink: WorkflowSink;
  /** Aborting it stops the current live run and its stack; the checks so far are returned. */
  signal?: AbortSignal;
}

/** Runs the live check of each topology in turn; `interrupted` when Ctrl-C stopped it. */
export async function runLiveChecks(
  req: LiveCheckRequest,
): Promise<{ checks: LiveCheck[]; interrupted: boolean }> {
  const [
    { runLiveWindow },
    { validateAgainstLive, writeValidation },
    { writeSimulationRun },
    { loadScaling },
    { readRun },
  ] = await Promise.all([
    import('./rehearse.ts'),
    import('../simulation/validate.ts'),
    import('../simulation/write-run.ts'),
    import('../reference-stack/autoscaling/scaling-file.ts'),
    import('../core/run-directory.ts'),
  ]);
  const scaling = loadScaling(req.scaling);
  const checks: LiveCheck[] = [];
  const archs = req.archs ?? (['monolith', 'headless'] as const);
  for (const [i, arch] of archs.entries()) {
    const dir = join(req.dir, `live-${arch}`);
    const liveDir = join(dir, 'run');
    const { runCode, interrupted } = await runLiveWindow(
      {
        profile: req.profile,
        arch,
        live: req.live,
        ...(req.given ? { given: req.given } : {}),
        sink: req.sink,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.budgets ? { budgets: req.budgets } : {}),
        ...(req.scaling ? { scaling: req.scaling } : {}),
      },
      dir,
      liveDir,
      (n) => `[live ${arch} ${i + 1}/${archs.length}: ${n}/3]`,
    );
    if (interrupted) return { checks, interrupted: true };
    const started = new Date();
    const v = validateAgainstLive(liveDir, { arch, scaling });
    const replayDir = join(dir, 'replay');
    writeSimulationRun(replayDir, v.plan, v.result, { replayOf: liveDir, arch }, started);
    writeValidation(replayDir, v.report);
    const { meta } = readRun(liveDir);
    let worst: [string, number] | null = null;
    for (const [s, a] of Object.entries(v.report.tasks))
      if (a.relativeError !== null && (worst === null || a.relativeError > worst[1]))
        worst = [s, a.relativeError];
    checks.push({
      arch,
      liveDir,
      replayDir,
      runExitCode: runCode,
      valid: meta.valid,
      invalidReasons: meta.invalidReasons,
      worstTaskError: worst?.[1] ?? null,
      worstTaskService: worst?.[0] ?? null,
      p95: v.report.p95,
      errorRate: v.report.errorRate,
      withinBound: v.report.withinBound,
      notes: v.report.notes,
    });
    req.sink.log(
      `      ${arch}: tasks within ±${v.report.bound * 100}% ${v.report.withinBound.tasks ? 'yes' : 'no'}, p95 live ${v.report.p95.live} ms vs simulated ${v.report.p95.simulated} ms`,
    );
  }
  return { checks, interrupted: false };
}

/** What `peakday compare` asks for, parsed. */
export interface CompareRequest {
  profile: string;
  /** --peak-rps, --baseline-rps, --window as given (strings, as the profile compiler takes them). */
  planFlags: { peakRps?: string | undefined; baselineRps?: string | undefined; window?: string | undefined };
  budgets?: string;
  scaling?: string;
  seeds: number;
  searchSteps: number;
  breakEven: readonly BreakEvenName[];
  breakEvenSteps: number;
  /** Calibrations (`--calibration`, repeatable) and the `--capacity` mode. */
  calibrations?: readonly string[];
  capacity?: CapacityMode;
  /** The service whose outage's blast radius is reported (default checkout). */
  blastService?: string;
  /** Re-simulate the store fix when a store limit is shared by the topologies (default true). */
  fix?: boolean;
  out?: string;
  /**
   * Worker threads that run the comparison's independent searches ahead of the sequential code
   * (workflows/compare-pool.ts); 1 runs everything in-process. Same answer either way. `auto`: one
   * per core for events of 6 hours or more (where each trial simulates hours), else 1 (a short
   * event's whole comparison takes less than starting the threads).
   */
  workers?: number | 'auto';
  /** Also run each topology live (`--live`), with the live runs' wall duration. */
  live?: { duration?: string | undefined };
  sink: WorkflowSink;
  signal?: AbortSignal;
}

/** What the workflow produced. */
export interface CompareOutcome {
  dir: string;
  comparison: Comparison;
  /** compare.md's text. */
  markdown: string;
  /** Each configuration's HTML report, by `<arch>-<provisioning>`. */
  reports: Record<string, string | undefined>;
  /** Stopped by the signal during the live runs: what was computed is written, reports skipped. */
  interrupted: boolean;
  timing: { wallMs: number; cpuMs: number; simulations: number };
}

/** Runs the comparison (see the module comment). */
export async function compareWorkflow(req: CompareRequest): Promise<CompareOutcome> {
  const [
    { mkdirSync, writeFileSync },
    { resolve },
    { readConfig },
    { createRunId },
    { compileRealTimePlan, capacityMeta },
    { loadScaling },
    { loadBudgetsForProfile },
    { resolvePricing },
    { compareTopologies, createSizingCache },
    { computeBreakEvens, BREAK_EVEN_PARAMETERS },
    answers,
    { renderComparisonMarkdown },
    { budgetsJudge },
    { writeSimulationRun },
    { generateReport },
    cap,
    { renderSeries, reportRunOf },
  ] = await Promise.all([
    import('node:fs'),
    import('node:path'),
    import('../core/config.ts'),
    import('../core/run-directory.ts'),
    import('../simulation/run-simulation.ts'),
    import('../reference-stack/autoscaling/scaling-file.ts'),
    import('../scenarios/budgets/defaults.ts'),
    import('../simulation/pricing/pricing-table.ts'),
    import('../simulation/sizing/compare.ts'),
    import('../simulation/sizing/compare-break-even.ts'),
    import('../simulation/sizing/compare-answers.ts'),
    import('../reports/rehearsal/compare-render.ts'),
    import('../reports/rehearsal/compare-breaches.ts'),
    import('../simulation/write-run.ts'),
    import('../reports/generate.ts'),
    import('../simulation/capacity-sources.ts'),
    import('./compare-series.ts'),
  ]);
  const config = readConfig();
  const plan = compileRealTimePlan(req.profile, req.planFlags);
  const budgets = loadBudgetsForProfile(plan.profile.name, req.budgets);
  const pricing = resolvePricing({ region: config.pricing.region, overrides: config.pricing.overrides });
  const dir = resolve(req.out ?? join(config.runsDir, createRunId(`${plan.profile.name}-compare`)));
  mkdirSync(dir, { recursive: true });
  const scale =
    req.planFlags.peakRps !== undefined || req.planFlags.baselineRps !== undefined ? 'event' : 'local';
  const capacity: Record<string, CapacityResolution> = {};
  const archs = ['monolith', 'headless'] as const;
  for (const arch of archs)
    capacity[arch] = cap.resolveCapacity({
      arch,
      scale,
      inputs: cap.readCapacityInputs(req.calibrations ?? [], arch),
      mode: req.capacity ?? 'auto',
    });
  req.sink.log(
    `comparing monolith and headless on ${plan.profile.name} at ${Math.round(plan.peakRps)} req/s peak (${req.seeds} seed(s)); capacity per task: ${describeCapacity(capacity)}`,
  );
  const started = new Date();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  // Each seed compiles its own plan (the profile's noise) and seeds the simulator.
  const plans = new Map([[plan.seed, plan]]);
  const judge = budgetsJudge(budgets.budgets);
  const opts = {
    judge,
    scaling: loadScaling(req.scaling),
    pricing,
    seeds: Array.from({ length: req.seeds }, (_, i) => plan.seed + i),
    searchSteps: req.searchSteps,
    cache: createSizingCache(),
    fullCache: new Map() as FullRunCache,
    measured: new WeakMap<FullRun, Map<string, ComparedConfiguration>>(),
    efficiency: {
      monolith: cap.efficiencyOf(capacity.monolith!),
      headless: cap.efficiencyOf(capacity.headless!),
    },
    planFor: (seed: number) => {
      const p = plans.get(seed) ?? compileRealTimePlan(req.profile, { ...req.planFlags, seed: String(seed) });
      plans.set(seed, p);
      return p;
    },
  };
  // Worker threads run the independent searches ahead; the sequential code below then finds their
  // trials in the memo (the same answer, bit for bit).
  const workers =
    req.workers === 'auto'
      ? plan.eventEnd - plan.eventStart >= 6 * 3600
        ? availableParallelism()
        : 1
      : Math.max(1, Math.floor(req.workers ?? 1));
  const pool =
    workers > 1
      ? (await import('./compare-pool.ts')).startSizingPool(workers, {
          profile: req.profile,
          planFlags: req.planFlags,
          ...(req.budgets ? { budgets: req.budgets } : {}),
          ...(req.scaling ? { scaling: req.scaling } : {}),
          pricing,
          efficiency: opts.efficiency,
          searchSteps: req.searchSteps,
        })
      : null;
  try {
    return await compareWithPool();
  } finally {
    await pool?.close();
  }

  async function compareWithPool(): Promise<CompareOutcome> {
    // With worker threads, every search is queued as soon as what it depends on is known, so that
    // the threads never wait for a phase to end: the other seeds' 2×2 runs while the first seed's
    // answers decide the fix; the fix's searches, the break-even ends and each break-even's
    // bisection follow as their inputs land in the memo. The sequential code below then finds
    // every trial there (the same answer as with one thread, bit for bit).
    const submit = (u: SizingUnit, after: readonly (Promise<unknown> | undefined)[] = []): Promise<void> =>
      pool
        ? pool.submit(
            u,
            opts.cache,
            opts.fullCache,
            after.filter((x) => x !== undefined),
          )
        : Promise.resolve();
    // A topology's searches — provisioned, then autoscaled from its answer — and, for the reported
    // seed, each chosen cell's full run, as units of their own, so that the threads share them
    // (the two full runs of one topology at 1-s steps, about 5 s each at event scale, on both).
    // `searched`: its searches are in the memo; `done`: its full runs too.
    type Sized = { searched: Promise<void>; done: Promise<void> };
    const sizeTopology = (
      seed: number,
      arch: Arch,
      o: { autoscaled: boolean; full: boolean; simulate?: Partial<SimulateOptions> },
      after: readonly (Promise<unknown> | undefined)[] = [],
    ): Sized => {
      const sim = o.simulate ? { simulate: o.simulate } : {};
      const unit = { kind: 'configurations' as const, seed, arch, full: false, ...sim };
      const prov = submit({ ...unit, autoscaled: false }, after);
      const auto = o.autoscaled ? submit({ ...unit, autoscaled: true }, [prov]) : prov;
      const fulls = o.full
        ? [
            submit({ kind: 'full', seed, arch, provisioning: 'provisioned', ...sim }, [prov]),
            submit({ kind: 'full', seed, arch, provisioning: 'autoscaled', ...sim }, [auto]),
          ]
        : [];
      const searched = Promise.all([prov, auto]).then(() => {});
      return { searched, done: Promise.all([searched, ...fulls]).then(() => {}) };
    };
    const sizedUnits = new Map<string, Sized>();
    for (const [i, seed] of opts.seeds.entries())
      for (const arch of archs)
        sizedUnits.set(`${seed}|${arch}`, sizeTopology(seed, arch, { autoscaled: true, full: i === 0 }));
    await Promise.all(archs.map((arch) => sizedUnits.get(`${plan.seed}|${arch}`)?.done));
    // The first seed's configurations are the reported ones; what limited them decides the fix (their
    // runs alone: the threads wait for the fix, and the configurations are measured below anyway).
    const firstSeed = pool
      ? compareTopologies(plan, { ...opts, seeds: [plan.seed], resultsOnly: true })
      : null;
    const early = firstSeed ?? compareTopologies(plan, opts);
    // What limited each configuration, whether it is the topology's doing, the fix, the blast radius.
    const configAnswers = [...early.results].map(([key, r]) => answers.answerConfiguration(key, r));
    const dependence = answers.topologyDependence(configAnswers);
    let fix: ReturnType<typeof answers.computeFixResult> | undefined;
    let fixed: Comparison['configurations'] | undefined;
    let fixSpec: ReturnType<typeof answers.storeFix> = null;
    if ((req.fix ?? true) && !dependence.dependsOnTopology && dependence.sharedCause) {
      // The store limits every configuration meets, and their fix, re-simulated: the 2×2 right-sized
      // again (first seed) with it.
      const causes = (['hot-partition', 'table-ceiling'] as const).filter((c) =>
        configAnswers.every((a) => a.limits.some((l) => l.cause === c)),
      );
      const inputs = early.results.values().next().value?.findings.inputs;
      const store = inputs?.store?.value as { initialPeakReadUnits: number; initialPeakWriteUnits: number };
      fixSpec = answers.storeFix(
        causes,
        {
          hotKeys: Number(inputs?.hotKeys?.value ?? 20),
          initialPeakReadUnits: store.initialPeakReadUnits,
          initialPeakWriteUnits: store.initialPeakWriteUnits,
        },
        answers.peakStoreUnits(plan, 'headless'),
      );
    }
    // With the fix when a topology-independent limit failed every configuration: costs of fleets
    // that all fail their budgets for a reason no fleet removes would decide nothing.
    const withFix = fixSpec ? { simulate: fixSpec.simulate } : {};
    const fixUnits = new Map<string, Sized>();
    if (fixSpec) {
      const simulate = fixSpec.simulate;
      // The first seed's 2×2 with the fix; the other seeds' provisioned searches with it are the
      // break-even search's current value (and the autoscaled break-even's starting point).
      for (const arch of archs)
        fixUnits.set(
          `${plan.seed}|${arch}`,
          sizeTopology(plan.seed, arch, { autoscaled: true, full: true, simulate }),
        );
      for (const seed of req.breakEven.length > 0 ? opts.seeds.slice(1) : [])
        for (const arch of archs)
          fixUnits.set(
            `${seed}|${arch}`,
            sizeTopology(
              seed,
              arch,
              // The start-time break-even starts its autoscaled searches from this one's answer.
              { autoscaled: req.breakEven.includes('start-time'), full: false, simulate },
              // Its unfixed searches first: a thread is free for it only once they are queued anyway.
              [sizedUnits.get(`${seed}|${arch}`)?.searched],
            ),
          );
    }
    // Each break-even parameter's ends and current value, each topology it moves, for every seed,
    // after that seed's sizing (their starting point); then its bisection, after its ends.
    const breakEvenUnits: Promise<void>[] = [];
    for (const name of req.breakEven) {
      const p = BREAK_EVEN_PARAMETERS[name];
      for (const seed of opts.seeds) {
        const base = { plan: opts.planFor(seed), scaling: opts.scaling };
        // Their starting point: that seed's searches (not the reported cells' full runs).
        const sized = archs.map((arch) => (fixSpec ? fixUnits : sizedUnits).get(`${seed}|${arch}`)?.searched);
        const ends: Promise<void>[] = [];
        for (const x of [p.current(base), p.range[0], p.range[1]])
          for (const [a, arch] of archs.entries())
            if ((p.affects as readonly string[]).includes(arch))
              ends.push(submit({ kind: 'knob', parameter: name, seed, arch, x, ...withFix }, [sized[a]]));
        breakEvenUnits.push(
          ...ends,
          submit({ kind: 'break-even', parameter: name, seed, steps: req.breakEvenSteps, ...withFix }, [
            ...sized,
            ...ends,
          ]),
        );
      }
    }
    await Promise.all([...sizedUnits.values()].map((u) => u.done));
    const compared = firstSeed ? compareTopologies(plan, opts) : early;
    const { comparison, results } = compared;
    for (const [key, r] of results) {
      const arch = key.startsWith('monolith') ? 'monolith' : 'headless';
      r.findings.warnings = cap.capacityWarnings(r.findings.warnings, capacity[arch]!);
    }
    comparison.capacity = Object.fromEntries(
      Object.entries(capacity).map(([a, c]) => [a, capacityMeta(c, req.capacity ?? 'auto')]),
    );
    // Each configuration's run directory and report: the first seed's 2×2 alone decides them. A run
    // a worker simulated comes with its series rendered there (compare-series.ts), one simulated
    // here is rendered now; either way the report reads the run from memory, not its files.
    const writeReports = async (): Promise<Record<string, string | undefined>> => {
      const out: Record<string, string | undefined> = {};
      for (const [key, result] of results) {
        // The worker threads' replies are merged between runs, not after all four.
        await new Promise((next) => setImmediate(next));
        const runDir = join(dir, key);
        const arch = key.startsWith('monolith') ? 'monolith' : 'headless';
        const rendered = pool?.renderedOf(result) ?? renderSeries(result.series, plan.timeScale);
        const meta = writeSimulationRun(
          runDir,
          plan,
          result,
          { compare: key, capacity: capacityMeta(capacity[arch]!, req.capacity ?? 'auto') },
          started,
          rendered.text,
        );
        const rep = await generateReport(runDir, {
          outDir: join(runDir, 'report'),
          config,
          now: new Date().toISOString(),
          run: reportRunOf(runDir, plan, result, meta, rendered.load),
        });
        out[key] = rep.files.html?.[0];
      }
      return out;
    };
    // With worker threads they are written now, while the threads run the fix and the break-evens
    // (about 10 s on one thread at event scale); not with --live, whose Ctrl-C skips them.
    const reportsWritten = pool && !req.live ? writeReports() : null;
    // Awaited at the end; a failure surfaces there, not as an unhandled rejection now.
    reportsWritten?.catch(() => {});
    if (fixSpec) {
      req.sink.log(`re-sizing every configuration with the fix: ${fixSpec.description}…`);
      const simulate = fixSpec.simulate;
      await Promise.all(archs.map((arch) => fixUnits.get(`${plan.seed}|${arch}`)?.done));
      // Keyed as every other search with these simulator inputs ('base'): the break-even search's
      // current value is this very sizing, found in the memo.
      const after = compareTopologies(plan, { ...opts, seeds: [plan.seed], simulate });
      const sized = (c: Comparison, rs: Map<string, SimulationResult>) =>
        new Map(
          c.configurations.map((x) => {
            const k = `${x.arch}-${x.provisioning}`;
            return [k, { configuration: x, r: rs.get(k)! }];
          }),
        );
      fix = answers.computeFixResult(
        fixSpec,
        sized(comparison, results),
        sized(after.comparison, after.results),
      );
      fixed = after.comparison.configurations;
    }
    if (req.breakEven.length > 0) {
      req.sink.log(`searching the break-even of ${req.breakEven.join(', ')}${fix ? ' (with the fix)' : ''}…`);
      await Promise.all([...[...fixUnits.values()].map((u) => u.done), ...breakEvenUnits]);
      comparison.breakEven = computeBreakEvens(plan, {
        ...opts,
        ...withFix,
        parameters: [...req.breakEven],
        steps: req.breakEvenSteps,
      });
      if (fix) comparison.breakEven.withFix = fix.fix;
    }
    const failed = pool?.failures() ?? [];
    if (failed.length > 0)
      req.sink.log(
        `      ${failed.length} search(es) ran in-process instead (a worker failed: ${failed[0]})`,
      );
    const blastService = (req.blastService ?? 'checkout') as Parameters<typeof answers.blastRadius>[1];
    const blast = answers.blastRadius(plan, blastService, archs);
    const { verdict, evidence } = answers.computeVerdict({
      profile: plan.profile.name,
      peakRps: plan.peakRps,
      configurations: comparison.configurations,
      answers: configAnswers,
      dependence,
      ...(fix ? { fix } : {}),
      ...(fixed ? { fixed } : {}),
      blast,
    });
    comparison.answers = {
      configurations: configAnswers,
      topology: dependence,
      ...(fix ? { fix } : {}),
      blastRadius: blast,
    };
    comparison.verdict = verdict;
    comparison.evidence = evidence;
    const cpu = process.cpuUsage(cpu0);
    const timing = {
      wallMs: Math.round(performance.now() - t0),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      simulations: opts.cache.size,
    };
    req.sink.log(
      `simulated in ${(timing.wallMs / 1000).toFixed(1)} s wall, ${(timing.cpuMs / 1000).toFixed(1)} s CPU (user + system, every thread; ${timing.simulations} distinct simulations, ${workers > 1 ? `${workers} worker threads` : 'one thread'}; load average ${loadavg()[0]?.toFixed(1)})`,
    );
    if (req.live) {
      req.sink.log('checking the simulation with a short live run of each topology…');
      const { compileOptionsFrom } = await import('../scenarios/compile-options.ts');
      const given = { duration: req.live.duration, window: req.planFlags.window };
      const live = compileOptionsFrom(given, config, { live: true });
      const { checks, interrupted } = await runLiveChecks({
        profile: req.profile,
        dir,
        live,
        given,
        sink: req.sink,
        ...(req.signal ? { signal: req.signal } : {}),
        ...(req.budgets ? { budgets: req.budgets } : {}),
        ...(req.scaling ? { scaling: req.scaling } : {}),
      });
      comparison.live = checks;
      if (interrupted) {
        // Keep what was computed; the per-configuration reports are skipped.
        const markdown = renderComparisonMarkdown(comparison);
        writeFileSync(join(dir, 'comparison.json'), `${JSON.stringify(comparison, null, 2)}\n`);
        writeFileSync(join(dir, 'compare.md'), markdown);
        return { dir, comparison, markdown, reports: {}, interrupted: true, timing };
      }
    }
    const reports = await (reportsWritten ?? writeReports());
    const markdown = renderComparisonMarkdown(comparison);
    writeFileSync(join(dir, 'comparison.json'), `${JSON.stringify({ ...comparison, reports }, null, 2)}\n`);
    writeFileSync(join(dir, 'compare.md'), markdown);
    return { dir, comparison, markdown, reports, interrupted: false, timing };
  }
}

/** One line: each capacity source kind and the services (per topology) it applies to. */
function describeCapacity(c: Record<string, CapacityResolution>): string {
  const kinds = new Map<string, string[]>();
  for (const [arch, res] of Object.entries(c))
    for (const [s, v] of Object.entries(res.services))
      kinds.set(v.kind, [...(kinds.get(v.kind) ?? []), arch === 'monolith' ? s : `${s}`]);
  return [...kinds].map(([k, ss]) => `${k} (${[...new Set(ss)].join(', ')})`).join('; ');
}
