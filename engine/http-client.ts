/**
 * The engine's HTTP client: up to `connections` keep-alive HTTP/1.1 connections to one origin, each
 * carrying one request at a time (engine/http1-connection.ts writes the request and parses the
 * response on the socket itself), managed here: an idle stack, a FIFO wait queue, a limit. A request
 * sent from a completion callback (closed loop, the next step of a journey) rides the connection that
 * just finished. The client used to be undici's lowest-level API (`Dispatcher.dispatch` on a `Client`
 * per connection), which also deferred every write to a setImmediate: writing at once and parsing on
 * the socket took the open model at 5,000/s from 62-68 to 45-53 µs of CPU per request
 * (docs/run-directory.md, "The engine's HTTP client"). undici's connector still opens the sockets
 * (TCP or TLS, connect time-out). One call = one request; the callback gets the status, the body when
 * asked for and a classified failure. Nothing is retried: a load generator must report what happened.
 */
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import type { ErrorCounts } from '../core/run-format.ts';
import {
  codedError,
  Http1Connection,
  type Http1Handler,
  type Http1Owner,
  SOCKET_ONREAD,
} from './http1-connection.ts';

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
  /**
   * The same object is sent again and again, unchanged (a step without per-iteration values): the
   * connection keeps its encoded head instead of validating and building it for every request.
   */
  reused?: boolean;
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
  /**
   * Called when a request failed for the load generator's own reason (LOCAL_FAILURES: no file
   * descriptor, no local port, no buffer memory), not the target's. The request still counts as a
   * transport error (`other`); the engine stops the run, since what follows measures this machine.
   */
  onLocalFailure?: (code: string, message: string) => void;
}

/**
 * Socket errors that are the load generator's, not the target's: its open-file limit (EMFILE, or
 * the system's, ENFILE), its ephemeral ports (EADDRNOTAVAIL), its kernel memory (ENOBUFS, ENOMEM).
 */
export const LOCAL_FAILURES: Record<string, string> = {
  EMFILE: 'this process reached its open-file limit (ulimit -n)',
  ENFILE: "the system's open-file table is full",
  EADDRNOTAVAIL: 'no local port left to connect from (ephemeral ports exhausted)',
  ENOBUFS: 'the kernel had no buffer space for the socket',
  ENOMEM: 'the kernel had no memory for the socket',
};

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

/**
 * One request, waiting or in flight: the connection's handler and, once finished, its outcome (the
 * same object, so a request allocates one handler and nothing else of ours). Methods live on the
 * prototype. The outcome is read by `done` during the call; it is not kept afterwards.
 */
class RequestHandler implements HttpOutcome, Http1Handler {
  status = 0;
  setCookie: string[] | null = null;
  body: Buffer | null = null;
  error: TransportError | null = null;
  errorMessage: string | null = null;
  sentAt = Number.NaN;
  /** The connection this request was dispatched on; null while it waits for one. */
  conn: Http1Connection | null = null;
  private chunks: Buffer[] | null = null;
  private finished = false;

  constructor(
    private readonly set: ConnectionSet,
    readonly request: OutgoingRequest,
    readonly wantBody: boolean,
    private readonly done: (o: HttpOutcome, ctx: unknown) => void,
    private readonly ctx: unknown,
  ) {}

  onSent(): void {
    // Called as the request is written to a socket: the actual send, after any wait for a connection.
    this.sentAt = this.set.now();
  }

  onHead(status: number, setCookie: string[] | null): void {
    this.status = status;
    this.setCookie = setCookie;
  }

  onBody(chunk: Buffer): void {
    if (this.chunks === null) this.chunks = [];
    this.chunks.push(chunk);
  }

  onEnd(): void {
    if (this.wantBody)
      this.body =
        this.chunks === null
          ? Buffer.alloc(0)
          : this.chunks.length === 1
            ? (this.chunks[0] as Buffer)
            : Buffer.concat(this.chunks);
    this.finish();
  }

  onFail(err: Error): void {
    this.status = 0;
    this.error = classifyError(err);
    this.errorMessage = err.message;
    const code = (err as { code?: string }).code ?? '';
    if (code in LOCAL_FAILURES) this.set.localFailure(code, err.message);
    this.finish();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    // The connection goes to the next waiter (or back to the idle list) before `done` runs, so a
    // request `done` sends queues behind the ones already waiting, and one sent when nothing waits
    // rides the connection that just finished.
    this.set.release(this);
    this.done(this, this.ctx);
  }
}

/**
 * One origin's keep-alive connections (engine/http1-connection.ts, one request at a time each),
 * created on demand up to `limit`, idle ones on a stack (the most recently used first, so a light
 * load keeps few sockets warm), requests beyond the limit in a FIFO queue. A connection whose request
 * failed at the transport level (timeout, refused, reset) is dropped and a fresh one is made when next
 * needed. Time-outs are judged on a coarse clock swept a few times per time-out (at most every
 * 500 ms), so a request costs no timer of its own.
 */
class ConnectionSet implements HttpClient, Http1Owner {
  private readonly all: Http1Connection[] = [];
  private readonly idle: Http1Connection[] = [];
  /** Requests waiting for a connection, oldest at `head`. */
  private waiting: RequestHandler[] = [];
  private head = 0;
  private inFlight = 0;
  private closing = false;
  private destroyed = false;
  private closeResolve: (() => void) | null = null;
  /** Sockets opened by `preconnect`, handed to the first connections that connect. */
  private warm: Socket[] = [];
  private readonly connector: buildConnector.connector;
  private readonly target: { host: string; hostname: string; protocol: string; port: string };
  private readonly sweep: NodeJS.Timeout;
  private readonly sweepMs: number;
  readonly hostLine: string;
  readonly heads = new WeakMap<OutgoingRequest, string>();
  readonly timeoutMs: number;
  clock = performance.now();
  readonly now: () => number;

