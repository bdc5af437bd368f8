/**
 * The stack's control API under `/_peakday/` on the gateway's public port (docs/reference-stack-control.md):
 *
 *   GET  /_peakday/info     → {peakday: true, kind: "peakday-stack", version, arch, clock, maxLiveTimeScale,
 *                              periodSeconds, services}: tells a client the target is a peakday stack
 *   GET  /_peakday/status   → StackStatus (services, tasks desired/running/pending/healthy/warm, clock)
 *   POST /_peakday/clock    {timeScale, eventStart?} → the new clock; 400 beyond MAX_LIVE_TIME_SCALE (60x)
 *   POST /_peakday/desired  {service, count} → the service's status; records a scaling activity
 *
 * Errors use the stack's one format: {"error":{"code","message"}} with a 4xx status.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isPeakdayError } from '../../core/errors.ts';
import { MAX_LIVE_TIME_SCALE } from '../../core/event-clock.ts';
import { PEAKDAY_VERSION } from '../../core/version.ts';
import { type Intercept, sendJsonError } from './balancer.ts';
import type { Stack } from './stack.ts';

/** Path prefix of the control API. */
export const CONTROL_PREFIX = '/_peakday/';

const MAX_BODY = 64 * 1024;

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new ControlError(413, 'body-too-large', `request body exceeds ${MAX_BODY} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null'));
      } catch {
        reject(new ControlError(400, 'malformed-json', 'the request body is not valid JSON'));
      }
    });
    req.on('error', reject);
  });
}

class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ControlError(400, 'invalid-body', 'the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** `GET /_peakday/info`'s body. */
export function stackInfo(stack: Stack): Record<string, unknown> {
  const s = stack.status();
  return {
    peakday: true,
    kind: 'peakday-stack',
    version: PEAKDAY_VERSION,
    arch: s.arch,
    clusterName: s.clusterName,
    clock: s.clock,
    maxLiveTimeScale: MAX_LIVE_TIME_SCALE,
    periodSeconds: s.periodSeconds,
    services: s.services.map((x) => x.name),
    dataDir: s.dataDir,
  };
}

type Handler = (stack: Stack, req: IncomingMessage) => Promise<[number, unknown]>;

const handlers: Record<string, Handler> = {
  'GET info': async (stack) => [200, stackInfo(stack)],
  'GET status': async (stack) => [200, stack.status()],
  'POST clock': async (stack, req) => {
    const b = objectBody(await readJson(req));
    const timeScale = b.timeScale;
    if (typeof timeScale !== 'number' || !Number.isFinite(timeScale) || timeScale <= 0) {
      throw new ControlError(400, 'invalid-time-scale', 'timeScale must be a number > 0');
    }
    if (timeScale > MAX_LIVE_TIME_SCALE) {
      throw new ControlError(
        400,
        'time-scale-too-high',
        `timeScale ${timeScale} exceeds the live limit of ${MAX_LIVE_TIME_SCALE}x: beyond it metric periods hold too few requests and queues cannot build as they would; rehearse a window live or the whole event in the simulator`,
      );
    }
    const eventStart = b.eventStart ?? stack.scheduler.eventNow();
    if (typeof eventStart !== 'number' || !Number.isFinite(eventStart)) {
      throw new ControlError(
        400,
        'invalid-event-start',
        'eventStart must be a finite number of event seconds',
      );
    }
    stack.setClock({ timeScale, eventStart });
    return [200, stack.status().clock];
  },
  'POST desired': async (stack, req) => {
    const b = objectBody(await readJson(req));
    if (typeof b.service !== 'string')
      throw new ControlError(400, 'invalid-service', 'service must be a string');
    if (typeof b.count !== 'number' || !Number.isInteger(b.count) || b.count < 0) {
      throw new ControlError(400, 'invalid-desired-count', 'count must be a whole number ≥ 0');
    }
    const before = stack.status().services.find((s) => s.name === b.service);
    if (!before) throw new ControlError(404, 'unknown-service', `no service ${b.service} in this stack`);
    stack.setDesiredCount(b.service, b.count);
    const now = new Date().toISOString();
    stack.recordActivity({
      ActivityId: randomUUID(),
      ServiceNamespace: 'ecs',
      ResourceId: `service/${stack.clusterName}/${b.service}`,
      ScalableDimension: 'ecs:service:DesiredCount',
      Description: `Setting desired count to ${b.count}.`,
      Cause: 'manual: POST /_peakday/desired',
      StartTime: now,
      EndTime: now,
      StatusCode: 'Successful',
      eventTime: stack.scheduler.eventNow(),
      fromCapacity: before.desired,
      toCapacity: b.count,
    });
    return [200, stack.status().services.find((s) => s.name === b.service)];
  },
};

/** The balancer intercept that serves the control API on the public port. */
export function createControlIntercept(stack: Stack): Intercept {
  return (req, res) => {
    const url = req.url ?? '/';
    if (!url.startsWith(CONTROL_PREFIX)) return false;
    const name = url.slice(CONTROL_PREFIX.length).split('?')[0] ?? '';
    const handler = handlers[`${req.method} ${name}`];
    if (!handler) {
      req.resume();
      sendJsonError(res, 404, 'unknown-control-endpoint', `no control endpoint ${req.method} ${url}`);
      return true;
    }
    handler(stack, req).then(
      ([status, body]) => sendJson(res, status, body),
      (e: unknown) => {
        if (e instanceof ControlError) sendJsonError(res, e.status, e.code, e.message);
        else if (isPeakdayError(e)) sendJsonError(res, 400, e.code, e.message);
        else sendJsonError(res, 500, 'internal', (e as Error).message);
      },
    );
    return true;
  };
}
