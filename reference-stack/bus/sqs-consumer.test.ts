/**
 * The pure parts of the SQS consumer: reading the domain event out of EventBridge's envelope, and the
 * retry backoff. The consumer against SQS's wire protocol is tested in test/aws-events.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../domain/context.ts';
import { parseEventBridgeMessage, retryVisibilitySeconds } from './sqs-consumer.ts';

const event: DomainEvent = {
  id: 'OrderPlaced:o-1',
  type: 'OrderPlaced',
  at: 12.5,
  payload: { orderId: 'o-1', items: [{ sku: 'SKU-000001', quantity: 1 }] },
};
const envelope = (detail: unknown, detailType: unknown = 'OrderPlaced') =>
  JSON.stringify({
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': detailType,
    source: 'peakday',
    account: '123456789012',
    time: '2026-11-27T08:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail,
  });

describe('parseEventBridgeMessage', () => {
  it('returns the domain event a rule delivered in the envelope', () => {
    expect(parseEventBridgeMessage(envelope(event))).toEqual(event);
  });

  it.each([
    ['a body that is not JSON', 'OrderPlaced:o-1'],
    ['an envelope without a detail', envelope(undefined)],
    ['a detail without an id', envelope({ ...event, id: undefined })],
    ['a detail of an unknown type', envelope({ ...event, type: 'Refunded' }, 'Refunded')],
    ['a detail-type that disagrees with the event', envelope(event, 'PriceChanged')],
    ['a detail without a payload', envelope({ ...event, payload: null })],
    ['a JSON string', JSON.stringify('hello')],
  ])('refuses %s', (_, body) => {
    expect(parseEventBridgeMessage(body)).toBeUndefined();
  });
});

describe('retryVisibilitySeconds', () => {
  it('doubles from the base with each receive, up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryVisibilitySeconds(n, 2, 60))).toEqual([
      2, 4, 8, 16, 32, 60, 60,
    ]);
    expect(retryVisibilitySeconds(0, 2, 60)).toBe(2);
    expect(retryVisibilitySeconds(3, 0, 60)).toBe(0);
  });
});
