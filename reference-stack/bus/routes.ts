/**
 * How domain events travel on AWS, as data: the source every event carries and one route per
 * consuming module (the event types it subscribes to). The CDK stack builds its EventBridge rules
 * (one rule and one SQS queue per consumer) from these routes, and the project's local AWS endpoint
 * (telemetry/test-aws-server.ts) routes PutEvents to its queues from the same routes, so a test of
 * the wire path and the deployed rules cannot disagree. Derived from the local bus's subscriptions
 * (`SUBSCRIPTIONS`), the one source of who consumes what.
 */
import { type EventType, SUBSCRIPTIONS } from '../domain/context.ts';

/** The `Source` of every event the services put on the bus (and the rules' source pattern). */
export const EVENT_SOURCE = 'peakday';

/** Which module publishes each domain event (the module that writes it to its outbox). */
export const EVENT_PUBLISHERS: Record<EventType, 'orders' | 'inventory' | 'pricing' | 'cart'> = {
  OrderPlaced: 'orders',
  InventoryReserved: 'inventory',
  InventoryReleased: 'inventory',
  PriceChanged: 'pricing',
  CartAbandoned: 'cart',
};

/** Whether a deployable hosting `modules` publishes events (runs an outbox relay, gets the bus). */
export function publishesEvents(modules: readonly string[]): boolean {
  return modules.some((m) => (Object.values(EVENT_PUBLISHERS) as string[]).includes(m));
}

/** One consumer's route: the detail types its rule matches. */
export interface EventRoute {
  consumer: 'cart' | 'search' | 'pricing';
  detailTypes: EventType[];
}

/** Every consumer's route, sorted by consumer (stable construct ids in the template). */
export function eventRoutes(): EventRoute[] {
  const consumers = [...new Set(Object.values(SUBSCRIPTIONS).flat())].sort();
  return consumers.map((consumer) => ({
    consumer,
    detailTypes: (Object.keys(SUBSCRIPTIONS) as EventType[]).filter((t) =>
      (SUBSCRIPTIONS[t] as readonly string[]).includes(consumer),
    ),
  }));
}
