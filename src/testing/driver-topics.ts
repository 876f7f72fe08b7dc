import type { OutgoingRecord } from '../kafka/index.ts';
import { partitionForKey } from '../kafka/partitioner.ts';

/** A record in a topic of the test driver: where it landed. */
export interface StoredRecord extends OutgoingRecord {
  partition: number;
  offset: number;
}

/**
 * The driver's broker: every topic has the same number of partitions, a record goes to its
 * given partition or its key's (Java's murmur2, as the producer does; a null key to 0), and the
 * offsets of each partition count from 0. Only committed records are appended (see
 * driver-engine.ts), so what is here is what a read_committed consumer would see.
 */
export class DriverTopics {
  private readonly logs = new Map<string, StoredRecord[][]>();
  private readonly inOrder = new Map<string, StoredRecord[]>();

  constructor(readonly partitions: number) {}

  append(record: OutgoingRecord): StoredRecord {
    const partition =
      record.partition ?? (record.key === null ? 0 : partitionForKey(record.key, this.partitions));
    let log = this.logs.get(record.topic);
    if (log === undefined) {
      log = Array.from({ length: this.partitions }, () => []);
      this.logs.set(record.topic, log);
    }
    const list = log[partition];
    if (list === undefined)
      throw new RangeError(`topic ${record.topic} has no partition ${partition}`);
    const stored = { ...record, partition, offset: list.length };
    list.push(stored);
    const all = this.inOrder.get(record.topic) ?? [];
    all.push(stored);
    this.inOrder.set(record.topic, all);
    return stored;
  }

  /** One partition's records, by offset. */
  partition(topic: string, partition: number): readonly StoredRecord[] {
    return this.logs.get(topic)?.[partition] ?? [];
  }

  /** A topic's records in the order they were written (partitions interleaved). */
  records(topic: string): readonly StoredRecord[] {
    return this.inOrder.get(topic) ?? [];
  }
}
