import { describe, expect, it } from 'vitest';
import { createRng } from '../core/rng.ts';
import type { Journey } from '../scenarios/journey.ts';
import { Aggregator } from './aggregator.ts';
import type { HttpClient, HttpOutcome, OutgoingRequest } from './http-client.ts';
import { createIterationRunner, type RunnerScenario } from './iteration-runner.ts';
import { compileJourney } from './journey-program.ts';
import { getJourney } from './test-support.ts';

/** A client answering from a function, on the next microtask; it keeps what it was sent. */
function fakeClient(
  answer: (r: OutgoingRequest) => Partial<HttpOutcome>,
): HttpClient & { sent: OutgoingRequest[] } {
  const sent: OutgoingRequest[] = [];
  return {
    sent,
    send(req, _wantBody, done, ctx) {
      sent.push(req);
      const o: HttpOutcome = {
        status: 200,
        setCookie: null,
        body: null,
        error: null,
        errorMessage: null,
        sentAt: 0,
        ...answer(req),
      };
      queueMicrotask(() => done(o, ctx));
    },
    close: async () => undefined,
    destroy: async () => undefined,
  };
}

function setUp(journey: Journey, client: HttpClient, maxConcurrency = 10, now = () => 0) {
  const scenario: RunnerScenario = {
    journey: compileJourney(journey, { rng: createRng(1), timeScale: 1, pools: () => ({}) }),
    maxConcurrency,
    inFlight: 0,
  };
  const agg = new Aggregator([
    { channel: 'web', journey: journey.name, steps: journey.steps.map((s) => s.name) },
  ]);
  const ended: number[] = [];
  const runner = createIterationRunner({
    scenarios: [scenario],
    agg,
    client,
    basePath: '/base',
    now,
    recordLag: true,
    lateUs: 10_000,
    onIterationEnd: (si) => ended.push(si),
  });
  return { runner, agg, ended, slot: agg.scenarios[0] as (typeof agg.scenarios)[number] };
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('the iteration runner', () => {
  it('runs the steps in order, templating what an earlier step extracted', async () => {
    const journey: Journey = {
      name: 'cart',
      requestsPerIteration: 2,
      steps: [
        { name: 'create', method: 'POST', path: '/carts', extract: { cartId: '$.id' } },
        { name: 'add', method: 'POST', path: '/carts/{{cartId}}/items' },
      ],
    };
    const client = fakeClient((r) =>
      r.path === '/base/carts' ? { body: Buffer.from('{"id":"c-42"}') } : {},
    );
    const { runner, slot, ended } = setUp(journey, client);
    runner.startIteration(0, 0);
    await tick();
    expect(client.sent.map((r) => r.path)).toEqual(['/base/carts', '/base/carts/c-42/items']);
    expect(ended).toEqual([0]);
    expect(slot.completed).toBe(1);
    expect(slot.failedIterations).toBe(0);
    expect(runner.inFlight()).toBe(0);
  });

  it('ends an iteration at its first failed step', async () => {
    const client = fakeClient(() => ({ status: 503 }));
    const { runner, slot, ended } = setUp(getJourney('j', ['/a', '/b']), client);
    runner.startIteration(0, 0);
    await tick();
    expect(client.sent).toHaveLength(1);
    expect(ended).toEqual([0]);
    expect(slot.failedIterations).toBe(1);
  });

  it('drops an iteration at the concurrency cap and counts it', async () => {
    const client = fakeClient(() => ({}));
    const { runner, slot } = setUp(getJourney('j', ['/a']), client, 1);
    runner.startIteration(0, 0);
    runner.startIteration(0, 0);
    expect(slot.planned).toBe(2);
    expect(slot.started).toBe(1);
    expect(slot.dropped).toBe(1);
    await tick();
  });

  it('counts a start later than the bound as late, and every start in the lag histograms', async () => {
    let now = 0;
    const client = fakeClient(() => ({}));
    const { runner } = setUp(getJourney('j', ['/a']), client, 10, () => now);
    now = 5;
    runner.startIteration(0, 0);
    now = 30;
    runner.startIteration(0, 0);
    expect(runner.late).toEqual({ second: 1, total: 1, started: 2 });
    expect(runner.lag.total.totalCount).toBe(2);
    expect(runner.lag.total.maxValue).toBeGreaterThanOrEqual(30_000);
    await tick();
  });
});
