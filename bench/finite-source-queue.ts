/**
 * How the simulator's finite-source queue waits (simulation/queueing.ts `taskQueue` with a
 * population: a replay's load generator) against a seeded discrete-event simulation of what it
 * stands for, no stack, a few seconds (docs/simulation.md "Validation against a live run", session 17).
 *
 *   npx tsx bench/finite-source-queue.ts [--seconds S] [--seed N]
 *
 * The load generator, as the embedded engine runs it: iterations start evenly spaced on 17 scenarios
 * (rates 1/(1 + 0.3k), random phases), each sends m requests to one pool: the first at its planned
 * start, each later one a think time (uniform, mean Z ± 60%) after the previous answer came back.
 * The pool: C slots in one FIFO queue (how the simulator pools a service's tasks), CPU-ms from the
 * doors-open monolith's mix (bench/des.ts). Measured: the utilisation, the iterations in flight (time
 * average) and the requests' mean wait.
 *
 * The model at that utilisation, population and open share 1/m (`taskQueue` itself), with the
 * arrivals' spread ca² as the simulator gives it ("regular starts": an iteration's first request
 * like clockwork, ca² 0, superposed with the later ones' 1 as Whitt's QNA does) and with every
 * arrival Poisson (ca² 1: a variant tried in session 17 and not kept; on the recorded rehearsals it
 * took the doors-open monoliths' p95 from −12% to 0% but product-drop's from +6% to +33%). Prints
 * one row per case and, over the cases at 70% utilisation or more, each model's wait over the
 * simulated one. The finite-source chain alone (the simulator until session 18) waits less than the
 * process it stands for (2026-12-04: median 0.66, 0.39–0.95), most with short think times at high
 * load. The open queue (no population) with every request as regular as its iteration's start waits
 * more (median 1.27, 0.97–1.81; at each slot count and load within about 15%, whatever the think
 * time and the requests per iteration: the simulated wait hardly depends on either); alone, replayed
 * on session 17's recorded rehearsals, it took the product-drop monoliths' p95 from +4…+12% to
 * +77…+90%. The simulator since session 18, that open queue bounded by the chain's wait at
 * max(ρ, 0.98) (`ca2Long`): median 1.03, 0.46–1.81 (docs/simulation.md, session 18).
 */
import { createRng } from '../core/rng.ts';
import { superposedCa2, taskQueue } from '../simulation/queueing.ts';
import { drawCpu, Events, MIX_CS2, MIX_MEAN_MS, positiveFlags } from './des.ts';

const STREAMS = 17;
const WEIGHTS = Array.from({ length: STREAMS }, (_, k) => 1 / (1 + 0.3 * k));
const WEIGHT_SUM = WEIGHTS.reduce((a, b) => a + b, 0);

interface Measured {
  rho: number;
  inFlight: number;
  wait: number;
}

/** The discrete-event simulation of one case over `seconds` (the first tenth discarded). */
function simulate(
  slots: number,
  startsPerMs: number,
  requests: number,
  thinkMs: number,
  seconds: number,
  seed: number,
): Measured {
  const rng = createRng(seed);
  const events = new Events();
  const end = seconds * 1000;
  const warm = end / 10;
  const queue: { t: number; left: number }[] = [];
  let busy = 0;
  let inFlight = 0;
  let last = 0;
  let busyArea = 0;
  let flightArea = 0;
  let waitSum = 0;
  let served = 0;
  const advance = (t: number) => {
    if (t > warm) {
      const from = Math.max(last, warm);
      busyArea += busy * (t - from);
      flightArea += inFlight * (t - from);
    }
    last = t;
  };
  const serve = (t: number, arrived: number, left: number) => {
    busy++;
    if (t > warm) {
      waitSum += t - arrived;
      served++;
    }
    const done = t + drawCpu(rng);
    events.push(done, () => {
      advance(done);
      busy--;
      if (left > 1) {
        const next = done + thinkMs * (0.4 + 1.2 * rng.next());
        events.push(next, () => arrive(next, left - 1));
      } else inFlight--;
      const waiting = queue.shift();
      if (waiting) serve(done, waiting.t, waiting.left);
    });
  };
  const arrive = (t: number, left: number) => {
    advance(t);
    if (busy < slots) serve(t, t, left);
    else queue.push({ t, left });
  };
  for (const w of WEIGHTS) {
    const gap = WEIGHT_SUM / (startsPerMs * w);
    for (let t = rng.next() * gap; t < end; t += gap) {
      const at = t;
      events.push(at, () => {
        inFlight++;
        arrive(at, requests);
      });
    }
  }
  for (let e = events.pop(); e; e = events.pop()) {
    if (last > end) break;
    e.run();
  }
  const span = Math.max(1, last - warm);
  return {
    rho: busyArea / span / slots,
    inFlight: flightArea / span,
    wait: served > 0 ? waitSum / served : 0,
  };
}

