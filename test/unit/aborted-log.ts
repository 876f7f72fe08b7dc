// Partition logs written by interleaved transactional producers, with the outcome a read_committed
// consumer must see (the oracle: by transaction outcome, not by offsets). Shared by the tests of
// the adapters' filters of aborted transactions (kafkajs-aborted.test.ts,
// platformatic-aborted.test.ts).

/** One entry of the log: a record of a transaction, or its marker (commit or abort). */
export interface LogMessage {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
  value: string;
}

export interface TransactionPlan {
  producer: string;
  records: number;
  outcome: 'commit' | 'abort';
}

export interface AbortedLog {
  messages: LogMessage[];
  /** As the broker lists them: in the order of their abort markers. */
  aborted: { firstOffset: string; producerId: string; marker: number }[];
  /** The values read_committed must hand over, in log order. */
  committed: string[];
}

export const abortKey = Buffer.from([0, 0, 0, 0]);
export const commitKey = Buffer.from([0, 0, 0, 1]);

/** Whether a log entry is a transaction marker. */
export const isMarker = (m: LogMessage): boolean => m.value.startsWith('marker-');

/**
 * A partition's log written by several transactional producers, as the broker lays it out: each
 * transaction's records, then its marker. `interleave` says which transaction writes its next
 * record (or, when it has none left, its marker), so transactions overlap in the log as
 * concurrent producers' do.
 */
export function abortedLog(plan: TransactionPlan[], interleave: number[]): AbortedLog {
  const messages: LogMessage[] = [];
  const aborted: AbortedLog['aborted'] = [];
  const committed: string[] = [];
  const left = plan.map((t) => t.records);
  const first = new Map<number, number>();
  let offset = 0;
  for (const t of interleave) {
    const tx = plan[t];
    if (tx === undefined) throw new Error(`no transaction ${t}`);
    if ((left[t] ?? 0) > 0) {
      if (!first.has(t)) first.set(t, offset);
      const value = `${tx.producer}-${tx.records - (left[t] ?? 0)}`;
      messages.push({
        offset: String(offset++),
        key: Buffer.from(value),
        batchContext: { producerId: tx.producer, inTransaction: true },
        value,
      });
      left[t] = (left[t] ?? 0) - 1;
      if (tx.outcome === 'commit') committed.push(value);
    } else {
      messages.push({
        offset: String(offset),
        key: tx.outcome === 'abort' ? abortKey : commitKey,
        batchContext: { producerId: tx.producer, inTransaction: true },
        value: `marker-${tx.producer}`,
      });
      if (tx.outcome === 'abort')
        aborted.push({
          firstOffset: String(first.get(t) ?? offset),
          producerId: tx.producer,
          marker: offset,
        });
      offset++;
    }
  }
  return { messages, aborted, committed };
}

/** A log and a fetch of it that starts at `from` (possibly inside transactions). */
export interface RandomLog {
  round: number;
  log: AbortedLog;
  from: number;
  /** What a fetch from `from` returns: the entries, and the aborted transactions the broker lists. */
  fetched: { messages: LogMessage[]; aborted: AbortedLog['aborted']; committed: string[] };
}

/**
 * `rounds` random logs of 1 to 5 producers with 1 to 6 records each, half aborted, interleaved at
 * random (a fixed seed: the same logs every run).
 */
export function* randomLogs(rounds: number, seed = 7): Generator<RandomLog> {
  let state = seed;
  const next = (): number => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
  for (let round = 0; round < rounds; round++) {
    const plan = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, i) => ({
      producer: String(100 + i),
      records: 1 + Math.floor(next() * 6),
      outcome: next() < 0.5 ? ('abort' as const) : ('commit' as const),
    }));
    const steps = plan.flatMap((t, i) => Array.from({ length: t.records + 1 }, () => i));
    for (let i = steps.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [steps[i], steps[j]] = [steps[j] as number, steps[i] as number];
    }
    // (abortedLog() writes a transaction's records first, so its last step is its marker.)
    const log = abortedLog(plan, steps);
    // A fetch that starts inside transactions: the broker lists the aborted transactions whose
    // marker is in the fetched range, some starting before it.
    const from = Math.floor(next() * log.messages.length);
    const messages = log.messages.slice(from);
    yield {
      round,
      log,
      from,
      fetched: {
        messages,
        aborted: log.aborted.filter((a) => a.marker >= from),
        committed: log.committed.filter((v) => messages.some((m) => m.value === v)),
      },
    };
  }
}

/** The values of the data records among `messages` (markers left out). */
export const seen = (messages: readonly LogMessage[]): string[] =>
  messages.filter((m) => !isMarker(m)).map((m) => m.value);
