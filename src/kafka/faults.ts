import { backoffDelay, errorCodes, TributaryError } from '../core/index.ts';

/**
 * What a worker does about an error of the Kafka client (or of the commit that used it), as
 * Kafka Streams decides between a retried TimeoutException, a TaskMigratedException (lost
 * tasks, rejoin) and a fatal StreamsException (docs/decisions/0010):
 *
 *   retriable   the cluster is (briefly) not answering: a broker down or restarting, a
 *               coordinator or leader moving, a request timing out. Retried with backoff, for as
 *               long as it takes; the task whose commit failed is lost and rebuilt.
 *   fenced      the task's producer was fenced (a newer owner, or the transaction coordinator
 *               aborted it), or its transaction is in a state only an abort ends: the task is
 *               lost (transaction aborted, stores dropped) and the worker rejoins the group.
 *   membership  the member lost its place in the group (session expired, rebalance): the
 *               task is lost and kafkajs rejoins when it sees the broker's error unwrapped.
 *   fatal       no retry can fix it: authentication or authorization refused, a request the
 *               broker can never accept, a bug (TypeError...). The worker exits 1.
 */
export type FaultKind = 'retriable' | 'fenced' | 'membership' | 'fatal';

/** The broker's answers that mean this member has lost its place in the group. */
const membershipTypes = new Set([
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'REBALANCE_IN_PROGRESS',
  'NOT_COORDINATOR_FOR_GROUP',
  // The same code 16 as @platformatic/kafka names it.
  'NOT_COORDINATOR',
  'FENCED_INSTANCE_ID',
  // Kafka 4's group coordinator deletes a classic group once its last member is gone (here: its
  // session expired) if the group holds no committed offsets; an OffsetCommit v9+ under the old
  // generation then gets GROUP_ID_NOT_FOUND (older versions get ILLEGAL_GENERATION). The member
  // is out of the group all the same: it rejoins, as a new member of a new group.
  'GROUP_ID_NOT_FOUND',
]);

/**
 * Fencing and transaction states only an abort and a new producer end. Kafka 4's
 * PRODUCER_FENCED (90) and TRANSACTION_ABORTABLE (120) are unknown to kafkajs 2.2.4, which
 * names them KAFKAJS_UNKNOWN_ERROR_CODE; they are fenced too (@platformatic/kafka names them).
 */
const fencedTypes = new Set([
  'PRODUCER_FENCED',
  'TRANSACTION_ABORTABLE',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'INVALID_TXN_STATE',
  'UNKNOWN_PRODUCER_ID',
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'TRANSACTION_COORDINATOR_FENCED',
  'KAFKAJS_UNKNOWN_ERROR_CODE',
]);

/** What only a change of credentials, ACLs or settings fixes. */
const fatalTypes = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'UNSUPPORTED_SASL_MECHANISM',
  'ILLEGAL_SASL_STATE',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_REQUIRED_ACKS',
  'INVALID_TRANSACTION_TIMEOUT',
  'INVALID_SESSION_TIMEOUT',
  'INCONSISTENT_GROUP_PROTOCOL',
  'INVALID_GROUP_ID',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'UNSUPPORTED_COMPRESSION_TYPE',
  'POLICY_VIOLATION',
  'INVALID_RECORD',
  'CORRUPT_MESSAGE',
  'SECURITY_DISABLED',
]);

/**
 * The broker refused a record's timestamp (INVALID_TIMESTAMP: outside the topic's
 * `message.timestamp.after.max.ms` / `before.max.ms`). The runtime checks timestamps before it
 * sends (runtime/timestamp-range.ts), so this means the worker's and the broker's clocks differ:
 * the task is rebuilt and its batch retried with a wider allowance, which then dead-letters the
 * record. Retriable, not fatal: no record may stop a worker.
 */
const retriableTypes = new Set(['INVALID_TIMESTAMP']);

/** Whether the broker refused a record of this send for its timestamp. */
export function isTimestampRefused(error: unknown): boolean {
  return causesOf(error).some((e) => typeOf(e) === 'INVALID_TIMESTAMP');
}

/** kafkajs errors by name that mean the cluster or a broker is not reachable now. */
const retriableNames = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSBrokerNotFound',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSStaleTopicMetadataAssignment',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
  'KafkaJSFetcherRebalanceError',
]);

