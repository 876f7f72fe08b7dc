import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import { MultipleErrors, NetworkError, ProtocolError, UserError } from '@platformatic/kafka';

import { TributaryError } from '../../src/core/index.ts';
import {
  backoffMs,
  batchFaultAction,
  classifyKafkaError,
  crashAction,
  defaultBackoff,
  isTimestampRefused,
  rootCause,
} from '../../src/kafka/index.ts';

// kafkajs's own error classes and its protocol errors by code, so the classification is tested
// against the errors kafkajs really throws, not against look-alikes.
const require = createRequire(import.meta.url);
const errors = require('kafkajs/src/errors.js') as Record<
  string,
  new (message: string | Error, options?: Record<string, unknown>) => Error
>;
const { createErrorFromCode } = require('kafkajs/src/protocol/error.js') as {
  createErrorFromCode: (code: number) => Error;
};
const make = (name: string, message: string | Error, options?: Record<string, unknown>): Error => {
  const Class = errors[name];
  if (Class === undefined) throw new Error(`kafkajs has no ${name}`);
  return new Class(message, options);
};

/** Broker error codes (Kafka's protocol: Errors.java). */
const code = {
  NOT_LEADER_FOR_PARTITION: 6,
  REQUEST_TIMED_OUT: 7,
  NETWORK_EXCEPTION: 13,
  COORDINATOR_LOAD_IN_PROGRESS: 14,
  COORDINATOR_NOT_AVAILABLE: 15,
  NOT_COORDINATOR: 16,
  NOT_ENOUGH_REPLICAS: 19,
  ILLEGAL_GENERATION: 22,
  UNKNOWN_MEMBER_ID: 25,
  REBALANCE_IN_PROGRESS: 27,
  TOPIC_AUTHORIZATION_FAILED: 29,
  GROUP_AUTHORIZATION_FAILED: 30,
  INVALID_PRODUCER_EPOCH: 47,
  CONCURRENT_TRANSACTIONS: 51,
  TRANSACTIONAL_ID_AUTHORIZATION_FAILED: 53,
  SASL_AUTHENTICATION_FAILED: 58,
  PRODUCER_FENCED: 90,
} as const;

