/**
 * `tributary/testing`: run a topology in-process, with a manual clock and no broker, in a user's
 * own unit tests (docs/api.md).
 *
 * @example
 *   import { createTestDriver } from 'tributary/testing';
 *
 *   const driver = await createTestDriver(t.build());
 *   driver.input('in', { key: string(), value: json<number>() }).pipe('k', 1);
 */
export {
  createTestDriver,
  ManualClock,
  memorySchemaRegistry,
  MemorySchemaRegistry,
} from './testing/index.ts';
export type {
  CommitMode,
  LostState,
  MemorySchemaRegistryOptions,
  OutputRecord,
  RegisteredVersion,
  TestDriver,
  TestDriverOptions,
  TestInput,
  TestOutput,
} from './testing/index.ts';
