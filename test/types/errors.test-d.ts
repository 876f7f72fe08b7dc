// Type tests: compiled by `npm run typecheck`; each @ts-expect-error must be an error.
import { TributaryError } from '../../src/core/index.ts';
import type { ErrorCode } from '../../src/core/index.ts';
import { partitionForKey } from '../../src/kafka/index.ts';

const ok = new TributaryError('CONFIG_INVALID', 'TRIBUTARY_BROKERS must be host:port');
const code: ErrorCode = ok.code;
void code;

// @ts-expect-error an error code must come from the registry
new TributaryError('NOT_A_CODE', 'message');

// @ts-expect-error a key is a string or bytes
partitionForKey(42, 3);

// @ts-expect-error the domain is read-only
ok.domain = 'user';
