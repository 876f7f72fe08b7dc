// The kinds of malformed record the fuzz test sends, per input path, each with the dead-letter
// codes it may get.
import fc from 'fast-check';

import type { FuzzReading } from './fixtures/fuzz-reading.ts';
import type { BadKind } from './fuzz-records.ts';
import {
  hugeNumbers,
  hugeStrings,
  jsonWithInvalidUtf8,
  keyOf,
  missingField,
  nanLike,
  notJson,
  notUtf8,
  timesOutOfRange,
  truncatedJson,
  wrongTimeFormats,
  wrongTypes,
} from './fuzz-records.ts';

const undecodable = ['SERDE_DESERIALIZE_FAILED'] as const;
const invalid = ['SERDE_VALIDATION_FAILED'] as const;

const bytes =
  (arb: (good: fc.Arbitrary<FuzzReading>) => fc.Arbitrary<Buffer>): BadKind['arbitrary'] =>
  (good) =>
    fc.tuple(keyOf, arb(good)).map(([key, value]) => ({ key, value }));

/** JSON read with a zod schema (fixtures/fuzz-worker.ts, TOPOLOGY=json). */
export const jsonKinds: BadKind[] = [
  { name: 'truncated-json', codes: undecodable, arbitrary: bytes(truncatedJson) },
  {
    name: 'not-json',
    codes: undecodable,
    arbitrary: bytes(() => notJson.map((s) => Buffer.from(s))),
  },
  {
    name: 'not-utf8',
    codes: undecodable,
    arbitrary: (good) =>
      fc.oneof(
        bytes(jsonWithInvalidUtf8)(good),
        bytes(() => notUtf8.map((b) => Buffer.from(b)))(good),
      ),
  },
  { name: 'wrong-types', codes: invalid, arbitrary: bytes(wrongTypes) },
  { name: 'missing-field', codes: invalid, arbitrary: bytes(missingField) },
  {
    name: 'nan-like',
    codes: [...undecodable, ...invalid],
    arbitrary: bytes(nanLike),
  },
  { name: 'huge-numbers', codes: invalid, arbitrary: bytes(hugeNumbers) },
  { name: 'huge-strings', codes: invalid, arbitrary: bytes(hugeStrings) },
  { name: 'wrong-time-format', codes: invalid, arbitrary: bytes(wrongTimeFormats) },
  { name: 'time-out-of-range', codes: invalid, arbitrary: bytes(timesOutOfRange) },
  {
    name: 'null-or-empty',
    codes: ['SERDE_NULL', ...undecodable, ...invalid],
    arbitrary: (good) =>
      fc.oneof(
        // A tombstone; a good value without a key; empty bytes; the JSON literal null.
        keyOf.map((key) => ({ key, value: null })),
        good.map((r) => ({ key: null, value: Buffer.from(JSON.stringify(r)) })),
        keyOf.map((key) => ({ key, value: Buffer.alloc(0) })),
        keyOf.map((key) => ({ key, value: Buffer.from('null') })),
      ),
  },
];
