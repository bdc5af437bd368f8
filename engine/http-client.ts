/**
 * The engine's HTTP client: undici 7's lowest-level API (`Dispatcher.dispatch` with a handler), over a
 * keep-alive `Pool` per origin. `dispatch` skips the response stream that `request()` builds for every
 * response and lets the engine read the moment a request is written to a socket (`onConnect`), which
 * is its send time. bench/engine.bench.ts measures Pool.request, Client.request and Pool.dispatch side
 * by side on every run (nginx, 50 in flight). On our shared 2-core host (load average 18–30) dispatch
 * was fastest in two of three runs (5.9k vs 4.9k and 2.6k req/s; 15.5k vs 6.6k and 3.5k) and within
 * noise in the third; request() was always the slowest.
 * One call = one request; the callback gets the status, the body when asked for and a classified
 * failure. Nothing is retried: a load generator must report what happened.
 */
import { Pool } from 'undici';
import type { ErrorCounts } from '../core/run-format.ts';

/** How a request failed at the transport level (HTTP status classes are counted separately). */
export type TransportError = Exclude<keyof ErrorCounts, 'check'>;

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
 * One request in flight: the undici handler and, once finished, its outcome (the same object, so a
 * request allocates one handler and nothing else of ours). Methods live on the prototype.
 */
class RequestHandler<C> implements HttpOutcome {
  status = 0;
  setCookie: string[] | null = null;
  body: Buffer | null = null;
  error: TransportError | null = null;
  errorMessage: string | null = null;
  sentAt = Number.NaN;
  private chunks: Buffer[] | null = null;
  private finished = false;

  constructor(
    private readonly wantBody: boolean,
    private readonly now: () => number,
    private readonly done: (o: HttpOutcome, ctx: C) => void,
    private readonly ctx: C,
  ) {}

  onConnect(): void {
    // Called as the request is written to a socket: the actual send, after any wait for a connection.
    this.sentAt = this.now();
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
    this.done(this, this.ctx);
  }
}

/** Creates the pooled client for one origin. */
export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const pool = new Pool(opts.origin, {
    connections: opts.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: opts.timeoutMs,
    bodyTimeout: opts.timeoutMs,
    connectTimeout: opts.timeoutMs,
  });
  return {
    send(req, wantBody, done, ctx) {
      const handler = new RequestHandler(wantBody, opts.now, done, ctx);
      try {
        pool.dispatch(
          { method: req.method as 'GET', path: req.path, headers: req.headers, body: req.body },
          handler,
        );
      } catch (err) {
        handler.onError(err as Error);
      }
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}
