/**
 * The local edge: a caching reverse proxy in front of the stack, standing in for a CloudFront
 * distribution in front of the ALB. Real HTTP on its own port (the stack's public port): the
 * storefront's pages go to the pages origin (the storefront's load balancer in headless, the
 * monolith's in the monolith), everything else (the API, GraphQL, the control API) to the entry's.
 *
 * - Caching follows cache-policy.ts (per-route TTL bounds, the origin's `Cache-Control`, CloudFront's
 *   rule); only GET and HEAD are cached; the cache key is the path and query string; cookies are not
 *   forwarded on cacheable routes (CloudFront's CachingOptimized policy), so a cached page cannot
 *   depend on a session. A response carrying `Set-Cookie` is never cached.
 * - Concurrent misses of one object wait for the first one's origin fetch (CloudFront's request
 *   collapsing) and count as hits: they never reach the origin.
 * - Invalidation: `POST /internal/events` takes the stack's domain events (the bus's delivery format);
 *   a `PriceChanged` purges every cached page tagged `sku:<its SKU>` (the storefront's `Cache-Tag`).
 * - Answers carry `X-Cache: Hit from peakday-edge` or `Miss from peakday-edge` (CloudFront's header,
 *   its own name) and `Age` on hits; `Cache-Tag` stays inside the edge.
 * - Counters per route and period (`takePeriodMetrics`), written as CloudFront's metrics by the stack.
 * Time is the stack's event clock (TTLs in event seconds, like every other duration of a rehearsal).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import {
  computeTtl,
  DEFAULT_ROUTE_TTLS,
  EDGE_ROUTES,
  type EdgeOrigin,
  type EdgeRoute,
  originOf,
  parseCacheControl,
  type RouteTtl,
  routeOf,
} from './cache-policy.ts';

/** How the stack starts its edge. */
export interface EdgeOptions {
  host: string;
  /** Port to listen on (0 picks one). */
  port: number;
  /** Base URLs of the origins, read per request (the stack fills them as its balancers listen). */
  origins: () => Record<EdgeOrigin, string>;
  /** Event seconds now (the stack's clock). */
  now: () => number;
  /** TTL bounds per route, over the defaults. */
  routes?: Partial<Record<EdgeRoute, RouteTtl>>;
  /** Cache size bound in bytes (least recently used objects go first; default 64 MB, an assumption). */
  maxBytes?: number;
}

/** One route's counters in a period. */
export interface EdgeRouteCounters {
  requests: number;
  /** Served from the cache (collapsed misses included). */
  hits: number;
  /** Cacheable, fetched from the origin. */
  misses: number;
  /** Not cacheable (method, route or the origin's Cache-Control): forwarded as is. */
  passes: number;
  /** Requests the edge sent to the origin. */
  originRequests: number;
  bytesOut: number;
  status4xx: number;
  status5xx: number;
  /** Sum of the origin fetches' times to the response headers, ms (wall time). */
  originLatencyMsSum: number;
}

/** The edge's counters of one period. */
export interface EdgePeriodMetrics {
  routes: Record<EdgeRoute, EdgeRouteCounters>;
  /** PriceChanged events that reached the edge. */
  invalidations: number;
  /** Cached objects those events purged. */
  purgedObjects: number;
}

/** A running edge. */
export interface Edge {
  readonly url: string;
  readonly port: number;
  /** The period's counters; starts a new period. */
  takePeriodMetrics(): EdgePeriodMetrics;
  /** Purges every object tagged with one of `tags`; returns how many. */
  purgeTags(tags: readonly string[]): number;
  /** Objects in the cache now. */
  size(): number;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
]);

/** The name in `X-Cache` and `Via`. */
const EDGE_NAME = 'peakday-edge';

interface Entry {
  key: string;
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  storedAt: number;
  expiresAt: number;
  tags: string[];
  bytes: number;
}

interface Fetched {
  status: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** The object as cached, or null when the answer was not cacheable. */
  entry: Entry | null;
}

function emptyCounters(): EdgeRouteCounters {
  return {
    requests: 0,
    hits: 0,
    misses: 0,
    passes: 0,
    originRequests: 0,
    bytesOut: 0,
    status4xx: 0,
    status5xx: 0,
    originLatencyMsSum: 0,
  };
}

