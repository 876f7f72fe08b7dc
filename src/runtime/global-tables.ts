import { TributaryError } from '../core/index.ts';
import type { Logger } from '../core/index.ts';
import type { FetchedRecord, TopicFollower } from '../kafka/index.ts';
import type { GlobalTableSpec } from '../topology/plan.ts';
import { prepareRecords } from './changelog-apply.ts';
import type { GlobalStoreView, GlobalStores } from './global-view.ts';

/** A global table's entries: decoded values by the key's bytes (latin1), as its serdes read them. */
interface GlobalTable {
  spec: GlobalTableSpec;
  entries: Map<string, unknown>;
  view: GlobalStoreView;
}

/** A record of a global table's topic, as read (the test driver hands its own in). */
export type GlobalRecord = Pick<FetchedRecord, 'key' | 'value' | 'offset'>;

/**
 * The global tables of one worker (decision 0018): every worker reads every partition of each
 * table's topic, at start up to the end the topic had then (before any task processes), and
 * then as it changes, outside the consumer group. Entries live in memory only: a start reads
 * the topic again, so there is no checkpoint or changelog to keep consistent. A lookup sees
 * what the worker has read so far; an update's time relative to the stream is not fixed (as a
 * Kafka Streams GlobalKTable).
 */
export class GlobalTables implements GlobalStores {
  private readonly tables = new Map<string, GlobalTable>();
  private readonly byTopic = new Map<string, GlobalTable[]>();
  /** Records that did not decode (logged and left out of the table). */
  skipped = 0;

  constructor(
    specs: readonly GlobalTableSpec[],
    private readonly logger: Logger,
    private readonly follower?: TopicFollower,
  ) {
    for (const spec of specs) {
      const entries = new Map<string, unknown>();
      const table: GlobalTable = {
        spec,
        entries,
        view: {
          get: (key) => entries.get(key.toString('latin1')),
          get size() {
            return entries.size;
          },
        },
      };
      this.tables.set(spec.store, table);
      this.byTopic.set(spec.topic, [...(this.byTopic.get(spec.topic) ?? []), table]);
    }
  }

  get topics(): string[] {
    return [...this.byTopic.keys()];
  }

  view(store: string): GlobalStoreView | undefined {
    return this.tables.get(store)?.view;
  }

  /** Inits the serdes and reads every table's topic to its current end, then follows it. */
  async start(): Promise<void> {
    if (this.tables.size === 0) return;
    for (const { spec } of this.tables.values()) {
      await spec.key.init?.(spec.topic);
      await spec.value.init?.(spec.topic);
    }
    const began = Date.now();
    if (this.follower === undefined)
      throw new TributaryError('CONFIG_INVALID', 'global tables need a topic follower');
    // While the broker is away after the bootstrap the reader restarts itself: the worker goes
    // on with the table as read so far.
    await this.follower.follow(
      this.topics,
      (tp, records) => this.apply(tp.topic, tp.partition, records),
      {
        onFault: ({ error, restarting }) => {
          if (restarting)
            this.logger.warn({ topics: this.topics, err: error }, 'global table reader restarts');
          else
            this.logger.error(
              { topics: this.topics, err: error },
              'global table reader stopped: the global tables no longer follow their topics',
            );
        },
      },
    );
    for (const { spec, entries } of this.tables.values()) {
      this.logger.info(
        { store: spec.store, topic: spec.topic, entries: entries.size, ms: Date.now() - began },
        'global table read',
      );
    }
  }

  /**
   * Applies records of a topic, in offset order, to each global table reading it: the key's bytes
   * as its serde writes them, the decoded value, a null value deleting the key.
   */
  async apply(topic: string, partition: number, records: readonly GlobalRecord[]): Promise<void> {
    for (const { spec } of this.byTopic.get(topic) ?? [])
      await prepareRecords(spec, topic, records);
    this.applyPrepared(topic, partition, records);
  }

  /** True when a topic's serdes need an awaited prepareBatch before its records decode. */
  prepares(topic: string): boolean {
    return (this.byTopic.get(topic) ?? []).some(
      ({ spec }) => spec.key.prepareBatch !== undefined || spec.value.prepareBatch !== undefined,
    );
  }

  /** As apply, for records whose serdes need no prepareBatch (or had it). */
  applyPrepared(topic: string, partition: number, records: readonly GlobalRecord[]): void {
    for (const { spec, entries } of this.byTopic.get(topic) ?? []) {
      for (const record of records) {
        let key: Buffer | null;
        let value: unknown;
        try {
          key = spec.key.serialize(spec.key.deserialize(record.key, topic), topic);
          // A tombstone deletes whatever the value serde would make of null.
          value = record.value === null ? null : spec.value.deserialize(record.value, topic);
        } catch (error) {
          this.skipped++;
          this.logger.warn(
            { store: spec.store, topic, partition, offset: record.offset, err: error },
            'global table record does not decode: left out',
          );
          continue;
        }
        if (key === null) continue;
        const id = key.toString('latin1');
        if (value === null || value === undefined) entries.delete(id);
        else entries.set(id, value);
      }
    }
  }

  async stop(): Promise<void> {
    await this.follower?.stop();
  }
}
