import type { Socket } from 'node:net';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpClient, type HttpClient, type HttpOutcome } from './http-client.ts';
import { startTestServer, type TestServer } from './test-support.ts';

const servers: TestServer[] = [];
const clients: HttpClient[] = [];
afterEach(async () => {
  while (clients.length) await clients.pop()?.destroy();
  while (servers.length) await servers.pop()?.close();
});

/** A test server that also counts the connections it accepted and the most requests it held at once. */
async function server(handler?: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(handler);
  servers.push(s);
  const sockets = new Set<Socket>();
  const stats = { connections: 0, open: 0, inFlight: 0, maxInFlight: 0 };
  s.server.on('connection', (socket: Socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  s.server.on('request', (_req, res) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    res.on('close', () => stats.inFlight--);
  });
  return { ...s, stats, sockets };
}

function client(origin: string, connections: number, timeoutMs = 5000): HttpClient {
  const c = createHttpClient({ origin, connections, timeoutMs, now: () => performance.now() });
  clients.push(c);
  return c;
}

/** Sends a GET and resolves with a copy of its outcome (the client does not keep the outcome object). */
function get(c: HttpClient, path: string): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    c.send(
      { method: 'GET', path, headers: {}, body: null },
      true,
      (o) => resolve({ ...o, body: o.body && Buffer.from(o.body) }),
      null,
    );
  });
}

const later = (ms: number, f: () => void) => setTimeout(f, ms);

