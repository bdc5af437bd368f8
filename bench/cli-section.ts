/**
 * bench/engine.bench.ts section 6, through the CLI: the code path a user runs. `peakday run` (bin/
 * peakday.js, a child process) plays a compiled plan of one GET with a status check at an open-model
 * rate, on 1 engine worker and on N; the same rate from k6 (`peakday run --driver k6`, when K6_BIN is
 * set) and autocannon (`-R`, its rate-limited mode); wrk's closed-loop maximum beside them. nginx
 * counts every arrival (stub_status); each tool's CPU (user + system, its children included) and
 * peak RSS come from GNU time. For peakday also the engine's own CPU per request while the clock ran
 * (engine.ndjson's per-second process CPU: without the start-up's loading and compiling, ~1.5 s of
 * CPU that a 10-s run would spread over its requests), against the same CLI's closed loop
 * (`peakday run --closed-loop 50`, 50 connections) measured first: the issue's bar is open ≤ 1.3x
 * closed. The closed loop's lines also give the host's CPU (engine.ndjson) and nginx's (its
 * processes' CPU from /proc), so a run that found no core to spare says so. Each peakday line says
 * how many of the planned iterations started, which is how a k6 that fell behind shows. After each
 * rate, one line sets peakday's open/closed CPU ratio beside autocannon's (`-R` against `-c 50`) and
 * beside a control without I/O (`pacingControl`): what pacing costs the CPU on this host, I/O aside (the guest's halting, not the paced I/O's own cost).
 * PEAKDAY_BENCH_ONLY=cli runs this section alone; PEAKDAY_BENCH_RATE (default 20000,
 * comma-separated for several), PEAKDAY_BENCH_SECONDS (default 20) and PEAKDAY_BENCH_WORKERS
 * (default the cores) choose what is played; PEAKDAY_BENCH_SCHEDULERS=auto,spin plays the open
 * model once per scheduler (engine/engine.ts SchedulerMode) on one worker.
 *
 * `memorySection` (PEAKDAY_BENCH_ONLY=memory, and in the full bench): RSS through a run at 5,000/s
 * on 1 worker and on N, from engine.ndjson's per-second rssMb (the process's: workers are threads of
 * it), for PEAKDAY_BENCH_MEMORY_SECONDS (default 60; the issue's bar is < 250 MB per worker through
 * 5 minutes, flat after the first).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineHealthRecord, RunSummary } from '../core/run-format.ts';
import { createTestPlan, getJourney } from '../engine/test-support.ts';

/** What one tool did at one rate, counted at nginx. */
export interface CliFigure {
  tool: string;
  planned: number;
  arrived: number;
  cpuUsPerRequest: number;
  maxRssMb: number;
  note: string;
}

const PEAKDAY_BIN = join(import.meta.dirname, '..', 'bin', 'peakday.js');

/** A run directory's engine.ndjson (one health record per wall second). */
function healthOf(dir: string): EngineHealthRecord[] {
  try {
    return readFileSync(join(dir, 'engine.ndjson'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as EngineHealthRecord);
  } catch {
    return [];
  }
}

/** The engine's CPU seconds while its clock ran: each second's process CPU (cores) times its length. */
function engineCpuSeconds(health: readonly EngineHealthRecord[]): number {
  let cpu = 0;
  for (let i = 0; i < health.length; i++) {
    const h = health[i] as EngineHealthRecord;
    const next = health[i + 1];
    cpu += h.processCpu * (next ? next.t - h.t : 1);
  }
  return cpu;
}

const loads = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');

/**
 * Runs a command under GNU time; its CPU seconds (children included), peak RSS of the largest
 * process, and how many times it went to sleep (voluntary context switches, start-up included):
 * per request, how often the event loop waited for the network, which is what the open model pays
 * more of than a saturated closed loop (each sleep and wake-up is a trip through the kernel).
 */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M %w', cmd, ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 256 << 20,
  });
  const m = /TIME ([\d.]+) ([\d.]+) (\d+) (\d+)\s*$/.exec(r.stderr ?? '');
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    cpuSeconds: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    maxRssMb: m ? Number(m[3]) / 1024 : Number.NaN,
    sleeps: m ? Number(m[4]) : Number.NaN,
  };
}

