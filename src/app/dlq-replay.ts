import { systemClock, TributaryError } from '../core/index.ts';
import type { Clock } from '../core/index.ts';
import type { FetchedRecord, OutgoingRecord, TopicAdmin } from '../kafka/index.ts';
import type { KafkaSettings } from './config.ts';
import { deadLetterTopicCheck, requireTopics } from './dlq-inspect.ts';
import { letterId, matches, missingForReplay, readDeadLetter, replayRecord } from './dlq-letter.ts';
import type { DeadLetter, DeadLetterFilter } from './dlq-letter.ts';
import { toolClient } from './operations.ts';

export interface ReplayOptions {
  /** The dead-letter topic. */
  topic: string;
  filter: DeadLetterFilter;
  /** Where the letters go instead of their source topic. */
  toTopic?: string;
  /** Read and count only: nothing is written, not even the ledger topic. */
  dryRun: boolean;
  clock?: Clock;
}

/** What a replay did (under --dry-run: what it would have done). */
export interface ReplayReport {
  topic: string;
  ledger: string;
  dryRun: boolean;
  /** Letters read (the whole topic up to its end at the start). */
  read: number;
  filters: DeadLetterFilter;
  /** Letters the filters took. */
  selected: number;
  /** Republished (dry run: would be), by error code and by target topic. */
  replayed: number;
  byCode: Record<string, number>;
  byTarget: Record<string, number>;
  /** Selected letters the ledger says an earlier replay republished: skipped. */
  alreadyReplayed: number;
  /** Selected letters without the headers a replay needs, by the header missing: skipped. */
  notReplayable: number;
  missingHeaders: Record<string, number>;
  /** Selected letters whose target topic does not exist, by topic: skipped. */
  targetMissing: Record<string, number>;
}

/** The compacted topic that records which letters of a dead-letter topic were republished. */
export function ledgerTopicOf(dlqTopic: string): string {
  return `${dlqTopic}-replayed`;
}

/** One ledger entry: the letter (key `<partition>:<offset>`) and where it went. */
interface LedgerEntry {
  /** The letter's append time: a recreated dead-letter topic reuses offsets, never this pair. */
  appendTime: number;
  topic: string;
  replayedAt: number;
}

/** Letters replayed before, by id, with their append time (undefined: unreadable entry, skip). */
type Ledger = Map<string, number | undefined>;

function ledgerEntryTime(value: Buffer): number | undefined {
  try {
    const entry = JSON.parse(value.toString('utf8')) as Partial<LedgerEntry>;
    return typeof entry.appendTime === 'number' ? entry.appendTime : undefined;
  } catch {
    return undefined;
  }
}

function bump(counts: Record<string, number>, name: string, by = 1): void {
  counts[name] = (counts[name] ?? 0) + by;
}

const replayTransactionTimeoutMs = 30_000;

/**
 * Republishes the dead letters the filter takes to their source topic (or `toTopic`) with their
 * original key, value, own headers and timestamp, plus `tributary.replay.of`. Idempotent across
 * runs and crashes:
 *   (1) the dead-letter topic and `toTopic` must exist; the ledger topic `<dlq>-replayed`
 *       (compacted) is created when missing;
 *   (2) the transactional producer `<dlq>-replay` registers with the coordinator, which fences
 *       any earlier replay of this topic still running and ends its open transaction;
 *   (3) the ledger is read to its end (read_committed): the letters every earlier replay committed;
 *   (4) the dead-letter topic is read to its end at the start; per fetched batch, the letters to
 *       republish and their ledger entries are written in ONE transaction, so a letter is in its
 *       target topic exactly when the ledger says so. A crash loses at most an open transaction,
 *       which the next replay's step (2) aborts and redoes.
 * A dry run does (1) without creating anything, (3) and (4) without writing.
 */
