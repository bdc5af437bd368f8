/**
 * Events on AWS at the wire level: the headless stack runs in this process as the CDK stack
 * configures its tasks (no local bus; DynamoDB tables in dynalite; every publishing service's
 * outbox delivered with PutEvents, every consuming service reading its SQS queue), against the
 * project's local AWS endpoint (telemetry/test-aws-server.ts), whose EventBridge rules route to the
 * queues from the same routes the CDK rules are built from (reference-stack/bus/routes.ts). A
 * checkout's events go PutEvents -> rule -> SQS -> consumer -> the domain's effect; a repeated
 * delivery has no second effect; a message no consumer can read goes to the dead-letter queue.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_SOURCE, eventRoutes } from '../reference-stack/bus/routes.ts';
import { type DynamoStore, openDynamoStore } from '../reference-stack/store/dynamodb.ts';
import { type FakeAwsServer, startFakeAws } from '../telemetry/test-aws-server.ts';
import { startDynalite, type TestDynamo } from './dynalite-helper.ts';
import { startTestStack, type TestStack } from './stack-helper.ts';

const BUS = 'peakday-headless';
const MAX_RECEIVES = 3;

let aws: FakeAwsServer;
let dynalite: TestDynamo;
let stack: TestStack;
let store: DynamoStore;

beforeAll(async () => {
  const routes = eventRoutes();
  aws = await startFakeAws({
    cluster: 'peakday-headless',
    services: [],
    metric: () => undefined,
    activities: [],
    queues: routes.flatMap((r) => [
      { name: `${r.consumer}-dlq` },
      {
        name: `${r.consumer}-events`,
        visibilityTimeoutSeconds: 30,
        redrive: { deadLetterQueue: `${r.consumer}-dlq`, maxReceiveCount: MAX_RECEIVES },
      },
    ]),
    eventRules: routes.map((r) => ({
      eventBusName: BUS,
      source: EVENT_SOURCE,
      detailTypes: r.detailTypes,
      queue: `${r.consumer}-events`,
    })),
  });
  dynalite = await startDynalite();
  store = await openDynamoStore(dynalite.config);
  stack = await startTestStack('headless', {
    dynamodb: dynalite.config,
    awsEvents: {
      endpoint: aws.url,
      region: 'us-east-1',
      busName: BUS,
      queueUrls: Object.fromEntries(routes.map((r) => [r.consumer, aws.queueUrl(`${r.consumer}-events`)])),
      waitSeconds: 20,
      retryBaseSeconds: 0,
    },
  });
}, 180_000);

afterAll(async () => {
  await stack?.stop();
  store?.close();
  await aws?.close();
  await dynalite?.stop();
});

async function call(path: string, method = 'GET', body?: unknown, headers: Record<string, string> = {}) {
  const r = await fetch(`${stack.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const ops = (name: string) => aws.requests.filter((r) => r.operation === name);

describe('events on AWS: outbox -> PutEvents -> rule -> SQS -> consumer', () => {
  it('runs no local bus, and gives the bus and queues only to the services that publish and consume', () => {
    expect(stack.services.bus).toBeUndefined();
    for (const s of ['cart', 'search', 'pricing'] as const)
      expect(stack.services[s]?.queueConsumer).toBeDefined();
    for (const s of ['catalog', 'inventory', 'orders', 'checkout', 'gateway'] as const)
      expect(stack.services[s]?.queueConsumer).toBeUndefined();
    // Catalog and checkout publish nothing: no relay reading the events table they have no grant on.
    expect(stack.services.catalog?.relay).toBeUndefined();
    expect(stack.services.checkout?.relay).toBeUndefined();
    expect(stack.services.orders?.relay).toBeDefined();
  });

  it("delivers a checkout's events to their consumers' queues, applies them once and deletes the messages", {
    timeout: 120_000,
  }, async () => {
    const products = await call('/api/products?page=1&limit=1');
    const sku = (products.body.items as { sku: string }[])[0]!.sku;
    const cart = await call('/api/carts', 'POST', { channel: 'web' });
    const cartId = cart.body.id as string;
    expect((await call(`/api/carts/${cartId}/items`, 'POST', { sku, quantity: 1 })).status).toBe(200);
    const checkout = await call(
      '/api/checkout',
      'POST',
      { cartId, paymentToken: 'tok_ok' },
      { 'idempotency-key': 'aws-ev-1' },
    );
    expect(checkout.status).toBe(201);
    const orderId = checkout.body.orderId as string;
    const placed = `OrderPlaced:${orderId}`;

    // OrderPlaced goes to cart and search; cart's consumer closes the cart, search's counts the sale.
    const cartMarker = await until('cart to apply OrderPlaced', () =>
      store.get('events', { consumer: 'cart', eventId: placed }),
    );
    const searchMarker = await until('search to apply OrderPlaced', () =>
      store.get('events', { consumer: 'search', eventId: placed }),
    );
    expect(cartMarker.type).toBe('OrderPlaced');
    expect(searchMarker).toMatchObject({ counter: 'sold' });
    expect((await store.get('carts', { cartId }))?.status).toBe('ordered');
    // InventoryReserved went to search only (its rule's detail types).
    const reserved = await until('search to apply InventoryReserved', async () =>
      (await store.query('events', 'consumer = :c', { values: { ':c': 'search' } })).find(
        (i) => i.type === 'InventoryReserved',
      ),
    );
    expect(
      await store.get('events', { consumer: 'cart', eventId: String(reserved.eventId) }),
    ).toBeUndefined();

    // On the wire: PutEvents carried the events (at most 10 a request), and every message was deleted.
    const put = ops('AWSEvents.PutEvents').flatMap(
      (r) => r.body.Entries as { DetailType: string; Detail: string; EventBusName: string }[],
    );
    expect(put.find((e) => JSON.parse(e.Detail).id === placed)).toMatchObject({
      EventBusName: BUS,
      DetailType: 'OrderPlaced',
    });
    expect(
      Math.max(...ops('AWSEvents.PutEvents').map((r) => (r.body.Entries as unknown[]).length)),
    ).toBeLessThanOrEqual(10);
    await until('the queues to drain', async () =>
      ['cart', 'search'].every((c) => aws.messages(`${c}-events`).length === 0) ? true : undefined,
    );
    expect(ops('AmazonSQS.DeleteMessage').length).toBeGreaterThanOrEqual(3);
    // The outbox is empty: every event was delivered, then logged as published.
    const outbox = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        store.query('events', 'consumer = :c', { values: { ':c': `outbox#${k}` } }),
      ),
    );
    expect(outbox.flat()).toEqual([]);
    expect(await store.get('events', { consumer: 'published', eventId: placed })).toBeDefined();
  });

  it('drops a repeated delivery (SQS and EventBridge deliver at least once) and deletes it', {
    timeout: 60_000,
  }, async () => {
    const published = await store.query('events', 'consumer = :c', { values: { ':c': 'published' } });
    const placed = published.find((i) => i.type === 'OrderPlaced')!;
    const event = {
      id: placed.eventId,
      type: placed.type,
      at: placed.at,
      payload: JSON.parse(String(placed.payload)),
    };
    const searchBefore = (await store.query('events', 'consumer = :c', { values: { ':c': 'search' } }))
      .length;
    const handledBefore = stack.services.search!.queueConsumer!.stats().handled;
    // The same envelope again, as a second delivery of the rule would put it.
    const { SQSClient, SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: aws.url,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: aws.queueUrl('search-events'),
          MessageBody: JSON.stringify({
            version: '0',
            id: 'again',
            'detail-type': event.type,
            source: EVENT_SOURCE,
            detail: event,
          }),
        }),
      );
    } finally {
      sqs.destroy();
    }
    await until('search to handle the repeat', async () =>
      stack.services.search!.queueConsumer!.stats().handled > handledBefore &&
      aws.messages('search-events').length === 0
        ? true
        : undefined,
    );
    expect((await store.query('events', 'consumer = :c', { values: { ':c': 'search' } })).length).toBe(
      searchBefore,
    );
    expect(stack.services.search!.takeStats().eventsDuplicate).toBeGreaterThanOrEqual(1);
  });

  it('leaves a message no consumer can read to its retries, then SQS moves it to the dead-letter queue', {
    timeout: 60_000,
  }, async () => {
    const { SQSClient, SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint: aws.url,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    try {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: aws.queueUrl('pricing-events'), MessageBody: 'not an event' }),
      );
    } finally {
      sqs.destroy();
    }
    const dead = await until('the message to reach the DLQ', async () => aws.messages('pricing-dlq')[0]);
    expect(dead).toMatchObject({ body: 'not an event', receiveCount: MAX_RECEIVES });
    expect(aws.messages('pricing-events')).toEqual([]);
    expect(stack.services.pricing!.queueConsumer!.stats().malformed).toBe(MAX_RECEIVES);
    expect(ops('AmazonSQS.ChangeMessageVisibility').length).toBeGreaterThanOrEqual(MAX_RECEIVES);
  });
});

describe("the local AWS endpoint's SQS errors, as the SDK reads them", () => {
  it('names a missing queue, an invalid receipt handle and a message not in flight as SQS does', async () => {
    const sqs = await import('@aws-sdk/client-sqs');
    const client = new sqs.SQSClient({
      region: 'us-east-1',
      endpoint: aws.url,
      credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
    });
    try {
      await expect(
        client.send(new sqs.ReceiveMessageCommand({ QueueUrl: `${aws.url}/123456789012/nope` })),
      ).rejects.toMatchObject({ name: 'QueueDoesNotExist', $metadata: { httpStatusCode: 400 } });
      const url = aws.queueUrl('cart-dlq');
      await expect(
        client.send(new sqs.DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: 'garbage' })),
      ).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid', $metadata: { httpStatusCode: 404 } });
      await client.send(new sqs.SendMessageCommand({ QueueUrl: url, MessageBody: 'x' }));
      const got = await client.send(new sqs.ReceiveMessageCommand({ QueueUrl: url, VisibilityTimeout: 0 }));
      const handle = got.Messages![0]!.ReceiptHandle!;
      await expect(
        client.send(
          new sqs.ChangeMessageVisibilityCommand({
            QueueUrl: url,
            ReceiptHandle: handle,
            VisibilityTimeout: 5,
          }),
        ),
      ).rejects.toMatchObject({ name: 'MessageNotInflight' });
      await expect(
        client.send(new sqs.ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 11 })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterValue',
        message: expect.stringMatching(/MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10/),
        $metadata: { httpStatusCode: 400 },
      });
    } finally {
      client.destroy();
    }
  });
});
