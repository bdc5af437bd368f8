/**
 * The optional "target is a peakday stack" handshake. Before load starts the driver asks
 * `GET /_peakday/info`; a peakday reference stack answers with JSON, and is then told the run's
 * event clock with `POST /_peakday/clock {timeScale, eventStart}` so that deals, reservation expiry
 * and scaling periods run on the same compressed clock as the load. Any other target answers 404
 * (or nothing): that is normal and the run goes on without it.
 */
import { request } from 'undici';

/** What the handshake found. */
export interface StackHandshake {
  stack: boolean;
  info?: Record<string, unknown>;
  clockSet?: boolean;
  /** Why the clock could not be set, when the stack answered but refused. */
  problem?: string;
}

/** Runs the handshake against the target origin; never throws. */
export async function handshakeStack(
  target: URL,
  clock: { timeScale: number; eventStart: number },
  timeoutMs = 2000,
): Promise<StackHandshake> {
  const base = target.origin + target.pathname.replace(/\/+$/, '');
  try {
    const r = await request(`${base}/_peakday/info`, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await r.body.text();
    if (r.statusCode !== 200) return { stack: false };
    let info: Record<string, unknown>;
    try {
      info = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return { stack: false };
    }
    // Only a peakday stack says so (reference-stack/orchestrator/control.ts: {peakday: true, ...}).
    if (info === null || typeof info !== 'object' || info.peakday !== true) return { stack: false };
    const c = await request(`${base}/_peakday/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(clock),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const ctext = await c.body.text();
    if (c.statusCode >= 200 && c.statusCode < 300) return { stack: true, info, clockSet: true };
    return {
      stack: true,
      info,
      clockSet: false,
      problem: `POST /_peakday/clock answered ${c.statusCode}: ${ctext.slice(0, 200)}`,
    };
  } catch {
    return { stack: false };
  }
}
