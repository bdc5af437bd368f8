import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readRun } from '../core/run-directory.ts';
import type { SeriesRecord } from '../core/run-format.ts';
import type { Journey } from '../scenarios/journey.ts';
import { createCircuitBreaker } from './abort-rules.ts';
import { startEngine, startingConnections, startingRate } from './engine.ts';
import type { HttpClient } from './http-client.ts';
import { type RunRequest, runBuiltin } from './run.ts';
import { createSummaryAccumulator } from './summary.ts';
import { createTestPlan, getJourney, startTestServer, type TestServer } from './test-support.ts';

const servers: TestServer[] = [];
afterEach(async () => {
  while (servers.length) await servers.pop()?.close();
});

async function server(handler?: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(handler);
  servers.push(s);
  return s;
}

function outDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'peakday-engine-')), 'run');
}

function run(req: Omit<RunRequest, 'outDir' | 'options'> & { outDir?: string }) {
  return runBuiltin({ outDir: outDir(), options: {}, noHandshake: true, ...req });
}

async function seriesOf(dir: string): Promise<SeriesRecord[]> {
  const out: SeriesRecord[] = [];
  for await (const r of readRun(dir).series()) out.push(r);
  return out;
}

/**
 * A client without a network that answers each request on the next turn of the event loop, with a
 * turn counter running on setImmediate: `perTurn` tells how many requests went out within one turn.
 */
function turnCountingClient(
  onSend: (req: Parameters<HttpClient['send']>[0], ctx: unknown, turn: number) => void,
): { client: HttpClient; perTurn: Map<number, number>; stopCounting: () => void } {
  let turn = 0;
  let turnsLeft = true;
  const perTurn = new Map<number, number>();
  const countTurns = () => {
    turn++;
    if (turnsLeft) setImmediate(countTurns);
  };
  setImmediate(countTurns);
  const client: HttpClient = {
    send(req, _wantBody, done, ctx) {
      perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
      onSend(req, ctx, turn);
      setImmediate(() =>
        done({ status: 200, setCookie: null, body: null, error: null, errorMessage: null, sentAt: 0 }, ctx),
      );
    },
    close: async () => undefined,
    destroy: async () => undefined,
  };
  return { client, perTurn, stopCounting: () => (turnsLeft = false) };
}