export async function replayDeadLetters(
  kafka: KafkaSettings,
  options: ReplayOptions,
): Promise<ReplayReport> {
  const { topic, filter, toTopic, dryRun } = options;
  const clock = options.clock ?? systemClock;
  const ledgerTopic = ledgerTopicOf(topic);
  const client = toolClient(kafka, 'tributary-dlq-replay');
  const report: ReplayReport = {
    topic,
    ledger: ledgerTopic,
    dryRun,
    read: 0,
    filters: filter,
    selected: 0,
    replayed: 0,
    byCode: {},
    byTarget: {},
    alreadyReplayed: 0,
    notReplayable: 0,
    missingHeaders: {},
    targetMissing: {},
  };
  // (1)
  await requireTopics(client, [
    { name: topic, ...deadLetterTopicCheck },
    ...(toTopic === undefined ? [] : [{ name: toTopic, what: 'target topic (--to-topic)' }]),
  ]);
  const admin: TopicAdmin = client.topicAdmin();
  await admin.connect();
  const producer = dryRun
    ? undefined
    : client.transactionalProducer(`${topic}-replay`, replayTransactionTimeoutMs);
  try {
    const ledgerExists = (await admin.partitionCounts([ledgerTopic])).has(ledgerTopic);
    if (!dryRun && !ledgerExists)
      await admin.createTopics([
        { topic: ledgerTopic, partitions: 1, config: { 'cleanup.policy': 'compact' } },
      ]);
    // (2) kafkajs registers the transactional id at the first transaction; an empty one writes nothing.
    if (producer !== undefined) {
      await producer.connect();
      await producer.begin();
      await producer.commit();
    }
    // (3)
    const ledger: Ledger = new Map();
    if (ledgerExists || !dryRun) {
      await client.topicReader().read(ledgerTopic, async (_partition, records) => {
        for (const r of records) {
          const id = r.key?.toString('utf8');
          if (id === undefined) continue;
          if (r.value === null) ledger.delete(id);
          else ledger.set(id, ledgerEntryTime(r.value));
        }
      });
    }
    // (4)
    const partitionCounts = new Map<string, number | undefined>();
    const partitionsOf = async (target: string): Promise<number | undefined> => {
      if (!partitionCounts.has(target))
        partitionCounts.set(target, (await admin.partitionCounts([target])).get(target));
      return partitionCounts.get(target);
    };
    const alreadyReplayed = (letter: DeadLetter): boolean => {
      const id = letterId(letter);
      if (!ledger.has(id)) return false;
      const time = ledger.get(id);
      return time === undefined || time === letter.appendTime;
    };
    // The first failure ends the replay: later batches are read but not written.
    let failure: unknown;
    const replayBatch = async (partition: number, records: FetchedRecord[]): Promise<void> => {
      if (failure !== undefined) return;
      const now = clock.now();
      const out: OutgoingRecord[] = [];
      const done: DeadLetter[] = [];
      for (const record of records) {
        const letter = readDeadLetter(partition, record);
        report.read++;
        if (!matches(letter, filter)) continue;
        report.selected++;
        if (alreadyReplayed(letter)) {
          report.alreadyReplayed++;
          continue;
        }
        const missing = missingForReplay(letter, toTopic);
        if (missing.length > 0) {
          report.notReplayable++;
          for (const header of missing) bump(report.missingHeaders, header);
          continue;
        }
        const target = toTopic ?? letter.sourceTopic ?? '';
        const count = await partitionsOf(target);
        if (count === undefined) {
          bump(report.targetMissing, target);
          continue;
        }
        // Back to its own topic: the partition it was read from, where its key's neighbours are.
        const original =
          toTopic === undefined &&
          letter.sourcePartition !== undefined &&
          letter.sourcePartition < count
            ? letter.sourcePartition
            : undefined;
        out.push(replayRecord(letter, topic, target, original));
        const entry: LedgerEntry = {
          appendTime: letter.appendTime,
          topic: target,
          replayedAt: now,
        };
        out.push({
          topic: ledgerTopic,
          key: Buffer.from(letterId(letter)),
          value: Buffer.from(JSON.stringify(entry)),
          timestamp: now,
          headers: {},
        });
        done.push(letter);
      }
      if (producer !== undefined && out.length > 0) {
        try {
          await producer.begin();
          await producer.send(out);
          await producer.commit();
        } catch (error) {
          failure = error;
          await producer.abort().catch(() => undefined);
          return;
        }
      }
      for (const letter of done) {
        report.replayed++;
        bump(report.byCode, letter.code ?? '(none)');
        bump(report.byTarget, toTopic ?? letter.sourceTopic ?? '');
        ledger.set(letterId(letter), letter.appendTime);
      }
    };
    await client.topicReader().read(topic, replayBatch);
    if (failure !== undefined) {
      const reason = failure instanceof Error ? failure.message : String(failure);
      throw new TributaryError(
        'KAFKA_UNAVAILABLE',
        `replay of ${topic} stopped after ${report.replayed} letters: ${reason}; the ledger ${ledgerTopic} holds every letter written, so running the replay again goes on from there`,
        { cause: failure },
      );
    }
    return report;
  } finally {
    await producer?.disconnect();
    await admin.disconnect();
  }
}
