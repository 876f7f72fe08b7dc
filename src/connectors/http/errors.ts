import type { ErrorDomain } from '../../core/index.ts';

/**
 * The codes of this connector's errors. They follow the registry of src/core/error-codes.ts
 * (stable names, a domain, a retry hint) and belong there; until they move, this class mirrors
 * TributaryError's shape (`code`, `domain`, `retriable`, `cause`) so callers handle both alike.
 */
export const httpErrorCodes = {
  /** A network error, a timeout or a status other than 2xx (5xx and 429 are retriable). */
  HTTP_REQUEST_FAILED: { domain: 'external', retriable: true },
  /** A 2xx answer whose body is not the expected Open-Meteo JSON. */
  HTTP_RESPONSE_INVALID: { domain: 'external', retriable: true },
  /** The progress file could not be read, parsed or written. */
  HTTP_PROGRESS_FAILED: { domain: 'internal', retriable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retriable: boolean }>;

export type HttpErrorCode = keyof typeof httpErrorCodes;

export class HttpSourceError extends Error {
  override name = 'HttpSourceError';
  readonly code: HttpErrorCode;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean; status?: number; retryAfterMs?: number } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = httpErrorCodes[code];
    this.code = code;
    this.domain = entry.domain;
    this.retriable = options.retriable ?? entry.retriable;
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Whether an error thrown by a fetch or a parse is worth another attempt. */
export function isRetriable(error: unknown): boolean {
  return error instanceof HttpSourceError ? error.retriable : false;
}
