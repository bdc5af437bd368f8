/**
 * The engine's HTTP client: undici 7's lowest-level API (`Dispatcher.dispatch` with a handler) on one
 * keep-alive `Client` per connection (pipelining 1), the connections of an origin managed here (idle
 * stack, FIFO wait queue, limit) instead of by undici's `Pool`. `dispatch` skips the response stream
 * that `request()` builds for every response and lets the engine read the moment a request is written
 * to a socket (`onConnect`), which is its send time. Managing the connections ourselves skips the
 * Pool's scan over its clients and its 'drain' events, and a request sent from a completion callback
 * (closed loop, the next step of a journey) rides the connection that just finished without undici's
 * idle-socket check: one setImmediate per request instead of two. bench/engine.bench.ts section 1
 * measures it against Pool.dispatch, Pool.request and Client.request on every run (nginx, 50 in flight).
 * One call = one request; the callback gets the status, the body when asked for and a classified
 * failure. Nothing is retried: a load generator must report what happened.
 */
import type { Socket } from 'node:net';
import { buildConnector, Client, type Dispatcher, errors } from 'undici';
import type { ErrorCounts } from '../core/run-format.ts';

/** How a request failed at the transport level (HTTP status classes are counted separately). */
export type TransportError = Exclude<keyof ErrorCounts, 'check' | 'emptyValue'>;

/** What one request produced. `status` is 0 when the request failed before a response. */
export interface HttpOutcome {
  status: number;
  /** `set-cookie` header values, only when `wantBody` was set. */
  setCookie: string[] | null;
  /** The body, only when `wantBody` was set. */
  body: Buffer | null;
  error: TransportError | null;
  errorMessage: string | null;
  /** When the request was written to a connection (the client's clock); NaN if it never was. */
  sentAt: number;
}

/** A request ready to send: method, path (with query), headers and an encoded body. */
export interface OutgoingRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | null;
}

/** Options that hold for every request of a run. */
export interface HttpClientOptions {
  /** Base URL (scheme, host, port); paths are appended. */
  origin: string;
  /** Keep-alive connections in the pool: the most requests in flight at once. */
  connections: number;
  /** Per-request timeout in ms (headers and body each). */
  timeoutMs: number;
  /** The clock `sentAt` is read from (ms). */
  now: () => number;
}

/** Sends requests; `close` waits for in-flight requests, `destroy` aborts them. */
export interface HttpClient {
  /** Sends `req`; `done(outcome, ctx)` is called once (passing `ctx` spares a closure per request). */
  send<C>(
    req: OutgoingRequest,
    wantBody: boolean,
    done: (outcome: HttpOutcome, ctx: C) => void,
    ctx: C,
  ): void;
  /**
   * Opens up to `n` connections before the run's clock starts, for its first requests to use; says
   * how many opened within `timeoutMs`. Optional: a client without a network has nothing to open.
   */
  preconnect?(n: number, timeoutMs: number): Promise<number>;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

const errorKinds: Record<string, TransportError> = {
  UND_ERR_HEADERS_TIMEOUT: 'timeout',
  UND_ERR_BODY_TIMEOUT: 'timeout',
  UND_ERR_CONNECT_TIMEOUT: 'timeout',
  ETIMEDOUT: 'timeout',
  ECONNREFUSED: 'refused',
  ECONNRESET: 'reset',
  EPIPE: 'reset',
  UND_ERR_SOCKET: 'reset',
  UND_ERR_CLOSED: 'reset',
};

/** Classifies a transport error by its code (undici or errno); unknown codes are `other`. */
export function classifyError(err: unknown): TransportError {
  const e = err as { code?: string; cause?: { code?: string } };
  return errorKinds[e?.code ?? ''] ?? errorKinds[e?.cause?.code ?? ''] ?? 'other';
}

function readSetCookie(raw: Buffer[] | string[] | null): string[] | null {
  if (!raw) return null;
  let out: string[] | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = String(raw[i]);
    if (k.length === 10 && k.toLowerCase() === 'set-cookie') {
      if (out === null) out = [];
      out.push(String(raw[i + 1]));
    }
  }
  return out;
}

