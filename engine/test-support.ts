/**
 * Shared helpers for the engine's tests (and the benchmark): plans built directly from the plan
 * types, and in-process HTTP servers on 127.0.0.1 that count what they receive. Not used by the CLI.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Journey, JourneyStep } from '../scenarios/journey.ts';
import type { Plan, PlanScenario } from '../scenarios/plan.ts';

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

/** A plan of `seconds` wall seconds at time scale `timeScale` (event time starts at 0). */
export function createTestPlan(
  scenarios: TestScenario[],
  seconds: number,
  opts: { timeScale?: number; seed?: number; arrivals?: 'even' | 'poisson' } = {},
): Plan {
  const ts = opts.timeScale ?? 1;
  const eventEnd = seconds * ts;
  const planScenarios: PlanScenario[] = scenarios.map((s) => {
    const [r0, r1] = typeof s.rate === 'number' ? [s.rate, s.rate] : s.rate;
    const channel = s.channel ?? 'web';
    return {
      id: `${channel}/${s.journey.name}`,
      channel,
      journey: s.journey.name,
      requestsPerIteration: s.journey.requestsPerIteration,
      times: [0, eventEnd],
      rates: [r0, r1],
      iterations: ((r0 + r1) / 2) * seconds,
      maxConcurrency: s.maxConcurrency ?? 400,
    };
  });
  const iterations = planScenarios.reduce((a, s) => a + s.iterations, 0);
  return {
    formatVersion: 1,
    profile: { name: 'test', hash: 'test', eventSeconds: eventEnd },
    seed: opts.seed ?? 1,
    eventStart: 0,
    eventEnd,
    timeScale: ts,
    durationSeconds: seconds,
    baselineRps: 0,
    peakRps: 0,
    arrivals: opts.arrivals ?? 'even',
    scenarios: planScenarios,
    journeys: Object.fromEntries(scenarios.map((s) => [s.journey.name, s.journey])),
    windows: [],
    bursts: [],
    iterations,
    requests: planScenarios.reduce((a, s) => a + s.iterations * s.requestsPerIteration, 0),
  };
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