describe('the HTTP client', () => {
  it('never opens more connections than its limit and serves everything beyond it in turn', async () => {
    const s = await server((_q, r) => later(20, () => r.end('ok')));
    const c = client(s.url, 3);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => get(c, `/${i}`)));
    expect(outcomes.every((o) => o.status === 200 && o.error === null)).toBe(true);
    expect(s.stats.connections).toBe(3);
    expect(s.stats.maxInFlight).toBe(3);
  });

  it('queues requests first in, first out when every connection is busy', async () => {
    const s = await server((_q, r) => later(5, () => r.end('ok')));
    const c = client(s.url, 1);
    const outcomes = await Promise.all(['/a', '/b', '/c', '/d'].map((p) => get(c, p)));
    expect(s.received.requests.map((r) => r.url)).toEqual(['/a', '/b', '/c', '/d']);
    // A queued request's send time is when it got the connection, after the one before it ended.
    const sent = outcomes.map((o) => o.sentAt);
    expect(sent).toEqual([...sent].sort((a, b) => a - b));
    expect(s.stats.connections).toBe(1);
  });

  it('keeps the connection alive for a request sent from inside the previous one’s callback', async () => {
    const s = await server();
    const c = client(s.url, 1);
    const statuses: number[] = [];
    await new Promise<void>((resolve) => {
      const next = (o: HttpOutcome) => {
        statuses.push(o.status);
        if (statuses.length < 50)
          c.send({ method: 'GET', path: '/', headers: {}, body: null }, false, next, null);
        else resolve();
      };
      c.send({ method: 'GET', path: '/', headers: {}, body: null }, false, next, null);
    });
    expect(statuses.every((x) => x === 200)).toBe(true);
    expect(s.stats.connections).toBe(1);
  });

  it('sends the next request on a new connection when the server closes each one after answering', async () => {
    const s = await server((_q, r) => {
      r.setHeader('connection', 'close');
      r.end('ok');
    });
    const c = client(s.url, 1);
    const statuses: number[] = [];
    await new Promise<void>((resolve) => {
      const next = (o: HttpOutcome) => {
        statuses.push(o.status);
        if (statuses.length < 10)
          c.send({ method: 'GET', path: '/', headers: {}, body: null }, false, next, null);
        else resolve();
      };
      c.send({ method: 'GET', path: '/', headers: {}, body: null }, false, next, null);
    });
    expect(statuses).toEqual(Array(10).fill(200));
    expect(s.stats.connections).toBe(10);
  });

  it('serves a long queue in order while it keeps growing (more demand than connections)', async () => {
    const s = await server();
    const c = client(s.url, 2);
    const order: number[] = [];
    let sent = 0;
    await new Promise<void>((resolve) => {
      const send = () => {
        const i = sent++;
        c.send(
          { method: 'GET', path: `/${i}`, headers: {}, body: null },
          false,
          () => {
            order.push(i);
            // Each answer adds two requests until 3,000 were sent: the queue never empties on the way.
            if (sent < 3000) send();
            if (sent < 3000) send();
            if (order.length === 3000) resolve();
          },
          null,
        );
      };
      for (let i = 0; i < 100; i++) send();
    });
    expect(s.received.count).toBe(3000);
    // First in, first out through the whole run (the queue peaks above 1,000 and is compacted on the
    // way); two connections may finish neighbours in either order.
    expect(order.every((x, k) => Math.abs(x - k) <= 2)).toBe(true);
  });

  it('reports a reset connection and replaces it for the next request', async () => {
    const s = await server((q, r) => (q.url === '/reset' ? q.socket.destroy() : r.end('ok')));
    const c = client(s.url, 1);
    expect((await get(c, '/')).status).toBe(200);
    const reset = await get(c, '/reset');
    expect(reset).toMatchObject({ status: 0, error: 'reset' });
    // A waiter queued behind the failing request gets a fresh connection too.
    const [again, queued] = await Promise.all([get(c, '/'), get(c, '/')]);
    expect([again.status, queued.status, again.error, queued.error]).toEqual([200, 200, null, null]);
    expect(s.stats.connections).toBe(2);
  });

  it('gives a queued request a new connection when the one it waited for fails', async () => {
    const s = await server((q, r) =>
      q.url === '/reset' ? later(10, () => q.socket.destroy()) : r.end('ok'),
    );
    const c = client(s.url, 1);
    const [reset, queued] = await Promise.all([get(c, '/reset'), get(c, '/after')]);
    expect(reset.error).toBe('reset');
    expect(queued).toMatchObject({ status: 200, error: null });
    expect(s.stats.connections).toBe(2);
  });

  it('classifies a server that does not answer in time as a timeout and carries on', async () => {
    const s = await server((q, r) => (q.url === '/stall' ? undefined : r.end('ok')));
    const c = client(s.url, 1, 150);
    const o = await get(c, '/stall');
    expect(o).toMatchObject({ status: 0, error: 'timeout' });
    expect(Number.isNaN(o.sentAt)).toBe(false);
    expect((await get(c, '/')).status).toBe(200);
  });

  it('classifies a port nobody listens on as refused', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const { port } = probe.address() as { port: number };
    await new Promise<void>((r) => probe.close(() => r()));
    const c = client(`http://127.0.0.1:${port}`, 2);
    const outcomes = await Promise.all([get(c, '/'), get(c, '/'), get(c, '/')]);
    expect(outcomes.map((o) => o.error)).toEqual(['refused', 'refused', 'refused']);
    expect(outcomes.every((o) => o.status === 0 && Number.isNaN(o.sentAt))).toBe(true);
  });

  it('passes error statuses through as statuses and keeps their connection', async () => {
    const s = await server((q, r) => {
      r.statusCode = q.url === '/missing' ? 404 : 503;
      r.setHeader('set-cookie', ['a=1; Path=/', 'b=2']);
      r.end('{"error":true}');
    });
    const c = client(s.url, 1);
    const missing = await get(c, '/missing');
    const busy = await get(c, '/busy');
    expect(missing).toMatchObject({ status: 404, error: null, setCookie: ['a=1; Path=/', 'b=2'] });
    expect(missing.body?.toString()).toBe('{"error":true}');
    expect(busy).toMatchObject({ status: 503, error: null });
    expect(s.stats.connections).toBe(1);
  });

  it('closes after in-flight and queued requests finish, and refuses requests after that', async () => {
    const s = await server((_q, r) => later(20, () => r.end('ok')));
    const c = client(s.url, 1);
    const pending = [get(c, '/1'), get(c, '/2')];
    await c.close();
    expect((await Promise.all(pending)).map((o) => o.status)).toEqual([200, 200]);
    expect((await get(c, '/late')).error).not.toBeNull();
    expect(s.sockets.size).toBeLessThanOrEqual(1);
  });

  it('aborts in-flight and queued requests on destroy, each reported once', async () => {
    const s = await server(() => undefined);
    const c = client(s.url, 1);
    const calls: string[] = [];
    const done = Promise.all(
      ['/held', '/queued'].map(
        (p) =>
          new Promise<void>((resolve) =>
            c.send(
              { method: 'GET', path: p, headers: {}, body: null },
              false,
              (o) => {
                calls.push(`${p} ${o.status} ${o.error}`);
                resolve();
              },
              null,
            ),
          ),
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    await c.destroy();
    await done;
    expect(calls.sort()).toEqual(['/held 0 other', '/queued 0 other']);
  });

  it('reads a chunked body written in many pieces, and sends a string body with its byte length', async () => {
    const s = await server((q, r, body) => {
      r.write(`{"got":${JSON.stringify(body)},`);
      r.write(`"method":"${q.method}",`);
      setTimeout(() => r.end('"n":1}'), 5);
    });
    const c = client(s.url, 1);
    const o = await new Promise<HttpOutcome>((resolve) =>
      c.send(
        {
          method: 'POST',
          path: '/cart',
          headers: { 'content-type': 'application/json' },
          body: '{"sku":"é"}',
        },
        true,
        (x) => resolve({ ...x, body: x.body && Buffer.from(x.body) }),
        null,
      ),
    );
    expect(o.status).toBe(200);
    expect(JSON.parse(o.body?.toString() ?? '')).toEqual({ got: '{"sku":"é"}', method: 'POST', n: 1 });
    expect(s.received.requests[0]?.headers['content-length']).toBe(String(Buffer.byteLength('{"sku":"é"}')));
    // The chunked answer ended cleanly: the connection is kept for the next request.
    expect((await get(c, '/')).status).toBe(200);
    expect(s.stats.connections).toBe(1);
  });

  it('keeps every body whole while other connections read into the same buffer between its pieces', async () => {
    // Plain TCP sockets read into one buffer per thread (SOCKET_ONREAD): a body that arrives in
    // pieces must be copied out of it before another socket's read lands there.
    const raw = createServer((sock) => {
      sock.once('data', (req) => {
        const n = Number(/GET \/(\d)/.exec(req.toString('latin1'))?.[1]);
        const piece = (k: number): string => String.fromCharCode(97 + 4 * n + k).repeat(3000);
        const chunked = n % 2 === 1;
        sock.write(
          chunked
            ? 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n'
            : 'HTTP/1.1 200 OK\r\ncontent-length: 12000\r\n\r\n',
        );
        let k = 0;
        const next = (): void => {
          sock.write(chunked ? `bb8\r\n${piece(k)}\r\n` : piece(k));
          if (++k < 4) setTimeout(next, 3 + n);
          else if (chunked) sock.write('0\r\n\r\n');
        };
        setTimeout(next, 1 + n);
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const port = (raw.address() as { port: number }).port;
    const c = client(`http://127.0.0.1:${port}`, 4);
    try {
      const answers = await Promise.all([0, 1, 2, 3].map((n) => get(c, `/${n}`)));
      answers.forEach((o, n) => {
        expect(o.status).toBe(200);
        const whole = [0, 1, 2, 3].map((k) => String.fromCharCode(97 + 4 * n + k).repeat(3000)).join('');
        expect(o.body?.toString('latin1')).toBe(whole);
      });
    } finally {
      await c.destroy();
      raw.close();
    }
  });

  it('skips interim 1xx answers, and reads HEAD and 204 answers as bodiless on a kept connection', async () => {
    const s = await server((q, r) => {
      if (q.url === '/hints') r.writeEarlyHints({ link: '</a.css>; rel=preload' });
      if (q.url === '/empty') {
        r.statusCode = 204;
        r.end();
        return;
      }
      r.setHeader('content-type', 'text/plain');
      r.end('hello');
    });
    const c = client(s.url, 1);
    const hints = await get(c, '/hints');
    expect([hints.status, hints.body?.toString()]).toEqual([200, 'hello']);
    const head = await new Promise<HttpOutcome>((resolve) =>
      c.send({ method: 'HEAD', path: '/', headers: {}, body: null }, true, (x) => resolve({ ...x }), null),
    );
    expect([head.status, head.error, head.body?.length]).toEqual([200, null, 0]);
    expect((await get(c, '/empty')).status).toBe(204);
    expect((await get(c, '/')).body?.toString()).toBe('hello');
    expect(s.stats.connections).toBe(1);
  });

  it('parses a response cut anywhere between reads, a body that runs to the close, and UTF-8 cookies', async () => {
    // A raw server that writes each answer a few bytes at a time.
    const answers: Record<string, string> = {
      '/length':
        'HTTP/1.1 200 OK\r\nContent-Length: 11\r\nSet-Cookie: who=zoë; Path=/\r\nX-Pad: 1\r\n\r\nhello world',
      '/chunked':
        'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n',
      '/close': 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end',
    };
    const raw = createServer((socket) => {
      let seen = '';
      socket.on('data', (d) => {
        seen += d.toString('latin1');
        const m = /^GET (\S+) HTTP\/1\.1\r\n[\s\S]*?\r\n\r\n/.exec(seen);
        if (!m) return;
        seen = seen.slice(m[0].length);
        const bytes = Buffer.from(answers[m[1] as string] ?? '', 'utf8');
        let at = 0;
        const step = () => {
          if (at >= bytes.length) {
            if (m[1] === '/close') socket.end();
            return;
          }
          socket.write(bytes.subarray(at, at + 3));
          at += 3;
          setTimeout(step, 1);
        };
        step();
      });
    });
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    const { port } = raw.address() as { port: number };
    const c = client(`http://127.0.0.1:${port}`, 1);
    try {
      const length = await get(c, '/length');
      expect([length.status, length.body?.toString(), length.setCookie]).toEqual([
        200,
        'hello world',
        ['who=zoë; Path=/'],
      ]);
      const chunked = await get(c, '/chunked');
      expect([chunked.status, chunked.body?.toString(), chunked.error]).toEqual([201, 'hello world', null]);
      const close = await get(c, '/close');
      expect([close.status, close.body?.toString(), close.error]).toEqual([200, 'until the end', null]);
      // The connection closed after the last answer; the next request opens a new one.
      expect((await get(c, '/length')).body?.toString()).toBe('hello world');
    } finally {
      await c.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    }
  });

  it('refuses a header value that would split the request, without sending it', async () => {
    const s = await server();
    const c = client(s.url, 1);
    const o = await new Promise<HttpOutcome>((resolve) =>
      c.send(
        { method: 'GET', path: '/', headers: { 'x-id': 'a\r\nx-evil: 1' }, body: null },
        false,
        (x) => resolve({ ...x }),
        null,
      ),
    );
    expect(o).toMatchObject({ status: 0, error: 'other' });
    expect(Number.isNaN(o.sentAt)).toBe(true);
    expect((await get(c, '/')).status).toBe(200);
    expect(s.received.count).toBe(1);
  });

  it('sends a reused request object the same every time, and refuses a bad one every time', async () => {
    const s = await server();
    const c = client(s.url, 2);
    const send = (req: Parameters<HttpClient['send']>[0]) =>
      new Promise<HttpOutcome>((resolve) => c.send(req, false, (x) => resolve({ ...x }), null));
    const getReq = { method: 'GET', path: '/fixed?a=1', headers: { 'x-id': 'k' }, body: null, reused: true };
    const postReq = {
      method: 'POST',
      path: '/order',
      headers: { 'content-type': 'application/json' },
      body: Buffer.from('{"sku":"é"}'),
      reused: true,
    };
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => send(i % 2 === 0 ? getReq : postReq)),
    );
    expect(outcomes.every((o) => o.status === 200 && o.error === null)).toBe(true);
    expect(s.received.count).toBe(20);
    for (const r of s.received.requests) {
      if (r.method === 'GET') {
        expect([r.url, r.headers['x-id'], r.headers.host, r.body]).toEqual([
          '/fixed?a=1',
          'k',
          s.url.slice(7),
          '',
        ]);
      } else {
        expect([r.url, r.headers['content-length'], r.body]).toEqual(['/order', '12', '{"sku":"é"}']);
      }
    }
    const bad = { method: 'GET', path: '/', headers: { 'x-id': 'a\r\nx-evil: 1' }, body: null, reused: true };
    for (let i = 0; i < 3; i++) expect(await send(bad)).toMatchObject({ status: 0, error: 'other' });
    expect(s.received.count).toBe(20);
  });

  it('reuses an idle connection only within the keep-alive time the server announced, less a second', async () => {
    const s = await server();
    // Node answers `keep-alive: timeout=2`: a socket idle for 2 s is closed by the server.
    s.server.keepAliveTimeout = 2000;
    const c = client(s.url, 1);
    expect((await get(c, '/1')).status).toBe(200);
    expect((await get(c, '/2')).status).toBe(200);
    expect(s.stats.connections).toBe(1);
    // Idle past 1 s (2 s less the margin): the next request does not risk the server's close.
    await new Promise((r) => setTimeout(r, 1700));
    expect((await get(c, '/3')).status).toBe(200);
    expect(s.stats.connections).toBe(2);
  });
});
