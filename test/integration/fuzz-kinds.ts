// The kinds of malformed record the fuzz test sends, per input path, each with the dead-letter
// codes it may get.
import avsc from 'avsc';
import fc from 'fast-check';

import { fuzzReadingSchema } from './fixtures/fuzz-reading.ts';

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

/** The reading's Avro type, from avsc directly (the test's encoder, not the product's serde). */
export const readingType = avsc.Type.forSchema(fuzzReadingSchema as unknown as avsc.Schema);

/** The Confluent wire format, written here: magic 0, the schema id big-endian, the Avro body. */
export function wire(schemaId: number, body: Buffer, magic = 0): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(magic, 0);
  header.writeInt32BE(schemaId, 1);
  return Buffer.concat([header, body]);
}

/** Avro's zigzag varint of a long. */
function varint(n: bigint): Buffer {
  let z = (n << 1n) ^ (n >> 63n);
  const out: number[] = [];
  while (z >= 0x80n) {
    out.push(Number(z & 0x7fn) | 0x80);
    z >>= 7n;
  }
  out.push(Number(z));
  return Buffer.from(out);
}

/** Avro bodies avsc itself cannot decode as a reading. */
const undecodableBody = (body: Buffer): boolean => {
  try {
    readingType.fromBuffer(body);
    return false;
  } catch {
    return true;
  }
};

/**
 * Avro through the registry (fixtures/fuzz-worker.ts, TOPOLOGY=avro): `id` is the reading
 * schema's id under the input's subject, `otherId` an unrelated schema's under another subject.
 */
export function avroKinds(id: number, otherId: number): BadKind[] {
  const body = (good: fc.Arbitrary<FuzzReading>) => good.map((r) => readingType.toBuffer(r));
  const withKey = (arb: fc.Arbitrary<Buffer>) =>
    fc.tuple(keyOf, arb).map(([key, value]) => ({ key, value }));
  return [
    { name: 'no-magic-byte', codes: undecodable, arbitrary: (good) => withKey(body(good)) },
    {
      name: 'wrong-magic-byte',
      codes: undecodable,
      arbitrary: (good) =>
        withKey(
          fc.tuple(body(good), fc.integer({ min: 1, max: 255 })).map(([b, m]) => wire(id, b, m)),
        ),
    },
    {
      name: 'unknown-schema-id',
      codes: ['SERDE_UNKNOWN_SCHEMA'],
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(
              body(good),
              fc.oneof(
                fc.integer({ min: 100_000_000, max: 2 ** 31 - 1 }),
                fc.integer({ min: -(2 ** 31), max: -1 }),
              ),
            )
            .map(([b, unknown]) => wire(unknown, b)),
        ),
    },
    {
      name: 'other-subject-schema-id',
      codes: undecodable,
      arbitrary: (good) => withKey(body(good).map((b) => wire(otherId, b))),
    },
    {
      name: 'truncated',
      codes: undecodable,
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(body(good), fc.double({ min: 0, max: 1, noNaN: true }))
            .map(([b, at]) =>
              wire(id, b).subarray(0, Math.min(b.length + 4, Math.floor(at * (b.length + 5)))),
            ),
        ),
    },
    {
      name: 'corrupt-varint',
      codes: undecodable,
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(body(good), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 127 }))
            .map(([b, n, last]) => Buffer.concat([Buffer.alloc(n, 0xff), Buffer.from([last]), b]))
            .filter(undecodableBody)
            .map((b) => wire(id, b)),
        ),
    },
    {
      name: 'string-length-out-of-range',
      codes: undecodable,
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(
              body(good),
              fc.oneof(
                fc.bigInt({ min: 1n << 20n, max: 1n << 62n }),
                fc.bigInt({ min: -(1n << 62n), max: -1n }),
              ),
            )
            // The sensor string's length replaced (its varint is one byte for these names).
            .map(([b, n]) => Buffer.concat([varint(n), b.subarray(1)]))
            .filter(undecodableBody)
            .map((b) => wire(id, b)),
        ),
    },
    {
      name: 'trailing-bytes',
      codes: undecodable,
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(body(good), fc.uint8Array({ minLength: 1, maxLength: 16 }))
            .map(([b, extra]) => wire(id, Buffer.concat([b, extra]))),
        ),
    },
    {
      name: 'time-not-a-safe-epoch-ms',
      // Negative: valid Avro, refused by the window aggregation; past 2^53: refused by the serde.
      codes: ['OPERATOR_FAILED', ...undecodable],
      arbitrary: (good) =>
        withKey(
          fc
            .tuple(
              good,
              fc.oneof(
                fc.bigInt({ min: -(1n << 62n), max: -1n }),
                // Where avsc's own long read a time with the wrong sign (year 166,000).
                fc.bigInt({ min: -(1n << 53n) + 1n, max: -(1n << 52n) - 1n }),
                fc.bigInt({ min: 1n << 53n, max: 1n << 62n }),
              ),
            )
            .map(([r, time]) => {
              // The reading with time 0 has a one-byte time varint (0x00) right after the sensor.
              const b = readingType.toBuffer({ ...r, time: 0 });
              const at = 1 + Buffer.byteLength(r.sensor);
              return wire(id, Buffer.concat([b.subarray(0, at), varint(time), b.subarray(at + 1)]));
            }),
        ),
    },
    {
      name: 'null-or-empty',
      codes: ['SERDE_NULL', ...undecodable],
      arbitrary: (good) =>
        fc.oneof(
          keyOf.map((key) => ({ key, value: null })),
          body(good).map((b) => ({ key: null, value: wire(id, b) })),
          keyOf.map((key) => ({ key, value: Buffer.alloc(0) })),
        ),
    },
  ];
}

/** MQTT payloads that are JSON but not an object. */
export const notObject: BadKind = {
  name: 'json-not-object',
  codes: ['MQTT_PAYLOAD_NOT_OBJECT'],
  arbitrary: () =>
    fc
      .tuple(
        keyOf,
        fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)),
      )
      .map(([key, v]) => ({ key, value: Buffer.from(JSON.stringify(v)) })),
};

/** A good reading on a topic whose key level is empty. */
export const keyMissing: BadKind = {
  name: 'key-missing',
  codes: ['MQTT_KEY_MISSING'],
  arbitrary: (good) => good.map((r) => ({ key: null, value: Buffer.from(JSON.stringify(r)) })),
};

/**
 * Where the MQTT path must put a bad payload, by the source's documented rules (checked in this
 * order: UTF-8, JSON, an object, a key): its own dead-letter topic, or past it to the worker's
 * zod schema.
 */
export function mqttFate(key: string, payload: Buffer): { at: 'source' | 'worker'; code: string } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    return { at: 'source', code: 'MQTT_PAYLOAD_NOT_UTF8' };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { at: 'source', code: 'MQTT_PAYLOAD_NOT_JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return { at: 'source', code: 'MQTT_PAYLOAD_NOT_OBJECT' };
  if (key === '') return { at: 'source', code: 'MQTT_KEY_MISSING' };
  return { at: 'worker', code: 'SERDE_VALIDATION_FAILED' };
}
