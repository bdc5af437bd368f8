/**
 * The local stack's REAL CPU per request, per topology: what sizes the rate a host can emulate
 * faithfully (docs/reference-stack.md "Emulation fidelity"). For each topology it starts the stack as
 * a rehearsal does (`peakday stack up --detach`: the supervisor with its balancers, one process per
 * replica), plays a profile's live window against it with the embedded engine (`peakday run`), and
 * reads from /proc the CPU seconds the run cost: the supervisor (balancers proxying every request,
 * autoscaler, telemetry; plus replicas it reaped), every replica alive at the end, and the engine.
 * Per public request (the engine's requests): stack CPU-ms, engine CPU-ms, and their split.
 *
 * The faithful rate of a host of N cores is N × UTILISATION_TARGET ÷ (CPU-s per request of stack +
 * engine): the emulation holds only while a core is free whenever a replica's hold ends, so the host
 * must keep headroom for bursts (Poisson arrivals, scale-out starts). The CPU-s per request is counted,
 * not timed, so it moves little with the host's load (cache and scheduler effects only); the load
 * average is printed beside it.
 *
 *   npm run bench -- stack-cpu
 *   PEAKDAY_BENCH_PROFILE=flash-sale PEAKDAY_BENCH_RPS=30 PEAKDAY_BENCH_DURATION=40s npm run bench -- stack-cpu
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UTILISATION_TARGET } from '../reference-stack/capacity/host-fit.ts';
import { readStackState } from '../reference-stack/orchestrator/state.ts';

const CLI = fileURLToPath(new URL('../bin/peakday.js', import.meta.url));
/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ; 100 on Linux). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** A process's own CPU (utime+stime), its reaped children's (cutime+cstime), and parent; null when gone. */
function procStat(pid: number | 'self'): { own: number; children: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return {
      ppid: Number(f[1]),
      own: (Number(f[11]) + Number(f[12])) / TICKS,
      children: (Number(f[13]) + Number(f[14])) / TICKS,
    };
  } catch {
    return null;
  }
}

/** Every live descendant of `root`. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    const s = procStat(pid);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const todo = [root];
  while (todo.length > 0)
    for (const c of children.get(todo.pop() as number) ?? []) {
      out.push(c);
      todo.push(c);
    }
  return out;
}

/** CPU seconds of the stack so far: the supervisor (with the replicas it reaped) and its live descendants. */
function stackCpu(supervisor: number): { supervisor: number; replicas: number } {
  const s = procStat(supervisor);
  const replicas = descendants(supervisor).reduce((a, p) => a + (procStat(p)?.own ?? 0), 0);
  return { supervisor: (s?.own ?? 0) + (s?.children ?? 0), replicas };
}

const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

/** CPU seconds one run cost (stack: supervisor and replicas; engine) and its requests. */
interface RunCost {
  requests: number;
  failed: number;
  supervisor: number;
  replicas: number;
  engine: number;
  replicasBefore: number;
  replicasAfter: number;
  exit: number | null;
}

function measureOnce(arch: string, profile: string, rps: string, duration: string): RunCost {
  const cwd = mkdtempSync(join(tmpdir(), 'peakday-bench-cpu-'));
  try {
    const up = spawnSync(
      'nice',
      [process.execPath, CLI, 'stack', 'up', '--arch', arch, '--detach', '--port', '0', '--ttl', '15m'],
      { cwd, encoding: 'utf8' },
    );
    if (up.status !== 0) throw new Error(`stack up failed (${up.status}): ${up.stderr}`);
    const state = readStackState(cwd);
    if (!state) throw new Error('no state file after stack up');
    const replicasBefore = descendants(state.pid).length;
    const before = stackCpu(state.pid);
    const self0 = procStat('self')!.children;
    const out = join(cwd, 'run');
    const run = spawnSync(
      'nice',
      [
        process.execPath,
        CLI,
        'run',
        profile,
        '--target',
        state.url,
        '--peak-rps',
        rps,
        '--duration',
        duration,
      ].concat(['--circuit-breaker', 'off', '--out', out]),
      { cwd, encoding: 'utf8' },
    );
    const after = stackCpu(state.pid);
    const replicasAfter = descendants(state.pid).length;
    const engine = procStat('self')!.children - self0;
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as {
      requests: { total: number; failed: number };
    };
    return {
      requests: summary.requests.total,
      failed: summary.requests.failed,
      supervisor: after.supervisor - before.supervisor,
      replicas: after.replicas - before.replicas,
      engine,
      replicasBefore,
      replicasAfter,
      exit: run.status,
    };
  } finally {
    spawnSync(process.execPath, [CLI, 'stack', 'down'], { cwd, encoding: 'utf8' });
    rmSync(cwd, { recursive: true, force: true });
  }
}

/**
 * Two runs at two rates: the MARGINAL CPU per request (the slope between them) is what a higher rate
 * costs; the rest (the engine's and replicas' start-up, the stack's idle work) is a fixed cost.
 */
function measure(arch: string, profile: string, rates: string[], duration: string): void {
  const loadBefore = load();
  const runs = rates.map((r) => ({ rate: r, cost: measureOnce(arch, profile, r, duration) }));
  for (const { rate, cost: c } of runs) {
    const per = (x: number) => ((x / Math.max(1, c.requests)) * 1000).toFixed(2);
    process.stdout.write(
      `${arch} ${profile} ${rate} req/s peak, ${duration} (exit ${c.exit}): ${c.requests} requests (${c.failed} failed), processes ${c.replicasBefore} -> ${c.replicasAfter}; CPU s: supervisor ${c.supervisor.toFixed(2)}, replicas ${c.replicas.toFixed(2)}, engine ${c.engine.toFixed(2)}; average per request: stack ${per(c.supervisor + c.replicas)} ms, engine ${per(c.engine)} ms\n`,
    );
  }
  const [a, b] = [runs[0]!.cost, runs[runs.length - 1]!.cost];
  const dn = b.requests - a.requests;
  if (runs.length < 2 || dn <= 0) return;
  const slope = (f: (c: RunCost) => number) => ((f(b) - f(a)) / dn) * 1000;
  const sup = slope((c) => c.supervisor);
  const rep = slope((c) => c.replicas);
  const eng = slope((c) => c.engine);
  const total = sup + rep + eng;
  process.stdout.write(
    `${arch}: MARGINAL CPU per request: stack ${(sup + rep).toFixed(2)} ms (supervisor and balancers ${sup.toFixed(2)}, replicas ${rep.toFixed(2)}), engine ${eng.toFixed(2)} ms, total ${total.toFixed(2)} ms; a ${cpus().length}-core host at ${UTILISATION_TARGET * 100}% emulates ~${((cpus().length * UTILISATION_TARGET * 1000) / total).toFixed(0)} req/s faithfully; load average before ${loadBefore}, after ${load()}\n`,
  );
}

const profile = process.env.PEAKDAY_BENCH_PROFILE ?? 'flash-sale';
const rates = (process.env.PEAKDAY_BENCH_RPS ?? '20,60').split(',');
const duration = process.env.PEAKDAY_BENCH_DURATION ?? '40s';
for (const arch of (process.env.PEAKDAY_BENCH_ARCH ?? 'headless,monolith').split(','))
  measure(arch, profile, rates, duration);
