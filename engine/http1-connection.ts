/**
 * One keep-alive HTTP/1.1 connection of the engine's HTTP client (engine/http-client.ts), one request
 * at a time, written and read directly on a socket: the request head is one string written with the
 * body, and the response is parsed in place (status line, the five headers a load generator acts on,
 * a body by length, chunks or connection close). A load generator's client must cost little per
 * request, because its CPU per request is what bounds the rate one core can hold: this path replaced
 * undici's `Client` (a setImmediate before each write, its request validation, its `Readable`
 * socket handling, its llhttp parser's copies and a Buffer per header name and value);
 * docs/run-directory.md ("The engine's HTTP client") has the figures.
 *
 * What it reads of a response: the status; `content-length`, `transfer-encoding: chunked`,
 * `connection: close` and `keep-alive: timeout=N` to frame the body and decide whether and how long
 * the connection is kept; `set-cookie`
 * (only when the request wants the body). 1xx interim answers are skipped; HEAD, 204 and 304 have no
 * body; without a length the body runs to the connection's close. The socket comes from the
 * client's connector (undici's `buildConnector`: TCP or TLS, connect timeout); like undici's
 * `Client`, a connection whose socket has closed opens a new one for its next request. Nothing is
 * retried. Time-outs are the client's to judge (`deadline`, on a coarse clock it keeps).
 */
import type { Socket } from 'node:net';

/**
 * Where a plain TCP socket's reads land: one buffer per thread, handed to the socket's connection
 * synchronously and reused by the next read (net.connect's `onread`). Reading into it spares each
 * read the 64-KiB ArrayBuffer libuv asks for, a Buffer around it and the `Readable` stream's push
 * and 'data' event; the parser keeps nothing of a read past its return (a head cut between reads and
 * a body's bytes are copied). docs/run-directory.md ("CPU per request") has the figures.
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/** The connection a socket belongs to, for the shared read callback. */
const CONNECTION = Symbol('peakday.connection');
type OwnedSocket = Socket & { [CONNECTION]?: Http1Connection | null };

/** net.connect's `onread` option for a plain TCP socket of the engine's client: see READ_BUFFER. */
export const SOCKET_ONREAD = {
  buffer: READ_BUFFER,
  callback(this: OwnedSocket, nread: number, buf: Buffer): boolean {
    const c = this[CONNECTION];
    if (c) c.read(this, buf, nread);
    else this.destroy(); // bytes before any request: nobody asked for them
    return true;
  },
};

/** A request as the client passes it on: method, path (with query), headers and an encoded body. */
export interface Http1Request {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer | null;
  /** The same object is sent again unchanged: its encoded head is kept (Http1Owner.heads). */
  reused?: boolean;
}

/** What a connection tells about the request it carries, in this order: sent, head, body, end (or fail). */
export interface Http1Handler {
  /** Whether the body and `set-cookie` are wanted (otherwise they are skipped unread). */
  readonly wantBody: boolean;
  /** The request is being written to a socket (its send time). */
  onSent(): void;
  onHead(status: number, setCookie: string[] | null): void;
  onBody(chunk: Buffer): void;
  onEnd(): void;
  /** The request failed; `err.code` says how (ECONNREFUSED, ECONNRESET, UND_ERR_SOCKET, ...). */
  onFail(err: Error & { code?: string }): void;
}

/** What a connection needs from its client. */
export interface Http1Owner {
  /** Opens a socket to the origin (a pre-opened one first). */
  connect(cb: (err: Error | null, socket: Socket | null) => void): void;
  /** The `host` header line, e.g. `host: 127.0.0.1:8080\r\n`. */
  readonly hostLine: string;
  /**
   * The encoded head (request line and headers, up to the body) of each `reused` request, built and
   * validated once, so its later sends write it as it is (a load generator's precomputed request).
   */
  readonly heads: WeakMap<Http1Request, string>;
  /** The coarse clock (ms) the deadlines are on, and the time-out (ms). */
  clock: number;
  readonly timeoutMs: number;
}

