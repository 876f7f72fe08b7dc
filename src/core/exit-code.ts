import { domainExitCodes, errorCodes } from './error-codes.ts';
import { TributaryError } from './errors.ts';

/**
 * The exit code of a process that `error` ended: its code's domain in the registry decides
 * (domainExitCodes: 2 for a config error, 1 otherwise). Anything else (a bug, a library's
 * error) exits 1.
 */
export function exitCodeOf(error: unknown): number {
  if (!(error instanceof TributaryError)) return 1;
  return domainExitCodes[errorCodes[error.code].domain];
}
