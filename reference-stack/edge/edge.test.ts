import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { computeTtl, DEFAULT_ROUTE_TTLS, parseCacheControl, routeOf } from './cache-policy.ts';
import { type Edge, hitRatio, startEdge } from './edge-server.ts';

describe('the edge cache policy (CloudFront rule)', () => {
  const page = { minTtl: 0, defaultTtl: 0, maxTtl: 60 };
  it.each([
    ['s-maxage wins over max-age', 'public, max-age=0, s-maxage=30', 200, page, 30],
    ['max-age when no s-maxage', 'max-age=20', 200, page, 20],
    ['clamped to the maximum TTL', 's-maxage=3600', 200, page, 60],
    ['raised to the minimum TTL', 's-maxage=1', 200, { minTtl: 5, defaultTtl: 0, maxTtl: 60 }, 5],
    ['no-store is not cached with a 0 minimum', 'private, no-store', 200, page, 0],
    [
      'no-cache is cached for the minimum when it is above 0',
      'no-cache',
      200,
      { minTtl: 2, defaultTtl: 0, maxTtl: 60 },
      2,
    ],
    ['no header: the default TTL', undefined, 200, { minTtl: 0, defaultTtl: 10, maxTtl: 60 }, 10],
    ['an error is not cached', 's-maxage=30', 404, page, 0],
    ['a route with caching disabled', 's-maxage=30', 200, DEFAULT_ROUTE_TTLS.cart, 0],
  ])('%s', (_name, header, status, ttl, expected) => {
    expect(computeTtl(ttl, parseCacheControl(header), status)).toBe(expected);
  });

  it.each([
    ['/', 'home'],
    ['/c/toys', 'category'],
    ['/p/p-000001', 'product'],
    ['/cart', 'cart'],
    ['/api/products', 'api'],
    ['/graphql', 'api'],
    ['/_peakday/info', 'api'],
  ])('routes %s to %s', (path, route) => {
    expect(routeOf(path)).toBe(route);
  });
});

/** A counting origin: pages tagged with the SKU in their path, the cart private, the API uncached. */
function startOrigin(): Promise<{
  server: Server;
  url: string;
  hits: Map<string, number>;
  cookies: string[];
}> {
  const hits = new Map<string, number>();
  const cookies: string[] = [];
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    hits.set(url, (hits.get(url) ?? 0) + 1);
    if (req.headers.cookie) cookies.push(`${url} ${req.headers.cookie}`);
    const sku = /\/p\/p-(\d+)/.exec(url)?.[1];
    const headers: Record<string, string> = { 'content-type': 'text/html' };
    if (url.startsWith('/p/')) {
      headers['cache-control'] = 'public, max-age=0, s-maxage=10';
      headers['cache-tag'] = `sku:SKU-${sku}`;
    } else if (url === '/cart') headers['cache-control'] = 'private, no-store';
    else if (url.startsWith('/c/')) headers['cache-control'] = 'public, s-maxage=30';
    else headers['content-type'] = 'application/json';
    // A slow origin, so concurrent misses overlap.
    setTimeout(() => {
      res.writeHead(200, headers);
      res.end(`<p>${url} #${hits.get(url)}</p>`);
    }, 30);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, cookies }),
    ),
  );
}

describe('the edge over real HTTP', () => {
  let origin: Awaited<ReturnType<typeof startOrigin>>;
  let edge: Edge;
  let now = 1000;
  beforeAll(async () => {
    origin = await startOrigin();
    edge = await startEdge({
      host: '127.0.0.1',
      port: 0,
      origins: () => ({ api: origin.url, pages: origin.url }),
      now: () => now,
    });
  });
  afterAll(async () => {
    await edge?.close();
    origin?.server.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const r = await request(`${edge.url}${path}`, { headers });
    return { status: r.statusCode, headers: r.headers, text: await r.body.text() };
  };

  it('serves a page from the cache until its TTL passes, then asks the origin again', async () => {
    edge.takePeriodMetrics();
    const first = await get('/p/p-000001');
    expect(first.headers['x-cache']).toBe('Miss from peakday-edge');
    expect(first.headers['cache-tag']).toBeUndefined();
    now += 9;
    const second = await get('/p/p-000001');
    expect(second.headers['x-cache']).toBe('Hit from peakday-edge');
    expect(second.headers.age).toBe('9');
    expect(second.text).toBe(first.text);
    now += 2;
    const third = await get('/p/p-000001');
    expect(third.headers['x-cache']).toBe('Miss from peakday-edge');
    expect(origin.hits.get('/p/p-000001')).toBe(2);
  });

  it('collapses concurrent misses of one page into one origin request', async () => {
    const all = await Promise.all(Array.from({ length: 10 }, () => get('/c/toys?page=2')));
    expect(new Set(all.map((r) => r.text)).size).toBe(1);
    expect(origin.hits.get('/c/toys?page=2')).toBe(1);
  });

  it('never caches the cart or the API, and forwards cookies only to routes it does not cache', async () => {
    await get('/cart', { cookie: 'peakday_cart=c-1' });
    await get('/cart', { cookie: 'peakday_cart=c-1' });
    await get('/api/products');
    await get('/api/products');
    await get('/p/p-000077', { cookie: 'peakday_cart=c-1' });
    expect(origin.hits.get('/cart')).toBe(2);
    expect(origin.hits.get('/api/products')).toBe(2);
    expect(origin.cookies).toEqual(['/cart peakday_cart=c-1', '/cart peakday_cart=c-1']);
  });

  it('purges the pages showing a SKU when its price changes, and only those', async () => {
    await get('/p/p-000005');
    await get('/p/p-000006');
    const r = await request(`${edge.url}/internal/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        events: [
          { id: 'PriceChanged:deal-001:open', type: 'PriceChanged', at: now, payload: { sku: 'SKU-000005' } },
          { id: 'OrderPlaced:o-1', type: 'OrderPlaced', at: now, payload: {} },
        ],
      }),
    });
    expect(await r.body.json()).toEqual({ applied: 1, duplicate: 0 });
    expect((await get('/p/p-000005')).headers['x-cache']).toBe('Miss from peakday-edge');
    expect((await get('/p/p-000006')).headers['x-cache']).toBe('Hit from peakday-edge');
    const m = edge.takePeriodMetrics();
    expect([m.invalidations, m.purgedObjects]).toEqual([1, 1]);
  });

  it('counts a request that outlives its period in the period where it ends, so none is lost', async () => {
    now += 100;
    edge.takePeriodMetrics();
    const inFlight = get('/p/p-000201');
    await new Promise((r) => setTimeout(r, 10));
    const before = edge.takePeriodMetrics();
    await inFlight;
    const after = edge.takePeriodMetrics();
    expect(before.routes.product.requests + after.routes.product.requests).toBe(1);
    expect(before.routes.product.misses + after.routes.product.misses).toBe(1);
    expect(after.routes.product.misses).toBe(1);
  });

  it('measures the hit ratio of a known sequence exactly: 1 miss then 3 hits per page', async () => {
    now += 100;
    edge.takePeriodMetrics();
    for (const id of ['p-000101', 'p-000102']) for (let i = 0; i < 4; i++) await get(`/p/${id}`);
    await get('/api/deals');
    const m = edge.takePeriodMetrics();
    expect(m.routes.product).toMatchObject({ requests: 8, hits: 6, misses: 2, passes: 0, originRequests: 2 });
    expect(m.routes.api).toMatchObject({ requests: 1, hits: 0, passes: 1, originRequests: 1 });
    expect(hitRatio(m)).toBe(0.75);
  });
});
