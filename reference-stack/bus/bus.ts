/**
 * The event bus of the headless topology (a small stand-in for Amazon EventBridge): publishers POST
 * events, the bus stores them (deduplicated by event id) and delivers each to every subscribed
 * service at least once, retrying with exponential backoff until the subscriber answers 2xx. A
 * configurable share of deliveries is repeated on purpose (`busDuplicateRate`) so idempotent
 * consumers are exercised in every run. State lives in SQLite, so a restart resumes delivery.
 */
import { request } from 'undici';
import type { Rng } from '../../core/rng.ts';
import { type DomainEvent, type EventType, SUBSCRIPTIONS } from '../domain/context.ts';
import type { Db } from '../store/sqlite.ts';

/** Counters of one stats period. */
export interface BusStats {
  published: number;
  delivered: number;
  duplicates: number;
  failures: number;
  pending: number;
}

/** The bus. */
export interface Bus {
  publish(events: DomainEvent[]): number;
  /** Delivers due deliveries once; returns how many succeeded. */
  deliverDue(): Promise<number>;
  start(intervalMs?: number): void;
  stop(): void;
  takeStats(): BusStats;
  pendingCount(): number;
}

/** Creates the bus tables. */
export function migrateBus(db: Db): void {
  db.exec(`
    CREATE TABLE IF NOT EXISTS bus_events (id TEXT PRIMARY KEY, type TEXT NOT NULL, at REAL NOT NULL, payload TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS bus_deliveries (event_id TEXT NOT NULL, consumer TEXT NOT NULL, status TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0, sends INTEGER NOT NULL DEFAULT 0, next_wall_ms REAL NOT NULL,
      PRIMARY KEY (event_id, consumer));
    CREATE INDEX IF NOT EXISTS bus_due ON bus_deliveries(status, next_wall_ms);
  `);
}

/** Creates a bus delivering to `subscribers` (consumer module → base URL). */
export function createBus(
  db: Db,
  subscribers: Partial<Record<string, string>>,
  duplicateRate: number,
  rng: Rng,
): Bus {
  migrateBus(db);
  const insEvent = db.prepare('INSERT OR IGNORE INTO bus_events (id, type, at, payload) VALUES (?,?,?,?)');
  const insDelivery = db.prepare(
    "INSERT OR IGNORE INTO bus_deliveries (event_id, consumer, status, next_wall_ms) VALUES (?, ?, 'pending', 0)",
  );
  const due = db.prepare(
    `SELECT d.event_id AS id, d.consumer, d.attempts, e.type, e.at, e.payload FROM bus_deliveries d JOIN bus_events e ON e.id = d.event_id
     WHERE d.status = 'pending' AND d.next_wall_ms <= ? ORDER BY d.next_wall_ms LIMIT 200`,
  );
  const done = db.prepare(
    "UPDATE bus_deliveries SET status = 'delivered', sends = sends + ? WHERE event_id = ? AND consumer = ?",
  );
  const retry = db.prepare(
    'UPDATE bus_deliveries SET attempts = attempts + 1, next_wall_ms = ? WHERE event_id = ? AND consumer = ?',
  );
  const countPending = db.prepare("SELECT COUNT(*) AS n FROM bus_deliveries WHERE status = 'pending'");
  const stats = { published: 0, delivered: 0, duplicates: 0, failures: 0 };
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  // Deliveries in flight when the bus stops (or its database closes) must not touch the database
  // after: what they did not record stays pending and is delivered again (at least once).
  let stopped = false;
  const closed = () => stopped || !db.open;

  const send = async (url: string, events: DomainEvent[]): Promise<boolean> => {
    try {
      const res = await request(`${url}/internal/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ events }),
      });
      await res.body.dump();
      return res.statusCode >= 200 && res.statusCode < 300;
    } catch {
      return false;
    }
  };

  const bus: Bus = {
    publish(events) {
      let fresh = 0;
      db.transaction(() => {
        for (const e of events) {
          if (insEvent.run(e.id, e.type, e.at, JSON.stringify(e.payload)).changes === 0) continue;
          fresh++;
          for (const c of SUBSCRIPTIONS[e.type as EventType] ?? []) insDelivery.run(e.id, c);
        }
      })();
      stats.published += fresh;
      return fresh;
    },
    async deliverDue() {
      if (closed()) return 0;
      const rows = due.all(Date.now()) as {
        id: string;
        consumer: string;
        attempts: number;
        type: EventType;
        at: number;
        payload: string;
      }[];
      const byConsumer = new Map<string, typeof rows>();
      for (const r of rows) byConsumer.set(r.consumer, [...(byConsumer.get(r.consumer) ?? []), r]);
      let ok = 0;
      await Promise.all(
        [...byConsumer].map(async ([consumer, list]) => {
          const url = subscribers[consumer];
          const events = list.map((r) => ({
            id: r.id,
            type: r.type,
            at: r.at,
            payload: JSON.parse(r.payload) as Record<string, unknown>,
          }));
          const delivered = url ? await send(url, events) : false;
          if (closed()) return;
          if (delivered) {
            let sends = 1;
            if (rng.next() < duplicateRate && url && (await send(url, events))) {
              sends = 2;
              stats.duplicates += events.length;
            }
            if (closed()) return;
            db.transaction(() => {
              for (const r of list) done.run(sends, r.id, consumer);
            })();
            stats.delivered += list.length;
            ok += list.length;
          } else {
            stats.failures += list.length;
            db.transaction(() => {
              for (const r of list)
                retry.run(Date.now() + Math.min(5000, 100 * 2 ** r.attempts), r.id, consumer);
            })();
          }
        }),
      );
      return ok;
    },
    start(intervalMs = 25) {
      timer = setInterval(() => {
        if (busy) return;
        busy = true;
        bus
          .deliverDue()
          .catch((e: unknown) => {
            // A database closed under a delivery at shutdown is expected; anything else is not.
            if (!closed()) throw e;
          })
          .finally(() => {
            busy = false;
          });
      }, intervalMs);
      timer.unref();
    },
    stop() {
      stopped = true;
      if (timer) clearInterval(timer);
    },
    pendingCount: () => (db.open ? (countPending.get() as { n: number }).n : 0),
    takeStats() {
      const out = { ...stats, pending: bus.pendingCount() };
      stats.published = 0;
      stats.delivered = 0;
      stats.duplicates = 0;
      stats.failures = 0;
      return out;
    },
  };
  return bus;
}