/**
 * The arrivals' ca² as the simulator superposes them at the short range (its `ca2`): first requests 0
 * (evenly spaced), later ones 1, by QNA (`superposedCa2`), every scenario's step a stream.
 */
function regularStartsCa2(requests: number, rho: number): number {
  let sq = 0;
  for (const w of WEIGHTS) sq += requests * (w / WEIGHT_SUM / requests) ** 2;
  return superposedCa2(1 - 1 / requests, 1 / sq, rho);
}

/**
 * The arrivals' ca² if every request were as regular as its iteration's start: an iteration's later
 * requests are its first one delayed by a bounded time (think times and answers), so over the long
 * run they are counted as evenly as the starts; QNA with ν the effective number of the scenarios (not
 * of their steps). The simulator's `ca2Long` (simulation/simulate-step.ts).
 */
function allRegularCa2(rho: number): number {
  let sq = 0;
  for (const w of WEIGHTS) sq += (w / WEIGHT_SUM) ** 2;
  return superposedCa2(0, 1 / sq, rho);
}

function modelWait(slots: number, m: Measured, requests: number, ca2: number, ca2Long?: number): number {
  const q = taskQueue({
    ...(ca2Long !== undefined ? { ca2Long } : {}),
    vcpu: 1,
    mu: 1000 / MIX_MEAN_MS,
    cs2: MIX_CS2,
    ca2,
    pool: slots,
    population: m.inFlight,
    openShare: 1 / requests,
  });
  return q.wait(m.rho);
}

const flags = positiveFlags(process.argv.slice(2), { '--seconds': 1500, '--seed': 5 });
if ('problem' in flags) {
  process.stderr.write(`finite-source-queue: ${flags.problem}\n`);
  process.exitCode = 2;
} else main(flags.values['--seconds'], flags.values['--seed']);

/** The table, over `seconds` of simulated time per case. */
function main(seconds: number, seed: number): void {
  process.stdout.write(
    '| slots | requests per iteration | think (ms) | utilisation | in flight | simulated wait (ms) | the chain (until session 18) | the chain, every arrival Poisson | open, every request as regular as its start | the simulator: that open queue bounded by the chain |\n|---|---|---|---|---|---|---|---|---|---|\n',
  );
  const ratios: { regular: number[]; poisson: number[]; open: number[]; bounded: number[] } = {
    regular: [],
    poisson: [],
    open: [],
    bounded: [],
  };
  for (const slots of [1, 2, 4]) {
    for (const requests of [2, 3, 5, 8]) {
      for (const thinkMs of [80, 250]) {
        for (const load of [0.5, 0.7, 0.85, 0.95]) {
          const m = simulate(
            slots,
            (load * slots) / MIX_MEAN_MS / requests,
            requests,
            thinkMs,
            seconds,
            seed,
          );
          const regular = modelWait(slots, m, requests, regularStartsCa2(requests, m.rho));
          const poisson = modelWait(slots, m, requests, 1);
          const open = modelWait(
            slots,
            { ...m, inFlight: Number.POSITIVE_INFINITY },
            requests,
            allRegularCa2(m.rho),
          );
          const bounded = modelWait(
            slots,
            m,
            requests,
            regularStartsCa2(requests, m.rho),
            allRegularCa2(m.rho),
          );
          if (m.rho >= 0.7 && m.wait > 0) {
            ratios.regular.push(regular / m.wait);
            ratios.poisson.push(poisson / m.wait);
            ratios.open.push(open / m.wait);
            ratios.bounded.push(bounded / m.wait);
          }
          process.stdout.write(
            `| ${slots} | ${requests} | ${thinkMs} | ${m.rho.toFixed(2)} | ${m.inFlight.toFixed(1)} | ${m.wait.toFixed(1)} | ${regular.toFixed(1)} | ${poisson.toFixed(1)} | ${open.toFixed(1)} | ${bounded.toFixed(1)} |\n`,
          );
        }
      }
    }
  }
  const spread = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return `median ${s[Math.floor(s.length / 2)]!.toFixed(2)}, ${s[0]!.toFixed(2)}–${s[s.length - 1]!.toFixed(2)}`;
  };
  process.stdout.write(
    `\nmodel wait / simulated wait at 70% utilisation or more (${ratios.regular.length} cases): the chain ${spread(ratios.regular)}; the chain, every arrival Poisson ${spread(ratios.poisson)}; open, every request as regular as its start ${spread(ratios.open)}; the simulator (that open queue bounded by the chain) ${spread(ratios.bounded)}\n`,
  );
}