describe('classifyKafkaError', () => {
  it('retries what the issue saw end the worker: the coordinator not found under the non-retriable wrapper', () => {
    const notFound = make('KafkaJSGroupCoordinatorNotFound', 'Failed to find group coordinator');
    assert.equal(classifyKafkaError(notFound), 'retriable');
    const wrapped = make('KafkaJSNonRetriableError', notFound.message, { cause: notFound });
    assert.equal(classifyKafkaError(wrapped), 'retriable');
    assert.deepEqual(batchFaultAction(wrapped), { kind: 'retry' });
    assert.equal(crashAction(wrapped, false), 'own');
  });

  it('retries brokers that are down, restarting or moving leaders and coordinators', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9092'), {
      code: 'ECONNREFUSED',
    });
    const connection = make('KafkaJSConnectionError', 'Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    });
    const cases: Error[] = [
      refused,
      connection,
      make('KafkaJSNonRetriableError', 'x', { cause: connection }),
      // kafkajs's retrier gives up with the last error as the first argument (its cause).
      make('KafkaJSNumberOfRetriesExceeded', connection, { retryCount: 5, retryTime: 1000 }),
      make('KafkaJSConnectionClosedError', 'Closed connection'),
      make('KafkaJSRequestTimeoutError', 'Request Produce(key: 0, version: 7) timed out'),
      make('KafkaJSNoBrokerAvailableError', 'No broker available'),
      make('KafkaJSBrokerNotFound', 'Broker 1 not found in the cached metadata'),
      createErrorFromCode(code.NOT_LEADER_FOR_PARTITION),
      createErrorFromCode(code.REQUEST_TIMED_OUT),
      createErrorFromCode(code.NETWORK_EXCEPTION),
      createErrorFromCode(code.COORDINATOR_LOAD_IN_PROGRESS),
      createErrorFromCode(code.COORDINATOR_NOT_AVAILABLE),
      createErrorFromCode(code.NOT_ENOUGH_REPLICAS),
      createErrorFromCode(code.CONCURRENT_TRANSACTIONS),
      // Our own wrapping of a restore that lost its connection.
      new TributaryError('STATE_FAILED', 'restoring the stores of task 0_1 failed', {
        cause: connection,
      }),
    ];
    for (const error of cases) {
      assert.equal(classifyKafkaError(error), 'retriable', rootCause(error));
      assert.deepEqual(batchFaultAction(error), { kind: 'retry' }, rootCause(error));
    }
  });

  it('treats a fenced producer as a lost task and a rejoin, not as an exit', () => {
    const epoch = createErrorFromCode(code.INVALID_PRODUCER_EPOCH);
    assert.match(epoch.message, /old epoch/);
    const cases: Error[] = [
      epoch,
      make('KafkaJSNonRetriableError', epoch.message, { cause: epoch }),
      // Kafka 4's PRODUCER_FENCED is a code kafkajs 2.2.4 does not know.
      createErrorFromCode(code.PRODUCER_FENCED),
      make(
        'KafkaJSNonRetriableError',
        'Transaction state exception: Invalid operation "sendOffsets" in state "ABORTING"',
      ),
    ];
    for (const error of cases) {
      assert.equal(classifyKafkaError(error), 'fenced', rootCause(error));
      assert.deepEqual(batchFaultAction(error), { kind: 'rejoin' }, rootCause(error));
      assert.equal(crashAction(error, false), 'own');
    }
  });

  it('hands a lost membership to kafkajs unwrapped, so it rejoins', () => {
    for (const c of [code.UNKNOWN_MEMBER_ID, code.ILLEGAL_GENERATION, code.REBALANCE_IN_PROGRESS]) {
      const cause = createErrorFromCode(c);
      const wrapped = make('KafkaJSNonRetriableError', cause.message, { cause });
      assert.equal(classifyKafkaError(wrapped), 'membership');
      assert.deepEqual(batchFaultAction(wrapped), { kind: 'rejoin-kafkajs', error: cause });
    }
    assert.equal(classifyKafkaError(createErrorFromCode(code.NOT_COORDINATOR)), 'membership');
  });

  it('exits on what no retry fixes: credentials, ACLs, bugs', () => {
    const cases: Error[] = [
      make('KafkaJSSASLAuthenticationError', 'SASL PLAIN authentication failed'),
      createErrorFromCode(code.SASL_AUTHENTICATION_FAILED),
      createErrorFromCode(code.TOPIC_AUTHORIZATION_FAILED),
      createErrorFromCode(code.GROUP_AUTHORIZATION_FAILED),
      createErrorFromCode(code.TRANSACTIONAL_ID_AUTHORIZATION_FAILED),
      new TypeError("Cannot read properties of undefined (reading 'offset')"),
      new Error('a bug of ours'),
      new TributaryError('TOPIC_MISMATCH', 'source topic readings does not exist'),
    ];
    for (const error of cases) {
      assert.equal(classifyKafkaError(error), 'fatal', rootCause(error));
      assert.deepEqual(batchFaultAction(error), { kind: 'fail' }, rootCause(error));
      assert.equal(crashAction(error, false), 'fail');
    }
    // A bug wrapped by kafkajs stays a bug; an authorization error wrapped by a retry stays fatal.
    const bug = new TypeError('x is not a function');
    assert.equal(
      classifyKafkaError(make('KafkaJSNonRetriableError', 'x', { cause: bug })),
      'fatal',
    );
    const acl = createErrorFromCode(code.TOPIC_AUTHORIZATION_FAILED);
    assert.equal(
      classifyKafkaError(make('KafkaJSNumberOfRetriesExceeded', acl, { retryCount: 5 })),
      'fatal',
    );
  });

  it('lets kafkajs restart its consumer when it says it will', () => {
    const connection = make('KafkaJSConnectionError', 'Connection error');
    assert.equal(crashAction(connection, true), 'kafkajs');
  });

  it('does not loop on a cause chain that points back to itself', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    (a as { cause?: unknown }).cause = b;
    assert.equal(classifyKafkaError(a), 'fatal');
  });
});