/** An error with the code the client classifies it by (engine/http-client.ts classifyError). */
export function codedError(code: string, message: string): Error & { code: string } {
  const e = new Error(message) as Error & { code: string };
  e.code = code;
  return e;
}

// Parser states.
const IDLE = 0;
const HEAD = 1;
const LENGTH = 2;
const CHUNK_SIZE = 3;
const CHUNK_DATA = 4;
const CHUNK_END = 5;
const TRAILERS = 6;
const UNTIL_CLOSE = 7;

/**
 * An idle socket is reused only while it is younger than the server's keep-alive time-out (its
 * `keep-alive: timeout=N` hint, else 30 s, as the undici client was configured) minus this margin,
 * so a request is not written onto a socket the server is closing (undici keeps the same 1-s margin).
 */
const DEFAULT_KEEP_ALIVE_MS = 30_000;
const KEEP_ALIVE_MARGIN_MS = 1000;

/** Longest response head accepted (bytes), as Node's http parser's default. */
const MAX_HEAD = 16 * 1024;
/** Header values that would split the request (CR, LF, NUL) and paths with controls or spaces. */
const BAD_VALUE = /[\r\n\0]/;
const BAD_PATH = /[^\u0021-\u00ff]/;
/** Request headers the connection sets itself, which a request must not carry (as undici refuses). */
const RESERVED = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'content-length']);

/** One connection: at most one socket at a time and at most one request on it. */
export class Http1Connection {
  private socket: Socket | null = null;
  private connecting = false;
  private handler: Http1Handler | null = null;
  private request: Http1Request | null = null;
  private state = IDLE;
  private remaining = 0;
  /** A response head, chunk-size line or trailer cut between reads. */
  private carry: Buffer | null = null;
  private noBody = false;
  private closeAfter = false;
  private destroyed = false;
  /** When the request in flight times out, on the owner's coarse clock (Infinity when none is). */
  deadline = Number.POSITIVE_INFINITY;
  /** Until when (owner's clock) the socket may carry another request after the last answer. */
  private idleUntil = Number.POSITIVE_INFINITY;
  /** How long the server keeps an idle socket (its `keep-alive: timeout=` hint, else a default). */
  private keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
  /** False once the connection must not carry another request (it failed, or was destroyed). */
  reusable = true;

  constructor(private readonly owner: Http1Owner) {}

  /** Whether a request is in flight on it. */
  get busy(): boolean {
    return this.handler !== null;
  }

  /** Sends a request; the handler hears of it once (end or fail). */
  dispatch(req: Http1Request, h: Http1Handler): void {
    if (this.destroyed) {
      h.onFail(codedError('UND_ERR_DESTROYED', 'the connection was destroyed'));
      return;
    }
    this.handler = h;
    this.request = req;
    const s = this.socket;
    if (s !== null && !s.destroyed) {
      if (this.owner.clock < this.idleUntil) {
        this.write(s, req, h);
        return;
      }
      // Idle long enough for the server to be closing it: a request written now could meet its FIN.
      s.destroy();
    }
    this.socket = null;
    if (this.connecting) return;
    this.connecting = true;
    this.owner.connect((err, socket) => {
      this.connecting = false;
      if (err || !socket) {
        socket?.destroy();
        this.fail(err ?? codedError('UND_ERR_SOCKET', 'no socket'));
        return;
      }
      if (this.destroyed) {
        socket.destroy();
        return;
      }
      this.attach(socket);
      const r = this.request;
      const next = this.handler;
      if (r && next) this.write(socket, r, next);
    });
  }

  /** A request in flight past its deadline fails with a time-out (headers, or body once they came). */
  timeOut(): void {
    if (this.handler === null) return;
    const headers = this.state === HEAD || this.state === IDLE;
    this.fail(
      codedError(
        headers ? 'UND_ERR_HEADERS_TIMEOUT' : 'UND_ERR_BODY_TIMEOUT',
        headers ? 'headers timeout' : 'body timeout',
      ),
    );
  }