  /** Passes a load generator's own failure on (HttpClientOptions.onLocalFailure). */
  localFailure(code: string, message: string): void {
    this.opts.onLocalFailure?.(code, message);
  }

  constructor(private readonly opts: HttpClientOptions) {
    this.now = opts.now;
    const url = new URL(opts.origin);
    // Plain TCP sockets read into the thread's shared buffer (SOCKET_ONREAD says why); TLS ones stream.
    this.connector = buildConnector(
      url.protocol === 'http:'
        ? ({ timeout: opts.timeoutMs, onread: SOCKET_ONREAD } as buildConnector.BuildOptions)
        : { timeout: opts.timeoutMs },
    );
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    this.target = { host: url.host, hostname, protocol: url.protocol, port };
    this.hostLine = `host: ${url.host}\r\n`;
    this.sweepMs = Math.min(500, Math.max(10, Math.round(opts.timeoutMs / 20)));
    // A deadline is the coarse clock plus the time-out plus one sweep, so no request times out early.
    this.timeoutMs = opts.timeoutMs + this.sweepMs;
    this.sweep = setInterval(() => {
      this.clock = performance.now();
      for (const c of this.all) if (c.busy && c.deadline <= this.clock) c.timeOut();
    }, this.sweepMs);
    this.sweep.unref();
  }

  connect(cb: (err: Error | null, socket: Socket | null) => void): void {
    let s = this.warm.pop();
    while (s && (s.destroyed || s.readyState !== 'open')) s = this.warm.pop();
    // Answered asynchronously, as a fresh connection is.
    if (s) {
      const socket = s;
      queueMicrotask(() => cb(null, socket));
    } else this.connector(this.target, (err, socket) => cb(err, (socket as Socket | null) ?? null));
  }

  send<C>(req: OutgoingRequest, wantBody: boolean, done: (o: HttpOutcome, ctx: C) => void, ctx: C): void {
    const h = new RequestHandler(this, req, wantBody, done as (o: HttpOutcome, ctx: unknown) => void, ctx);
    if (this.destroyed || this.closing) {
      h.onFail(
        this.destroyed
          ? codedError('UND_ERR_DESTROYED', 'The client is destroyed')
          : codedError('UND_ERR_CLOSED', 'The client is closed'),
      );
      return;
    }
    const c = this.idle.pop() ?? this.open();
    if (c) this.dispatchOn(c, h);
    else this.waiting.push(h);
  }

  preconnect(n: number, timeoutMs: number): Promise<number> {
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
        this.connector(this.target, (err, socket) => {
          if (!err && socket && !this.closing && !this.destroyed) this.warm.push(socket as Socket);
          else socket?.destroy();
          // The machine's own limit shows here first when the plan opens more connections than it allows.
          const code = (err as NodeJS.ErrnoException | null)?.code;
          if (code && code in LOCAL_FAILURES) this.opts.onLocalFailure?.(code, (err as Error).message);
          if (++settled === count) finish();
        });
    });
  }

  private dropWarm(): void {
    for (const s of this.warm.splice(0)) s.destroy();
  }

  /** A new connection if the limit allows, else null. */
  private open(): Http1Connection | null {
    if (this.all.length >= this.opts.connections) return null;
    const c = new Http1Connection(this);
    this.all.push(c);
    return c;
  }

  private dispatchOn(c: Http1Connection, h: RequestHandler): void {
    h.conn = c;
    this.inFlight++;
    c.dispatch(h.request, h);
  }

  /** Called once per request as it finishes, before its `done`. */
  release(h: RequestHandler): void {
    let c = h.conn;
    if (c === null) return; // failed while waiting (destroy): it never held a connection
    h.conn = null;
    this.inFlight--;
    if (this.destroyed) return;
    if (h.error !== null || !c.reusable) {
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

  /** Forgets a failed connection and closes it. */
  private drop(c: Http1Connection): void {
    const i = this.all.indexOf(c);
    if (i >= 0) this.all.splice(i, 1);
    c.destroy();
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
    clearInterval(this.sweep);
    this.idle.length = 0;
    this.dropWarm();
    for (const c of this.all.splice(0)) c.destroy();
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.sweep);
    const waiting = this.waiting.slice(this.head);
    this.waiting = [];
    this.head = 0;
    for (const h of waiting) h.onFail(codedError('UND_ERR_DESTROYED', 'The client is destroyed'));
    this.idle.length = 0;
    this.dropWarm();
    this.closeResolve?.();
    for (const c of this.all.splice(0)) c.destroy();
  }
}

/** Creates the client for one origin: up to `connections` keep-alive connections, FIFO beyond. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  return new ConnectionSet(opts);
}

/** Why a run stopped on its load generator's own failure, and what to do about it. Pure. */
export function describeLocalFailure(
  code: string,
  message: string,
  when: string,
  fileLimit: string | null,
): string {
  const remedy =
    code === 'EMFILE' || code === 'ENFILE'
      ? `raise the limit (ulimit -n${fileLimit ? `: ${fileLimit} here` : ''}) or lower the concurrency (maxConcurrency, --connections)`
      : 'lower the concurrency, or spread the load over more generators (--segment, --generators)';
  return `the load generator failed, not the target: ${LOCAL_FAILURES[code] ?? code} (${message}) ${when}; ${remedy}`;
}

/** This process's open-file limit (soft, hard) from /proc/self/limits, for the message; null elsewhere. */
export function openFileLimit(): string | null {
  try {
    const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(
      readFileSync('/proc/self/limits', 'utf8'),
    );
    return m ? `${m[1]}, hard limit ${m[2]}` : null;
  } catch {
    return null;
  }
}
