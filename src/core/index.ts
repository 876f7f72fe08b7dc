/**
 * core: records, time and errors shared by every layer. Imports nothing.
 *
 * @example
 *   throw new TributaryError('CONFIG_INVALID', 'TRIBUTARY_BROKERS must be host:port[,host:port]');
 */
export { errorCodes } from './error-codes.ts';
export type { ErrorCode, ErrorDomain } from './error-codes.ts';
export { TributaryError } from './errors.ts';
