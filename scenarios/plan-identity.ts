/**
 * A plan's identity across its segments: a hash of the plan without what `--segment` changes (the
 * segment and the iteration/request counts). Every segment of one plan has the same identity; plans
 * differing in anything else (rates, seed, windows, journeys, clock) do not. `peakday merge` refuses
 * inputs of different identities; fleets tag their generators' outputs with it.
 */
import { createHash } from 'node:crypto';
import type { Plan } from './plan.ts';

/** The plan's identity: 16 hex digits of SHA-256 over its segment-independent JSON. */
export function planIdentity(plan: Plan): string {
  const { segment: _s, iterations: _i, requests: _r, ...rest } = plan;
  const scenarios = plan.scenarios.map(({ iterations: _si, ...s }) => s);
  return createHash('sha256')
    .update(JSON.stringify({ ...rest, scenarios }))
    .digest('hex')
    .slice(0, 16);
}