/**
 * Why the closed-loop bar (≥ 1.2x autocannon's rate) is out of reach on one core, in figures: the
 * CPU per request it would take against what one socket write per request costs. From
 * `node --cpu-prof` of `peakday run --closed-loop 50` against this nginx (docs/run-directory.md,
 * "CPU per request"): the write of the request to the socket, which every HTTP/1.1 client makes
 * once per request (autocannon too), took about half of the engine's busy time on the quiet host
 * (2026-12-02 21:39 UTC, load 1.2-1.6), and everything the engine does in JavaScript besides
 * 1.7 µs per request (2026-12-03, load 9.7-11.5).
 */
const CLOSED_LOOP_JS_US = 1.7;

/** A compiled plan of one GET with a status check at `rate`/s for `seconds`, written to `dir/name`. */
function writeGetPlan(dir: string, name: string, rate: number, seconds: number): string {
  const plan = createTestPlan(
    [{ journey: getJourney('get', ['/'], { check: { status: [200] } }), rate, maxConcurrency: 400 }],
    seconds,
  );
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(plan));
  return file;
}

/**
 * One `peakday run --plan` through the CLI into `out`, under GNU time and counted at nginx: what it
 * printed, its CPU and RSS, the requests that arrived, nginx's CPU seconds meanwhile (with
 * `serverCpu`), and its summary (null when it printed none: it failed).
 */
async function runPlanThroughCli(
  planFile: string,
  origin: string,
  out: string,
  serverRequests: () => Promise<number>,
  extraArgs: readonly string[],
  serverCpu: () => number = () => Number.NaN,
): Promise<{
  t: ReturnType<typeof timed>;
  arrived: number;
  serverCpuSeconds: number;
  summary: RunSummary | null;
}> {
  const before = await serverRequests();
  const serverCpuBefore = serverCpu();
  const t = timed(process.execPath, [
    PEAKDAY_BIN,
    'run',
    '--plan',
    planFile,
    '--target',
    origin,
    '--no-stack-handshake',
    '--json',
    '--out',
    out,
    ...extraArgs,
  ]);
  const arrived = (await serverRequests()) - before;
  const serverCpuSeconds = serverCpu() - serverCpuBefore;
  let summary: RunSummary | null = null;
  try {
    summary = (JSON.parse(t.stdout) as { summary: RunSummary }).summary;
  } catch {
    // It printed no JSON: the caller shows the end of its stderr.
  }
  return { t, arrived, serverCpuSeconds, summary };
}

/**
 * The closed loop through the CLI (`peakday run --closed-loop 50`, 50 connections) on one worker
 * and on N, beside autocannon with 50 connections for as long: nginx-counted requests per second
 * (the issue's bar: peakday ≥ 1.2x autocannon) and the engine's CPU per request while the clock ran,
 * the yardstick of the open model's. Printed; the one-worker CPU per request (engine, while the clock
 * ran) and autocannon's (whole process) are returned.
 */
