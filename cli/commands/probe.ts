/**
 * `peakday probe`: stepped load with the replica count pinned and scaling off, to find the knee and
 * each service's capacity per task; writes calibration.json for `peakday simulate --calibration`.
 * Thin: the work is workflows/probe.ts (I/O) and simulation/probe.ts (pure).
 */
import type { Command } from 'commander';
import { invalidInput } from '../../core/errors.ts';
import type { Arch } from '../../reference-stack/topology.ts';
import { createFlagChecker } from '../flags.ts';

interface ProbeFlags {
  target?: string;
  arch?: string;
  service?: string;
  journey?: string;
  replicas?: string;
  budgets?: string;
  p95?: string;
  steps?: string;
  hold?: string;
  settle?: string;
  warmup?: string;
  allowHost: string[];
  stopAtKnee: boolean;
  port?: string;
  seed?: string;
  out?: string;
  json?: boolean;
}

function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

/** Parses `--steps`: a rising comma list of req/s (`10,20,40`), or `LOW..HIGHxN` (geometric). */
export function parseSteps(text: string): number[] {
  const geo = /^\s*([\d.]+)\s*\.\.\s*([\d.]+)\s*x\s*(\d+)\s*$/.exec(text);
  let rates: number[];
  if (geo) {
    const [low, high, n] = [Number(geo[1]), Number(geo[2]), Number(geo[3])];
    if (!(low > 0 && high > low && n >= 2 && n <= 50))
      throw invalidInput(
        'invalid-flag',
        `--steps: "${text}" needs 0 < LOW < HIGH and 2–50 steps`,
        'e.g. --steps 10..120x6',
      );
    const f = (high / low) ** (1 / (n - 1));
    rates = Array.from({ length: n }, (_, i) => Math.round(low * f ** i * 10) / 10);
  } else
    rates = text.split(',').map((s) => {
      const n = Number(s.trim());
      if (s.trim() === '' || !Number.isFinite(n) || n <= 0)
        throw invalidInput(
          'invalid-flag',
          `--steps: "${s.trim()}" is not a positive number`,
          'e.g. --steps 10,20,40',
        );
      return n;
    });
  for (let i = 1; i < rates.length; i++)
    if ((rates[i] as number) <= (rates[i - 1] as number))
      throw invalidInput(
        'invalid-flag',
        `--steps: rates must rise (${rates.join(', ')})`,
        'e.g. --steps 10,20,40,80',
      );
  return rates;
}

function table(o: { out(line?: string): void }, head: string[], rows: string[][]): void {
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((x, j) => x.padEnd(widths[j] ?? 0))
      .join('  ')
      .trimEnd();
  o.out(line(head));
  for (const r of rows) o.out(line(r));
}

