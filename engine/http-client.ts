/**
 * The engine's HTTP client: undici 7's lowest-level API (`Dispatcher.dispatch` with a handler), over a
 * keep-alive `Pool` per origin. `dispatch` skips the response stream that `request()` builds for every
 * response and lets the engine read the moment a request is written to a socket (`onConnect`), which
 * is its send time. bench/engine.bench.ts measures Pool.request, Client.request and Pool.dispatch side
 * by side on every run; on our shared 2-core host (load average ~30) they came out at 5.5k, 7.1k and
 * 6.7k req/s: within that host's noise of each other, with request() the slowest.
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
  send(req: OutgoingRequest, wantBody: boolean, done: (outcome: HttpOutcome) => void): void;
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
    send(req, wantBody, done) {
      let status = 0;
      let setCookie: string[] | null = null;
      let chunks: Buffer[] | null = null;
      let finished = false;
      let sentAt = Number.NaN;
      const finish = (o: HttpOutcome) => {
        if (finished) return;
        finished = true;
        done(o);
      };
      try {
        pool.dispatch(
          {
            method: req.method as 'GET',
            path: req.path,
            headers: req.headers,
            body: req.body,
            headersTimeout: opts.timeoutMs,
            bodyTimeout: opts.timeoutMs,
          },
          {
            onConnect() {
              // Called as the request is written to a socket: the actual send, after any wait for a free connection.
              sentAt = opts.now();
            },
            onHeaders(statusCode, rawHeaders) {
              status = statusCode;
              if (wantBody) setCookie = readSetCookie(rawHeaders);
              return true;
            },
            onData(chunk) {
              if (wantBody) {
                if (chunks === null) chunks = [];
                chunks.push(chunk);
              }
              return true;
            },
            onComplete() {
              finish({
                status,
                setCookie,
                body: chunks === null ? (wantBody ? Buffer.alloc(0) : null) : Buffer.concat(chunks),
                error: null,
                errorMessage: null,
                sentAt,
              });
            },
            onError(err) {
              finish({
                status: 0,
                setCookie: null,
                body: null,
                error: classifyError(err),
                errorMessage: err.message,
                sentAt,
              });
            },
          },
        );
      } catch (err) {
        finish({
          status: 0,
          setCookie: null,
          body: null,
          error: classifyError(err),
          errorMessage: (err as Error).message,
          sentAt,
        });
      }
    },
    close: () => pool.close(),
    destroy: () => pool.destroy(),
  };
}
