/**
 * The engine's warm-up: before a run that starts fast, the engine plays a short plan of single GETs
 * against a throwaway HTTP server of its own on 127.0.0.1, so the request path (scheduler, HTTP client,
 * aggregator) is compiled before the clock starts. Nothing reaches the target.
 *
 * Why: a cold process put the first second of a 20,000/s start 150–260 ms behind its schedule
 * (scheduler lag p99 of that second), enough to mark a 20-s run invalid; after a 1-s warm-up the
 * same second's lag p99 was 21–42 ms, and the following seconds' 1–3 ms either way
 * (bench/engine.bench.ts section 3, 2026-11-25). Runs that start slower (engine.ts `warmsUpFirst`:
 * below WARM_UP_ABOVE_RPS, and not spinning) skip it: at those rates the compiler keeps up.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Journey } from '../scenarios/journey.ts';
import type { Plan } from '../scenarios/plan.ts';
import { startEngine } from './engine.ts';

/** What the warm-up did (for the run's notes). */
export interface WarmUpResult {
  seconds: number;
  requests: number;
}

/** Plays `seconds` of single GETs at `rate`/s (at most 20,000) against an in-process server. */
export async function warmUpEngine(plan: Plan, seconds: number, rate: number): Promise<WarmUpResult> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const r = Math.min(20_000, Math.max(1, rate));
  const journey: Journey = {
    name: 'warm-up',
    steps: [{ name: 'get', method: 'GET', path: '/' }],
    requestsPerIteration: 1,
  };
  const warm: Plan = {
    ...plan,
    eventStart: 0,
    eventEnd: seconds,
    timeScale: 1,
    durationSeconds: seconds,
    arrivals: 'even',
    scenarios: [
      {
        id: 'warm-up/warm-up',
        channel: 'warm-up',
        journey: 'warm-up',
        requestsPerIteration: 1,
        times: [0, seconds],
        rates: [r, r],
        iterations: r * seconds,
        maxConcurrency: 400,
      },
    ],
    journeys: { 'warm-up': journey },
    windows: [],
    bursts: [],
    iterations: r * seconds,
    requests: r * seconds,
  };
  delete warm.segment;
  try {
    const engine = await startEngine({
      plan: warm,
      target: new URL(`http://127.0.0.1:${port}`),
      scheduler: 'spin',
      gracefulStopMs: 1000,
    });
    const result = await engine.done;
    return { seconds, requests: result.totals.reduce((a, t) => a + t.requests, 0) };
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
