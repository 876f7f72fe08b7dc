import { setTimeout as sleep } from 'node:timers/promises';

import { TributaryError } from '../../core/index.ts';
import type { KafkaClientOptions } from '../client.ts';
import type { BatchConsumerOptions } from '../consumer.ts';
import type { MemberStandbys } from '../task-assignment.ts';
import { backoffMs, batchFaultAction, crossedRebalance } from '../faults.ts';
import type {
  BatchConsumer,
  BatchConsumerHandlers,
  ConsumerGroupMetadata,
  TopicPartition,
  TopicPartitionOffset,
} from '../types.ts';
import { groupOnly } from '../group-metadata.ts';
import { waiter } from '../waiter.ts';
import { brokerSaid } from './errors.ts';
import { createFetcher, tpKey } from './fetcher.ts';
import type { FetchedPartition, Fetcher } from './fetcher.ts';
import { assignedPartitions, createGroupMember } from './group-member.ts';
import type { GroupMember } from './group-member.ts';

/** An assigned partition, as the fetch loop sees it. */
interface PartitionState extends TopicPartition {
  key: string;
  /** The next offset to fetch; undefined until the assignment's start offsets are known. */
  position: bigint | undefined;
  /** Moves on at each seek and assignment: a batch fetched before is stale. */
  epoch: number;
  /** 'halt' pauses it for good. */
  paused: boolean;
  /** A batch of it is being handled (or waits for a handler): it is not fetched meanwhile. */
  busy: boolean;
  // For the stall watchdog (watchStalls): when things last happened to it, in ms.
  /** The position last changed (an assignment, a seek, a batch done). */
  movedAt: number;
  /** The batch being handled was handed over. */
  busySince?: number | undefined;
  /** A fetch answer first showed records past the position since it last moved. */
  behindSince?: number | undefined;
  stableEnd?: bigint;
  askedAt?: number;
  answeredAt?: number;
  warnedAt?: number;
}

/** A partition that should move on and has not for this long is reported (onStalled). */
const defaultStallReportMs = 60_000;

/** How long a stopping member waits for the answer to its LeaveGroup (stop()). */
const leaveMaxMs = 5_000;

/** How long a JoinGroup waits for the batches in flight (their handling and commit). */
const beforeJoinMaxMs = 5_000;

/**
 * How long a commit that crossed a rebalance waits for the newer join's assignment (a SyncGroup
 * after the JoinGroup that moved the generation: milliseconds once every member has joined).
 * Short, because a worker that stops commits its tasks through here within its shutdown timeout.
 */
const recommitWaitMs = 2_000;

/** An idle loop asks the broker again this often; a fetch waits for records at most as long. */
const idleMs = 100;

/** A counting semaphore: at most `limit` holders at once. */
function semaphore(limit: number): { acquire: () => Promise<() => void> } {
  let held = 0;
  const queue: (() => void)[] = [];
  const release = (): void => {
    held--;
    queue.shift()?.();
  };
  return {
    acquire: () =>
      new Promise((resolve) => {
        const take = (): void => {
          held++;
          resolve(release);
        };
        if (held < limit) take();
        else queue.push(take);
      }),
  };
}

/**
 * A BatchConsumer: group membership from the library's Consumer (group-member.ts), and a fetch
 * loop of our own over the assigned partitions through group-less fetches (fetcher.ts), since
 * the library's message stream has no per-partition pause or seek and uses its own
 * read_committed filter. Each partition is fetched from its position; while a batch of it is
 * handled it is not fetched; 'done' moves the position past the batch, 'skip' leaves it,
 * 'halt' pauses the partition, 'rejoin' stops fetching until the member has rejoined the group.
 * Every assignment starts the partitions at their committed offsets (their log start without
 * one), as an eager rebalance does.
 */
