/**
 * How much the local balancers' least-outstanding-requests choice waits compared with one queue of
 * all the tasks' slots, which is how the simulator models a pool (simulation/queueing.ts `pool`):
 * a seeded discrete-event check, no stack, a second or two (docs/simulation.md "Validation against
 * a live run", session 9).
 *
 *   npx tsx bench/balancer-queue.ts [--seconds S] [--seed N]
 *
 * Model, as the local stack runs a 1-vCPU task: each replica is one slot with a FIFO queue
 * (reference-stack/capacity/emulator.ts); the balancer sends each request to the replica with the
 * fewest outstanding requests, ties round robin (reference-stack/orchestrator/balancer.ts), and a
 * request stays outstanding after its hold while the replica runs its real code (1/6 of the hold,
 * the demand table's `scale`) and, for a pay request, while it waits for the card authorization
 * (log-normal, median 250 ms, σ 0.5: reference-stack/domain/context.ts). Against it: one central
 * FIFO queue in front of the same slots. Ordinary requests' CPU-ms from prime-day doors-open's
 * monolith mix (8–57 ms, mean 34); a pay request holds 50. Poisson arrivals (an assumption: the
 * live arrivals are smoother at one-second scale, variance/mean 0.59).
 *
 * Prints, per case, the ordinary requests' wait (latency − hold − real code): the share that waits
 * at all and their mean wait, the share over 15 ms, its p95 and its mean. (2026-12-03: about as many
 * wait either way, about Erlang's C; behind least outstanding requests a request that waits does so
 * behind one replica's hold, about E[S²]/2E[S], not behind the first of all the slots to free.)
 */
import { createRng } from '../core/rng.ts';
import { drawCpu, Events, positiveFlags } from './des.ts';

const PAY_CPU_MS = 50;
const REAL_CODE_SHARE = 1 / 6;

interface Req {
  t0: number;
  pay: boolean;
  cpu: number;
  replica: number;
}

/** Waits (ms) of the ordinary requests over `seconds` of arrivals at `rate` per second. */
function simulateWaits(
  replicas: number,
  rate: number,
  payShare: number,
  pooled: boolean,
  seconds: number,
  seed: number,
): number[] {
  const rng = createRng(seed);
  const events = new Events();
  const busy = new Array<boolean>(replicas).fill(false);
  const outstanding = new Array<number>(replicas).fill(0);
  const queues: Req[][] = Array.from({ length: replicas }, () => []);
  const central: Req[] = [];
  let next = 0;
  const waits: number[] = [];
  const end = seconds * 1000;
  const start = (i: number, req: Req, t: number) => {
    busy[i] = true;
    req.replica = i;
    events.push(t + req.cpu, () => release(i, req, t + req.cpu));
  };
  const release = (i: number, req: Req, t: number) => {
    busy[i] = false;
    const waiting = pooled ? central.shift() : queues[i]!.shift();
    if (waiting) start(i, waiting, t);
    const after =
      REAL_CODE_SHARE * req.cpu + (req.pay ? Math.min(5000, 250 * Math.exp(0.5 * rng.normal())) : 0);
    events.push(t + after, () => {
      if (!pooled) outstanding[req.replica]!--;
      if (!req.pay) waits.push(t + after - req.t0 - req.cpu * (1 + REAL_CODE_SHARE));
    });
  };
  const arrive = (t: number) => {
    const pay = rng.next() < payShare;
    const req: Req = { t0: t, pay, cpu: pay ? PAY_CPU_MS : drawCpu(rng), replica: -1 };
    if (pooled) {
      const free = busy.indexOf(false);
      if (free >= 0) start(free, req, t);
      else central.push(req);
    } else {
      // Fewest outstanding requests, ties round robin from the last pick.
      let best = -1;
      for (let k = 0; k < replicas; k++) {
        const i = (next + k) % replicas;
        if (best < 0 || outstanding[i]! < outstanding[best]!) best = i;
      }
      next = (best + 1) % replicas;
      outstanding[best]!++;
      req.replica = best;
      if (busy[best]) queues[best]!.push(req);
      else start(best, req, t);
    }
    const gap = rng.exponential(1000 / rate);
    if (t + gap < end) events.push(t + gap, () => arrive(t + gap));
  };
  events.push(0, () => arrive(0));
  for (let e = events.pop(); e; e = events.pop()) e.run();
  return waits;
}

function summary(waits: number[]): string {
  const sorted = [...waits].sort((a, b) => a - b);
  const n = sorted.length;
  const waited = sorted.filter((w) => w > 0.01);
  const over = sorted.filter((w) => w > 15).length / n;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const given = waited.length > 0 ? waited.reduce((a, b) => a + b, 0) / waited.length : 0;
  return `${((waited.length / n) * 100).toFixed(1)}% wait (${given.toFixed(1)} ms on average), ${(over * 100).toFixed(1)}% over 15 ms, p95 ${sorted[Math.floor(0.95 * (n - 1))]!.toFixed(1)} ms, mean ${mean.toFixed(2)} ms`;
}

const flags = positiveFlags(process.argv.slice(2), { '--seconds': 600, '--seed': 2 });
if ('problem' in flags) {
  process.stderr.write(`balancer-queue: ${flags.problem}\n`);
  process.exitCode = 2;
} else main(flags.values['--seconds'], flags.values['--seed']);

/** The table, over `seconds` of simulated time per case. */
function main(seconds: number, seed: number): void {
  process.stdout.write(
    '| tasks | req/s | pay share | one queue of all slots | least outstanding requests |\n|---|---|---|---|---|\n',
  );
  for (const [replicas, rate] of [
    [2, 28],
    [4, 40],
    [4, 56],
  ] as const) {
    for (const pay of [0, 0.044, 0.1]) {
      const pooled = summary(simulateWaits(replicas, rate, pay, true, seconds, seed));
      const lor = summary(simulateWaits(replicas, rate, pay, false, seconds, seed));
      process.stdout.write(`| ${replicas} | ${rate} | ${pay} | ${pooled} | ${lor} |\n`);
    }
  }
}