function emptyPeriod(): EdgePeriodMetrics {
  return {
    routes: Object.fromEntries(EDGE_ROUTES.map((r) => [r, emptyCounters()])) as Record<
      EdgeRoute,
      EdgeRouteCounters
    >,
    invalidations: 0,
    purgedObjects: 0,
  };
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Starts the edge. */
export async function startEdge(options: EdgeOptions): Promise<Edge> {
  const ttls: Record<EdgeRoute, RouteTtl> = { ...DEFAULT_ROUTE_TTLS, ...(options.routes ?? {}) };
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const cache = new Map<string, Entry>();
  const byTag = new Map<string, Set<string>>();
  const pending = new Map<string, Promise<Fetched>>();
  const pools = new Map<string, Pool>();
  let bytes = 0;
  let period = emptyPeriod();

  const pool = (base: string): Pool => {
    let p = pools.get(base);
    if (!p) {
      p = new Pool(base, { connections: 128, pipelining: 1, keepAliveTimeout: 60_000 });
      pools.set(base, p);
    }
    return p;
  };

  const forget = (e: Entry) => {
    cache.delete(e.key);
    bytes -= e.bytes;
    for (const t of e.tags) {
      const keys = byTag.get(t);
      keys?.delete(e.key);
      if (keys?.size === 0) byTag.delete(t);
    }
  };

  const store = (e: Entry) => {
    const old = cache.get(e.key);
    if (old) forget(old);
    cache.set(e.key, e);
    bytes += e.bytes;
    for (const t of e.tags) {
      let keys = byTag.get(t);
      if (!keys) {
        keys = new Set();
        byTag.set(t, keys);
      }
      keys.add(e.key);
    }
    // Least recently used first: a Map iterates in insertion order and a hit re-inserts.
    for (const oldest of cache.values()) {
      if (bytes <= maxBytes) break;
      forget(oldest);
    }
  };

  const purgeTags = (tags: readonly string[]): number => {
    let n = 0;
    for (const t of tags) {
      for (const key of [...(byTag.get(t) ?? [])]) {
        const e = cache.get(key);
        if (e) {
          forget(e);
          n++;
        }
      }
    }
    return n;
  };

  const requestHeaders = (req: IncomingMessage, forwardCookies: boolean) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v === undefined || HOP_BY_HOP.has(k)) continue;
      if (!forwardCookies && k === 'cookie') continue;
      headers[k] = v;
    }
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    headers.via = `1.1 ${EDGE_NAME}`;
    return headers;
  };

  const responseHeaders = (raw: Record<string, string | string[] | undefined>) => {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(raw))
      if (v !== undefined && !HOP_BY_HOP.has(k) && k !== 'cache-tag') out[k] = v;
    return out;
  };

  const count = (c: EdgeRouteCounters, status: number, sent: number) => {
    c.bytesOut += sent;
    if (status >= 500) c.status5xx++;
    else if (status >= 400) c.status4xx++;
  };

  /** Fetches a cacheable object from its origin, buffered, and caches it when the answer allows. */
  const fetchObject = async (route: EdgeRoute, req: IncomingMessage, key: string): Promise<Fetched> => {
    // Counters are read from the current period at each event: a request may outlive its period.
    period.routes[route].originRequests++;
    const base = options.origins()[originOf(route)];
    const sent = performance.now();
    const r = await pool(base).request({
      method: 'GET',
      path: key,
      headers: requestHeaders(req, false),
    });
    period.routes[route].originLatencyMsSum += performance.now() - sent;
    const chunks: Buffer[] = [];
    for await (const chunk of r.body) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const headers = responseHeaders(r.headers);
    const ttl =
      r.headers['set-cookie'] === undefined
        ? computeTtl(ttls[route], parseCacheControl(r.headers['cache-control']), r.statusCode)
        : 0;
    let entry: Entry | null = null;
    if (ttl > 0) {
      const now = options.now();
      const tagHeader = r.headers['cache-tag'];
      const tags = (Array.isArray(tagHeader) ? tagHeader.join(',') : (tagHeader ?? ''))
        .split(',')
        .map((t) => t.trim())
        .filter((t) => t.length > 0);
      entry = {
        key,
        status: r.statusCode,
        headers,
        body,
        storedAt: now,
        expiresAt: now + ttl,
        tags,
        bytes: body.length + key.length + 512,
      };
      store(entry);
    }
    return { status: r.statusCode, headers, body, entry };
  };

  const serveObject = (
    res: ServerResponse,
    req: IncomingMessage,
    route: EdgeRoute,
    o: { status: number; headers: Record<string, string | string[]>; body: Buffer },
    hit: boolean,
    age?: number,
  ) => {
    const headers: Record<string, string | string[]> = {
      ...o.headers,
      'content-length': String(o.body.length),
      'x-cache': `${hit ? 'Hit' : 'Miss'} from ${EDGE_NAME}`,
    };
    if (age !== undefined) headers.age = String(Math.max(0, Math.floor(age)));
    res.writeHead(o.status, headers);
    const head = req.method === 'HEAD';
    res.end(head ? undefined : o.body);
    count(period.routes[route], o.status, head ? 0 : o.body.length);
  };

  /** Forwards a request that is not cached, streaming both ways (the API, the cart, POSTs). */
  const pass = async (route: EdgeRoute, req: IncomingMessage, res: ServerResponse) => {
    period.routes[route].passes++;
    period.routes[route].originRequests++;
    const base = options.origins()[originOf(route)];
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const sent = performance.now();
    const r = await pool(base).request({
      method: (req.method ?? 'GET') as 'GET',
      path: req.url ?? '/',
      headers: requestHeaders(req, true),
      body: hasBody ? req : null,
    });
    period.routes[route].originLatencyMsSum += performance.now() - sent;
    const headers = responseHeaders(r.headers);
    headers['x-cache'] = `Miss from ${EDGE_NAME}`;
    res.writeHead(r.statusCode, headers);
    let n = 0;
    for await (const chunk of r.body) {
      n += (chunk as Buffer).length;
      res.write(chunk);
    }
    res.end();
    count(period.routes[route], r.statusCode, n);
  };

  const invalidate = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let events: unknown;
    try {
      events = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events?: unknown }).events;
    } catch {
      events = undefined;
    }
    if (!Array.isArray(events)) {
      sendJson(res, 400, { error: { code: 'bad-request', message: 'expected {events: [...]}' } });
      return;
    }
    let applied = 0;
    for (const e of events as { type?: string; payload?: { sku?: unknown } }[]) {
      if (e?.type !== 'PriceChanged' || typeof e.payload?.sku !== 'string') continue;
      period.invalidations++;
      period.purgedObjects += purgeTags([`sku:${e.payload.sku}`]);
      applied++;
    }
    sendJson(res, 200, { applied, duplicate: 0 });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/internal/events' && req.method === 'POST') return invalidate(req, res);
    const route = routeOf(path);
    period.routes[route].requests++;
    const cacheable = (req.method === 'GET' || req.method === 'HEAD') && ttls[route].maxTtl > 0;
    if (!cacheable) return pass(route, req, res);
    const now = options.now();
    const cached = cache.get(url);
    if (cached && cached.expiresAt > now) {
      cache.delete(url);
      cache.set(url, cached);
      period.routes[route].hits++;
      serveObject(res, req, route, cached, true, now - cached.storedAt);
      return;
    }
    if (cached) forget(cached);
    const inFlight = pending.get(url);
    if (inFlight) {
      const o = await inFlight;
      if (o.entry) {
        period.routes[route].hits++;
        serveObject(res, req, route, o, true, options.now() - o.entry.storedAt);
        return;
      }
      // The first answer was not cacheable: this request goes to the origin itself.
      return pass(route, req, res);
    }
    const p = fetchObject(route, req, url);
    pending.set(url, p);
    try {
      const o = await p;
      period.routes[route].misses++;
      serveObject(res, req, route, o, false);
    } finally {
      pending.delete(url);
    }
  };

  const server: Server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      const route = routeOf((req.url ?? '/').split('?')[0] ?? '/');
      period.routes[route].status5xx++;
      if (!res.headersSent) {
        sendJson(res, 502, {
          error: { code: 'bad-gateway', message: `the edge's origin failed: ${(e as Error).message}` },
        });
      } else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${options.host}:${port}`,
    port,
    takePeriodMetrics() {
      const out = period;
      period = emptyPeriod();
      return out;
    },
    purgeTags,
    size: () => cache.size,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      for (const p of pools.values()) await p.destroy().catch(() => undefined);
      pools.clear();
      cache.clear();
      byTag.clear();
    },
  };
}

/** A period's hit ratio over the cacheable requests of some routes (hits / (hits + misses)); null with none. */
export function hitRatio(m: EdgePeriodMetrics, routes: readonly EdgeRoute[] = EDGE_ROUTES): number | null {
  let hits = 0;
  let misses = 0;
  for (const r of routes) {
    hits += m.routes[r].hits;
    misses += m.routes[r].misses;
  }
  return hits + misses > 0 ? hits / (hits + misses) : null;
}
