/**
 * Reference stack benchmarks (not timed tests):
 * 1. Gateway overhead at low load: p50 of a product page through the headless gateway minus the p50 of
 *    the same three module calls made directly to the services (target: under 2 ms).
 * 2. Host CPU while the in-process headless stack serves a product-page load with the capacity model
 *    on: the share of the host's cores this process uses at each rate, and the largest rate at which it
 *    stays under 70% (the model, not the host, must set capacity).
 * 3. Time to healthy of `peakday stack up --arch <arch> --detach` (the real CLI, in a fresh directory),
 *    for both topologies: wall seconds until the CLI returns (it returns once every service's initial
 *    tasks pass their health check), CPU seconds of the CLI, of the detached supervisor and of every
 *    replica it started (warm pool included, read from /proc), the replicas started, and the load
 *    average beside it: the host is shared, so the wall figure is only meaningful with the load.
 *    The brief's bar: the headless stack healthy within 10 s. Set PEAKDAY_BENCH_STARTUP_RUNS (default 2).
 *
 *   npm run bench -- reference-stack                               (all three)
 *   PEAKDAY_BENCH_STACK=startup npm run bench -- reference-stack   (only the third)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { readStackState } from '../reference-stack/orchestrator/state.ts';
import { createCatalog } from '../scenarios/catalog.ts';
import { startTestStack } from '../test/stack-helper.ts';

const catalog = createCatalog({ products: 500 });

async function timed(url: string, init?: { method: 'POST'; body: string }): Promise<number> {
  const t = performance.now();
  const res = await request(
    url,
    init ? { ...init, headers: { 'content-type': 'application/json' } } : undefined,
  );
  await res.body.text();
  return performance.now() - t;
}

const p50 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function gatewayOverhead(): Promise<void> {
  const stack = await startTestStack('headless');
  try {
    const via: number[] = [];
    const direct: number[] = [];
    const s = stack.services;
    for (let i = 0; i < 400; i++) {
      const p = catalog.products[i % catalog.products.length]!;
      via.push(await timed(`${stack.url}/api/products/${p.id}`));
      const t = performance.now();
      await timed(`${s.catalog!.url}/rpc/catalog.getProduct`, {
        method: 'POST',
        body: JSON.stringify({ id: p.id }),
      });
      await Promise.all([
        timed(`${s.pricing!.url}/rpc/pricing.quote`, {
          method: 'POST',
          body: JSON.stringify({ skus: [p.sku], channel: 'web' }),
        }),
        timed(`${s.inventory!.url}/rpc/inventory.availability`, {
          method: 'POST',
          body: JSON.stringify({ skus: [p.sku] }),
        }),
      ]);
      direct.push(performance.now() - t);
    }
    const overhead = p50(via.slice(100)) - p50(direct.slice(100));
    process.stdout.write(
      `gateway overhead (product page, capacity off): p50 via gateway ${p50(via.slice(100)).toFixed(2)} ms, direct ${p50(direct.slice(100)).toFixed(2)} ms, overhead ${overhead.toFixed(2)} ms (target < 2 ms) ${overhead < 2 ? 'OK' : 'OVER'}\n`,
    );
  } finally {
    await stack.stop();
  }
}

async function hostCpu(): Promise<void> {
  const cores = cpus().length;
  let largestOk = 0;
  for (const rate of [10, 20, 40, 80]) {
    const stack = await startTestStack('headless', { capacity: {} });
    try {
      const seconds = 5;
      const inflight: Promise<unknown>[] = [];
      let n = 0;
      let errors = 0;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (performance.now() - t0 >= seconds * 1000) {
            clearInterval(timer);
            resolve();
            return;
          }
          const p = catalog.products[n++ % catalog.products.length]!;
          inflight.push(
            request(`${stack.url}/api/products/${p.id}`).then(
              async (r) => {
                if (r.statusCode !== 200) errors++;
                await r.body.dump();
              },
              () => errors++,
            ),
          );
        }, 1000 / rate);
      });
      await Promise.all(inflight);
      const wall = (performance.now() - t0) / 1000;
      const c = process.cpuUsage(c0);
      const hostPct = ((c.user + c.system) / 1e6 / wall / cores) * 100;
      const gw = stack.services.gateway!.takeStats();
      process.stdout.write(
        `${rate} req/s: host CPU ${hostPct.toFixed(0)}% of ${cores} cores (this process: all 9 services + the load), gateway emulated CPU ${gw.cpuUtilization.toFixed(0)}% of ${gw.vcpu} vCPU, errors ${errors}/${n}\n`,
      );
      if (hostPct < 70) largestOk = rate;
    } finally {
      await stack.stop();
    }
  }
  process.stdout.write(
    `largest rate with host CPU under 70%: ${largestOk} req/s (one replica per service, in one process)\n`,
  );
}

const CLI = fileURLToPath(new URL('../bin/peakday.js', import.meta.url));
/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ; 100 on Linux). */
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** utime+stime (s) and parent pid of a process, from /proc; null when it is gone. */
function procStat(pid: number): { cpu: number; ppid: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at field 3 (state).
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / TICKS };
  } catch {
    return null;
  }
}