/** Registers `peakday probe`. */
export function register(program: Command): void {
  program
    .command('probe')
    .description(
      'stepped load with replicas pinned and scaling off: find the knee and capacity per task, write calibration.json',
    )
    .option(
      '--target <url>',
      "a user's own system (its replicas pinned by the user); default: the local stack",
    )
    .option(
      '--arch <arch>',
      'topology of the local stack (and of the model the target is compared with)',
      'headless',
    )
    .option('--service <name>', 'probe with the journeys that touch this service only')
    .option('--journey <name>', 'probe with one built-in journey (default: every ci-smoke journey, mixed)')
    .option(
      '--replicas <n>',
      'tasks per service: pinned on the local stack (default 2), declared for --target',
    )
    .option('--budgets <file>', "latency budgets: the knee is the highest step within the file's p95 budget")
    .option('--p95 <ms>', 'p95 latency budget in ms (default 1000; overrides --budgets)')
    .option(
      '--steps <list>',
      'offered req/s per step: `10,20,40` or `LOW..HIGHxN` (default: around the model knee)',
    )
    .option('--hold <duration>', 'wall time each step is held (default 8s)')
    .option(
      '--settle <duration>',
      'first part of each step not measured (default 2s, at most a third of --hold)',
    )
    .option(
      '--warmup <duration>',
      'unmeasured load at the lowest rate before the first step (default 5s; 0s: none)',
    )
    .option('--no-stop-at-knee', 'play every step even after one failed above a passing one')
    .option('--allow-host <host>', 'allow load to this non-loopback host (repeatable)', collect, [])
    .option('--port <port>', 'gateway port of the local stack (default: any free port)')
    .option('--seed <n>', 'seed (default 1)')
    .option('--out <dir>', 'probe directory (default runs/<id>)')
    .option('--json', 'print the calibration as JSON')
    .action(async (flags: ProbeFlags) => {
      const { parseDuration } = await import('../../core/duration.ts');
      const f = createFlagChecker('probe');
      const arch = f.arch(flags.arch ?? 'headless');
      const replicas = f.number('--replicas', flags.replicas, { positive: true, integer: true });
      const p95Ms = f.number('--p95', flags.p95, { positive: true });
      const steps = f.parse('--steps', flags.steps, parseSteps);
      const holdSeconds = f.parse('--hold', flags.hold, (v) => parseDuration(v, '--hold'));
      const settleSeconds = f.parse('--settle', flags.settle, (v) => parseDuration(v, '--settle'));
      const warmupSeconds = f.parse('--warmup', flags.warmup, (v) => parseDuration(v, '--warmup'));
      if (holdSeconds !== undefined && holdSeconds < 2)
        f.add({
          path: '--hold',
          message: `${flags.hold} is too short to settle`,
          hint: 'hold each step 2s or more',
        });
      if (settleSeconds !== undefined && settleSeconds >= (holdSeconds ?? 8))
        f.add({ path: '--settle', message: `${flags.settle} leaves nothing of the step to measure` });
      const port = f.number('--port', flags.port, { integer: true, min: 0, max: 65535 });
      const seed = f.number('--seed', flags.seed, { positive: true, integer: true });
      f.done();
      let target: URL | undefined;
      if (flags.target) {
        const [{ checkTarget }, { readConfig }] = await Promise.all([
          import('../../engine/target-guard.ts'),
          import('../../core/config.ts'),
        ]);
        target = checkTarget(flags.target, [...flags.allowHost, ...readConfig().allowedHosts]);
      }
      const [{ runProbe }, { createOutput }, { createCliSink }, { withInterrupt }] = await Promise.all([
        import('../../workflows/probe.ts'),
        import('../output.ts'),
        import('../sink.ts'),
        import('../signals.ts'),
      ]);
      const o = createOutput();
      const sink = createCliSink(o, { summary: 'none' });
      const outcome = await withInterrupt((signal) =>
        runProbe({
          arch: arch as Arch,
          ...(target ? { target } : {}),
          ...(flags.service ? { service: flags.service } : {}),
          ...(flags.journey ? { journey: flags.journey } : {}),
          ...(replicas !== undefined ? { replicas } : {}),
          ...(flags.budgets ? { budgets: flags.budgets } : {}),
          ...(p95Ms !== undefined ? { p95Ms } : {}),
          ...(steps ? { steps } : {}),
          ...(holdSeconds !== undefined ? { holdSeconds } : {}),
          ...(settleSeconds !== undefined ? { settleSeconds } : {}),
          ...(warmupSeconds !== undefined ? { warmupSeconds } : {}),
          stopAtKnee: flags.stopAtKnee,
          ...(port !== undefined ? { port } : {}),
          ...(seed !== undefined ? { seed } : {}),
          ...(flags.out ? { out: flags.out } : {}),
          sink,
          signal,
        }),
      );
      process.exitCode = outcome.exitCode;
      const c = outcome.calibration;
      if (flags.json) {
        o.json({ dir: outcome.dir, calibration: c });
        return;
      }
      const p = c.probe;
      o.out();
      o.out(
        o.bold(
          `probe: ${p.target} (${p.arch}), ${p.replicas ?? '?'} replica(s) per service pinned by ${p.replicasPinnedBy}`,
        ),
      );
      o.out(
        `budget: ${p.budgetSource}; errors ≤ ${p.criteria.maxErrorRate * 100}%, achieved ≥ ${p.criteria.minAchievedRatio * 100}% of offered`,
      );
      o.out();
      const services = [...new Set(p.steps.flatMap((s) => Object.keys(s.services)))].sort();
      const busiest = (s: (typeof p.steps)[number]) => {
        const top = Object.entries(s.services).sort((a, b) => (b[1].cpu ?? 0) - (a[1].cpu ?? 0))[0];
        return top ? `${top[0]} ${top[1].cpu ?? '—'}%` : '—';
      };
      table(
        o,
        ['step', 'offered', 'achieved', 'p95 ms', 'errors', 'functional', 'busiest (CPU)', 'verdict'],
        p.steps.map((s, i) => [
          String(i + 1),
          s.offeredRps.toFixed(1),
          s.achievedRps.toFixed(1),
          s.p95Ms === null ? '—' : String(Math.round(s.p95Ms)),
          `${(s.errorRate * 100).toFixed(2)}%`,
          s.functionalFailureRate === undefined ? '—' : `${(s.functionalFailureRate * 100).toFixed(2)}%`,
          busiest(s),
          s.passed ? (i === p.knee.index ? 'ok ← knee' : 'ok') : s.failures.join('; '),
        ]),
      );
      if (services.length > 0) {
        o.out();
        o.out('per service: requests/s per task @ CPU %, by step (settled periods)');
        table(
          o,
          ['service', ...p.steps.map((_, i) => `step ${i + 1}`)],
          services.map((n) => [
            n,
            ...p.steps.map((s) => {
              const x = s.services[n];
              return x ? `${x.rpsPerTask.toFixed(1)} @${x.cpu ?? '—'}` : '—';
            }),
          ]),
        );
      }
      o.out(
        o.dim(
          'errors: 5xx, timeouts, refused and reset (capacity); functional: failed checks and client errors (reported, not a criterion)',
        ),
      );
      o.out();
      if (p.knee.index === null) o.out(o.yellow('knee: below the lowest step (no step within budget)'));
      else
        o.out(
          `knee: ${p.knee.offeredRps} req/s offered (${p.knee.achievedRps} achieved${p.knee.achievedRpsPerTask !== null ? `, ${p.knee.achievedRpsPerTask} per task` : ''}, p95 ${Math.round(p.knee.p95Ms ?? 0)} ms)${p.knee.reached ? '' : ' — not reached: capacity is at least this'}${p.knee.bottleneck ? `; bottleneck ${p.knee.bottleneck}` : ''}`,
        );
      const entries = Object.entries(c.services);
      if (entries.length > 0) {
        o.out();
        o.out(
          'capacity per task (measured: req/s per task ÷ CPU fraction, steps at or below the knee, CPU 10–95%)',
        );
        for (const [n, e] of entries)
          o.out(
            `  ${n.padEnd(10)} ${String(e.capacityRpsPerTask).padStart(8)} req/s  ± ${e.uncertainty === undefined ? '—' : `${(e.uncertainty * 100).toFixed(1)}%`}  model ${e.modelCapacityRpsPerTask}  efficiency ${e.efficiency}  (${e.samples} periods)`,
          );
      }
      for (const n of p.notes) o.out(o.dim(`note: ${n}`));
      o.out();
      o.out(
        `calibration: ${outcome.dir}/calibration.json  (peakday simulate <profile> --arch ${p.arch} --calibration ${outcome.dir})`,
      );
    });
}
