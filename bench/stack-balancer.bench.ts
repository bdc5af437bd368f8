/**
 * Benchmark: what the stack's per-service load balancer adds to a request, and what a replica costs to
 * start. The balancer sits in front of every deployable (twice on a headless request that fans out),
 * so its overhead must stay far below the gateway's 2-ms budget (issue 5). Measured at low load:
 * sequential keep-alive GETs to a protocol test worker, directly and through the balancer, interleaved
 * in rounds so that a noisy neighbour hits both alike; reports p50/p99 of each and the p50 difference,
 * and this process's CPU (client and balancer together) per proxied request, plus the wall time of
 * starting a one-replica stack (bundle, spawn, health check). Exits 1 when the balancer's p50 overhead exceeds the budget.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startStack } from '../reference-stack/orchestrator/stack.ts';

const BUDGET_P50_OVERHEAD_MS = 1;
const ROUNDS = 10;
const PER_ROUND = 200;
const dir = mkdtempSync(join(tmpdir(), 'peakday-bench-lb-'));
const worker = fileURLToPath(new URL('../reference-stack/orchestrator/test-worker.ts', import.meta.url));

const t0 = performance.now();
const stack = await startStack({
  arch: 'headless',
  port: 0,
  dataDir: dir,
  workerModule: worker,
  warmPoolSize: 0,
  services: [
    { name: 'gateway', taskSize: { vcpu: 1, memoryGb: 2 }, minTasks: 1, scalable: true, public: true },
  ],
});
const startMs = performance.now() - t0;
const direct = stack.status().services[0]?.tasks[0]?.url as string;

async function sample(base: string, n: number, into: number[]): Promise<void> {
  const pool = new Pool(base, { connections: 1 });
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await pool.request({ method: 'GET', path: '/echo' });
    await r.body.arrayBuffer();
    into.push(performance.now() - t);
  }
  await pool.close();
}

const d: number[] = [];
const b: number[] = [];
await sample(direct, 100, []);
await sample(stack.url, 100, []);
const cpu0 = process.cpuUsage();
let lbCpuMs = 0;
for (let r = 0; r < ROUNDS; r++) {
  await sample(direct, PER_ROUND, d);
  const c = process.cpuUsage();
  await sample(stack.url, PER_ROUND, b);
  const u = process.cpuUsage(c);
  lbCpuMs += (u.user + u.system) / 1000;
}
process.cpuUsage(cpu0);
await stack.stop();
rmSync(dir, { recursive: true, force: true });

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] as number;
};
const overhead = pct(b, 0.5) - pct(d, 0.5);
const rows = [
  ['direct to replica', pct(d, 0.5), pct(d, 0.99)],
  ['through balancer', pct(b, 0.5), pct(b, 0.99)],
] as const;
process.stdout.write(
  `stack start with one replica (bundle + spawn + health): ${startMs.toFixed(0)} ms wall\n`,
);
for (const [name, p50, p99] of rows) {
  process.stdout.write(
    `${name.padEnd(20)} p50 ${p50.toFixed(3)} ms  p99 ${p99.toFixed(3)} ms  (${ROUNDS * PER_ROUND} requests)\n`,
  );
}
process.stdout.write(
  `balancer p50 overhead: ${overhead.toFixed(3)} ms (budget ${BUDGET_P50_OVERHEAD_MS} ms); client+balancer CPU ${(lbCpuMs / (ROUNDS * PER_ROUND)).toFixed(3)} ms per request\n`,
);
if (overhead > BUDGET_P50_OVERHEAD_MS) {
  process.stderr.write('balancer overhead above budget\n');
  process.exit(1);
}
