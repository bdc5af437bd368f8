/**
 * The consuming side of events on AWS: a service whose modules consume events reads the SQS queue
 * its EventBridge rule targets (infra/reference-stack/stack.ts: one rule and one queue per consumer,
 * the queue's dead-letter queue after 5 receives), the way the local HTTP bus POSTs to
 * `/internal/events`.
 *
 * - Long-polls `ReceiveMessage` (up to 10 messages, 20 s wait), one loop per task.
 * - Each message body is EventBridge's envelope (`version`, `id`, `detail-type`, `source`, `time`,
 *   `detail`...); its `detail` is the domain event whole, as the publisher put it (eventbridge.ts).
 * - The handler applies it idempotently (consumers drop repeats by event id: EventBridge and SQS
 *   deliver at least once), then the message is deleted (`DeleteMessage`). A delete that fails
 *   leaves the message to come back and be dropped as a repeat.
 * - A handler that throws, or a body that is not a domain event, leaves the message in the queue:
 *   `ChangeMessageVisibility` hides it for a backoff that grows with its receive count
 *   (base × 2^(n−1), capped), and after the queue's maximum receives SQS moves it to the
 *   dead-letter queue, where an alarm watches it.
 * - A failed receive (throttling, network) waits with exponential backoff (0.5 s to 20 s) and polls
 *   again; `stop` aborts the long poll and waits for the message in hand.
 *
 * The AWS SDK is imported when the consumer is created, never by a stack on the local bus.
 */
// Types only: erased at run time, so nothing loads the SDK before `startSqsConsumer`.
import type { Message } from '@aws-sdk/client-sqs';
import type { DomainEvent, EventType } from '../domain/context.ts';
import { SUBSCRIPTIONS } from '../domain/context.ts';

/** Where to read and what to do with each event. */
export interface SqsConsumerOptions {
  queueUrl: string;
  region: string;
  /** Endpoint URL (a local AWS endpoint in tests); absent on AWS. */
  endpoint?: string;
  /** Applies one event idempotently; throws to have the message retried later. */
  handle(event: DomainEvent): Promise<void>;
  /** Long-poll wait, seconds (default 20, SQS's maximum). */
  waitSeconds?: number;
  /** Messages per receive (default 10, SQS's maximum). */
  maxMessages?: number;
  /** Visibility before the n-th retry of a failed message: min(max, base × 2^(n−1)) s (default 2 and 60). */
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  /** Told of every failure (one line each); default: stderr. */
  log?: (line: string) => void;
}

/** What the consumer did, since it started. */
export interface SqsConsumerStats {
  receives: number;
  received: number;
  handled: number;
  /** Handler failures (messages left for a retry). */
  failed: number;
  /** Bodies that are not a domain event (left for the dead-letter queue). */
  malformed: number;
  receiveErrors: number;
}

/** A running consumer. */
export interface SqsConsumer {
  stats(): SqsConsumerStats;
  /** Stops polling (aborts the long poll), waits for the message in hand, closes the client. */
  stop(): Promise<void>;
}

const EVENT_TYPES = new Set(Object.keys(SUBSCRIPTIONS));

/**
 * The domain event in an SQS message body written by an EventBridge rule (the envelope's `detail`),
 * or undefined when the body is not one (not JSON, no detail, a detail that is not a domain event,
 * or a `detail-type` that disagrees with it).
 */
export function parseEventBridgeMessage(body: string): DomainEvent | undefined {
  let envelope: unknown;
  try {
    envelope = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof envelope !== 'object' || envelope === null) return undefined;
  const { detail, 'detail-type': detailType } = envelope as { detail?: unknown; 'detail-type'?: unknown };
  if (typeof detail !== 'object' || detail === null) return undefined;
  const e = detail as Partial<DomainEvent>;
  if (typeof e.id !== 'string' || e.id === '') return undefined;
  if (typeof e.type !== 'string' || !EVENT_TYPES.has(e.type)) return undefined;
  if (detailType !== undefined && detailType !== e.type) return undefined;
  if (typeof e.at !== 'number' || typeof e.payload !== 'object' || e.payload === null) return undefined;
  return { id: e.id, type: e.type as EventType, at: e.at, payload: e.payload as Record<string, unknown> };
}

