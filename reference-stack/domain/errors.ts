/**
 * The domain's one error: an HTTP status, a stable code and a message, serialized everywhere as
 * `{"error":{"code","message","details"?}}` (the contract's error format). Services rethrow a
 * peer's error with the same status and code, so a 409 from inventory reaches the client as a 409.
 */

/** An expected failure of a domain operation, carrying the HTTP status to answer with. */
export class DomainError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  /** Seconds for a Retry-After header (503 and 429). */
  readonly retryAfter: number | undefined;

  constructor(status: number, code: string, message: string, details?: unknown, retryAfter?: number) {
    super(message);
    this.name = 'DomainError';
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = retryAfter;
  }

  /** The wire body of this error. */
  toBody(): { error: { code: string; message: string; details?: unknown } } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details === undefined ? {} : { details: this.details }),
      },
    };
  }
}

/** 404 for an id that does not exist. */
export function notFound(what: string, id: string): DomainError {
  return new DomainError(404, 'not-found', `${what} ${JSON.stringify(id)} does not exist`, { [what]: id });
}

/** 400 for a malformed request field. */
export function badRequest(message: string, details?: unknown): DomainError {
  return new DomainError(400, 'bad-request', message, details);
}

export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
