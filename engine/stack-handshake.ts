/**
 * The optional "target is a peakday stack" handshake. Before load starts the driver asks
 * `GET /_peakday/info`; a peakday reference stack answers with JSON, and is then told the run's
 * event clock with `POST /_peakday/clock {timeScale, eventStart}` so that deals, reservation expiry
 * and scaling periods run on the same compressed clock as the load. Any other target answers 404
 * (or nothing): that is normal and the run goes on without it.
 */
import { request } from 'undici';
import { PeakdayError } from '../core/errors.ts';

/** What the handshake found. */
export interface StackHandshake {
  stack: boolean;
  info?: Record<string, unknown>;
  clockSet?: boolean;
  /** Why the clock could not be set, when the stack answered but refused. */
  problem?: string;
}

/**
 * Whether the target is a peakday stack (`GET /_peakday/info` answers `{peakday: true}`), without
 * touching its clock: the run workflow asks before any load, to refuse a plan the stack's clock
 * cannot follow. Never throws (anything else is "not a stack").
 */
export async function isPeakdayStack(target: URL, timeoutMs = 2000): Promise<boolean> {
  const base = target.origin + target.pathname.replace(/\/+$/, '');
  try {
    const r = await request(`${base}/_peakday/info`, {
      method: 'GET',
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await r.body.text();
    if (r.statusCode !== 200) return false;
    const info = JSON.parse(text) as { peakday?: unknown } | null;
    return info !== null && typeof info === 'object' && info.peakday === true;
  } catch {
    return false;
  }
}

/** The stack's refusal said whole: its JSON `message` (or the body's first line), never cut mid-word. */
function refusalText(status: number, body: string): string {
  let message = body.split('\n', 1)[0] ?? '';
  try {
    // The control API's error format: {error: {code, message}}.
    const j = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof j.error?.message === 'string') message = j.error.message;
    if (typeof j.error?.code === 'string') message = `${j.error.code}: ${message}`;
  } catch {
    // not JSON: the first line as it is
  }
  if (message.length > 400) message = `${message.slice(0, message.lastIndexOf(' ', 400))} …`;
  return `POST /_peakday/clock answered ${status}: ${message}`;
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
      problem: refusalText(c.statusCode, ctext),
    };
  } catch (e) {
    // No answer in time, or the connection failed: not known to be a stack, and not known not to be.
    return { stack: false, problem: `GET /_peakday/info gave no answer: ${(e as Error).message}` };
  }
}

/**
 * The handshake when the target is known to be a peakday stack (a rehearsal's own): its periods, deals
 * and scaling must run on the run's clock, or its telemetry cannot be lined up with the load. A stack
 * on a loaded host may answer late, so each try waits `timeoutMs`, `tries` times; a stack that does
 * not take the clock stops the run before any load, with what it answered.
 */
export async function requireStackClock(
  target: URL,
  clock: { timeScale: number; eventStart: number },
  { timeoutMs = 10_000, tries = 3 }: { timeoutMs?: number; tries?: number } = {},
): Promise<StackHandshake> {
  let h: StackHandshake = { stack: false };
  for (let i = 0; i < tries; i++) {
    h = await handshakeStack(target, clock, timeoutMs);
    if (h.clockSet) return h;
    if (h.stack) break; // it answered and refused: asking again gets the same answer
  }
  throw new PeakdayError(
    'stack-clock-unset',
    `the local stack at ${target.origin} did not take the run's event clock${h.stack ? '' : ` after ${tries} tries of ${timeoutMs / 1000} s`}: ${h.problem ?? 'it did not say it is a peakday stack'}`,
    {
      hint: 'no load was sent; rerun on a quieter host (the stack answers its control API between requests), and see its supervisor log',
    },
  );
}
