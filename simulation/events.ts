/**
 * The domain events a request publishes, as the deployables consuming them receive them: work off
 * the request's path (the outbox relay delivers them after it answered), on the consumers' CPU.
 *
 * A checkout reserves its stock (InventoryReserved), then places the order when the card is approved
 * (OrderPlaced) or releases the stock when it is declined (InventoryReleased):
 * reference-stack/domain/checkout.ts, inventory.ts, orders.ts. The consumers are the stack's
 * `SUBSCRIPTIONS` (search indexes stock and orders, the cart closes an ordered cart). No other
 * operation a journey sends publishes: prices change on the deals' schedule and carts are abandoned
 * by a sweep, neither per request (named in docs/simulation.md, not modelled here).
 *
 * In headless each event reaches each consumer's deployable over the bus: one request at its
 * balancer (a delivery batch, one event each at the rates of a rehearsal) and one hold of the event's
 * consumption plus the server's hop (reference-stack/services/runtime.ts `handleEvents`). In the
 * monolith the relay hands it to the modules in-process: one hold of the consumption per consumer,
 * no request at the balancer. 1% of deliveries are repeated on purpose (`busDuplicateRate`).
 * Pure.
 */
import type { DemandTable } from '../reference-stack/capacity/demand-table.ts';
import { DOMAIN_DEFAULTS, type EventType, SUBSCRIPTIONS } from '../reference-stack/domain/context.ts';
import {
  type Arch,
  moduleHostOf,
  type OperationId,
  type ServiceName,
  scaledDemand,
} from '../reference-stack/topology.ts';

/** What one request's events put on one consuming deployable. */
export interface EventDelivery {
  service: ServiceName;
  /** Holds there per request (events × consumers hosted there × the duplicates). */
  holds: number;
  /** Mean CPU-ms per hold. */
  cpuMs: number;
  /** Whether its balancer counts each hold as a request (headless: yes; the monolith: in-process). */
  counted: boolean;
}

/** Events per request of the operations that publish: a checkout that reached its reservation. */
export function operationEvents(
  operation: OperationId,
  failureRate: number = DOMAIN_DEFAULTS.paymentFailureRate,
): Partial<Record<EventType, number>> {
  if (operation !== 'checkout') return {};
  return { InventoryReserved: 1, OrderPlaced: 1 - failureRate, InventoryReleased: failureRate };
}

/** The deliveries a request of `operation` causes in `arch`, per consuming deployable. */
export function eventDeliveries(
  arch: Arch,
  operation: OperationId,
  table: DemandTable,
  params: { paymentFailureRate: number; busDuplicateRate: number } = DOMAIN_DEFAULTS,
): EventDelivery[] {
  const host = moduleHostOf(arch);
  const times = 1 + params.busDuplicateRate;
  const holds = new Map<ServiceName, number>();
  const work = new Map<ServiceName, number>();
  for (const [type, perRequest] of Object.entries(operationEvents(operation, params.paymentFailureRate))) {
    const consumers = SUBSCRIPTIONS[type as EventType];
    if (arch === 'monolith') {
      // One hold for all its consumers (runtime.ts: eventConsumeCpuMs × consumers.length).
      const n = (perRequest as number) * times;
      holds.set('monolith', (holds.get('monolith') ?? 0) + n);
      work.set(
        'monolith',
        (work.get('monolith') ?? 0) + n * scaledDemand(table.eventConsumeCpuMs, table) * consumers.length,
      );
      continue;
    }
    for (const m of consumers) {
      const s = host[m];
      const n = (perRequest as number) * times;
      holds.set(s, (holds.get(s) ?? 0) + n);
      work.set(
        s,
        (work.get(s) ?? 0) + n * scaledDemand(table.eventConsumeCpuMs + table.hopServerCpuMs, table),
      );
    }
  }
  return [...holds].map(([service, n]) => ({
    service,
    holds: n,
    cpuMs: (work.get(service) ?? 0) / n,
    counted: arch !== 'monolith',
  }));
}
