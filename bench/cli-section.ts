/**
 * bench/engine.bench.ts section 6, through the CLI: the code path a user runs. `peakday run` (bin/
 * peakday.js, a child process) plays a compiled plan of one GET with a status check at an open-model
 * rate, on 1 engine worker and on N; the same rate from k6 (`peakday run --driver k6`, when K6_BIN is
 * set) and autocannon (`-R`, its rate-limited mode); wrk's closed-loop maximum beside them. nginx
 * counts every arrival (stub_status); each tool's CPU (user + system, its children included) and
 * peak RSS come from GNU time. PEAKDAY_BENCH_ONLY=cli runs this section alone; PEAKDAY_BENCH_RATE
 * (default 20000, comma-separated for several), PEAKDAY_BENCH_SECONDS (default 20) and
 * PEAKDAY_BENCH_WORKERS (default the cores) choose what is played.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../core/run-format.ts';
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

/** Runs a command under GNU time; its CPU seconds (children included) and peak RSS of the largest process. */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync('/usr/bin/time', ['-f', 'TIME %U %S %M', cmd, ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 256 << 20,
  });
  const m = /TIME ([\d.]+) ([\d.]+) (\d+)\s*$/.exec(r.stderr ?? '');
  return {
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    cpuSeconds: m ? Number(m[1]) + Number(m[2]) : Number.NaN,
    maxRssMb: m ? Number(m[3]) / 1024 : Number.NaN,
  };
}

/** Section 6: every tool at each rate through its own command line, counted at nginx. */
export async function cliSection(origin: string, serverRequests: () => Promise<number>, wrk: string | null) {
  const rates = (process.env.PEAKDAY_BENCH_RATE ?? '20000').split(',').map(Number);
  const seconds = Number(process.env.PEAKDAY_BENCH_SECONDS ?? 20);
  const n = Number(process.env.PEAKDAY_BENCH_WORKERS ?? availableParallelism());
  const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-cli-'));
  console.log(
    `\n6. Through the CLI: open model, one GET with a status check, ${seconds} s, nginx-counted (load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
  for (const rate of rates) {
    const plan = createTestPlan(
      [{ journey: getJourney('get', ['/'], { check: { status: [200] } }), rate, maxConcurrency: 400 }],
      seconds,
    );
    const planFile = join(dir, `plan-${rate}.json`);
    writeFileSync(planFile, JSON.stringify(plan));
    const planned = rate * seconds;
    const figures: CliFigure[] = [];
    const peakday = async (workers: number, driver: 'builtin' | 'k6') => {
      const before = await serverRequests();
      const out = join(dir, `run-${rate}-${driver}-${workers}`);
      const args = [
        'run',
        '--plan',
        planFile,
        '--target',
        origin,
        '--no-stack-handshake',
        '--json',
        '--out',
        out,
      ];
      if (driver === 'k6') args.push('--driver', 'k6', '--k6-bin', process.env.K6_BIN as string);
      else args.push('--workers', String(workers));
      const t = timed(process.execPath, [PEAKDAY_BIN, ...args]);
      const arrived = (await serverRequests()) - before;
      let note = `exit ${t.status}`;
      try {
        const j = JSON.parse(t.stdout) as { summary: RunSummary };
        const s = j.summary;
        note += `, ${s.valid ? 'valid' : `INVALID (${s.invalidReasons.join('; ')})`}, dropped ${s.iterations.dropped}`;
        if (s.schedulerLag) note += `, lag p99 ${s.schedulerLag.p99} ms`;
      } catch {
        note += `: ${t.stderr.split('\n').slice(-4).join(' ')}`;
      }
      figures.push({
        tool: driver === 'k6' ? 'k6 (peakday --driver k6)' : `peakday --workers ${workers}`,
        planned,
        arrived,
        cpuUsPerRequest: (t.cpuSeconds * 1e6) / Math.max(1, arrived),
        maxRssMb: t.maxRssMb,
        note,
      });
    };
    await peakday(1, 'builtin');
    if (n > 1) await peakday(n, 'builtin');
    if (process.env.K6_BIN) await peakday(1, 'k6');
    {
      const before = await serverRequests();
      const bin = join(import.meta.dirname, '..', 'node_modules', '.bin', 'autocannon');
      const t = timed(bin, ['-c', '400', '-R', String(rate), '-d', String(seconds), '-j', `${origin}/`]);
      const arrived = (await serverRequests()) - before;
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
  }
  console.log(
    `   (load average after: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')})`,
  );
}