  /** Closes the socket; a request in flight fails with `err` (default: destroyed). */
  destroy(err?: Error): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.reusable = false;
    if (this.handler) this.fail(err ?? codedError('UND_ERR_DESTROYED', 'the client was destroyed'));
    this.socket?.destroy();
    this.socket = null;
  }

  /** A read into the shared buffer (SOCKET_ONREAD): parsed before the next read reuses it. */
  read(socket: Socket, buf: Buffer, nread: number): void {
    if (this.socket === socket) this.onData(buf.subarray(0, nread), true);
  }

  private attach(socket: Socket): void {
    this.socket = socket;
    // A plain TCP socket from the client's connector reads into SOCKET_ONREAD's buffer; a TLS one
    // streams its chunks as 'data'.
    (socket as OwnedSocket)[CONNECTION] = this;
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk, false);
    });
    const gone = (err?: Error): void => {
      if (this.socket !== socket) return;
      this.socket = null;
      (socket as OwnedSocket)[CONNECTION] = null;
      socket.destroy();
      if (this.handler === null) return;
      if (this.state === UNTIL_CLOSE && !err) this.complete();
      else this.fail(err ?? codedError('UND_ERR_SOCKET', 'other side closed'));
    };
    socket.on('error', gone);
    socket.on('end', () => gone());
    socket.on('close', () => gone());
  }

  private write(s: Socket, req: Http1Request, h: Http1Handler): void {
    const { method, body } = req;
    const head = req.reused
      ? (this.owner.heads.get(req) ?? this.encodeHead(req, true))
      : this.encodeHead(req, false);
    if (head === null) return;
    this.noBody = method === 'HEAD';
    this.state = HEAD;
    this.remaining = 0;
    this.carry = null;
    this.closeAfter = false;
    this.deadline = this.owner.clock + this.owner.timeoutMs;
    h.onSent();
    if (body === null || body.length === 0) s.write(head, 'latin1');
    else if (typeof body === 'string') {
      s.cork();
      s.write(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n`, 'latin1');
      s.write(body, 'utf8');
      s.uncork();
    } else {
      s.cork();
      s.write(`${head}content-length: ${body.length}\r\n\r\n`, 'latin1');
      s.write(body);
      s.uncork();
    }
  }

  /**
   * The request's head: request line, host, its headers and `connection: keep-alive`; for a request
   * without a body also its `content-length: 0` (POST, PUT, PATCH) and the blank line, so that it is
   * the whole message. Null after failing the request (a bad path or header: nothing is sent). With
   * `keep`, the head is kept for the request's later sends.
   */
  private encodeHead(req: Http1Request, keep: boolean): string | null {
    const { method, path, headers, body } = req;
    if (BAD_PATH.test(path)) {
      this.rejectRequest('invalid request path');
      return null;
    }
    let lines = '';
    let host = true;
    for (const k in headers) {
      const v = headers[k] as string;
      if (BAD_VALUE.test(v)) {
        this.rejectRequest(`invalid ${k} header`);
        return null;
      }
      if (k.length === 4 && k.toLowerCase() === 'host') host = false;
      else if (k.length >= 7 && k.length <= 17 && RESERVED.has(k.toLowerCase())) {
        if (k.toLowerCase() !== 'content-length') {
          this.rejectRequest(`invalid ${k} header`);
          return null;
        }
        continue;
      }
      lines += `${k}: ${v}\r\n`;
    }
    let head = `${method} ${path} HTTP/1.1\r\n${host ? this.owner.hostLine : ''}${lines}connection: keep-alive\r\n`;
    if (body === null || body.length === 0)
      head +=
        method === 'POST' || method === 'PUT' || method === 'PATCH' ? 'content-length: 0\r\n\r\n' : '\r\n';
    if (keep) this.owner.heads.set(req, head);
    return head;
  }

  /** A request that cannot be written as given fails before anything is sent; the socket stays usable. */
  private rejectRequest(message: string): void {
    const h = this.handler;
    this.handler = null;
    this.request = null;
    h?.onFail(codedError('UND_ERR_INVALID_ARG', message));
  }

  /**
   * Parses what a read brought. A `transient` chunk is the shared read buffer (SOCKET_ONREAD), reused
   * once this returns: what is kept of it (a body's bytes, a cut head) is copied.
   */
  private onData(chunk: Buffer, transient: boolean): void {
    if (this.handler === null) {
      // Bytes nobody asked for: the connection is out of step; drop it.
      this.reusable = false;
      this.socket?.destroy();
      this.socket = null;
      return;
    }
    this.deadline = this.owner.clock + this.owner.timeoutMs;
    let buf = chunk;
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk]);
      this.carry = null;
    }
    let i = 0;
    const n = buf.length;
    while (i < n) {
      const h = this.handler as Http1Handler;
      switch (this.state) {
        case HEAD: {
          const end = buf.indexOf('\r\n\r\n', i, 'latin1');
          if (end < 0) {
            if (n - i > MAX_HEAD) {
              this.protocolError('response head too large');
              return;
            }
            this.carry = Buffer.from(buf.subarray(i));
            return;
          }
          if (!this.readHead(buf, i, end, h)) return;
          i = end + 4;
          if ((this.state as number) === IDLE) {
            this.finish(i < n);
            return;
          }
          break;
        }
        case LENGTH: {
          const take = Math.min(this.remaining, n - i);
          if (h.wantBody) h.onBody(this.keep(buf.subarray(i, i + take), transient));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.finish(i < n);
            return;
          }
          break;
        }
        case CHUNK_SIZE: {
          const eol = buf.indexOf('\r\n', i, 'latin1');
          if (eol < 0) {
            if (n - i > 1024) {
              this.protocolError('chunk size line too long');
              return;
            }
            this.carry = Buffer.from(buf.subarray(i));
            return;
          }
          const line = buf.toString('latin1', i, eol);
          const semi = line.indexOf(';');
          const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
          const size = /^[0-9a-fA-F]{1,12}$/.test(hex) ? Number.parseInt(hex, 16) : Number.NaN;
          if (!Number.isFinite(size)) {
            this.protocolError('invalid chunk size');
            return;
          }
          i = eol + 2;
          if (size === 0) this.state = TRAILERS;
          else {
            this.remaining = size;
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const take = Math.min(this.remaining, n - i);
          if (h.wantBody) h.onBody(this.keep(buf.subarray(i, i + take), transient));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.state = CHUNK_END;
            this.remaining = 2;
          }
          break;
        }
        case CHUNK_END: {
          // The CRLF after a chunk's data (possibly cut between reads).
          const take = Math.min(this.remaining, n - i);
          for (let k = 0; k < take; k++) {
            const c = buf[i + k];
            if (c !== (this.remaining - k === 2 ? 13 : 10)) {
              this.protocolError('missing CRLF after chunk');
              return;
            }
          }
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.state = CHUNK_SIZE;
          break;
        }
        case TRAILERS: {
          const eol = buf.indexOf('\r\n', i, 'latin1');
          if (eol < 0) {
            if (n - i > MAX_HEAD) {
              this.protocolError('trailers too large');
              return;
            }
            this.carry = Buffer.from(buf.subarray(i));
            return;
          }
          const empty = eol === i;
          i = eol + 2;
          if (empty) {
            this.finish(i < n);
            return;
          }
          break;
        }
        case UNTIL_CLOSE: {
          if (h.wantBody) h.onBody(this.keep(i === 0 ? buf : buf.subarray(i), transient));
          return;
        }
        default: {
          this.protocolError('unexpected response data');
          return;
        }
      }
    }
  }

  /** A body's bytes as the handler may keep them: a copy when they sit in the shared read buffer. */
  private keep(bytes: Buffer, transient: boolean): Buffer {
    return transient ? Buffer.from(bytes) : bytes;
  }

  /**
   * Reads a response head (status line and headers, without the blank line) and sets how its body
   * is framed. An interim 1xx answer leaves the state at HEAD for the next one. False after a failure.
   */
  private readHead(buf: Buffer, start: number, end: number, h: Http1Handler): boolean {
    const text = buf.toString('latin1', start, end);
    if (!text.startsWith('HTTP/1.')) {
      this.protocolError('not an HTTP/1 response');
      return false;
    }
    const status = Number(text.slice(9, 12));
    if (!Number.isInteger(status) || status < 100 || status > 999 || text.charCodeAt(8) !== 32) {
      this.protocolError('invalid status line');
      return false;
    }
    if (status < 200 && status !== 101) return true; // interim answer: the real one follows
    if (status === 101) {
      this.protocolError('unexpected protocol upgrade');
      return false;
    }
    let length = -1;
    let chunked = false;
    let close = text.charCodeAt(7) === 48; // HTTP/1.0 closes unless it says keep-alive
    let setCookie: string[] | null = null;
    let keepAliveMs = DEFAULT_KEEP_ALIVE_MS;
    let p = text.indexOf('\r\n');
    while (p >= 0) {
      const from = p + 2;
      const eol = text.indexOf('\r\n', from);
      const to = eol < 0 ? text.length : eol;
      const colon = text.indexOf(':', from);
      const nameLength = colon - from;
      if (colon > from && colon < to && (nameLength === 14 || nameLength === 17 || nameLength === 10)) {
        const name = text.slice(from, colon).toLowerCase();
        if (name === 'content-length') {
          const v = text.slice(colon + 1, to).trim();
          if (!/^\d+$/.test(v) || (length >= 0 && Number(v) !== length)) {
            this.protocolError('invalid content-length');
            return false;
          }
          length = Number(v);
        } else if (name === 'transfer-encoding') {
          chunked = /(?:^|,)\s*chunked\s*$/i.test(text.slice(colon + 1, to));
          if (!chunked) close = true;
        } else if (name === 'keep-alive') {
          // `keep-alive: timeout=5` (Node's servers): the server closes the socket after 5 s idle.
          const m = /timeout\s*=\s*(\d+)/i.exec(text.slice(colon + 1, to));
          if (m) keepAliveMs = Number(m[1]) * 1000;
        } else if (name === 'connection') {
          const v = text.slice(colon + 1, to).toLowerCase();
          if (v.includes('close')) close = true;
          else if (v.includes('keep-alive')) close = text.charCodeAt(7) === 48 ? false : close;
        } else if (name === 'set-cookie' && h.wantBody) {
          // Cookie values are bytes (UTF-8 in practice), not Latin-1.
          if (setCookie === null) setCookie = [];
          setCookie.push(buf.toString('utf8', start + colon + 1, start + to).trim());
        }
      }
      p = eol;
    }
    this.closeAfter = close;
    this.keepAliveMs = keepAliveMs;
    h.onHead(status, setCookie);
    if (this.noBody || status === 204 || status === 304) this.state = IDLE;
    else if (chunked) this.state = CHUNK_SIZE;
    else if (length >= 0) {
      this.remaining = length;
      this.state = length === 0 ? IDLE : LENGTH;
    } else {
      this.state = UNTIL_CLOSE;
      this.closeAfter = true;
    }
    return true;
  }

  /** The response is complete; bytes after it (`extra`) mean the connection is out of step. */
  private finish(extra: boolean): void {
    if (extra) this.closeAfter = true;
    this.complete();
  }

  private complete(): void {
    const h = this.handler;
    this.handler = null;
    this.request = null;
    this.state = IDLE;
    this.carry = null;
    this.deadline = Number.POSITIVE_INFINITY;
    this.idleUntil = this.owner.clock + this.keepAliveMs - KEEP_ALIVE_MARGIN_MS;
    if (this.closeAfter) {
      // The next request, if any, opens a new socket.
      const s = this.socket;
      this.socket = null;
      s?.destroy();
    }
    h?.onEnd();
  }

  private protocolError(message: string): void {
    this.fail(codedError('UND_ERR_SOCKET', `invalid HTTP response: ${message}`));
  }

  private fail(err: Error): void {
    const h = this.handler;
    this.handler = null;
    this.request = null;
    this.state = IDLE;
    this.carry = null;
    this.deadline = Number.POSITIVE_INFINITY;
    this.reusable = false;
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    h?.onFail(err);
  }
}
