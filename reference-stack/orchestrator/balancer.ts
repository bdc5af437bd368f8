/**
 * A per-service load balancer, standing in for an ALB target group: an HTTP reverse proxy that sends
 * each request to the healthy, in-service target with the fewest outstanding requests (ALB's
 * "least outstanding requests" algorithm; ties go round robin), over keep-alive connection pools
 * (undici), and counts the ALB's per-period metrics (RequestCount, TargetResponseTime,
 * HTTPCode_Target_5XX_Count, HTTPCode_ELB_5XX_Count).
 *
 * Registration state lives in the fleet (service-fleet.ts): it adds a target once the target passed its
 * health check and removes it when it deregisters; a removed target finishes its in-flight requests
 * (`whenIdle`). The gateway's balancer also serves the control API under `/_peakday/` through `intercept`.
 *
 * Hot path: one object per target, counters only, no per-request allocation beyond the proxying itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

/** One registered target (a replica's HTTP endpoint). */
interface Target {
  id: string;
  url: string;
  pool: Pool;
  outstanding: number;
  requests: number;
  idleWaiters: (() => void)[];
}

/** ALB counters of one period; `TargetResponseTime` is the average in seconds. */
export interface BalancerPeriodMetrics {
  requestCount: number;
  /** Average seconds from sending the request to the target until its response headers arrived. */
  targetResponseTime: number | null;
  target5xx: number;
  elb5xx: number;
  /** Requests per target id during the period. */
  perTarget: Record<string, number>;
}

/** Handles a request before proxying (the control API); returns true when it answered. */
export type Intercept = (req: IncomingMessage, res: ServerResponse) => boolean;

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

/** Sends a JSON error in the stack's one error format. */
export function sendJsonError(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The load balancer of one service. */
export class LoadBalancer {
  private readonly targets = new Map<string, Target>();
  private inService: Target[] = [];
  private rr = 0;
  private server: Server | undefined;
  private requestCount = 0;
  private responseTimeSum = 0;
  private responseTimeCount = 0;
  private target5xx = 0;
  private elb5xx = 0;
  private perTarget: Record<string, number> = {};
  intercept: Intercept | undefined;

  constructor(readonly service: string) {}

  /** Starts listening; resolves with the bound port (0 picks an ephemeral one). */
  listen(port: number, host: string): Promise<number> {
    const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** Number of targets taking traffic. */
  get healthyCount(): number {
    return this.inService.length;
  }

  /** Outstanding requests of a target (0 if unknown). */
  outstanding(id: string): number {
    return this.targets.get(id)?.outstanding ?? 0;
  }

  /** Registers a target that passed its health check: it takes traffic from now on. */
  addTarget(id: string, url: string): void {
    if (this.targets.has(id)) return;
    const t: Target = {
      id,
      url,
      pool: new Pool(url, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 }),
      outstanding: 0,
      requests: 0,
      idleWaiters: [],
    };
    this.targets.set(id, t);
    this.inService.push(t);
  }

  /** Deregisters a target: no new requests; it stays known until its in-flight requests finish. */
  deregister(id: string): void {
    this.inService = this.inService.filter((t) => t.id !== id);
  }

  /** Resolves when a deregistered target has no request in flight, then forgets it. */
  whenIdle(id: string): Promise<void> {
    const t = this.targets.get(id);
    if (!t) return Promise.resolve();
    const forget = () => {
      if (this.inService.includes(t)) return;
      this.targets.delete(id);
      void t.pool.close().catch(() => undefined);
    };
    if (t.outstanding === 0) {
      forget();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      t.idleWaiters.push(() => {
        forget();
        resolve();
      });
    });
  }

  /** Forgets a target at once (its process is gone). */
  removeTarget(id: string): void {
    this.deregister(id);
    const t = this.targets.get(id);
    if (!t) return;
    this.targets.delete(id);
    for (const w of t.idleWaiters.splice(0)) w();
    void t.pool.destroy().catch(() => undefined);
  }

  /** Returns the period's counters and starts a new period. */
  takePeriodMetrics(): BalancerPeriodMetrics {
    const m: BalancerPeriodMetrics = {
      requestCount: this.requestCount,
      targetResponseTime: this.responseTimeCount > 0 ? this.responseTimeSum / this.responseTimeCount : null,
      target5xx: this.target5xx,
      elb5xx: this.elb5xx,
      perTarget: this.perTarget,
    };
    this.requestCount = 0;
    this.responseTimeSum = 0;
    this.responseTimeCount = 0;
    this.target5xx = 0;
    this.elb5xx = 0;
    this.perTarget = {};
    return m;
  }

  /** Stops listening and closes every pool. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    for (const t of this.targets.values()) await t.pool.destroy().catch(() => undefined);
    this.targets.clear();
    this.inService = [];
  }

  private pick(): Target | undefined {
    const n = this.inService.length;
    if (n === 0) return undefined;
    let best: Target | undefined;
    const start = this.rr++ % n;
    for (let i = 0; i < n; i++) {
      const t = this.inService[(start + i) % n] as Target;
      if (best === undefined || t.outstanding < best.outstanding) best = t;
    }
    return best;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (this.intercept?.(req, res)) return;
    this.requestCount++;
    const target = this.pick();
    if (!target) {
      this.elb5xx++;
      res.setHeader('retry-after', '1');
      sendJsonError(res, 503, 'no-healthy-targets', `service ${this.service} has no healthy target`);
      req.resume();
      return;
    }
    void this.proxy(target, req, res);
  }

  private async proxy(t: Target, req: IncomingMessage, res: ServerResponse): Promise<void> {
    t.outstanding++;
    t.requests++;
    this.perTarget[t.id] = (this.perTarget[t.id] ?? 0) + 1;
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    }
    headers['x-forwarded-for'] = req.socket.remoteAddress ?? '127.0.0.1';
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const sent = performance.now();
    try {
      const r = await t.pool.request({
        method: (req.method ?? 'GET') as 'GET',
        path: req.url ?? '/',
        headers,
        body: hasBody ? req : null,
      });
      this.responseTimeSum += (performance.now() - sent) / 1000;
      this.responseTimeCount++;
      if (r.statusCode >= 500) this.target5xx++;
      const out: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(r.headers)) {
        if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
      }
      res.writeHead(r.statusCode, out);
      for await (const chunk of r.body) res.write(chunk);
      res.end();
    } catch (e) {
      this.elb5xx++;
      if (!res.headersSent) {
        sendJsonError(res, 502, 'bad-gateway', `target of ${this.service} failed: ${(e as Error).message}`);
      } else {
        res.destroy();
      }
    } finally {
      t.outstanding--;
      if (t.outstanding === 0 && t.idleWaiters.length > 0) for (const w of t.idleWaiters.splice(0)) w();
    }
  }
}
