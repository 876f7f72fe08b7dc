import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { z } from 'zod';

import { TributaryError } from '../../src/core/index.ts';
import { bytes, json, nullable, string } from '../../src/serde/index.ts';

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof TributaryError) return error.code;
    throw error;
  }
  return 'no error';
};

describe('serdes', () => {
  it('round-trips strings, bytes and JSON', () => {
    assert.equal(string().deserialize(string().serialize('zürich', 't'), 't'), 'zürich');
    assert.deepEqual(bytes().deserialize(Buffer.from([1, 2]), 't'), Buffer.from([1, 2]));
    const value = { a: [1, 2], b: 'x' };
    assert.deepEqual(
      json<typeof value>().deserialize(json<typeof value>().serialize(value, 't'), 't'),
      value,
    );
  });

  it('rejects null unless wrapped in nullable()', () => {
    assert.equal(
      code(() => string().deserialize(null, 't')),
      'SERDE_NULL',
    );
    assert.equal(
      code(() => json().deserialize(null, 't')),
      'SERDE_NULL',
    );
    assert.equal(nullable(string()).deserialize(null, 't'), null);
    assert.equal(nullable(json<number>()).serialize(null, 't'), null);
  });

  it('rejects JSON bytes that are not UTF-8 instead of decoding them to replacement characters', () => {
    const schema = json({ schema: z.object({ sensor: z.string() }) });
    // Valid JSON but for one byte inside a string: a lone continuation byte, a truncated lead,
    // an overlong slash, a UTF-16 surrogate.
    for (const bad of [[0x80], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80]]) {
      const value = Buffer.concat([
        Buffer.from('{"sensor":"s-'),
        Buffer.from(bad),
        Buffer.from('"}'),
      ]);
      assert.throws(() => schema.deserialize(value, 'readings'), {
        code: 'SERDE_DESERIALIZE_FAILED',
        message: /bytes on topic readings are not UTF-8/,
      });
    }
    assert.deepEqual(schema.deserialize(Buffer.from('{"sensor":"s-é"}'), 't'), { sensor: 's-é' });
    assert.equal(
      code(() => json().deserialize(Buffer.from('\uFEFF{}'), 't')),
      'SERDE_DESERIALIZE_FAILED',
    );
  });

  it('names what is wrong with bad JSON: empty, truncated, or not matching the schema', () => {
    const schema = json({ schema: z.object({ celsius: z.number() }) });
    assert.equal(
      code(() => schema.deserialize(Buffer.alloc(0), 't')),
      'SERDE_DESERIALIZE_FAILED',
    );
    assert.equal(
      code(() => schema.deserialize(Buffer.from('{"celsius":'), 't')),
      'SERDE_DESERIALIZE_FAILED',
    );
    assert.throws(() => schema.deserialize(Buffer.from('{"celsius":"warm"}'), 'readings'), {
      code: 'SERDE_VALIDATION_FAILED',
      message:
        /JSON on topic readings does not match its schema: celsius: Expected number, received string/,
    });
    assert.deepEqual(schema.deserialize(Buffer.from('{"celsius":3,"extra":1}'), 't'), {
      celsius: 3,
    });
  });
});
