import { readFile } from 'node:fs/promises';

import { z } from 'zod';

import { systemClock, writeFileAtomically } from '../../core/index.ts';
import type { Clock } from '../../core/index.ts';
import { HttpSourceError } from './errors.ts';

/**
 * What has been published, kept in a small JSON file:
 *
 *   { "version": 1,
 *     "poll": { "<location>": "<last published hour, ISO UTC>" },
 *     "backfill": { "<location>/<from>/<to>": { "records": 168, "completedAt": "<ISO>" } } }
 *
 * One process owns a file: a poll source and a backfill running at the same time use two files.
 */
const progressSchema = z.object({
  version: z.literal(1),
  poll: z.record(z.string().datetime()),
  backfill: z.record(
    z.object({ records: z.number().int().nonnegative(), completedAt: z.string() }),
  ),
});

export type ProgressData = z.infer<typeof progressSchema>;

export interface ProgressStore {
  readonly path: string;
  /** The last hour published for the location (ms UTC), undefined before the first. */
  highWater(location: string): number | undefined;
  /** Moves the location's mark forward (never back) and resolves once the file is written. */
  advanceHighWater(location: string, time: number): Promise<void>;
  /** Moves each location's mark forward (never back), all in one write of the file. */
  advanceHighWaters(marks: ReadonlyMap<string, number>): Promise<void>;
  /** Whether a backfill chunk of a location was published completely. */
  chunkDone(key: string): boolean;
  /** Records a backfill chunk as published and resolves once the file is written. */
  markChunkDone(key: string, records: number): Promise<void>;
  /**
   * Records several chunks as published, all in one write of the file: a crash leaves all of them
   * recorded or none, never a part.
   */
  markChunksDone(chunks: readonly CompletedChunk[]): Promise<void>;
  /** A copy of the data as last changed (written or about to be). */
  snapshot(): ProgressData;
}

/** A backfill chunk of one location, published: its key and how many records it held. */
export interface CompletedChunk {
  key: string;
  records: number;
}

/** The key of a backfill chunk of one location in the progress file. */
export const chunkKey = (location: string, from: string, to: string): string =>
  `${location}/${from}/${to}`;

async function load(path: string): Promise<ProgressData> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { version: 1, poll: {}, backfill: {} };
    }
    throw new HttpSourceError('HTTP_PROGRESS_FAILED', `cannot read progress file ${path}`, {
      cause: error,
    });
  }
  // A damaged file stops the source rather than starting over, which would publish again.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new HttpSourceError(
      'HTTP_PROGRESS_FAILED',
      `progress file ${path} is not JSON (${(cause as Error).message}); fix or delete it`,
      { cause },
    );
  }
  const result = progressSchema.safeParse(parsed);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HttpSourceError(
      'HTTP_PROGRESS_FAILED',
      `progress file ${path} does not match its format at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}; fix or delete it`,
      { cause: result.error },
    );
  }
  return result.data;
}

/** Opens (or starts) the progress file at path. The clock stamps completed chunks. */
export async function openProgressStore(
  path: string,
  clock: Clock = systemClock,
): Promise<ProgressStore> {
  const data = await load(path);
  // Writes go one at a time, each with the data as it is when it starts; callers that change
  // the data while a write runs share the next write.
  let running: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  const persist = (): Promise<void> => {
    if (queued !== undefined) return queued;
    const next = running
      .catch(() => undefined)
      .then(async () => {
        queued = undefined;
        try {
          await writeFileAtomically(path, `${JSON.stringify(data, null, 2)}\n`);
        } catch (cause) {
          throw new HttpSourceError('HTTP_PROGRESS_FAILED', `cannot write progress file ${path}`, {
            cause,
          });
        }
      });
    queued = next;
    running = next;
    return next;
  };

  async function advance(marks: ReadonlyMap<string, number>): Promise<void> {
    let changed = false;
    for (const [location, time] of marks) {
      const current = data.poll[location];
      if (current !== undefined && Date.parse(current) >= time) continue;
      data.poll[location] = new Date(time).toISOString();
      changed = true;
    }
    if (changed) await persist();
  }

  async function markDone(chunks: readonly CompletedChunk[]): Promise<void> {
    if (chunks.length === 0) return;
    const completedAt = new Date(clock.now()).toISOString();
    for (const { key, records } of chunks) data.backfill[key] = { records, completedAt };
    await persist();
  }

  return {
    path,
    highWater(location) {
      const mark = data.poll[location];
      return mark === undefined ? undefined : Date.parse(mark);
    },
    advanceHighWater: (location, time) => advance(new Map([[location, time]])),
    advanceHighWaters: advance,
    chunkDone: (key) => data.backfill[key] !== undefined,
    markChunkDone: (key, records) => markDone([{ key, records }]),
    markChunksDone: markDone,
    snapshot: () => structuredClone(data),
  };
}