async function closedLoopCost(
  origin: string,
  serverRequests: () => Promise<number>,
  dir: string,
  seconds: number,
  n: number,
  serverCpu: () => number,
): Promise<{ peakdayUs: number; autocannonUs: number }> {
  const planFile = writeGetPlan(dir, 'plan-closed.json', 1, seconds);
  let oneWorkerUs = Number.NaN;
  let best = 0;
  const rates: { workers: number; rate: number; hostCpu: number; nginxCores: number }[] = [];
  for (const workers of n > 1 ? [1, n] : [1]) {
    const out = join(dir, `run-closed-${workers}`);
    const {
      t,
      arrived,
      serverCpuSeconds: nginxCpu,
      summary,
    } = await runPlanThroughCli(
      planFile,
      origin,
      out,
      serverRequests,
      ['--closed-loop', '50', '--connections', '50', '--workers', String(workers)],
      serverCpu,
    );
    // Without a summary, the nginx count and the plan's length stand in.
    const total = summary?.requests.total ?? arrived;
    const duration = summary?.durationSeconds ?? seconds;
    const health = healthOf(out);
    const us = (engineCpuSeconds(health) * 1e6) / Math.max(1, total);
    if (workers === 1) oneWorkerUs = us;
    best = Math.max(best, arrived / duration);
    const hostCpu = health.length ? health.reduce((a, h) => a + h.hostCpu, 0) / health.length : Number.NaN;
    rates.push({ workers, rate: arrived / duration, hostCpu, nginxCores: nginxCpu / duration });
    console.log(
      `   peakday --closed-loop 50 --workers ${workers}: ${Math.round(arrived / duration).toLocaleString('en-US')}/s nginx-counted, engine ${us.toFixed(1)} µs CPU/req while the clock ran, whole process ${((t.cpuSeconds * 1e6) / Math.max(1, arrived)).toFixed(1)} µs/req, ${(t.sleeps / Math.max(1, arrived)).toFixed(2)} sleeps/req, RSS ${t.maxRssMb.toFixed(0)} MB, exit ${t.status}; host CPU ${(100 * hostCpu).toFixed(0)}% of ${availableParallelism()} cores, nginx ${(nginxCpu / duration).toFixed(2)} cores`,
    );
  }
  const one = rates[0];
  const many = rates[1];
  if (one && many && many.rate < one.rate && many.hostCpu >= 0.9)
    console.log(
      `   ${many.workers} workers were slower than 1 here because the host had no core to spare: its ${availableParallelism()} cores were ${(100 * many.hostCpu).toFixed(0)}% busy, nginx (the target, on the same host) taking ${many.nginxCores.toFixed(2)} of them, so the workers shared what was left and each did less per wake-up; on a load generator with cores of its own, N workers add up`,
    );
  const before = await serverRequests();
  const nginxBefore = serverCpu();
  const bin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon');
  const t = timed(bin, ['-c', '50', '-d', String(seconds), '-j', `${origin}/`]);
  const arrived = (await serverRequests()) - before;
  const nginxCores = (serverCpu() - nginxBefore) / seconds;
  const acUs = (t.cpuSeconds * 1e6) / Math.max(1, arrived);
  const ratio = best / Math.max(1, arrived / seconds);
  console.log(
    `   autocannon -c 50: ${Math.round(arrived / seconds).toLocaleString('en-US')}/s nginx-counted, ${acUs.toFixed(1)} µs CPU/req (whole process), exit ${t.status}, nginx ${nginxCores.toFixed(2)} cores; peakday's best closed loop / autocannon ${ratio.toFixed(2)}x (bar ≥ 1.2x)`,
  );
  if (ratio < 1.2 && Number.isFinite(acUs) && Number.isFinite(oneWorkerUs)) {
    const needed = acUs / 1.2;
    const floor = oneWorkerUs - CLOSED_LOOP_JS_US;
    console.log(
      `   (bar not reached${floor > needed ? ', and out of reach of a leaner engine alone' : ''}: each tool is bound by one core's CPU per request, and 1.2x autocannon's rate needs ≤ ${needed.toFixed(1)} µs per request against peakday's ${oneWorkerUs.toFixed(1)}; in CPU profiles of this closed loop half or more of the engine's busy time is the socket write of each request, which autocannon makes too, and the engine's JavaScript besides is ~${CLOSED_LOOP_JS_US} µs per request, so without any of it ${floor.toFixed(1)} µs would remain: docs/run-directory.md, "CPU per request")`,
    );
  }
  return { peakdayUs: oneWorkerUs, autocannonUs: acUs };
}

/**
 * A control without I/O: the same fixed JavaScript work (JSON round trips, about 5 µs a unit), once
 * back to back and once paced at `rate` units a second in 1-ms batches, as the open model paces its
 * arrivals; CPU per unit from the child's own `process.cpuUsage`, the timer's wake-ups left out
 * (measured alone with an empty unit and subtracted). On this virtual machine the paced units cost
 * more although they do the same work: what a process that runs in short bursts pays the host
 * (cold caches, the vCPU's idle exits), which every paced load generator pays (autocannon -R beside
 * it). It tells how much of the open/closed ratio the host sets. Returns paced / back-to-back.
 */
function pacingControl(rate: number, seconds: number): number {
  const script = `
const noop = process.argv[2] === 'noop';
const unit = noop ? () => 0 : () => { let o = { a: 1, b: [1, 2, 3], c: 'x'.repeat(50) }; let s = 0;
  for (let i = 0; i < 4; i++) { s += JSON.stringify(o).length; o = JSON.parse(JSON.stringify(o)); } return s; };
const rate = ${rate}, n = ${Math.round(rate * Math.min(seconds, 5))};
const c0 = process.cpuUsage(); let done = 0;
const end = () => { const c = process.cpuUsage(c0); console.log((c.user + c.system) / n); };
if (process.argv[1] === 'cont') { while (done < n) { unit(); done++; } end(); }
else { const start = performance.now(); const tick = () => {
  const due = Math.min(n, Math.floor(((performance.now() - start) * rate) / 1000));
  while (done < due) { unit(); done++; }
  if (done < n) setTimeout(tick, 1); else end(); }; tick(); }`;
  const run = (...args: string[]): number =>
    Number(spawnSync(process.execPath, ['-e', script, '--', ...args], { encoding: 'utf8' }).stdout.trim());
  const cont = run('cont');
  const paced = run('paced') - run('paced', 'noop');
  return paced / cont;
}

