/**
 * The EventBridge adapter at the wire level: the real AWS SDK client against a small HTTP endpoint in
 * this test speaking EventBridge's AWS JSON 1.1 protocol (`x-amz-target: AWSEvents.PutEvents`), which
 * accepts or fails entries as scripted and records every request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../domain/context.ts';
import { createEventBridgePublisher, MAX_ENTRIES_PER_REQUEST } from './eventbridge.ts';

interface Entry {
  EventBusName: string;
  Source: string;
  DetailType: string;
  Detail: string;
}

let server: Server;
let endpoint: string;
/** Entries per request, in arrival order. */
let requests: Entry[][] = [];
/** Event ids accepted (once each, or more if the adapter resent an accepted entry). */
let accepted: string[] = [];
/** Times each event id is still to fail. */
let failures = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries: Entry[] };
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      if (req.headers['x-amz-target'] !== 'AWSEvents.PutEvents')
        return reply(400, { __type: 'UnknownOperationException', message: 'not PutEvents' });
      if (body.Entries.length > 10)
        return reply(400, { __type: 'ValidationException', message: 'at most 10 entries' });
      requests.push(body.Entries);
      let failed = 0;
      const entries = body.Entries.map((e) => {
        const id = (JSON.parse(e.Detail) as DomainEvent).id;
        const left = failures.get(id) ?? 0;
        if (left > 0) {
          failures.set(id, left - 1);
          failed++;
          return { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' };
        }
        accepted.push(id);
        return { EventId: `eb-${accepted.length}` };
      });
      reply(200, { FailedEntryCount: failed, Entries: entries });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  requests = [];
  accepted = [];
  failures = new Map();
});

const events = (n: number): DomainEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    id: `OrderPlaced:o-${i + 1}`,
    type: 'OrderPlaced' as const,
    at: i,
    payload: { orderId: `o-${i + 1}`, items: [{ sku: 'SKU-000001', quantity: 1 }] },
  }));

async function publisher(delays: number[] = []) {
  return createEventBridgePublisher({
    busName: 'peakday-headless',
    region: 'us-east-1',
    endpoint,
    maxAttempts: 4,
    sleep: async (ms) => {
      delays.push(ms);
    },
  });
}

describe('the EventBridge publisher', () => {
  it('sends at most 10 entries per PutEvents, in order, each event whole in its detail', async () => {
    const p = await publisher();
    const sent = events(23);
    await p.publish(sent);
    p.close();
    expect(requests.map((r) => r.length)).toEqual([10, 10, 3]);
    expect(Math.max(...requests.map((r) => r.length))).toBeLessThanOrEqual(MAX_ENTRIES_PER_REQUEST);
    expect(accepted).toEqual(sent.map((e) => e.id));
    const first = requests[0]![0]!;
    expect(first).toMatchObject({
      EventBusName: 'peakday-headless',
      Source: 'peakday',
      DetailType: 'OrderPlaced',
    });
    expect(JSON.parse(first.Detail)).toEqual(sent[0]);
  });

  it('resends only the failed entries of a partial failure, with growing backoff, until each is accepted once', async () => {
    failures.set('OrderPlaced:o-3', 2);
    failures.set('OrderPlaced:o-11', 1);
    const delays: number[] = [];
    const p = await publisher(delays);
    await p.publish(events(12));
    const stats = p.stats();
    p.close();
    expect(requests.map((r) => r.map((e) => (JSON.parse(e.Detail) as DomainEvent).id.slice(12)))).toEqual([
      ['o-1', 'o-2', 'o-3', 'o-4', 'o-5', 'o-6', 'o-7', 'o-8', 'o-9', 'o-10'],
      ['o-3'],
      ['o-3'],
      ['o-11', 'o-12'],
      ['o-11'],
    ]);
    // Every event accepted exactly once.
    expect([...accepted].sort()).toEqual(
      events(12)
        .map((e) => e.id)
        .sort(),
    );
    expect(new Set(accepted).size).toBe(accepted.length);
    expect(stats).toMatchObject({ requests: 5, entriesFailed: 3, retries: 3 });
    // Backoff: 50 ms then 100 ms (+ up to 50% jitter) for o-3, 50 ms again for o-11's batch.
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThan(75);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThan(150);
  });

  it('rejects, naming the error, when an entry keeps failing (the relay keeps it in the outbox)', async () => {
    failures.set('OrderPlaced:o-2', 99);
    const p = await publisher();
    await expect(p.publish(events(3))).rejects.toThrow(
      /EventBridge refused 1 of 3 events after 4 attempts \(ThrottlingException\)/,
    );
    p.close();
    expect(requests.map((r) => r.length)).toEqual([3, 1, 1, 1]);
    expect(accepted).toEqual(['OrderPlaced:o-1', 'OrderPlaced:o-3']);
  });
});
