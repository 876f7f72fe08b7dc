import { TributaryError } from '../core/index.ts';
import type { ErrorCode } from '../core/index.ts';

/**
 * What a failed file-system or RocksDB call says about the state directory. RocksDB reports most
 * failures as EIO with the OS's text in the message (`... No space left on device`), Node's fs
 * calls with an errno code, so both are looked at.
 *
 *   full        no space left: the worker stops (exit 1), restoring elsewhere would not help
 *   unwritable  read-only file system, permission denied: the worker stops (exit 1)
 *   locked      the store's LOCK is held (its previous owner in this process is still closing)
 *   other       anything else (for a RocksDB open or read: corrupt or missing files)
 */
export type StateFault = 'full' | 'unwritable' | 'locked' | 'other';

export function stateFaultOf(cause: unknown): StateFault {
  const code = cause instanceof Error && 'code' in cause ? String(cause.code) : '';
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'ENOSPC' || code === 'EDQUOT' || /no space left|quota exceeded/i.test(message))
    return 'full';
  if (
    ['EROFS', 'EACCES', 'EPERM'].includes(code) ||
    /read-only file system|permission denied|operation not permitted/i.test(message)
  )
    return 'unwritable';
  if (/lock hold by|\/LOCK: /i.test(message)) return 'locked';
  return 'other';
}

/** The setting that moves the state directory, named by the errors that cannot be retried. */
const stateDirSetting = 'TRIBUTARY_STATE_DIR (stateDir)';

/**
 * The error for a failed action on a path under the state directory: STATE_DISK_FULL or
 * STATE_DIR_UNWRITABLE (not retriable: the worker exits 1 with this one line), else `otherwise`
 * (with `otherwise` STATE_DIR_UNWRITABLE, every failure but a full disk is reported as one).
 */
export function stateError(
  action: string,
  path: string,
  cause: unknown,
  otherwise: ErrorCode = 'STATE_FAILED',
): TributaryError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  const fault = stateFaultOf(cause);
  switch (fault === 'full' || otherwise !== 'STATE_DIR_UNWRITABLE' ? fault : 'unwritable') {
    case 'full':
      return new TributaryError(
        'STATE_DISK_FULL',
        `the state directory's disk is full: could not ${action} ${path} (${reason}); free space or set ${stateDirSetting} to a larger disk`,
        { cause },
      );
    case 'unwritable':
      return new TributaryError(
        'STATE_DIR_UNWRITABLE',
        `the state directory cannot be written: could not ${action} ${path} (${reason}); make it writable or set ${stateDirSetting}`,
        { cause },
      );
    default:
      return new TributaryError(otherwise, `could not ${action} ${path}: ${reason}`, { cause });
  }
}

/** True for the errors that end the worker: a full or unwritable state directory. */
export function isFatalStateError(error: unknown): error is TributaryError {
  return (
    error instanceof TributaryError &&
    (error.code === 'STATE_DISK_FULL' || error.code === 'STATE_DIR_UNWRITABLE')
  );
}
