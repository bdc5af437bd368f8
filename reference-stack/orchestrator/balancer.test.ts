import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LoadBalancer } from './balancer.ts';

const servers: Server[] = [];
const balancers: LoadBalancer[] = [];

/** A target answering with its name after `delayMs`, with `status`. */
async function target(name: string, delayMs = 0, status = 200): Promise<string> {
  const s = createServer((req, res) => {
    req.resume();
    setTimeout(() => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-target': name });
      res.end(JSON.stringify({ name }));
    }, delayMs);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function balancer(): Promise<{ lb: LoadBalancer; url: string }> {
  const lb = new LoadBalancer('svc');
  balancers.push(lb);
  const port = await lb.listen(0, '127.0.0.1');
  return { lb, url: `http://127.0.0.1:${port}` };
}

afterEach(async () => {
  for (const lb of balancers.splice(0)) await lb.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('the load balancer', () => {
  it('sends fewer requests to a slow target than to a fast one (least outstanding requests)', async () => {
    const { lb, url } = await balancer();
    lb.addTarget('slow', await target('slow', 1_000));
    lb.addTarget('fast', await target('fast', 0));
    const names = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        await new Promise((r) => setTimeout(r, i * 5));
        return ((await (await fetch(`${url}/x`)).json()) as { name: string }).name;
      }),
    );
    const slow = names.filter((n) => n === 'slow').length;
    // Round robin would give the slow target half (20); least outstanding gives it one request per
    // request the fast target has in flight at that moment, a handful at most.
    expect(slow).toBeGreaterThan(0);
    expect(slow).toBeLessThanOrEqual(8);
  });

  it('answers 503 in the error format when no target is healthy, and counts it as an ELB 5xx', async () => {
    const { lb, url } = await balancer();
    const r = await fetch(`${url}/x`);
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ error: { code: 'no-healthy-targets' } });
    expect(lb.takePeriodMetrics()).toMatchObject({ requestCount: 1, elb5xx: 1, target5xx: 0 });
  });

  it('answers 502 when a target refuses the connection', async () => {
    const { lb, url } = await balancer();
    lb.addTarget('gone', 'http://127.0.0.1:9');
    const r = await fetch(`${url}/x`);
    expect(r.status).toBe(502);
    expect(lb.takePeriodMetrics().elb5xx).toBe(1);
  });

  it('counts requests, target 5xx and the average response time per period, then starts over', async () => {
    const { lb, url } = await balancer();
    lb.addTarget('bad', await target('bad', 20, 500));
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/x`)).arrayBuffer();
    const m = lb.takePeriodMetrics();
    expect(m.requestCount).toBe(3);
    expect(m.target5xx).toBe(3);
    expect(m.perTarget).toEqual({ bad: 3 });
    expect(m.targetResponseTime).toBeGreaterThanOrEqual(0.015);
    expect(lb.takePeriodMetrics()).toMatchObject({ requestCount: 0, targetResponseTime: null });
  });

  it('passes method, path, headers and body through, and the response headers back', async () => {
    const s = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        res.writeHead(201, {
          'content-type': 'application/json',
          'x-echo': String(req.headers['idempotency-key']),
        });
        res.end(JSON.stringify({ method: req.method, url: req.url, body }));
      });
    });
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const { lb, url } = await balancer();
    lb.addTarget('echo', `http://127.0.0.1:${(s.address() as AddressInfo).port}`);
    const r = await fetch(`${url}/api/checkout?x=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': 'k-1' },
      body: '{"cartId":"c"}',
    });
    expect(r.status).toBe(201);
    expect(r.headers.get('x-echo')).toBe('k-1');
    expect(await r.json()).toEqual({ method: 'POST', url: '/api/checkout?x=1', body: '{"cartId":"c"}' });
  });

  it('lets a deregistered target finish its in-flight request before it is forgotten', async () => {
    const { lb, url } = await balancer();
    lb.addTarget('t', await target('t', 150));
    const inflight = fetch(`${url}/x`);
    await new Promise((r) => setTimeout(r, 50));
    expect(lb.outstanding('t')).toBe(1);
    lb.deregister('t');
    expect(lb.healthyCount).toBe(0);
    await lb.whenIdle('t');
    expect((await inflight).status).toBe(200);
    expect((await fetch(`${url}/x`)).status).toBe(503);
  });

  it('leaves /_peakday/ requests to its intercept', async () => {
    const { lb, url } = await balancer();
    lb.intercept = (req, res) => {
      if (!req.url?.startsWith('/_peakday/')) return false;
      res.end('control');
      return true;
    };
    expect(await (await fetch(`${url}/_peakday/info`)).text()).toBe('control');
    expect(lb.takePeriodMetrics().requestCount).toBe(0);
  });
});
