// The contract between run.ts and each client's benchmark module.

export interface BenchOptions {
  brokers: string[];
  topic: string;
  records: number;
  /** Records per send call (produce). */
  batch: number;
  /** Send calls awaiting their acknowledgement at once, at most (produce). */
  inflight: number;
  /** Fetch response size limit, whole and per partition (consume). */
  maxBytes: number;
  maxBytesPerPartition: number;
  /** A fresh consumer group id (consume). */
  groupId: string;
  /** Records per transaction (produce-txn). */
  transactionRecords: number;
  /** A fresh transactional id (produce-txn). */
  transactionalId: string;
}

/** performance.now() at the first record received or sent, and at the last received or acknowledged. */
export interface Measured {
  firstAt: number;
  lastAt: number;
  /**
   * performance.now() when the consumer's group assignment arrived (consume). The first record
   * arrives only once the first fetch response is decoded, which with generous fetch sizes is a
   * large share of the data for a client that decodes whole responses before handing them over.
   */
  joinedAt?: number;
  /** Records counted (consume) or acknowledged (produce). */
  records: number;
  /** Key and value bytes seen (consume) or sent (produce), so the buffers are really touched. */
  bytes: number;
}

export interface ClientBench {
  /** The npm package that is measured. */
  packageName: string;
  /** Its version, when it is not installed where records.ts's packageVersion looks. */
  version?: string;
  consume(options: BenchOptions): Promise<Measured>;
  produce(options: BenchOptions): Promise<Measured>;
  /** produce-txn: the records in transactions of transactionRecords each, one after another. */
  produceTransactional(options: BenchOptions): Promise<Measured>;
}

/**
 * Runs `send` over `records` records in slices of `batch`, with at most `inflight` slices
 * awaiting acknowledgement; resolves when all are acknowledged, rejects on the first failure.
 */
export async function sendBounded(
  records: number,
  batch: number,
  inflight: number,
  send: (from: number, to: number) => Promise<void>,
): Promise<void> {
  const pending = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  for (let from = 0; from < records && failure === undefined; from += batch) {
    const sent: Promise<void> = send(from, Math.min(records, from + batch)).then(
      () => {
        pending.delete(sent);
      },
      (error: unknown) => {
        pending.delete(sent);
        failure ??= { error };
      },
    );
    pending.add(sent);
    if (pending.size >= inflight) await Promise.race(pending);
  }
  await Promise.all(pending);
  if (failure !== undefined) throw failure.error;
}
