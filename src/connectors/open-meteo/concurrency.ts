/**
 * Runs work for each item, at most `limit` at a time, and resolves when all have finished.
 * `shouldStart` is asked before each item starts: false leaves the rest unstarted (a stop).
 * work must not throw; it reports its own failures.
 */
export async function forEachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
  shouldStart: () => boolean = () => true,
): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length && shouldStart()) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
