/**
 * The registry of error codes. Every TributaryError carries one; codes are stable (users match
 * on them, metrics label by them), so a code is never renamed or reused.
 */
export const errorCodes = {
  CONFIG_INVALID: { domain: 'user', retriable: false },
  KAFKA_UNAVAILABLE: { domain: 'external', retriable: true },
  PARTITIONER_INVALID_PARTITION_COUNT: { domain: 'internal', retriable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retriable: boolean }>;

/** Whose fault an error is: the user's (code or settings), an external system's, or ours. */
export type ErrorDomain = 'user' | 'external' | 'internal';

export type ErrorCode = keyof typeof errorCodes;