const fatalNames = new Set([
  'KafkaJSSASLAuthenticationError',
  'KafkaJSServerDoesNotSupportApiKey',
  'KafkaJSNotImplemented',
  'KafkaJSInvariantViolation',
]);

/** Node's socket errors: the peer is down, restarting or unreachable. */
const retriableSystemCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

/**
 * @platformatic/kafka's own error codes (its `code`) for the cluster not answering now; its
 * PLT_KFK_USER is a call it refuses (a bug of ours), fatal like an error nothing recognises.
 */
const retriablePlatformaticCodes = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

/** Errors a bug throws: no retry changes their outcome. */
const bugNames = new Set(['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError']);

interface ErrorFields {
  name?: unknown;
  type?: unknown;
  /** @platformatic/kafka's name of the broker's error (kafkajs's `type`). */
  apiId?: unknown;
  code?: unknown;
  retriable?: unknown;
  /** @platformatic/kafka's `retriable`. */
  canRetry?: unknown;
  message?: unknown;
}

/**
 * The error and its causes: kafkajs wraps in `cause`, @platformatic/kafka collects the errors of
 * its attempts and of a response's partitions in an AggregateError's `errors`.
 */
function causesOf(error: unknown): ErrorFields[] {
  const chain: ErrorFields[] = [];
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const e = pending.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    chain.push(e as ErrorFields);
    pending.push((e as { cause?: unknown }).cause);
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner)) pending.push(...(inner as unknown[]));
  }
  return chain;
}

/** The broker's name of the error, as either library reports it. */
function typeOf(e: ErrorFields): string | undefined {
  if (typeof e.type === 'string') return e.type;
  return typeof e.apiId === 'string' ? e.apiId : undefined;
}

/**
 * The kind of one error, looking through its cause chain (kafkajs wraps the broker's answer in
 * KafkaJSNonRetriableError or KafkaJSNumberOfRetriesExceeded, @platformatic/kafka collects it
 * in an AggregateError; our commit code may wrap that again). The most decisive kind in the
 * chain wins: fatal, then membership, then fenced, then retriable; an error nothing recognises
 * is fatal if it is not a kafkajs error (a bug, or a call @platformatic/kafka refused), else
 * retriable if kafkajs says so.
 */
export function classifyKafkaError(error: unknown): FaultKind {
  const chain = causesOf(error);
  const kinds = new Set<FaultKind>();
  for (const e of chain) {
    const type = typeOf(e);
    const name = typeof e.name === 'string' ? e.name : undefined;
    const code = typeof e.code === 'string' ? e.code : undefined;
    const message = typeof e.message === 'string' ? e.message : '';
    if (type !== undefined && fatalTypes.has(type)) kinds.add('fatal');
    else if (name !== undefined && fatalNames.has(name)) kinds.add('fatal');
    else if (name !== undefined && bugNames.has(name)) kinds.add('fatal');
    else if (type !== undefined && membershipTypes.has(type)) kinds.add('membership');
    else if (type !== undefined && fencedTypes.has(type)) kinds.add('fenced');
    // kafkajs's transaction state machine refuses every call once a transaction failed.
    else if (message.startsWith('Transaction state exception')) kinds.add('fenced');
    else if (/\bold epoch\b|\bfenced\b/i.test(message)) kinds.add('fenced');
    else if (type !== undefined && retriableTypes.has(type)) kinds.add('retriable');
    else if (name !== undefined && retriableNames.has(name)) kinds.add('retriable');
    else if (code !== undefined && retriableSystemCodes.has(code)) kinds.add('retriable');
    else if (code !== undefined && retriablePlatformaticCodes.has(code)) kinds.add('retriable');
    else if (e instanceof TributaryError && code !== undefined && code in errorCodes) {
      kinds.add(errorCodes[code as keyof typeof errorCodes].retriable ? 'retriable' : 'fatal');
    } else if (e.retriable === true || (e as ErrorFields).canRetry === true) kinds.add('retriable');
  }
  for (const kind of ['fatal', 'membership', 'fenced', 'retriable'] as const)
    if (kinds.has(kind)) return kind;
  const named = chain.some((e) => typeof e.name === 'string' && e.name.startsWith('KafkaJS'));
  return named ? 'retriable' : 'fatal';
}