/** The visibility timeout (s) before retrying a message received `receiveCount` times. */
export function retryVisibilitySeconds(
  receiveCount: number,
  baseSeconds: number,
  maxSeconds: number,
): number {
  const n = Math.max(1, Math.floor(receiveCount));
  return Math.min(maxSeconds, Math.round(baseSeconds * 2 ** (n - 1)));
}

/** Creates the consumer (loads the SQS client) and starts its polling loop. */
export async function startSqsConsumer(options: SqsConsumerOptions): Promise<SqsConsumer> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const sqs = await import('@aws-sdk/client-sqs');
  const client = new sqs.SQSClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const QueueUrl = options.queueUrl;
  const waitSeconds = options.waitSeconds ?? 20;
  const maxMessages = options.maxMessages ?? 10;
  const base = options.retryBaseSeconds ?? 2;
  const max = options.retryMaxSeconds ?? 60;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const stats: SqsConsumerStats = {
    receives: 0,
    received: 0,
    handled: 0,
    failed: 0,
    malformed: 0,
    receiveErrors: 0,
  };
  const abort = new AbortController();
  let stopped = false;
  const errorText = (e: unknown) => `${(e as Error).name ?? 'Error'}: ${(e as Error).message ?? String(e)}`;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      });
    });

  /** Hides a message for its backoff; SQS redrives it to the DLQ after the queue's max receives. */
  const retryLater = async (m: Message) => {
    const count = Number(m.Attributes?.ApproximateReceiveCount ?? 1);
    try {
      await client.send(
        new sqs.ChangeMessageVisibilityCommand({
          QueueUrl,
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: retryVisibilitySeconds(count, base, max),
        }),
      );
    } catch (e) {
      // Its visibility timeout ran out already (MessageNotInflight): it comes back on its own.
      log(`sqs consumer: could not delay the retry of a message on ${QueueUrl}: ${errorText(e)}`);
    }
  };

  const processMessage = async (m: Message) => {
    const event = parseEventBridgeMessage(m.Body ?? '');
    if (!event) {
      stats.malformed++;
      log(
        `sqs consumer: message ${m.MessageId} on ${QueueUrl} is not a domain event from EventBridge; left for the dead-letter queue`,
      );
      await retryLater(m);
      return;
    }
    try {
      await options.handle(event);
    } catch (e) {
      stats.failed++;
      log(`sqs consumer: ${event.type} ${event.id} failed, retried later: ${errorText(e)}`);
      await retryLater(m);
      return;
    }
    stats.handled++;
    try {
      await client.send(new sqs.DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    } catch (e) {
      log(
        `sqs consumer: could not delete ${event.id} (it comes back and is dropped as a repeat): ${errorText(e)}`,
      );
    }
  };

  const loop = async () => {
    let backoffMs = 0;
    while (!stopped) {
      let messages: Message[] | undefined;
      try {
        stats.receives++;
        const out = await client.send(
          new sqs.ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: maxMessages,
            WaitTimeSeconds: waitSeconds,
            MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          }),
          { abortSignal: abort.signal },
        );
        messages = out.Messages;
        backoffMs = 0;
      } catch (e) {
        if (stopped) return;
        stats.receiveErrors++;
        backoffMs = Math.min(20_000, backoffMs === 0 ? 500 : backoffMs * 2);
        log(
          `sqs consumer: receive from ${QueueUrl} failed, polling again in ${backoffMs} ms: ${errorText(e)}`,
        );
        await pause(backoffMs);
        continue;
      }
      for (const m of messages ?? []) {
        stats.received++;
        // Messages received but not handled before a stop come back after their visibility timeout.
        if (stopped) break;
        await processMessage(m);
      }
    }
  };
  const running = loop();

  return {
    stats: () => ({ ...stats }),
    async stop() {
      if (stopped) return;
      stopped = true;
      abort.abort();
      await running.catch(() => {});
      client.destroy();
    },
  };
}