/**
 * One request, waiting or in flight: the undici handler and, once finished, its outcome (the same
 * object, so a request allocates one handler and nothing else of ours). Methods live on the prototype.
 * The outcome is read by `done` during the call; it is not kept afterwards.
 */
class RequestHandler implements HttpOutcome {
  status = 0;
  setCookie: string[] | null = null;
  body: Buffer | null = null;
  error: TransportError | null = null;
  errorMessage: string | null = null;
  sentAt = Number.NaN;
  /** The connection this request was dispatched on; null while it waits for one. */
  conn: Client | null = null;
  private chunks: Buffer[] | null = null;
  private finished = false;

  constructor(
    private readonly set: ConnectionSet,
    readonly request: Dispatcher.DispatchOptions,
    private readonly wantBody: boolean,
    private readonly done: (o: HttpOutcome, ctx: unknown) => void,
    private readonly ctx: unknown,
  ) {}

  onConnect(): void {
    // Called as the request is written to a socket: the actual send, after any wait for a connection.
    this.sentAt = this.set.now();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[] | string[] | null): boolean {
    this.status = statusCode;
    if (this.wantBody) this.setCookie = readSetCookie(rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.wantBody) {
      if (this.chunks === null) this.chunks = [];
      this.chunks.push(chunk);
    }
    return true;
  }

  onComplete(): void {
    if (this.wantBody) this.body = this.chunks === null ? Buffer.alloc(0) : Buffer.concat(this.chunks);
    this.finish();
  }

  onError(err: Error): void {
    this.status = 0;
    this.error = classifyError(err);
    this.errorMessage = err.message;
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    // The connection goes to the next waiter (or back to the idle list) before `done` runs, so a
    // request `done` sends queues behind the ones already waiting, and one sent when nothing waits
    // takes this connection while undici is still finishing the response: it is written as soon as
    // undici resumes, without the idle-socket check a connection idle for a moment gets.
    this.set.release(this);
    this.done(this, this.ctx);
  }
}

/**
 * One origin's keep-alive connections: an undici `Client` (pipelining 1) per connection, created on
 * demand up to `limit`, idle ones on a stack (the most recently used first, so a light load keeps few
 * sockets warm), requests beyond the limit in a FIFO queue. A connection whose request failed at the
 * transport level (timeout, refused, reset) is dropped and a fresh one is made when next needed.
 */
class ConnectionSet implements HttpClient {
  private readonly all: Client[] = [];
  private readonly idle: Client[] = [];
  /** Requests waiting for a connection, oldest at `head`. */
  private waiting: RequestHandler[] = [];
  private head = 0;
  private inFlight = 0;
  private closing = false;
  private destroyed = false;
  private closeResolve: (() => void) | null = null;
  private readonly clientOptions: Client.Options;
  /** Sockets opened by `preconnect`, handed to the first connections undici asks for. */
  private warm: Socket[] = [];
  private readonly connector: buildConnector.connector;
  readonly now: () => number;

  constructor(private readonly opts: HttpClientOptions) {
    this.now = opts.now;
    this.connector = buildConnector({ timeout: opts.timeoutMs });
    this.clientOptions = {
      // undici's own connector, except that a socket `preconnect` opened is used first.
      connect: (o, cb) => {
        let s = this.warm.pop();
        while (s && (s.destroyed || s.readyState !== 'open')) s = this.warm.pop();
        // Answered asynchronously, as undici's connector does: undici is still inside its connect call.
        if (s) queueMicrotask(() => cb(null, s));
        else this.connector(o, cb);
      },
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
      connectTimeout: opts.timeoutMs,
    };
  }

  send<C>(req: OutgoingRequest, wantBody: boolean, done: (o: HttpOutcome, ctx: C) => void, ctx: C): void {
    // The engine builds a fresh request object per send, which undici only reads: passed as is.
    const h = new RequestHandler(
      this,
      req as Dispatcher.DispatchOptions,
      wantBody,
      done as (o: HttpOutcome, ctx: unknown) => void,
      ctx,
    );
    if (this.destroyed || this.closing) {
      h.onError(this.destroyed ? new errors.ClientDestroyedError() : new errors.ClientClosedError());
      return;
    }
    const c = this.idle.pop() ?? this.open();
    if (c) this.dispatchOn(c, h);
    else this.waiting.push(h);
  }