/**
 * An offset commit refused for the group's membership while this member has since joined a
 * newer generation than the one it was sent under: it crossed a rebalance (the member learnt of
 * the new assignment after the commit went out), and the member is still in the group. Only the
 * work behind that commit is lost (its task is rebuilt, its batch retried or left stale): a
 * rejoin would move every member to yet another generation and refuse their commits in turn.
 * Returns the error to throw instead (TASK_MIGRATED, retriable, the refusal not in its cause
 * chain, where it would classify as membership), or undefined when the refusal is the member's
 * own (sent under the generation still current, or without one).
 */
export function crossedRebalance(
  error: unknown,
  sentGeneration: number,
  currentGeneration: number,
): TributaryError | undefined {
  // Generations only grow; a member that left reads 0 until it joins again: its own refusal.
  if (sentGeneration < 0 || currentGeneration <= sentGeneration) return undefined;
  if (classifyKafkaError(error) !== 'membership') return undefined;
  return new TributaryError(
    'TASK_MIGRATED',
    `offsets sent under generation ${sentGeneration} were refused; the member is in generation ${currentGeneration} now: ${rootCause(error)}`,
  );
}

/** The protocol error in `error`'s cause chain saying the member lost its place in the group. */
export function groupMembershipError(error: unknown): Error | undefined {
  for (const e of causesOf(error)) {
    const type = typeOf(e);
    if (type !== undefined && membershipTypes.has(type) && e instanceof Error) return e;
  }
  return undefined;
}

/** `name: message` of the innermost cause: what a log line says was retried. */
export function rootCause(error: unknown): string {
  const chain = causesOf(error);
  const last = chain[chain.length - 1];
  if (last === undefined) return String(error);
  const name = typeof last.name === 'string' ? last.name : 'Error';
  const message = typeof last.message === 'string' ? last.message : '';
  return `${name}: ${message}`;
}

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

/** From 250 ms doubling to 10 s: a broker restart (tens of seconds) is retried a few times a minute. */
export const defaultBackoff: BackoffPolicy = { initialMs: 250, maxMs: 10_000 };

/**
 * The wait before retry `attempt` (1, 2, ...): the shared backoff of src/core/retry.ts,
 * exponential, capped, with "equal jitter" (half fixed, half random) so that workers which
 * failed together do not retry together. `random` is in [0, 1).
 */
export function backoffMs(
  attempt: number,
  random: number,
  policy: BackoffPolicy = defaultBackoff,
): number {
  const backoff = { baseDelayMs: policy.initialMs, maxDelayMs: policy.maxMs, jitter: 0.5 };
  return backoffDelay(attempt, backoff, () => random);
}

/** What the consumer does after a batch failed with `error`. */
export type BatchFaultAction =
  /** Hand the broker's membership error to kafkajs unwrapped: it rejoins the group. */
  | { kind: 'rejoin-kafkajs'; error: Error }
  /** Force a rejoin (a fenced producer means this member's assignment is stale), then refetch. */
  | { kind: 'rejoin' }
  /** Wait, then fetch the batch again (its task was dropped and is rebuilt). */
  | { kind: 'retry' }
  /** Let the consumer crash: the worker exits 1. */
  | { kind: 'fail' };

export function batchFaultAction(error: unknown): BatchFaultAction {
  const kind = classifyKafkaError(error);
  const membership = groupMembershipError(error);
  if (kind === 'membership' && membership !== undefined)
    return { kind: 'rejoin-kafkajs', error: membership };
  if (kind === 'membership' || kind === 'fenced') return { kind: 'rejoin' };
  if (kind === 'retriable') return { kind: 'retry' };
  return { kind: 'fail' };
}

/**
 * After kafkajs's consumer crashed (it has left the group already): kafkajs restarts it itself
 * when the innermost cause is retriable in its eyes (`restart`); we restart it too when our
 * classification says the fault passes (a coordinator not found for a while, a fenced
 * producer); only a fatal error stops the worker. Either way the worker's tasks are lost: the
 * group may have given them to another member meanwhile.
 */
export function crashAction(error: unknown, kafkajsRestarts: boolean): 'kafkajs' | 'own' | 'fail' {
  if (kafkajsRestarts) return 'kafkajs';
  return classifyKafkaError(error) === 'fatal' ? 'fail' : 'own';
}
