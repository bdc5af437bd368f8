/**
 * The EventBridge bus adapter: publishes domain events to an Amazon EventBridge bus with
 * `PutEvents`, the way the stack's outbox relay publishes to the local HTTP bus. On AWS the bus's
 * rules deliver to the consumers' queues (infra/); locally the HTTP bus (bus.ts) stays.
 *
 * - At most 10 entries per request (the PutEvents limit), in the outbox's order.
 * - A partial failure (`FailedEntryCount` > 0; the failed entries carry an `ErrorCode`, e.g.
 *   `ThrottlingException` or `InternalFailure`) resends only the failed entries, with exponential
 *   backoff and jitter, up to `maxAttempts` sends per entry; then `publish` rejects, so the relay
 *   keeps the events in the outbox and tries again later (at least once; consumers drop repeats by
 *   the event id, which travels in the detail).
 * - The AWS SDK is imported when the publisher is created, never by a stack on the HTTP bus.
 */
import type { DomainEvent } from '../domain/context.ts';
import { EVENT_SOURCE } from './routes.ts';

/** Where and how to publish. */
export interface EventBridgeOptions {
  busName: string;
  region: string;
  /** Endpoint URL (a local endpoint in tests); absent on AWS. */
  endpoint?: string;
  /** The events' `Source` (default `peakday`). */
  source?: string;
  /** Sends per entry before giving up (default 5). */
  maxAttempts?: number;
  /** Backoff before the n-th resend: base × 2^(n−1), plus up to 50% jitter (default 50 ms). */
  baseDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Counters of what was sent. */
export interface EventBridgeStats {
  requests: number;
  entriesSent: number;
  entriesFailed: number;
  retries: number;
}

/** A publisher. */
export interface EventBridgePublisher {
  /** Publishes every event or rejects naming what failed. */
  publish(events: DomainEvent[]): Promise<void>;
  stats(): EventBridgeStats;
  close(): void;
}

/** The PutEvents request limit. */
export const MAX_ENTRIES_PER_REQUEST = 10;

/** One PutEvents entry of a domain event (the whole event, id included, as the detail). */
export function toEntry(e: DomainEvent, busName: string, source: string) {
  return { EventBusName: busName, Source: source, DetailType: e.type, Detail: JSON.stringify(e) };
}

/** Creates the publisher (loads the EventBridge client). */
export async function createEventBridgePublisher(options: EventBridgeOptions): Promise<EventBridgePublisher> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const eb = await import('@aws-sdk/client-eventbridge');
  const client = new eb.EventBridgeClient({
    region: options.region,
    ...(options.endpoint
      ? { endpoint: options.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  });
  const source = options.source ?? EVENT_SOURCE;
  const maxAttempts = options.maxAttempts ?? 5;
  const base = options.baseDelayMs ?? 50;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const stats: EventBridgeStats = { requests: 0, entriesSent: 0, entriesFailed: 0, retries: 0 };

  const sendBatch = async (batch: DomainEvent[]) => {
    let pending = batch;
    for (let attempt = 1; ; attempt++) {
      stats.requests++;
      stats.entriesSent += pending.length;
      const out = await client.send(
        new eb.PutEventsCommand({ Entries: pending.map((e) => toEntry(e, options.busName, source)) }),
      );
      if (!out.FailedEntryCount) return;
      // Results are in request order; a failed one has an ErrorCode.
      const failed = pending.filter((_, i) => out.Entries?.[i]?.ErrorCode !== undefined);
      stats.entriesFailed += failed.length;
      if (attempt >= maxAttempts) {
        const codes = [...new Set(out.Entries?.map((r) => r.ErrorCode).filter(Boolean))].join(', ');
        throw new Error(
          `EventBridge refused ${failed.length} of ${batch.length} events after ${attempt} attempts (${codes})`,
        );
      }
      pending = failed.length > 0 ? failed : pending;
      stats.retries++;
      const delay = base * 2 ** (attempt - 1);
      await sleep(delay + Math.random() * delay * 0.5);
    }
  };

  return {
    async publish(events) {
      for (let i = 0; i < events.length; i += MAX_ENTRIES_PER_REQUEST)
        await sendBatch(events.slice(i, i + MAX_ENTRIES_PER_REQUEST));
    },
    stats: () => ({ ...stats }),
    close: () => client.destroy(),
  };
}
