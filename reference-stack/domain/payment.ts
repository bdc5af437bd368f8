/**
 * The simulated payment provider: card authorization with a log-normal latency (median and sigma
 * are assumptions: card networks answer in a few hundred ms with a long tail) and a seeded decline
 * rate. Tokens `tok_decline` always decline and `tok_ok` always approve, so tests are exact.
 * Latency is wall time (a remote call), never emulated CPU.
 */
import { createRng, hash32 } from '../../core/rng.ts';

/** Outcome of one authorization. */
export interface Authorization {
  approved: boolean;
  latencyMs: number;
  reason?: string;
}

/** The provider. */
export interface PaymentProvider {
  /** Decides the outcome and latency of an authorization (pure draw; the caller sleeps). */
  decide(amount: number, token: string): Authorization;
}

/** Creates a provider from parameters and a seed. */
export function createPaymentProvider(p: {
  medianMs: number;
  sigma: number;
  failureRate: number;
  seed: number;
}): PaymentProvider {
  const rng = createRng(p.seed);
  return {
    decide(_amount, token) {
      const latencyMs = Math.min(5000, p.medianMs * Math.exp(p.sigma * rng.normal()));
      if (token === 'tok_decline') return { approved: false, latencyMs, reason: 'card-declined' };
      if (token === 'tok_ok') return { approved: true, latencyMs };
      const declined = rng.next() < p.failureRate;
      return declined
        ? { approved: false, latencyMs, reason: 'card-declined' }
        : { approved: true, latencyMs };
    },
  };
}

/** A per-process seed so replicas draw different but reproducible streams. */
export function paymentSeed(seed: number, replica: string): number {
  return (seed ^ hash32(replica)) >>> 0 || 1;
}
