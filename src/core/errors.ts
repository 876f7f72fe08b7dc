import { errorCodes } from './error-codes.ts';
import type { ErrorCode, ErrorDomain } from './error-codes.ts';

/**
 * The root of every error Tributary throws: a stable code from the registry, whose fault it is,
 * whether retrying may help, and the cause.
 */
export class TributaryError extends Error {
  override name = 'TributaryError';
  readonly code: ErrorCode;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;

  constructor(
    code: ErrorCode,
    message: string,
    options: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = errorCodes[code];
    this.code = code;
    this.domain = entry.domain;
    this.retriable = options.retriable ?? entry.retriable;
  }
}
