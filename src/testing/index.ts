/**
 * testing: run a topology in-process, through the worker's own task, commit and restore code,
 * with a manual clock, an in-memory schema registry and no broker, for our unit tests and for
 * users' own. Production code never imports this folder.
 *
 * @example
 *   const driver = await createTestDriver(t.build());
 *   driver.input('in', { key: string(), value: json<number>() }).pipe('k', 1);
 *   await driver.flush();
 *   await driver.restart(); // fresh tasks, restored from the changelog records only
 */
export { ManualClock } from './manual-clock.ts';
export { memorySchemaRegistry, MemorySchemaRegistry } from './memory-registry.ts';
export type { MemorySchemaRegistryOptions, RegisteredVersion } from './memory-registry.ts';
export type { LostState } from './state-survival.ts';
export { createTestDriver } from './test-driver.ts';
export type {
  CommitMode,
  OutputRecord,
  TestDriver,
  TestDriverOptions,
  TestInput,
  TestOutput,
} from './test-driver.ts';