describe('the embedded engine', () => {
  it('starts the planned iterations and the server receives every request', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('browse', ['/a', '/b']), rate: 100 }], 3);
    const r = await run({ plan, target: new URL(s.url) });
    const planned = r.summary.iterations.planned;
    expect(planned).toBe(300);
    expect(Math.abs(r.summary.iterations.started - planned) / planned).toBeLessThanOrEqual(0.01);
    expect(r.summary.iterations.dropped).toBe(0);
    expect(r.summary.iterations.completed).toBe(r.summary.iterations.started);
    expect(r.summary.requests.total).toBe(s.received.count);
    expect(s.received.count).toBe(2 * r.summary.iterations.started);
    expect(r.summary.requests.byStatus['2xx']).toBe(s.received.count);
    expect(r.exitCode).toBe(0);
    // The series adds up to the summary, and every step has its own tag set.
    const series = await seriesOf(r.dir);
    const started = series.filter((x) => x.step === null).reduce((a, x) => a + (x.started ?? 0), 0);
    expect(started).toBe(r.summary.iterations.started);
    expect(new Set(series.filter((x) => x.step).map((x) => x.step))).toEqual(new Set(['step-1', 'step-2']));
    expect(readRun(r.dir).meta.endReason).toBe('completed');
    // The summary's latency (whole-run histograms from the engine) equals the merge of the series.
    const acc = createSummaryAccumulator();
    for (const x of series) acc.add(x);
    const fromSeries = acc.finish({ ...r.summary, planned, intendedStartLatency: true });
    expect(fromSeries.latency).toEqual(r.summary.latency);
  });

  it('counts dropped iterations when the server stalls and the concurrency cap is reached', async () => {
    const held: (() => void)[] = [];
    const s = await server((_q, res) => held.push(() => res.end('{}')));
    const plan = createTestPlan(
      [{ journey: getJourney('stall', ['/slow']), rate: 50, maxConcurrency: 5 }],
      2,
    );
    const release = setTimeout(() => {
      for (const h of held) h();
    }, 2300);
    const r = await run({ plan, target: new URL(s.url) });
    clearTimeout(release);
    expect(r.summary.iterations.started).toBe(5);
    expect(r.summary.iterations.dropped).toBe(r.summary.iterations.planned - 5);
    expect(r.summary.iterations.dropped).toBeGreaterThan(80);
    const series = await seriesOf(r.dir);
    expect(series.reduce((a, x) => a + (x.dropped ?? 0), 0)).toBe(r.summary.iterations.dropped);
  });

  it('shows a 1 s server stall in intended-start p99 but not in send-time p99 (coordinated omission)', async () => {
    let stalled = false;
    const s = await server((_q, res) => {
      if (!stalled && s.received.count === 60) {
        stalled = true;
        setTimeout(() => res.end('{}'), 1000);
      } else res.end('{}');
    });
    // One connection: while the stalled request holds it, later iterations wait for the connection
    // (as a closed-loop tool's users would), so only intended-start latency sees the wait.
    const plan = createTestPlan([{ journey: getJourney('co', ['/x']), rate: 50 }], 5);
    const r = await run({ plan, target: new URL(s.url), connections: 1 });
    const intended = r.summary.latency.intended?.overall;
    const send = r.summary.latency.send?.overall;
    expect(stalled).toBe(true);
    expect(intended?.p99).toBeGreaterThan(700);
    // Send-time p99 misses the wait (only the one stalled request took a second to answer).
    expect(send?.p99).toBeLessThan((intended?.p99 ?? 0) / 2);
    expect(send?.max).toBeGreaterThan(900);
  });

  // On an idle host. Under the whole suite on a shared 2-core VM it was invalid now and then for
  // the host's reasons, which the evidence now names: in one fresh-clone CI run, 17 of 240 starts
  // late with the hypervisor taking 12.6-14.7% of the host's CPU (steal). Retried, not loosened: a
  // verdict wrong three times in a row still fails.
  it('judges a 10-s low-rate run valid and says on what evidence', { retry: 2 }, async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('smoke', ['/s']), rate: 24 }], 10);
    const r = await run({ plan, target: new URL(s.url) });
    expect(r.summary.invalidReasons).toEqual([]);
    expect(r.summary.valid).toBe(true);
    const evidence = r.summary.validityEvidence?.join('\n') ?? '';
    expect(evidence).toMatch(/engine: \d+ of 240 iterations started more than 10 ms late/);
    expect(evidence).toMatch(/event-loop samples over 50 ms/);
    expect(evidence).toMatch(/runnable but waiting for a CPU \d+ ms of \d+ ms|CPU wait not measured/);
    const back = readRun(r.dir);
    const health = [];
    for await (const h of back.engine()) health.push(h);
    expect(health.every((h) => typeof h.lateStarts === 'number' && typeof h.loopStalls === 'number')).toBe(
      true,
    );
  });

  it('records why it is invalid when a busy loop starves it', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('busy', ['/b']), rate: 50 }], 3);
    let garbage: number[][] = [];
    const busy = setInterval(() => {
      const until = performance.now() + 300;
      while (performance.now() < until) {
        // starve the event loop the engine runs on, making garbage for its collector
        garbage.push(new Array(64).fill(0));
        if (garbage.length > 10_000) garbage = [];
      }
    }, 350);
    try {
      const r = await run({ plan, target: new URL(s.url) });
      expect(r.summary.valid).toBe(false);
      expect(r.meta.valid).toBe(false);
      expect(r.summary.invalidReasons.join('\n')).toMatch(
        /fell behind its schedule: engine: \d+ of \d+ iterations/,
      );
      expect(r.summary.invalidReasons.join('\n')).toMatch(/event loop stalled/);
      expect(r.summary.schedulerLag?.p99).toBeGreaterThan(50);
      // Whose the late starts were: the host's steal against the other seconds, the engine's GC pauses.
      expect(r.summary.invalidReasons.join('\n')).toMatch(
        /\(steal\) in the \d+ seconds? with late starts, .*; the engine's longest GC pause in those seconds was \d+\.\d ms/,
      );
      const health = [];
      for await (const h of readRun(r.dir).engine()) health.push(h);
      expect(health.some((h) => (h.gc?.ms ?? 0) > 0)).toBe(true);
      expect(health.every((h) => typeof h.steal === 'number' && h.steal >= 0 && h.steal <= 1)).toBe(true);
    } finally {
      clearInterval(busy);
    }
  });

  it('extracts, templates, keeps cookies and sends auth from the environment without writing it out', async () => {
    const secret = 'tok-9f8e7d-never-on-disk';
    const s = await server((req, res, body) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/carts' && req.method === 'POST') {
        res.setHeader('set-cookie', 'session=abc123; Path=/; HttpOnly');
        res.end(JSON.stringify({ id: `cart-${JSON.parse(body).channel}` }));
      } else res.end(JSON.stringify({ ok: true, items: [{ sku: 'SKU-1' }] }));
    });
    const journey: Journey = {
      name: 'add-to-cart',
      requestsPerIteration: 2,
      data: { sku: { pool: 'skus' } },
      auth: { header: 'Authorization', prefix: 'Bearer ', fromEnv: 'PEAKDAY_TEST_TOKEN' },
      steps: [
        {
          name: 'create-cart',
          method: 'POST',
          path: '/api/carts',
          body: { channel: '{{channel}}' },
          extract: { cartId: '$.id' },
        },
        {
          name: 'add-item',
          method: 'POST',
          path: '/api/carts/{{cartId}}/items',
          body: { sku: '{{sku}}', quantity: 2 },
          check: { status: [200], exists: ['$.items[0].sku'] },
        },
      ],
    };
    const plan = createTestPlan([{ journey, rate: 10, channel: 'social' }], 1);
    const r = await run({
      plan,
      target: new URL(s.url),
      env: { PEAKDAY_TEST_TOKEN: secret },
      pools: () => ({ skus: ['SKU-000042'] }),
    });
    expect(r.summary.requests.failed).toBe(0);
    const adds = s.received.requests.filter((x) => x.url.endsWith('/items'));
    expect(adds.length).toBe(r.summary.iterations.started);
    for (const a of adds) {
      expect(a.url).toBe('/api/carts/cart-social/items');
      expect(JSON.parse(a.body)).toEqual({ sku: 'SKU-000042', quantity: 2 });
      expect(a.headers.cookie).toBe('session=abc123');
      expect(a.headers.authorization).toBe(`Bearer ${secret}`);
    }
    for (const f of readdirSync(r.dir)) expect(readFileSync(join(r.dir, f), 'utf8')).not.toContain(secret);
  });

  it('fails a step whose check fails and ends its iteration', async () => {
    const s = await server((_q, res) => res.end('{"items":[]}'));
    const journey: Journey = {
      name: 'search',
      requestsPerIteration: 2,
      steps: [
        { name: 'search', method: 'GET', path: '/api/search?q=x', extract: { id: '$.items[0].id' } },
        { name: 'product', method: 'GET', path: '/api/products/{{id}}' },
      ],
    };
    const r = await run({ plan: createTestPlan([{ journey, rate: 10 }], 1), target: new URL(s.url) });
    expect(r.summary.requests.total).toBe(r.summary.iterations.started);
    expect(r.summary.requests.errors.check).toBe(r.summary.iterations.started);
    expect(r.summary.iterations.failed).toBe(r.summary.iterations.started);
    expect(s.received.requests.every((x) => x.url.startsWith('/api/search'))).toBe(true);
  });

  it('stops at the circuit breaker and records why', async () => {
    const s = await server((_q, res) => {
      res.statusCode = 503;
      res.end('{}');
    });
    const plan = createTestPlan([{ journey: getJourney('down', ['/x']), rate: 40 }], 20);
    const r = await run({
      plan,
      target: new URL(s.url),
      abortRules: [createCircuitBreaker({ maxErrorRate: 0.5, seconds: 2, minRequests: 5 })],
    });
    expect(r.exitCode).toBe(97);
    expect(r.meta.endReason).toBe('circuit-breaker');
    expect(r.meta.endDetail).toMatch(/answered 5xx: the target is failing/);
    expect(r.summary.partial).toBe(true);
    expect(r.summary.durationSeconds).toBeLessThan(10);
  });

  it('runs on through failed checks: the circuit breaker counts only overload', async () => {
    const s = await server((_q, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"other": 1}');
    });
    const journey = getJourney('checked', ['/x'], { check: { exists: ['$.items'] } });
    const r = await run({
      plan: createTestPlan([{ journey, rate: 20 }], 4),
      target: new URL(s.url),
      abortRules: [createCircuitBreaker({ maxErrorRate: 0.5, seconds: 2 })],
    });
    expect(r.meta.endReason).toBe('completed');
    expect(r.exitCode).toBe(0);
    expect(r.summary.requests.errors.check).toBe(r.summary.requests.total);
    expect(r.summary.requests.total).toBeGreaterThan(40);
  });

  it('stops the load when an abort rule itself fails', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('x', ['/x']), rate: 20 }], 20);
    const r = await run({
      plan,
      target: new URL(s.url),
      abortRules: [
        () => {
          throw new Error('budget file vanished');
        },
      ],
    });
    expect(r.meta.endReason).toBe('error');
    expect(r.meta.endDetail).toMatch(/abort rule failed: budget file vanished/);
    expect(r.summary.durationSeconds).toBeLessThan(10);
  });

  it('leaves a complete partial run when interrupted', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('long', ['/x']), rate: 20 }], 30);
    const r = await run({
      plan,
      target: new URL(s.url),
      onStart: (stop) => setTimeout(() => stop('interrupted'), 1500),
    });
    expect(r.exitCode).toBe(130);
    const back = readRun(r.dir);
    expect(back.meta.endReason).toBe('interrupted');
    expect(back.summary?.partial).toBe(true);
    expect(back.summary?.iterations.planned).toBe(600);
    expect(back.summary?.iterations.started).toBeGreaterThan(10);
    expect(back.summary?.iterations.started).toBeLessThan(200);
    expect(back.summary?.requests.total).toBe(s.received.count);
  });

  it("sleeps below the auto scheduler's spin rate, spins above it, and records which per second", async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('browse', ['/']), rate: 300 }], 2);
    const modes = async (req: Partial<RunRequest>) => {
      const r = await run({ plan, target: new URL(s.url), ...req });
      expect(r.summary.iterations.dropped).toBe(0);
      const out: (string | undefined)[] = [];
      for await (const h of readRun(r.dir).engine()) out.push(h.scheduler);
      return { modes: out, meta: readRun(r.dir).meta };
    };
    // 300 arrivals/s: under a 1,000/s threshold the scheduler only sleeps; over a 150/s one it spins
    // from its first 100-ms window on; 'sleep' never spins whatever the threshold.
    expect(new Set((await modes({ scheduler: 'auto', spinAboveRps: 1000 })).modes)).toEqual(
      new Set(['sleep']),
    );
    expect(new Set((await modes({ scheduler: 'auto', spinAboveRps: 150 })).modes)).toEqual(new Set(['spin']));
    expect(new Set((await modes({ scheduler: 'sleep', spinAboveRps: 150 })).modes)).toEqual(
      new Set(['sleep']),
    );
    expect(new Set((await modes({ scheduler: 'spin' })).modes)).toEqual(new Set(['spin']));
  });

  it("starts a stall's backlog in batches of at most 64, earliest first, yielding to I/O between them", async () => {
    // A client without a network answers on the next turn of the event loop; a turn counter running
    // on setImmediate tells how many requests went out within one turn.
    const pathsPerTurn = new Map<number, string[]>();
    const { client, perTurn, stopCounting } = turnCountingClient((req, _ctx, turn) => {
      pathsPerTurn.set(turn, [...(pathsPerTurn.get(turn) ?? []), req.path]);
    });
    const plan = createTestPlan(
      [
        { journey: getJourney('a', ['/a']), rate: 1000, maxConcurrency: 1000 },
        { channel: 'app', journey: getJourney('b', ['/b']), rate: 1000, maxConcurrency: 1000 },
      ],
      1,
    );
    const e = await startEngine({
      plan,
      target: new URL('http://127.0.0.1:9'),
      createClient: () => client,
      scheduler: 'sleep',
    });
    // The event loop is blocked for 300 ms right after the first arrivals: ~600 fall due at once.
    const end = performance.now() + 300;
    while (performance.now() < end) {
      // busy: the engine cannot run
    }
    const r = await e.done;
    stopCounting();
    const most = Math.max(...perTurn.values());
    expect(most).toBeLessThanOrEqual(64);
    expect(most).toBeGreaterThanOrEqual(32);
    // Nothing was dropped or lost, and the lag shows the stall.
    expect(r.totals.reduce((a, t) => a + t.started, 0)).toBe(2000);
    expect(r.totals.reduce((a, t) => a + t.dropped, 0)).toBe(0);
    expect(r.schedulerLag.maxValue / 1000).toBeGreaterThan(250);
    // Earliest first across scenarios: the first full batch after the stall holds both scenarios'
    // arrivals alike (scenario by scenario, it would hold 64 of the first one's).
    const batch = [...pathsPerTurn.values()].find((p) => p.length === most) ?? [];
    const a = batch.filter((p) => p === '/a').length;
    expect(Math.abs(a - (batch.length - a))).toBeLessThanOrEqual(1);
  });

  it('starts the arrivals due since a wake-up together and counts every one with its own due time', async () => {
    // 10,000 arrivals at 20,000/s through a client without a network that answers on the next turn
    // of the event loop; a turn counter running on setImmediate tells how many went out per turn.
    const intended: number[] = [];
    const { client, perTurn, stopCounting } = turnCountingClient((_req, ctx) => {
      intended.push((ctx as { intendedMs: number }).intendedMs);
    });
    const plan = createTestPlan(
      [
        {
          journey: getJourney('a', ['/a'], { check: { status: [200] } }),
          rate: 20_000,
          maxConcurrency: 10_000,
        },
      ],
      0.5,
    );
    const e = await startEngine({
      plan,
      target: new URL('http://127.0.0.1:9'),
      createClient: () => client,
      scheduler: 'sleep',
      preconnect: 0,
    });
    const r = await e.done;
    stopCounting();
    const t = r.totals[0];
    expect(t?.planned).toBe(10_000);
    expect(t?.started).toBe(10_000);
    expect(t?.completed).toBe(10_000);
    expect(t?.requests).toBe(10_000);
    expect(t?.status['2xx']).toBe(10_000);
    expect(t?.latency.totalCount).toBe(10_000);
    expect(r.schedulerLag.totalCount).toBe(10_000);
    expect(r.threadEvidence.started).toBe(10_000);
    // Each request's intended start is its own arrival's due time (every 50 µs), not its batch's.
    expect(new Set(intended).size).toBe(10_000);
    for (let i = 1; i < intended.length; i++)
      expect((intended[i] as number) - (intended[i - 1] as number)).toBeCloseTo(0.05, 6);
    // Sent in batches: on average several requests per turn that sent any.
    expect(10_000 / perTurn.size).toBeGreaterThanOrEqual(4);
  });

  it('opens connections before the clock starts, and warms up without touching the target', async () => {
    const s = await server();
    let connections = 0;
    let connectionsAtFirstRequest = -1;
    s.server.on('connection', () => connections++);
    s.server.on('request', () => {
      if (connectionsAtFirstRequest < 0) connectionsAtFirstRequest = connections;
    });
    const plan = createTestPlan([{ journey: getJourney('browse', ['/']), rate: 200 }], 1);
    // A spin rate of 100/s makes this 200/s plan a fast start: the engine warms up by default.
    const r = await run({ plan, target: new URL(s.url), preconnect: 6, spinAboveRps: 100 });
    const notes = readRun(r.dir).meta.notes.join('\n');
    expect(connectionsAtFirstRequest).toBeGreaterThanOrEqual(6);
    expect(notes).toMatch(/6 connections were opened to the target before the clock started/);
    const warm = /warmed up for 1 s before the clock started: (\d+) requests to an in-process server/.exec(
      notes,
    );
    expect(Number(warm?.[1])).toBeGreaterThan(50);
    expect(s.received.count).toBe(r.summary.requests.total);
    expect(r.summary.requests.total).toBe(200);

    // Neither when asked for none.
    const quiet = await server();
    const q = await run({
      plan,
      target: new URL(quiet.url),
      preconnect: 0,
      warmUpSeconds: 0,
      spinAboveRps: 100,
    });
    expect(readRun(q.dir).meta.notes.join('\n')).not.toMatch(/before the clock started/);
  });

  it("sizes the connections opened beforehand on the plan's starting rate", () => {
    const ramp = createTestPlan(
      [
        { journey: getJourney('a', ['/']), rate: [1000, 3000] },
        { channel: 'app', journey: getJourney('b', ['/']), rate: 500 },
      ],
      10,
    );
    // Rates one wall second in: 1,200/s and 500/s; 20 ms of 1,700/s is 34 connections.
    expect(startingRate(ramp)).toBeCloseTo(1700, 6);
    expect(startingConnections(ramp)).toBe(34);
    expect(startingConnections(createTestPlan([{ journey: getJourney('a', ['/']), rate: 1 }], 10))).toBe(1);
  });

  it('plays poisson arrivals reproducibly for a seed', async () => {
    const s = await server();
    const plan = createTestPlan([{ journey: getJourney('p', ['/p']), rate: 100 }], 2, {
      arrivals: 'poisson',
      seed: 7,
    });
    const a = await run({ plan, target: new URL(s.url) });
    const b = await run({ plan, target: new URL(s.url) });
    expect(a.summary.iterations.planned).toBe(b.summary.iterations.planned);
    expect(a.summary.iterations.planned).not.toBe(200);
    expect(Math.abs(a.summary.iterations.planned - 200)).toBeLessThan(60);
  });
});

describe('closed-loop mode', () => {
  it('keeps exactly the given number of iterations in flight through the same request path', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const s = await server((_q, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.end('{}');
      }, 20);
    });
    const plan = createTestPlan([{ journey: getJourney('loop', ['/l']), rate: 1, maxConcurrency: 10 }], 2);
    const r = await run({ plan, target: new URL(s.url), closedLoop: { vus: 3 } });
    expect(maxInFlight).toBe(3);
    expect(r.summary.requests.total).toBe(s.received.count);
    expect(r.summary.requests.total).toBeGreaterThan(10);
    expect(r.summary.iterations.dropped).toBe(0);
    expect(r.summary.schedulerLag).toBeNull();
  });
});
