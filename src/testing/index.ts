/**
 * testing: run a topology in-process, with a manual clock and no broker, for our unit tests and
 * for users' own. Production code never imports this folder.
 *
 * @example
 *   const driver = await createTestDriver(t.build());
 *   driver.input('in', { key: string(), value: json<number>() }).pipe('k', 1);
 */
export { ManualClock } from './manual-clock.ts';
export { createTestDriver } from './test-driver.ts';
export type { OutputRecord, TestDriver, TestDriverOptions } from './test-driver.ts';