describe("classifyKafkaError on @platformatic/kafka's errors", () => {
  // Its own classes: a broker's answer is a ProtocolError (apiId, canRetry) inside the
  // AggregateError of a response or of the attempts of a retried request.
  const answered = (apiId: string): Error =>
    new MultipleErrors('Received response with error', [new ProtocolError(apiId)]);
  const retried = (error: Error): Error =>
    new MultipleErrors('commit failed 4 times.', [new NetworkError('Connection closed'), error]);

  it('retries a network failure and an answer the library calls retriable', () => {
    for (const error of [
      new NetworkError('Connection closed'),
      answered('NOT_ENOUGH_REPLICAS'),
      retried(answered('COORDINATOR_NOT_AVAILABLE')),
    ])
      assert.equal(classifyKafkaError(error), 'retriable', rootCause(error));
  });

  it('treats a fenced transactional producer as a rejoin', () => {
    for (const apiId of ['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH', 'TRANSACTION_ABORTABLE']) {
      assert.equal(classifyKafkaError(retried(answered(apiId))), 'fenced', apiId);
      assert.deepEqual(batchFaultAction(answered(apiId)), { kind: 'rejoin' });
    }
  });

  it('finds the lost membership inside the aggregate, for the consumer to rejoin', () => {
    // GROUP_ID_NOT_FOUND: the commit of a member whose session expired in a group Kafka 4 deleted
    // with it (no offsets committed yet); CI saw a worker exit 1 on it before it was membership.
    for (const apiId of [
      'ILLEGAL_GENERATION',
      'UNKNOWN_MEMBER_ID',
      'REBALANCE_IN_PROGRESS',
      'GROUP_ID_NOT_FOUND',
    ]) {
      const error = retried(answered(apiId));
      assert.equal(classifyKafkaError(error), 'membership', apiId);
      const action = batchFaultAction(error);
      assert.equal(action.kind, 'rejoin-kafkajs', apiId);
      assert.equal(
        action.kind === 'rejoin-kafkajs' && (action.error as ProtocolError).apiId,
        apiId,
      );
    }
  });

  it('exits on refused credentials or ACLs and on a call the library refuses', () => {
    for (const error of [
      answered('SASL_AUTHENTICATION_FAILED'),
      answered('TOPIC_AUTHORIZATION_FAILED'),
      new UserError('Cannot begin a transaction on a non-idempotent producer.'),
    ])
      assert.equal(classifyKafkaError(error), 'fatal', rootCause(error));
  });

  it('sees a refused timestamp inside the aggregate', () => {
    assert.equal(isTimestampRefused(retried(answered('INVALID_TIMESTAMP'))), true);
    assert.equal(isTimestampRefused(answered('NOT_ENOUGH_REPLICAS')), false);
  });
});

describe('backoffMs', () => {
  it('doubles from the initial wait up to the cap, with half of each wait random', () => {
    const policy = { initialMs: 100, maxMs: 1000 };
    assert.equal(backoffMs(1, 0, policy), 50);
    assert.equal(backoffMs(1, 0.999999, policy), 100);
    assert.equal(backoffMs(2, 0, policy), 100);
    assert.equal(backoffMs(3, 0, policy), 200);
    assert.equal(backoffMs(4, 0.5, policy), 600);
    for (const attempt of [5, 6, 10, 100, 10_000]) {
      const low = backoffMs(attempt, 0, policy);
      const high = backoffMs(attempt, 0.999999, policy);
      assert.equal(low, 500);
      assert.ok(high <= 1000 && high > 999, String(high));
    }
  });

  it('never waits longer than the default cap, nor less than half the initial wait', () => {
    for (let attempt = 0; attempt < 64; attempt++) {
      for (const r of [0, 0.25, 0.5, 0.75, 0.999]) {
        const ms = backoffMs(attempt, r);
        assert.ok(ms >= defaultBackoff.initialMs / 2 && ms <= defaultBackoff.maxMs, `${attempt}`);
      }
    }
  });
});
