/**
 * Service-to-service calls of the headless topology: each module method is `POST /rpc/<module>.<method>`
 * with the argument as JSON and `{"result": ...}` as the answer. A peer's domain error comes back with
 * its status and code and is rethrown as the same DomainError, so errors cross hops unchanged; a peer
 * that cannot be reached is a 503 `upstream-unavailable`. Calls go through undici pools with
 * keep-alive to the peer's load balancer.
 */
import { Agent, request } from 'undici';
import { DomainError } from '../domain/errors.ts';
import type { Ports } from '../domain/ports.ts';
import type { ServiceName } from '../topology.ts';

/** The path of a method's RPC endpoint. */
export function rpcPath(method: string): string {
  return `/rpc/${method}`;
}

let agent: Agent | undefined;

/** One dispatcher for all peers (the storefront's BFF calls too): keep-alive connections, bounded per origin (assumption: 128). */
export function peerDispatcher(): Agent {
  agent ??= new Agent({
    connections: 128,
    keepAliveTimeout: 10_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return agent;
}

/** Calls one method on a peer. */
export async function callRpc(baseUrl: string, method: string, args: unknown): Promise<unknown> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${baseUrl}${rpcPath(method)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args ?? {}),
      dispatcher: peerDispatcher(),
    });
  } catch (e) {
    throw new DomainError(503, 'upstream-unavailable', `${method}: ${(e as Error).message}`, { method }, 1);
  }
  const text = await res.body.text();
  let body: unknown;
  try {
    body = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    throw new DomainError(
      502,
      'bad-upstream-response',
      `${method}: the peer answered ${res.statusCode} with invalid JSON`,
    );
  }
  if (res.statusCode >= 200 && res.statusCode < 300) return (body as { result: unknown }).result;
  const err = (body as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
  const retry = Number(res.headers['retry-after']);
  throw new DomainError(
    res.statusCode,
    err?.code ?? 'upstream-error',
    err?.message ?? `${method} answered ${res.statusCode}`,
    err?.details,
    Number.isFinite(retry) ? retry : undefined,
  );
}

/**
 * Ports to the modules hosted by peers: module name → base URL of its service. The URL is looked up
 * at call time, so a caller may fill `peers` after creating the ports (services started on
 * ephemeral ports).
 */
export function createRemotePorts(peers: Partial<Record<ServiceName, string>>): Partial<Ports> {
  const out: Partial<Record<keyof Ports, unknown>> = {};
  for (const module of ['catalog', 'search', 'pricing', 'cart', 'inventory', 'orders', 'checkout'] as const) {
    out[module] = new Proxy(
      {},
      {
        get: (_t, prop) =>
          typeof prop === 'string'
            ? (args: unknown) => {
                const base = peers[module];
                if (!base) {
                  return Promise.reject(
                    new DomainError(
                      503,
                      'upstream-unavailable',
                      `no address for service ${module}`,
                      { module },
                      1,
                    ),
                  );
                }
                return callRpc(base, `${module}.${prop}`, args);
              }
            : undefined,
      },
    );
  }
  return out as Partial<Ports>;
}

/** Closes pooled connections (tests and shutdown). */
export async function closeRpc(): Promise<void> {
  const a = agent;
  agent = undefined;
  await a?.close().catch(() => {});
}
