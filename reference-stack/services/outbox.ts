/**
 * The outbox relay: events are written to `events_outbox` in the same transaction as the change
 * that caused them, then delivered after commit (at least once: an event is marked published only
 * after delivery succeeded, so a crash or a failed delivery means it is sent again later). Headless:
 * delivery is a POST to the bus. Monolith: an in-process dispatch to the local consumers.
 */
import type { DomainEvent } from '../domain/context.ts';
import { markPublishedDynamo, pendingEventsDynamo } from '../store/dynamodb/common.ts';
import type { DynamoStore } from '../store/dynamodb.ts';
import type { Db } from '../store/sqlite.ts';

/** Where the outbox is: the SQLite table, or the DynamoDB store's outbox partitions. */
export interface OutboxSource {
  pending(limit: number): Promise<DomainEvent[]>;
  markPublished(events: DomainEvent[]): Promise<void>;
}

/** The SQLite outbox (`events_outbox`). */
export function sqliteOutbox(db: Db): OutboxSource {
  const pending = db.prepare(
    'SELECT id, type, at, payload FROM events_outbox WHERE published = 0 ORDER BY rowid LIMIT ?',
  );
  const mark = db.prepare('UPDATE events_outbox SET published = 1 WHERE id = ?');
  return {
    async pending(limit) {
      const rows = pending.all(limit) as {
        id: string;
        type: DomainEvent['type'];
        at: number;
        payload: string;
      }[];
      return rows.map((r) => ({
        id: r.id,
        type: r.type,
        at: r.at,
        payload: JSON.parse(r.payload) as Record<string, unknown>,
      }));
    },
    async markPublished(events) {
      db.transaction(() => {
        for (const e of events) mark.run(e.id);
      })();
    },
  };
}

/** The DynamoDB outbox. */
export function dynamoOutbox(store: DynamoStore): OutboxSource {
  return {
    pending: (limit) => pendingEventsDynamo(store, limit),
    markPublished: (events) => markPublishedDynamo(store, events),
  };
}

/** The relay of one process. */
export interface OutboxRelay {
  /** Asks for a flush soon (coalesced). */
  kick(): void;
  /** Flushes until the outbox is empty or a delivery fails. */
  flush(): Promise<number>;
  stop(): void;
  /** Events delivered since the last call. */
  takePublished(): number;
}

/** Creates a relay delivering through `deliver`, retrying every `retryMs` (wall). */
export function createOutboxRelay(
  source: OutboxSource,
  deliver: (events: DomainEvent[]) => Promise<void>,
  retryMs = 250,
): OutboxRelay {
  let running: Promise<number> | null = null;
  let again = false;
  let stopped = false;
  let published = 0;
  const flushOnce = async (): Promise<number> => {
    let n = 0;
    for (;;) {
      const events = await source.pending(100);
      if (events.length === 0) return n;
      await deliver(events);
      await source.markPublished(events);
      n += events.length;
      published += events.length;
    }
  };
  const flush = (): Promise<number> => {
    if (running) {
      again = true;
      return running;
    }
    running = flushOnce()
      .catch(() => 0)
      .finally(() => {
        running = null;
        if (again && !stopped) {
          again = false;
          void flush();
        }
      });
    return running;
  };
  const timer = setInterval(() => void flush(), retryMs);
  timer.unref();
  return {
    kick: () => {
      if (!stopped) setImmediate(() => void flush());
    },
    flush,
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
    takePublished: () => {
      const n = published;
      published = 0;
      return n;
    },
  };
}
