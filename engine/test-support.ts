/**
 * Shared helpers for the engine's tests (and the benchmark): plans built directly from the plan
 * types, and in-process HTTP servers on 127.0.0.1 that count what they receive. Not used by the CLI.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Journey, JourneyStep } from '../scenarios/journey.ts';
import type { Plan } from '../scenarios/plan.ts';
import { constructedPlan } from '../scenarios/test-plans.ts';

/** A scenario spec for `createTestPlan`: a constant (or two-point) rate for one journey. */
export interface TestScenario {
  channel?: string;
  journey: Journey;
  /** Iterations per wall second at the start and end (linear between). */
  rate: number | [number, number];
  maxConcurrency?: number;
}

/** A journey of GET steps. */
export function getJourney(name: string, paths: string[], extra: Partial<JourneyStep> = {}): Journey {
  return {
    name,
    steps: paths.map((p, i) => ({ name: `step-${i + 1}`, method: 'GET', path: p, ...extra })),
    requestsPerIteration: paths.length,
  };
}

/**
 * A plan of `seconds` wall seconds at time scale `timeScale` (event time starts at 0), built by the
 * simulator's `constructedPlan` so the engine and simulator tests share one way of making plans.
 */
export function createTestPlan(
  scenarios: TestScenario[],
  seconds: number,
  opts: { timeScale?: number; seed?: number; arrivals?: 'even' | 'poisson' } = {},
): Plan {
  const ts = opts.timeScale ?? 1;
  return constructedPlan(
    scenarios.map((s) => ({
      channel: s.channel ?? 'web',
      journey: s.journey,
      times: [0, seconds * ts],
      rates: typeof s.rate === 'number' ? [s.rate, s.rate] : [...s.rate],
      maxConcurrency: s.maxConcurrency ?? 400,
    })),
    { timeScale: ts, seed: opts.seed ?? 1, arrivals: opts.arrivals ?? 'even', profileName: 'test' },
  );
}

/** A running test server: its URL, what it received, and how to close it. */
export interface TestServer {
  url: string;
  server: Server;
  received: {
    count: number;
    requests: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[];
  };
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 (random port) with a handler; records every request (capped at 10,000). */
export async function startTestServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void = (_q, r) => {
    r.setHeader('content-type', 'application/json');
    r.end('{"ok":true}');
  },
): Promise<TestServer> {
  const received: TestServer['received'] = { count: 0, requests: [] };
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      received.count++;
      if (received.requests.length < 10_000)
        received.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    received,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