export function createPlatformaticBatchConsumer(
  options: KafkaClientOptions,
  consumerOptions: BatchConsumerOptions,
): BatchConsumer {
  const partitions = new Map<string, PartitionState>();
  const inFlight = new Set<Promise<void>>();
  const slots = semaphore(Math.max(1, consumerOptions.concurrency));
  const backoff = waiter();
  const idle = waiter();
  /** Failed batches in a row, per partition (a batch that succeeds resets it). */
  const failures = new Map<string, number>();
  /** Memberships lost in a row (an assignment resets it). */
  let lostInARow = 0;
  let member: GroupMember | undefined;
  let fetcher: Fetcher | undefined;
  let handlers: BatchConsumerHandlers | undefined;
  let loop: Promise<void> | undefined;
  /** Assignments are handled one after the other, in the order the joins happened. */
  let assignments = Promise.resolve();
  let rejoining: Promise<void> | undefined;
  let crashed = false;
  let stopped = false;
  /** The latest join's place in the group and partitions, as the library reported it. */
  let latestJoin: { group: ConsumerGroupMetadata; partitions: Set<string> } | undefined;
  const joins = waiter();
  /** The latest join past generation `past`, waiting for it at most `withinMs`; undefined if none. */
  const joinAfter = async (past: number, withinMs: number) => {
    const deadline = Date.now() + withinMs;
    while (!stopped && Date.now() < deadline) {
      if (latestJoin !== undefined && latestJoin.group.generationId > past) return latestJoin;
      await joins.wait(Math.max(1, deadline - Date.now()));
    }
    return undefined;
  };
  /** Incremental rebalances (KIP-429): kept partitions go on through a rebalance (group-member.ts). */
  const cooperative = consumerOptions.cooperative !== false;
  /** Eager: from a JoinGroup about to go out to the next assignment, nothing new is handed over. */
  let joining = false;
  /** From a JoinGroup about to go out to its assignment handed over (both protocols). */
  let joinSent = false;
  /** From a JoinGroup without a member id after having one, to the next assignment. */
  let dropped = false;
  /**
   * Cooperative: partitions revoked by the latest assignment, which the assignor gives to nobody
   * before this member rejoins: a commit of theirs that crossed the rebalance may go again under
   * the new generation.
   */
  const releasing = new Set<string>();
  /**
   * Before each JoinGroup (group-member.ts): stop handing over batches and wait for those in
   * flight, so they commit under the generation still current (a group preparing a rebalance
   * accepts that), at most `beforeJoinMaxMs` (the member must join within the rebalance timeout,
   * and heartbeats nothing meanwhile).
   */
  const beforeJoin = async (): Promise<void> => {
    joinSent = true;
    // The library rejoins by itself, without a member id, when the coordinator no longer knows
    // this member (UNKNOWN_MEMBER_ID: its session expired): the group may have given its
    // partitions to others meanwhile, so every task is lost (KIP-429's onPartitionsLost), and
    // nothing is claimed.
    if (group.memberId !== '' && member?.consumer.memberId === null && !dropped && !stopped) {
      dropped = true;
      suspend();
      const error = new TributaryError(
        'KAFKA_UNAVAILABLE',
        'the group no longer knows this member (its session expired): it joins again as a new one',
      );
      handlers?.onFault({ error, attempt: 1, what: 'group membership', rejoin: true });
      void handlers?.onLost(error).catch((e: unknown) => crash(e as Error));
    }
    // Cooperative: nothing stops; every task this member owns stays its own until it says not.
    if (cooperative) return;
    if (!joining) joiningSince = Date.now();
    joining = true;
    if (inFlight.size === 0) return;
    await Promise.race([Promise.allSettled([...inFlight]), sleep(beforeJoinMaxMs)]);
  };
  /** The member's place in the group at the latest assignment handed to the handlers. */
  let group: ConsumerGroupMetadata = groupOnly(consumerOptions.groupId);

  const crash = (error: Error): void => {
    crashed = true;
    handlers?.onCrash(error);
  };
  /** Sets a partition's position (undefined: none until the next assignment). */
  const moveTo = (state: PartitionState, position: bigint | undefined): void => {
    state.position = position;
    state.movedAt = Date.now();
    state.behindSince = undefined;
  };
  /** Nothing is fetched until the next assignment; batches in flight become stale. */
  const suspend = (): void => {
    for (const state of partitions.values()) {
      moveTo(state, undefined);
      state.epoch++;
    }
  };
  let joiningSince = 0;
  const stallMs = consumerOptions.stallReportMs ?? defaultStallReportMs;

  /**
   * Reports each partition that should move on and has not for `stallMs`: a batch handed over
   * whose handling has not returned, records past a position that does not move, or no
   * position (start offsets or a rejoin awaited). Nothing moves on while it is paused.
   */
  const watchStalls = (): void => {
    const now = Date.now();
    const ago = (at: number | undefined): string =>
      at === undefined ? 'never' : `${Math.round((now - at) / 1000)} s ago`;
    for (const state of partitions.values()) {
      if (state.paused || (state.warnedAt !== undefined && now - state.warnedAt < stallMs))
        continue;
      let since: number | undefined;
      let waiting: string | undefined;
      if (state.busy && state.busySince !== undefined) {
        since = state.busySince;
        waiting = `the handling of its batch from offset ${state.position}`;
      } else if (joining) {
        since = joiningSince;
        waiting = 'the member rejoining the group';
      } else if (state.position === undefined) {
        since = state.movedAt;
        waiting = 'its start offset (an assignment)';
      } else if (state.behindSince !== undefined) {
        since = state.behindSince;
        waiting = `a fetch of its records from offset ${state.position} (last stable offset ${state.stableEnd})`;
      }
      if (since === undefined || waiting === undefined || now - since < stallMs) continue;
      state.warnedAt = now;
      handlers?.onStalled?.({
        topic: state.topic,
        partition: state.partition,
        seconds: Math.round((now - since) / 1000),
        waiting: `${waiting}; last fetched ${ago(state.askedAt)}, last answered ${ago(state.answeredAt)}, position last moved ${ago(state.movedAt)}`,
      });
    }
  };
  let watchdog: NodeJS.Timeout | undefined;

  /**
   * (1) the partitions no longer assigned are dropped (their batches fetched before become
   *     stale); eager: so do the batches of every other partition, which all start again from
   *     their start offsets; cooperative: a partition kept with its position goes on untouched;
   * (2) the start offsets of the others are read (committed, else log start): if they cannot
   *     be, the membership counts as lost and the member rejoins;
   * (3) the handlers hear of the assignment, with the generation it belongs to (an error there
   *     crashes the consumer); they close the revoked partitions' tasks;
   * (4) the partitions not sought meanwhile start at their start offsets;
   * (5) cooperative, after revoking some: rejoin without them, for the assignor to give them on.
   */
  const assign = async (
    assigned: TopicPartition[],
    joined: ConsumerGroupMetadata,
    standby: MemberStandbys | undefined,
  ): Promise<void> => {
    const wanted = new Set(assigned.map(tpKey));
    // A new member id: the group dropped this member in between, so nothing is kept.
    const sameMember = group.memberId === '' || joined.memberId === group.memberId;
    dropped = false;
    // (1)
    let revoked = 0;
    for (const [key, state] of partitions) {
      if (wanted.has(key)) continue;
      partitions.delete(key);
      state.epoch++;
      revoked++;
    }
    const epochs = new Map<string, number>();
    for (const tp of assigned) {
      const key = tpKey(tp);
      const kept = partitions.get(key);
      if (cooperative && sameMember && kept !== undefined && kept.position !== undefined) continue;
      const state = kept ?? {
        ...tp,
        key,
        position: undefined,
        epoch: 0,
        paused: false,
        busy: false,
        movedAt: Date.now(),
      };
      moveTo(state, undefined);
      state.epoch++;
      partitions.set(key, state);
      epochs.set(key, state.epoch);
    }
    // (2)
    let starts = new Map<string, bigint>();
    try {
      if (epochs.size > 0)
        starts = await (member as GroupMember).startOffsets(
          assigned.filter((tp) => epochs.has(tpKey(tp))),
        );
    } catch (error) {
      return lost(error as Error);
    }
    lostInARow = 0;
    // (3)
    group = joined;
    await handlers?.onAssignment(assigned, {
      cooperative,
      ...(standby === undefined ? {} : { standby }),
    });
    // (4)
    joining = false;
    joinSent = false;
    for (const [key, epoch] of epochs) {
      const state = partitions.get(key);
      if (state !== undefined && state.epoch === epoch) moveTo(state, starts.get(key) ?? 0n);
    }
    idle.wakeAll();
    // (5)
    if (cooperative && revoked > 0) rejoin(false);
  };

  /**
   * Joins the group again (after 'rejoin', a fenced task, or a lost membership: every partition
   * stops until the next assignment; or after a cooperative revocation: nothing stops),
   * retrying with backoff.
   */
  const rejoin = (stopAll = true): void => {
    if (stopAll) suspend();
    if (rejoining !== undefined || stopped) return;
    rejoining = (async () => {
      for (let attempt = 1; !stopped; attempt++) {
        try {
          await member?.join();
          return;
        } catch (error) {
          const delayMs = backoffMs(attempt, Math.random());
          handlers?.onFault({ error, attempt, delayMs, what: 'group join', rejoin: true });
          await backoff.wait(delayMs);
        }
      }
    })().finally(() => {
      rejoining = undefined;
    });
  };

  /**
   * The library gave up rejoining the group in the background (its 'error' event), or no
   * heartbeat was answered for a session (its 'stalled' event): the group may give our
   * partitions to another member meanwhile, so every task is lost.
   */
  const lost = (error: Error): void => {
    if (stopped) return;
    lostInARow++;
    // No delayMs: the rejoin starts at once, and times its own retries.
    handlers?.onFault({
      error,
      attempt: lostInARow,
      what: 'consumer (it left the group)',
      rejoin: true,
    });
    void handlers?.onLost(error).catch((e: unknown) => crash(e as Error));
    rejoin();
  };

  /**
   * A batch failed (its task was dropped, poll-loop.ts): what it did is not committed.
   * (1) a fault no retry fixes crashes the consumer: the worker exits 1;
   * (2) a lost membership rejoins the group at once (the runtime drops every task);
   * (3) otherwise wait, then fetch the batch again; after a fenced producer, rejoin first: the
   *     assignment is stale.
   */
  const batchFailed = async (state: PartitionState, error: unknown): Promise<void> => {
    const action = batchFaultAction(error);
    if (stopped) return;
    // (1)
    if (action.kind === 'fail') return crash(error as Error);
    // (2)
    if (action.kind === 'rejoin-kafkajs') {
      handlers?.onFault({ error, attempt: 1, what: 'group membership', rejoin: true });
      return rejoin();
    }
    // (3)
    const attempt = (failures.get(state.key) ?? 0) + 1;
    failures.set(state.key, attempt);
    const delayMs = backoffMs(attempt, Math.random());
    const rejoins = action.kind === 'rejoin';
    handlers?.onFault({ error, attempt, delayMs, what: `batch of ${state.key}`, rejoin: rejoins });
    await backoff.wait(delayMs);
    if (rejoins) rejoin();
  };

  /** Hands one fetched batch to handleBatch and acts on its answer. */
  const handle = async (state: PartitionState, epoch: number, fetched: FetchedPartition) => {
    if (stopped || handlers === undefined) return;
    const isStale = (): boolean => state.epoch !== epoch || partitions.get(state.key) !== state;
    let outcome;
    try {
      outcome = await handlers.handleBatch({
        topic: state.topic,
        partition: state.partition,
        records: fetched.records,
        isStale,
      });
    } catch (error) {
      return batchFailed(state, error);
    }
    failures.delete(state.key);
    if (outcome === 'done' && !isStale()) moveTo(state, fetched.next);
    else if (outcome === 'halt') state.paused = true;
    else if (outcome === 'rejoin') rejoin();
  };

  const dispatch = (state: PartitionState, epoch: number, fetched: FetchedPartition): void => {
    state.busy = true;
    state.busySince = Date.now();
    const run = (async () => {
      const release = await slots.acquire();
      try {
        await handle(state, epoch, fetched);
      } finally {
        release();
        state.busy = false;
        state.busySince = undefined;
        idle.wakeAll();
      }
    })();
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run));
  };

  /**
   * A position outside its partition's log (a committed offset past the end of a topic created
   * anew, or below a log start that retention moved): the partition starts over from its log
   * start, as the Java consumer does with auto.offset.reset=earliest (and kafkajs with
   * fromBeginning). Returns whether a position was reset.
   */
  const resetOutOfRange = async (
    asked: { state: PartitionState; epoch: number; position: bigint }[],
  ): Promise<boolean> => {
    const ranges = await (member as GroupMember).ranges(asked.map((a) => a.state));
    let reset = false;
    for (const { state, epoch, position } of asked) {
      const range = ranges.get(state.key);
      if (range === undefined || state.epoch !== epoch) continue;
      if (position >= range.start && position <= range.end) continue;
      moveTo(state, range.start);
      reset = true;
    }
    return reset;
  };

  /** One round: a fetch of every partition ready, and a batch dispatched for each that has records. */
  const fetchRound = async (): Promise<void> => {
    const ready = [...partitions.values()].filter(
      (s) => !joining && !s.busy && !s.paused && s.position !== undefined,
    );
    if (ready.length === 0 || crashed) return idle.wait(idleMs);
    const asked = ready.map((state) => ({
      state,
      epoch: state.epoch,
      position: state.position as bigint,
    }));
    let fetched;
    const askedAt = Date.now();
    for (const { state } of asked) state.askedAt = askedAt;
    try {
      fetched = await (fetcher as Fetcher).fetch(
        asked.map(({ state, position }) => ({ ...state, offset: position })),
      );
    } catch (error) {
      if (brokerSaid(error, 'OFFSET_OUT_OF_RANGE') && (await resetOutOfRange(asked))) return;
      throw error;
    }
    // A JoinGroup began while the fetch was out: the next assignment decides (positions reset).
    if (joining) return;
    for (const { state, epoch, position } of asked) {
      const answer = fetched.get(state.key);
      // Sought, reassigned or revoked while the fetch was out: its answer is stale.
      if (answer === undefined || state.epoch !== epoch || partitions.get(state.key) !== state)
        continue;
      state.answeredAt = Date.now();
      if (answer.stableEnd !== undefined) {
        state.stableEnd = answer.stableEnd;
        if (answer.stableEnd > position) state.behindSince ??= state.answeredAt;
        else state.behindSince = undefined;
      }
      if (answer.records.length > 0) dispatch(state, epoch, answer);
      // Only markers or aborted records: past them.
      else if (answer.next > position) moveTo(state, answer.next);
    }
  };

  const fetchLoop = async (): Promise<void> => {
    for (let attempt = 1; !stopped;) {
      try {
        await fetchRound();
        attempt = 1;
      } catch (error) {
        if (stopped) return;
        const delayMs = backoffMs(attempt, Math.random());
        handlers?.onFault({ error, attempt: attempt++, delayMs, what: 'fetch', rejoin: false });
        await backoff.wait(delayMs);
      }
    }
  };

  return {
    groupMetadata: () => group,
    // A probe that meets a join under way is lost with it; the assignment that join brings
    // still names the warm-up, and the member probes again then (standby.ts).
    probe: () => rejoin(!cooperative),
    // Eager: the batches in flight commit before the JoinGroup goes out (beforeJoin), under the
    // generation still current; holding them would only abort the revoked tasks' transactions.
    rebalancing: () => cooperative && joinSent,
    async start(topics, batchHandlers) {
      handlers = batchHandlers;
      // Start-up retries start() while Kafka does not answer: the member is made once.
      if (member === undefined) {
        // A member the group dropped claims nothing: its partitions may be others' by now.
        member = createGroupMember(options, consumerOptions, topics, beforeJoin, () =>
          dropped ? [] : [...partitions.values()],
        );
        fetcher = createFetcher(options, {
          maxWaitMs: idleMs,
          partitionMaxBytes: consumerOptions.maxBytesPerPartition,
        });
        member.consumer.on('consumer:group:join', (joined) => {
          const tps = assignedPartitions(joined.assignments);
          const metadata = {
            groupId: joined.groupId,
            generationId: joined.generationId ?? -1,
            memberId: joined.memberId ?? '',
          };
          latestJoin = { group: metadata, partitions: new Set(tps.map(tpKey)) };
          // Read now: the next SyncGroup's response replaces it.
          const standby = consumerOptions.replicas === undefined ? undefined : member?.standbys();
          if (cooperative) {
            releasing.clear();
            for (const key of partitions.keys())
              if (!latestJoin.partitions.has(key)) releasing.add(key);
          }
          joins.wakeAll();
          assignments = assignments
            .then(() => assign(tps, metadata, standby))
            .catch((e: unknown) => crash(e as Error));
        });
        member.consumer.on('error', (error: Error) => lost(error));
        member.consumer.on('consumer:heartbeat:stalled', ({ lastError, stalledFor }) =>
          lost(
            new TributaryError('KAFKA_UNAVAILABLE', `no heartbeat answered for ${stalledFor} ms`, {
              cause: lastError,
            }),
          ),
        );
      }
      await member.join();
      loop ??= fetchLoop();
      if (watchdog === undefined) {
        watchdog = setInterval(watchStalls, Math.min(15_000, stallMs / 4));
        watchdog.unref();
      }
    },
    seek(tp, offset) {
      const state = partitions.get(tpKey(tp));
      if (state === undefined) return;
      moveTo(state, offset);
      state.epoch++;
      idle.wakeAll();
    },
    /**
     * Under the generation of the latest assignment handed to the handlers (the one the batch
     * was handled under), not the library's, which may already be the next one. A refusal that
     * only crossed a rebalance (the member has joined a newer generation meanwhile, so no
     * callback ran before its partitions were reassigned: see the README) commits again under
     * the newer generation when that join left every partition of the commit with this member:
     * the work is done and still this member's, and its task keeps running. Otherwise that
     * batch's work alone is lost (TASK_MIGRATED, kafka/faults.ts): the new owner does it again.
     */
    async commit(offsets: TopicPartitionOffset[]) {
      if (offsets.length === 0) return;
      const current = member as GroupMember;
      const sent = group;
      try {
        await current.commit(offsets, sent);
        return;
      } catch (error) {
        // Cooperative: the coordinator may move to the next generation (every member has
        // joined) before this member reads its JoinGroup's answer.
        const newer =
          cooperative && joinSent
            ? Math.max(sent.generationId + 1, current.consumer.generationId)
            : current.consumer.generationId;
        const crossed = crossedRebalance(error, sent.generationId, newer);
        if (crossed === undefined) throw error;
        // The join's assignment comes a SyncGroup after its generation: wait for it.
        const next = await joinAfter(sent.generationId, recommitWaitMs);
        const stillMine = (key: string): boolean =>
          next?.partitions.has(key) === true || releasing.has(key);
        if (next === undefined || !offsets.every((o) => stillMine(tpKey(o)))) throw crossed;
        try {
          await current.commit(offsets, next.group);
        } catch (again) {
          throw (
            crossedRebalance(again, next.group.generationId, current.consumer.generationId) ?? again
          );
        }
      }
    },
    async stop() {
      stopped = true;
      clearInterval(watchdog);
      backoff.wakeAll();
      joins.wakeAll();
      idle.wakeAll();
      await loop;
      // The batches in flight return first; those still waiting for a slot are not handed over.
      await Promise.all([...inFlight]);
      if (member !== undefined) {
        // Leaves at once (LeaveGroup), so the group rebalances without waiting for the session;
        // a rejoin under way (which can wait for a whole rebalance) ends with the client. The
        // coordinator answers a LeaveGroup only after the member's JoinGroup still in flight on
        // the same connection, so the wait is bounded: past it the client closes, and the group
        // drops the member after its session instead.
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          new Promise<void>((resolve) => member?.consumer.leaveGroup(true, () => resolve())),
          new Promise<void>((resolve) => (timer = setTimeout(resolve, leaveMaxMs))),
        ]);
        clearTimeout(timer);
        await member.close();
      }
      await rejoining;
      await fetcher?.close();
    },
  };
}
