/**
 * The local stack's store throttles, for a replay of a local run (docs/simulation.md "Validation
 * against a live run"). The local store (reference-stack/store/capacity.ts) scales DynamoDB's
 * per-partition limits by `localScale` (0.01) and each replica enforces its share of them (1/n of
 * the limit, n the owning deployable's replicas) over one wall second. With 4 replicas a stock key
 * may take 1,000 × 0.01 / 4 = 2.5 write units per second on a replica, less than the 3 units one
 * checkout writes on its SKU (the reservation's transactional 2, then the commit's 1, a card
 * authorization apart: reference-stack/domain/inventory.ts): the commit is throttled whenever it
 * lands on the reservation's replica within the same wall second. The quiet-host rehearsals show
 * exactly this: every stock throttle came while the owner ran 4 replicas (the monolith's 74 of 75
 * on flash-sale, 77 of 77 on doors-open; headless inventory's 12 of 13). A fluid per-partition
 * rate (the event-scale model's hot partitions) never sees it: one request, not the key's rate,
 * exceeds the limit. DynamoDB's real limits are 400 times the local replica's at 4 replicas, so
 * this applies only when replaying a local run (`SimulateOptions.localStore`). Pure.
 */
import { DOMAIN_DEFAULTS } from '../reference-stack/domain/context.ts';
import { STORE_DEFAULTS } from '../reference-stack/store/capacity.ts';
import type { ModuleName, OperationId } from '../reference-stack/topology.ts';

/** The local store's limits a replay needs (reference-stack/store/capacity.ts STORE_DEFAULTS). */
export interface LocalStoreLimits {
  /** Write units per second per partition key, before `localScale` (DynamoDB's 1,000). */
  partitionWriteUnitsPerSec: number;
  /** The share of real traffic the local stack stands for (0.01). */
  localScale: number;
}

/** The local stack's defaults (a local run records no other: the stack always starts with them). */
export const LOCAL_STORE_LIMITS: LocalStoreLimits = {
  partitionWriteUnitsPerSec: STORE_DEFAULTS.partitionWriteUnitsPerSec,
  localScale: STORE_DEFAULTS.localScale,
};

/** The writes one request makes on one key of the local store, in order, and the wall ms between the first and the last. */
export interface KeyWrites {
  /** The module whose table it is (its host deployable's replicas share the limit). */
  module: ModuleName;
  /** The simulator's name of the table (simulation/demand.ts STORE_USE). */
  table: string;
  units: readonly number[];
  gapMs: number;
}

/** Mean wall ms of the card authorization between a checkout's reservation and its commit. */
const PAYMENT_MEAN_MS = DOMAIN_DEFAULTS.paymentMedianMs * Math.exp(DOMAIN_DEFAULTS.paymentSigma ** 2 / 2);

/** Operations that write one key more than once (reference-stack/domain/inventory.ts reserve, then commit). */
export const LOCAL_KEY_WRITES: Partial<Record<OperationId, KeyWrites>> = {
  checkout: { module: 'inventory', table: 'inventory', units: [2, 1], gapMs: PAYMENT_MEAN_MS },
};

/**
 * The share of such requests the local store throttles by their own writes: none while their units
 * fit a replica's limit, all when one write alone exceeds it, otherwise those whose writes land on
 * one replica (`sameReplica`: 1 in the monolith, where one process serves the whole request; 1/n
 * behind a least-outstanding-requests balancer) within one wall second (1 − gap/1 s, the first
 * write's place in its second being uniform).
 */
export function selfThrottleShare(w: KeyWrites, limitPerReplica: number, sameReplica: number): number {
  let total = 0;
  let largest = 0;
  for (const u of w.units) {
    total += u;
    largest = Math.max(largest, u);
  }
  if (largest > limitPerReplica) return 1;
  if (total <= limitPerReplica) return 0;
  return Math.min(1, Math.max(0, sameReplica)) * Math.max(0, 1 - w.gapMs / 1000);
}
