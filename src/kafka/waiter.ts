/** Waits that end early when the consumer or reader using them stops (`wakeAll`). */
export function waiter(): { wait: (ms: number) => Promise<void>; wakeAll: () => void } {
  const waking = new Set<() => void>();
  return {
    wait: (ms) =>
      new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          waking.delete(done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        waking.add(done);
      }),
    wakeAll: () => {
      for (const done of [...waking]) done();
    },
  };
}
