import type { fetchV17 } from '@platformatic/kafka';

type AbortedTransaction = fetchV17.FetchResponsePartitionAbortedTransaction;

/** What the filter reads of a record batch (the library's and fetch-response.ts's both have it). */
interface Batch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  records: readonly { key?: Buffer | null }[];
}

// Record batch attributes (Kafka's RecordBatch): bit 4 transactional, bit 5 control.
const transactionalBit = 0x10;
const controlBit = 0x20;

/** A control record's key: version (int16), then type (int16): 0 abort, 1 commit. */
function isAbortMarker(batch: Batch): boolean {
  const key = batch.records[0]?.key;
  return key !== null && key !== undefined && key.length >= 4 && key.readInt16BE(2) === 0;
}

const lastOffsetOf = (batch: Batch): bigint => batch.firstOffset + BigInt(batch.lastOffsetDelta);

/**
 * The record batches of one partition of a read_committed fetch that hold committed records (or
 * records written outside transactions): what a read_committed consumer hands over. Control
 * batches (transaction markers) are left out too.
 *
 * The Java consumer's rule, as the kafkajs adapter's correction (kafkajs.ts, decision 0019): the
 * broker lists the aborted transactions that overlap the fetched range in the order their abort
 * markers were written, not by first offset. Sorted by first offset, every aborted transaction
 * that starts at or before a batch's last offset marks its producer as aborting before the batch
 * is judged; a transactional batch of an aborting producer is dropped; the producer's abort
 * marker ends it. @platformatic/kafka's own filter (a private method of its Consumer, applied by
 * its fetch() under read_committed) keeps one range per producer and lets through the first of a
 * producer's two aborts in a fetch, and an abort whose marker is in a later fetch; it only ever
 * drops aborted batches, so this filter may run on its output as well as on a raw response.
 */
export function committedBatches<B extends Batch>(
  batches: readonly B[],
  abortedTransactions: readonly AbortedTransaction[] | null | undefined,
): B[] {
  const pending = [...(abortedTransactions ?? [])].sort((a, b) =>
    a.firstOffset < b.firstOffset ? -1 : a.firstOffset > b.firstOffset ? 1 : 0,
  );
  const aborting = new Set<bigint>();
  let next = 0;
  const kept: B[] = [];
  for (const batch of batches) {
    const last = lastOffsetOf(batch);
    for (let t = pending[next]; t !== undefined && t.firstOffset <= last; t = pending[++next])
      aborting.add(t.producerId);
    if ((batch.attributes & controlBit) !== 0) {
      if (isAbortMarker(batch)) aborting.delete(batch.producerId);
      continue;
    }
    if ((batch.attributes & transactionalBit) !== 0 && aborting.has(batch.producerId)) continue;
    kept.push(batch);
  }
  return kept;
}
