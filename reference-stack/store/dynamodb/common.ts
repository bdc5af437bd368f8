/**
 * What every DynamoDB adapter shares: the outbox (events written next to the change that caused
 * them, delivered after), the consumed-event markers of idempotent consumers, and seeding once per
 * table set. Items live in the `events` table: pending outbox items under `outbox#<shard>` (a
 * shard per event id hash, so one hot publisher does not make one hot partition), the published
 * log under `published`, and one marker per (consumer, event) applied.
 */
import { hash32 } from '../../../core/rng.ts';
import type { DomainContext, DomainEvent } from '../../domain/context.ts';
import type { DynamoStore, Item } from '../dynamodb.ts';

/** Outbox shards (partitions `outbox#0` … `outbox#7`). */
export const OUTBOX_SHARDS = 8;

/** The outbox partition of an event. */
export function outboxPartition(eventId: string): string {
  return `outbox#${hash32(eventId) % OUTBOX_SHARDS}`;
}

/**
 * Writes an event to the outbox. Event ids are deterministic, so writing the same event again
 * (a retried or resumed step) leaves one pending item; a re-publish after delivery is a duplicate
 * delivery, which consumers drop by their markers.
 */
export async function recordEventDynamo(store: DynamoStore, event: DomainEvent): Promise<void> {
  await store.put('events', {
    consumer: outboxPartition(event.id),
    eventId: event.id,
    type: event.type,
    at: event.at,
    payload: JSON.stringify(event.payload),
  });
}

/** The pending events of the outbox (at most `limit`), oldest shard first. */
export async function pendingEventsDynamo(store: DynamoStore, limit: number): Promise<DomainEvent[]> {
  const out: DomainEvent[] = [];
  for (let k = 0; k < OUTBOX_SHARDS && out.length < limit; k++) {
    const items = await store.query('events', 'consumer = :c', {
      values: { ':c': `outbox#${k}` },
      limit: limit - out.length,
    });
    out.push(...items.map(toEvent));
  }
  return out;
}

/** Marks events delivered: logs them (`published`, for verification) and removes them from the outbox. */
export async function markPublishedDynamo(store: DynamoStore, events: DomainEvent[]): Promise<void> {
  for (const e of events) {
    await store.put('events', {
      consumer: 'published',
      eventId: e.id,
      type: e.type,
      at: e.at,
      payload: JSON.stringify(e.payload),
    });
    await store.delete('events', { consumer: outboxPartition(e.id), eventId: e.id });
  }
}

/** An outbox or log item as an event. */
export function toEvent(i: Item): DomainEvent {
  return {
    id: String(i.eventId),
    type: i.type as DomainEvent['type'],
    at: Number(i.at),
    payload: JSON.parse(String(i.payload)) as Record<string, unknown>,
  };
}

/**
 * Applies an event once per consumer: a consumer that already holds the event's marker skips it;
 * otherwise `apply` runs (it must be idempotent: a crash before the marker runs it again) and the
 * marker is put on the condition that it does not exist. Effects that are not idempotent by nature
 * (counters) are carried by the marker itself (`effect`), so they exist exactly once with it.
 * Returns false for a duplicate.
 */
export async function consumeOnceDynamo(
  ctx: DomainContext,
  store: DynamoStore,
  consumer: string,
  event: DomainEvent,
  apply: () => Promise<void>,
  effect: Item = {},
): Promise<boolean> {
  if (await store.get('events', { consumer, eventId: event.id })) return false;
  await apply();
  return store.put(
    'events',
    { ...effect, consumer, eventId: event.id, type: event.type, appliedAt: ctx.clock.eventNow() },
    { condition: 'attribute_not_exists(eventId)' },
  );
}

/**
 * Seeds once per table set, safe with several replicas starting at once: one claims the seed marker
 * (a conditional put), seeds and marks it done; the others wait for done. A claim older than
 * `staleMs` (a replica that died seeding) is taken over; seeding writes are idempotent puts.
 */
export async function seedOnceDynamo(
  store: DynamoStore,
  marker: { table: 'stock' | 'orders' | 'carts' | 'catalog'; key: Item },
  seed: () => Promise<void>,
  staleMs = 120_000,
): Promise<void> {
  for (let i = 0; i < 6000; i++) {
    const now = Date.now();
    const claimed = await store.put(
      marker.table,
      { ...marker.key, seedState: 'seeding', claimedAt: now },
      {
        condition: 'attribute_not_exists(seedState) OR (seedState = :s AND claimedAt < :stale)',
        values: { ':s': 'seeding', ':stale': now - staleMs },
      },
    );
    if (claimed) {
      await seed();
      await store.put(marker.table, { ...marker.key, seedState: 'done', claimedAt: now });
      return;
    }
    const m = await store.get(marker.table, marker.key);
    if (m?.seedState === 'done') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out waiting for another replica to seed the DynamoDB tables');
}
