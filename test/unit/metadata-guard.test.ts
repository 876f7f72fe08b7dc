import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { kGetApi } from '@platformatic/kafka';

import { guardMetadata } from '../../src/kafka/platformatic/api-lookup.ts';

type Callback = (error: unknown, response?: unknown) => void;

/** A client whose Metadata API answers `response`, after guardMetadata; returns the call. */
function clientAnswering(response: { topics: { name: string; partitions: unknown[] }[] }) {
  const api = Object.assign(
    (...args: unknown[]): void => (args[args.length - 1] as Callback)(null, response),
    { key: 3, version: 12 },
  );
  const client = {
    [kGetApi]: (_name: string, callback: (error: Error | null, api?: unknown) => void) =>
      callback(null, api),
  };
  guardMetadata(client);
  return (topics: unknown): Promise<{ error: unknown; response: unknown }> =>
    new Promise((resolve) =>
      (client[kGetApi] as (n: string, c: (e: Error | null, a?: unknown) => void) => void)(
        'Metadata',
        (_e, wrapped) =>
          (wrapped as (...a: unknown[]) => void)({}, topics, false, false, ((error, response) =>
            resolve({ error, response })) as Callback),
      ),
    );
}

describe('guardMetadata (@platformatic/kafka adapter)', () => {
  const listed = {
    topics: [
      { name: 'a', partitions: [{}] },
      { name: 'b', partitions: [] },
    ],
  };

  it('passes an answer that lists every topic asked for with partitions', async () => {
    const { error, response } = await clientAnswering(listed)(['a']);
    assert.equal(error, null);
    assert.equal(response, listed);
    // Asked as {name} objects, or for every topic (null): as listed.
    assert.equal((await clientAnswering(listed)([{ name: 'a' }])).error, null);
    assert.equal((await clientAnswering(listed)(null)).error, null);
  });

  it('makes an answer that leaves a topic out, or lists it without partitions, a retriable error with stale metadata', async () => {
    for (const asked of [['a', 'c'], ['b']]) {
      const { error } = await clientAnswering(listed)(asked);
      assert.ok(error instanceof Error, `asked ${asked.join(',')}`);
      assert.match(error.message, new RegExp(`no partitions of ${asked.at(-1)}`));
      assert.equal((error as { canRetry?: boolean }).canRetry, true);
      assert.equal((error as { hasStaleMetadata?: boolean }).hasStaleMetadata, true);
    }
  });
});