/**
 * RSS through a `peakday run` at 5,000/s, on 1 worker and on N: the process's RSS each second
 * (engine.ndjson), its peak, and its range after the first minute (after the first half of a run
 * shorter than two minutes), with the load average.
 */
export async function memorySection(origin: string, serverRequests: () => Promise<number>): Promise<void> {
  const seconds =
    process.env.PEAKDAY_BENCH_MEMORY === '1' ? 300 : Number(process.env.PEAKDAY_BENCH_MEMORY_SECONDS ?? 60);
  const rate = 5000;
  const n = Number(process.env.PEAKDAY_BENCH_WORKERS ?? availableParallelism());
  const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-memory-'));
  console.log(
    `\n4. Memory through the CLI: ${rate.toLocaleString('en-US')}/s for ${seconds} s, one GET with a status check (bar < 250 MB per worker, flat after the first minute; load average ${loads()})`,
  );
  const planFile = writeGetPlan(dir, 'plan.json', rate, seconds);
  for (const workers of n > 1 ? [1, n] : [1]) {
    const out = join(dir, `run-${workers}`);
    const {
      t,
      arrived,
      summary: sm,
    } = await runPlanThroughCli(planFile, origin, out, serverRequests, ['--workers', String(workers)]);
    const rss = healthOf(out).map((h) => h.rssMb);
    const settled = rss.slice(Math.min(60, Math.floor(rss.length / 2)));
    let note = `exit ${t.status}`;
    if (sm)
      note += `, ${sm.valid ? 'valid' : 'INVALID'}, dropped ${sm.iterations.dropped}, lag p99 ${sm.schedulerLag?.p99} ms`;
    else note += `: ${t.stderr.split('\n').slice(-3).join(' ')}`;
    console.log(
      `   ${workers} worker${workers > 1 ? 's' : ' '}: RSS peak ${Math.max(...rss)} MB (${(Math.max(...rss) / workers).toFixed(0)} MB per worker; GNU time max ${t.maxRssMb.toFixed(0)} MB); after ${rss.length >= 120 ? 'the first minute' : 'the first half'}: ${Math.min(...settled)}–${Math.max(...settled)} MB; nginx counted ${((100 * arrived) / (rate * seconds)).toFixed(2)}% of plan; ${note}`,
    );
  }
  console.log(`   (load average after: ${loads()})`);
}