/** Every live descendant of `root` (pids). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    const pid = Number(d);
    if (!Number.isInteger(pid)) continue;
    const s = procStat(pid);
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const stack = [root];
  while (stack.length > 0) {
    for (const c of children.get(stack.pop() as number) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

/** One `stack up --detach`: wall and CPU to healthy, replicas started; always `stack down`. */
function startupOnce(arch: string): void {
  const cwd = mkdtempSync(join(tmpdir(), 'peakday-bench-up-'));
  const load = loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  try {
    const before = readFileSync('/proc/self/stat', 'utf8');
    const b = before.slice(before.lastIndexOf(')') + 2).split(' ');
    const cliCpuBefore = (Number(b[13]) + Number(b[14])) / TICKS;
    const t0 = performance.now();
    const up = spawnSync(process.execPath, [CLI, 'stack', 'up', '--arch', arch, '--detach', '--port', '0'], {
      cwd,
      encoding: 'utf8',
    });
    const wall = (performance.now() - t0) / 1000;
    if (up.status !== 0) throw new Error(`stack up failed (${up.status}): ${up.stderr}`);
    const state = readStackState(cwd);
    if (!state) throw new Error('no state file after stack up');
    // The CLI's own CPU is in this process's children time; ask /proc/self for it.
    const supervisor = procStat(state.pid)?.cpu ?? Number.NaN;
    // Replicas are node processes; esbuild's service process (the replica bundle) is counted apart.
    const all = descendants(state.pid);
    const comm = (p: number) => {
      try {
        return readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      } catch {
        return '';
      }
    };
    const replicas = all.filter((p) => comm(p) === 'node' || comm(p) === 'MainThread');
    const otherCpu = all
      .filter((p) => !replicas.includes(p))
      .reduce((a, p) => a + (procStat(p)?.cpu ?? 0), 0);
    const replicaCpu = replicas.reduce((a, p) => a + (procStat(p)?.cpu ?? 0), 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    const f = self.slice(self.lastIndexOf(')') + 2).split(' ');
    const childrenCpu = (Number(f[13]) + Number(f[14])) / TICKS - cliCpuBefore;
    process.stdout.write(
      `${arch}: healthy in ${wall.toFixed(1)} s wall (bar 10 s${arch === 'headless' ? (wall <= 10 ? ': OK' : ': OVER') : ', headless only'}); CPU: CLI ${childrenCpu.toFixed(2)} s, supervisor ${supervisor.toFixed(2)} s (+ ${otherCpu.toFixed(2)} s in its other children), ${replicas.length} replicas ${replicaCpu.toFixed(2)} s (${(replicaCpu / Math.max(1, replicas.length)).toFixed(2)} s each); load average before ${load}, after ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')} (${cpus().length} cores)\n`,
    );
  } finally {
    spawnSync(process.execPath, [CLI, 'stack', 'down'], { cwd, encoding: 'utf8' });
    rmSync(cwd, { recursive: true, force: true });
  }
}

function startup(): void {
  const runs = Number(process.env.PEAKDAY_BENCH_STARTUP_RUNS ?? 2);
  for (let i = 0; i < runs; i++) for (const arch of ['headless', 'monolith']) startupOnce(arch);
}

if (process.env.PEAKDAY_BENCH_STACK === 'startup') startup();
else {
  await gatewayOverhead();
  await hostCpu();
  startup();
}