  preconnect(n: number, timeoutMs: number): Promise<number> {
    const url = new URL(this.opts.origin);
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const target = { host: url.host, hostname, protocol: url.protocol, port };
    const count = Math.min(n, this.opts.connections);
    return new Promise((resolve) => {
      let settled = 0;
      const finish = () => {
        clearTimeout(timer);
        resolve(this.warm.length);
      };
      const timer = setTimeout(finish, timeoutMs);
      if (count <= 0) finish();
      for (let i = 0; i < count; i++)
        this.connector(target, (err, socket) => {
          if (!err && socket && !this.closing && !this.destroyed) this.warm.push(socket as Socket);
          else socket?.destroy();
          if (++settled === count) finish();
        });
    });
  }

  private dropWarm(): void {
    for (const s of this.warm.splice(0)) s.destroy();
  }

  /** A new connection if the limit allows, else null. */
  private open(): Client | null {
    if (this.all.length >= this.opts.connections) return null;
    const c = new Client(this.opts.origin, this.clientOptions);
    this.all.push(c);
    return c;
  }

  private dispatchOn(c: Client, h: RequestHandler): void {
    h.conn = c;
    this.inFlight++;
    // Errors (even synchronous ones) come back through h.onError: DispatcherBase catches them.
    c.dispatch(h.request, h);
  }

  /** Called once per request as it finishes, before its `done`. */
  release(h: RequestHandler): void {
    let c = h.conn;
    if (c === null) return; // failed while waiting (destroy): it never held a connection
    h.conn = null;
    this.inFlight--;
    if (this.destroyed) return;
    if (h.error !== null) {
      this.drop(c);
      c = null;
    }
    if (this.head < this.waiting.length) {
      const next = this.waiting[this.head] as RequestHandler;
      this.waiting[this.head++] = undefined as unknown as RequestHandler;
      if (this.head === this.waiting.length) {
        this.waiting = [];
        this.head = 0;
      } else if (this.head >= 1024 && this.head * 2 >= this.waiting.length) {
        // A queue that never empties (more demand than connections for a long time) stays bounded.
        this.waiting = this.waiting.slice(this.head);
        this.head = 0;
      }
      const conn = c ?? this.open();
      if (conn) this.dispatchOn(conn, next);
      else this.waiting.unshift(next); // unreachable: a dropped connection frees a place under the limit
    } else if (c) this.idle.push(c);
    if (this.closeResolve && this.inFlight === 0 && this.head >= this.waiting.length) this.closeResolve();
  }

  /** Forgets a failed connection; it is destroyed once undici has finished reporting its error. */
  private drop(c: Client): void {
    const i = this.all.indexOf(c);
    if (i >= 0) this.all.splice(i, 1);
    queueMicrotask(() => {
      c.destroy().catch(() => undefined);
    });
  }

  async close(): Promise<void> {
    if (this.destroyed) return;
    if (!this.closing) {
      this.closing = true;
      if (this.inFlight > 0 || this.head < this.waiting.length)
        await new Promise<void>((r) => {
          this.closeResolve = r;
        });
    } else if (this.closeResolve) {
      const prev = this.closeResolve;
      await new Promise<void>((r) => {
        this.closeResolve = () => {
          prev();
          r();
        };
      });
    }
    this.idle.length = 0;
    this.dropWarm();
    await Promise.all(this.all.splice(0).map((c) => c.close()));
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const waiting = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    for (const h of waiting) h.onError(new errors.ClientDestroyedError());
    this.idle.length = 0;
    this.dropWarm();
    this.closeResolve?.();
    await Promise.all(this.all.splice(0).map((c) => c.destroy()));
  }
}

/** Creates the client for one origin: up to `connections` keep-alive connections, FIFO beyond. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  return new ConnectionSet(opts);
}
