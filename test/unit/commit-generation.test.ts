// The exactly-once committer under KIP-447 (src/runtime/commit.ts): a task's offsets go out under
// the generation it was assigned in; a refusal for membership while the member has since joined
// a newer generation (the commit crossed a rebalance) loses that task only (TASK_MIGRATED,
// retriable), while a refusal under the generation still current is the member's own (a rejoin).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { TributaryError } from '../../src/core/index.ts';
import type { Logger, Telemetry } from '../../src/core/index.ts';
import { classifyKafkaError } from '../../src/kafka/index.ts';
import type { ConsumerGroupMetadata, TransactionalProducer } from '../../src/kafka/index.ts';
import { emptyPending, exactlyOnceCommitter } from '../../src/runtime/commit.ts';
import type { TaskHandle } from '../../src/runtime/commit.ts';

/** The broker's refusal as @platformatic/kafka reports it (its apiId), wrapped as it does. */
function refusal(apiId: string): Error {
  const inner = Object.assign(new Error('The provided generation id is not the current one.'), {
    apiId,
  });
  return new AggregateError([inner], 'Received response with error while executing API');
}

const group = (generationId: number): ConsumerGroupMetadata => ({
  groupId: 'app',
  generationId,
  memberId: 'member-1',
});

/** A producer that records the group metadata its offsets were sent with, and may refuse them. */
function producer(refuse?: Error): TransactionalProducer & { sentUnder: ConsumerGroupMetadata[] } {
  let open = false;
  const sentUnder: ConsumerGroupMetadata[] = [];
  return {
    sentUnder,
    fencesStaleGenerations: true,
    connect: async () => undefined,
    get inTransaction() {
      return open;
    },
    begin: async () => void (open = true),
    send: async () => new Map(),
    async sendOffsets(g) {
      sentUnder.push(g);
      if (refuse !== undefined) throw refuse;
    },
    commit: async () => void (open = false),
    abort: async () => void (open = false),
    disconnect: async () => undefined,
  };
}

function handleWith(p: TransactionalProducer, assignedIn: ConsumerGroupMetadata): TaskHandle {
  const task = {
    id: '0_0',
    partition: 0,
    flushStores: () => ({ records: [], changes: new Map() }),
  };
  return {
    task,
    taskDir: '/nonexistent',
    persistence: new Map(),
    checkpoint: new Map(),
    sinceCheckpoint: 0,
    producer: p,
    group: assignedIn,
    restartFrom: new Map(),
    pending: emptyPending(),
  } as unknown as TaskHandle;
}

function committer(current: ConsumerGroupMetadata) {
  return exactlyOnceCommitter({
    groupId: 'app',
    currentGroup: () => current,
    commitIntervalMs: 0,
    clock: { now: () => 0 } as never,
    logger: { debug: () => undefined, warn: () => undefined } as unknown as Logger,
    telemetry: { committed: () => undefined } as unknown as Telemetry,
    flushExternal: async () => undefined,
  });
}

const offset = { topic: 'in', partition: 0, offset: '10' };

describe('exactly-once commits under KIP-447 group metadata', () => {
  it("sends a task's offsets under the generation it was assigned in", async () => {
    const p = producer();
    await committer(group(7)).afterBatch(handleWith(p, group(7)), [], offset);
    assert.deepEqual(p.sentUnder, [group(7)]);
  });

  it('turns a refusal after the member moved to a newer generation into TASK_MIGRATED (retriable: the task is rebuilt, no rejoin)', async () => {
    const p = producer(refusal('ILLEGAL_GENERATION'));
    const error = await committer(group(8))
      .afterBatch(handleWith(p, group(7)), [], offset)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(error instanceof TributaryError, String(error));
    assert.equal(error.code, 'TASK_MIGRATED');
    assert.equal(classifyKafkaError(error), 'retriable');
    assert.match(error.message, /generation 7 .* generation 8/);
  });

  it('leaves a refusal under the generation still current as it is: the member is out of the group and rejoins', async () => {
    for (const [apiId, now] of [
      ['ILLEGAL_GENERATION', 7],
      ['UNKNOWN_MEMBER_ID', 7],
      // Out of the group (the library reads 0 until it joins again): the member's own refusal.
      ['UNKNOWN_MEMBER_ID', 0],
    ] as const) {
      const refused = refusal(apiId);
      const error = await committer(group(now))
        .afterBatch(handleWith(producer(refused), group(7)), [], offset)
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      assert.equal(error, refused);
      assert.equal(classifyKafkaError(error), 'membership');
    }
  });

  it('leaves other faults as they are, and offsets sent without a generation (kafkajs) too', async () => {
    const fenced = refusal('PRODUCER_FENCED');
    const one = await committer(group(8))
      .afterBatch(handleWith(producer(fenced), group(7)), [], offset)
      .catch((e: unknown) => e);
    assert.equal(one, fenced);
    const membership = refusal('ILLEGAL_GENERATION');
    const unknown = { groupId: 'app', generationId: -1, memberId: '' };
    const two = await committer(group(8))
      .afterBatch(handleWith(producer(membership), unknown), [], offset)
      .catch((e: unknown) => e);
    assert.equal(two, membership);
  });
});