/** Section 6: every tool at each rate through its own command line, counted at nginx. */
export async function cliSection(
  origin: string,
  serverRequests: () => Promise<number>,
  wrk: string | null,
  serverCpu: () => number = () => Number.NaN,
) {
  const rates = (process.env.PEAKDAY_BENCH_RATE ?? '20000').split(',').map(Number);
  const seconds = Number(process.env.PEAKDAY_BENCH_SECONDS ?? 20);
  const n = Number(process.env.PEAKDAY_BENCH_WORKERS ?? availableParallelism());
  const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-cli-'));
  console.log(
    `\n6. Through the CLI: open model, one GET with a status check, ${seconds} s, nginx-counted (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  const closed = await closedLoopCost(origin, serverRequests, dir, seconds, n, serverCpu);
  const closedUs = closed.peakdayUs;
  for (const rate of rates) {
    const planFile = writeGetPlan(dir, `plan-${rate}.json`, rate, seconds);
    const planned = rate * seconds;
    const figures: CliFigure[] = [];
    let openRatio = Number.NaN;
    let autocannonRatio = Number.NaN;
    const peakday = async (workers: number, driver: 'builtin' | 'k6', scheduler?: string) => {
      const out = join(dir, `run-${rate}-${driver}-${workers}-${scheduler ?? 'default'}-${figures.length}`);
      const args: string[] = [];
      if (driver === 'k6') args.push('--driver', 'k6', '--k6-bin', process.env.K6_BIN as string);
      else args.push('--workers', String(workers));
      if (scheduler) args.push('--scheduler', scheduler);
      const { t, arrived, summary: s } = await runPlanThroughCli(planFile, origin, out, serverRequests, args);
      let note = `exit ${t.status}, ${(t.sleeps / Math.max(1, arrived)).toFixed(2)} sleeps/req`;
      if (s) {
        note += `, ${s.valid ? 'valid' : `INVALID (${s.invalidReasons.join('; ')})`}, started ${s.iterations.started.toLocaleString('en-US')} of ${s.iterations.planned.toLocaleString('en-US')} planned, dropped ${s.iterations.dropped}`;
        if (s.schedulerLag) note += `, lag p99 ${s.schedulerLag.p99} ms`;
        if (driver === 'builtin') {
          const engineUs = (engineCpuSeconds(healthOf(out)) * 1e6) / Math.max(1, s.requests.total);
          note += `, engine ${engineUs.toFixed(1)} µs CPU/req while the clock ran (${(engineUs / closedUs).toFixed(2)}x the closed loop's, bar ≤ 1.3x)`;
          if (workers === 1 && !scheduler) openRatio = engineUs / closedUs;
        }
      } else note += `: ${t.stderr.split('\n').slice(-4).join(' ')}`;
      figures.push({
        tool:
          driver === 'k6'
            ? 'k6 (peakday --driver k6)'
            : `peakday --workers ${workers}${scheduler ? ` --scheduler ${scheduler}` : ''}`,
        planned,
        arrived,
        cpuUsPerRequest: (t.cpuSeconds * 1e6) / Math.max(1, arrived),
        maxRssMb: t.maxRssMb,
        note,
      });
    };
    const schedulers = process.env.PEAKDAY_BENCH_SCHEDULERS?.split(',');
    if (schedulers) for (const m of schedulers) await peakday(1, 'builtin', m);
    else await peakday(1, 'builtin');
    if (n > 1) await peakday(n, 'builtin');
    if (process.env.K6_BIN) await peakday(1, 'k6');
    {
      const before = await serverRequests();
      const bin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon');
      const t = timed(bin, ['-c', '400', '-R', String(rate), '-d', String(seconds), '-j', `${origin}/`]);
      const arrived = (await serverRequests()) - before;
      autocannonRatio = (t.cpuSeconds * 1e6) / Math.max(1, arrived) / closed.autocannonUs;
      figures.push({
        tool: 'autocannon -R',
        planned,
        arrived,
        cpuUsPerRequest: (t.cpuSeconds * 1e6) / Math.max(1, arrived),
        maxRssMb: t.maxRssMb,
        note: `exit ${t.status}, rate-limited closed loop, 400 connections`,
      });
    }
    if (wrk) {
      const before = await serverRequests();
      const t = timed(wrk, ['-t1', '-c50', `-d${seconds}s`, `${origin}/`]);
      const arrived = (await serverRequests()) - before;
      figures.push({
        tool: 'wrk (closed-loop max)',
        planned: Number.NaN,
        arrived,
        cpuUsPerRequest: (t.cpuSeconds * 1e6) / Math.max(1, arrived),
        maxRssMb: t.maxRssMb,
        note: `${Math.round(arrived / seconds)}/s, 50 connections, no schedule`,
      });
    }
    console.log(
      `   ${rate.toLocaleString('en-US')}/s planned (${planned.toLocaleString('en-US')} requests):`,
    );
    for (const f of figures)
      console.log(
        `   ${f.tool.padEnd(26)} arrived ${Number.isNaN(f.planned) ? String(f.arrived).padStart(9) : `${((100 * f.arrived) / f.planned).toFixed(2).padStart(7)}%`}  ${f.cpuUsPerRequest.toFixed(1).padStart(6)} µs CPU/req  RSS ${f.maxRssMb.toFixed(0).padStart(4)} MB  ${f.note}`,
      );
    console.log(
      `   paced against back to back at ${rate.toLocaleString('en-US')}/s: peakday's open model ${openRatio.toFixed(2)}x its closed loop's CPU per request, autocannon -R ${autocannonRatio.toFixed(2)}x autocannon -c 50's (whole process), and the same JavaScript work without I/O ${pacingControl(rate, seconds).toFixed(2)}x (control: what pacing costs the CPU on this host, I/O aside: the guest's halting; docs/run-directory.md "CPU per request")`,
    );
  }
  console.log(`   (load average after: ${loads()})`);
}
