import { errorCodes, TributaryError } from '../../core/index.ts';

/** This connector's codes: its part of the one registry (src/core/error-codes.ts). */
export const httpErrorCodes = {
  HTTP_REQUEST_FAILED: errorCodes.HTTP_REQUEST_FAILED,
  HTTP_RESPONSE_INVALID: errorCodes.HTTP_RESPONSE_INVALID,
  HTTP_PROGRESS_FAILED: errorCodes.HTTP_PROGRESS_FAILED,
} as const;

export type HttpErrorCode = keyof typeof httpErrorCodes;

/** A TributaryError of this connector, with what the server answered. */
export class HttpSourceError extends TributaryError {
  override name = 'HttpSourceError';
  declare readonly code: HttpErrorCode;
  /** The HTTP status, when the server answered. */
  readonly status: number | undefined;
  /** The server's Retry-After, in ms, when it sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean; status?: number; retryAfterMs?: number } = {},
  ) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      ...(options.retriable === undefined ? {} : { retriable: options.retriable }),
    });
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Whether an error thrown by a fetch or a parse is worth another attempt: this source's policy. */
export function isRetriable(error: unknown): boolean {
  return error instanceof HttpSourceError ? error.retriable : false;
}
