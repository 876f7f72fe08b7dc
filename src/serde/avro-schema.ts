import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import avsc from 'avsc';
import type { Type } from 'avsc';

import { TributaryError } from '../core/index.ts';

/** An Avro schema as parsed JSON: what an .avsc file holds. */
export type AvroSchemaJson = { readonly [key: string]: unknown } | readonly unknown[];

/** A schema given inline (parsed .avsc JSON) or as the path (or file URL) of an .avsc file. */
export type AvroSchemaSource = AvroSchemaJson | string | URL;

/** A schema ready to use: its JSON text (what the registry stores), its name and its avsc type. */
export interface LoadedSchema {
  /** Fully qualified name: `dev.tributary.weather.Observation`. */
  readonly fullName: string;
  /** The last part of the name: `Observation`. */
  readonly shortName: string;
  readonly text: string;
  readonly type: Type;
}

const maxSafe = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Avro longs as numbers, exact wherever a number is. avsc's own long decodes the zigzag varint
 * in floating point, so a long in (-2^53, -2^52) loses its last bit and changes sign
 * (-4503599627370497 reads as 4503599627370496, and encodes wrongly too; found by the fuzz
 * test). This one has avsc unpack the varint into 8 bytes and reads them as a 64-bit integer;
 * a long no number holds exactly is refused (avsc refused those too).
 */
const safeLong = avsc.types.LongType.__with({
  fromBuffer: (bytes: Buffer): number => {
    const n = bytes.readBigInt64LE(0);
    if (n > maxSafe || n < -maxSafe)
      throw new Error(`long ${n} is outside the integers a number holds exactly`);
    return Number(n);
  },
  toBuffer: (n: number): Buffer => {
    const bytes = Buffer.alloc(8);
    bytes.writeBigInt64LE(BigInt(n));
    return bytes;
  },
  fromJSON: (value: unknown): number => Number(value),
  toJSON: (n: number): number => n,
  isValid: (value: unknown): boolean => Number.isSafeInteger(value),
  compare: (a: number, b: number): number => (a === b ? 0 : a < b ? -1 : 1),
});

/**
 * Parses a schema the way every Avro serde reads it:
 *
 * - logical types are not mapped (avsc's default without `logicalTypes`): `timestamp-millis` is
 *   a plain number of milliseconds since the epoch, on both sides, which is what aggregations
 *   and Cassandra writes want;
 * - unions of null and one type are plain values (`number | null`, avsc's `wrapUnions: 'auto'`);
 * - records decode to plain objects (see plainRecords);
 * - longs are exact over the whole safe integer range (see safeLong).
 */
export function parseAvroType(schema: unknown): Type {
  const named: Record<string, Type> = { long: safeLong };
  const type = avsc.Type.forSchema(schema as Parameters<typeof avsc.Type.forSchema>[0], {
    omitRecordMethods: true,
    registry: named,
  });
  plainRecords(named);
  return type;
}

/**
 * avsc builds each record from a generated constructor, so decoded values would not be plain
 * objects (`assert.deepStrictEqual` and structured comparisons look at the prototype). Without
 * record methods that constructor's prototype carries nothing, so it may as well be
 * Object.prototype: decoded records are then plain objects, at no cost per record.
 */
function plainRecords(named: Record<string, Type>): void {
  for (const type of Object.values(named)) {
    if (!avsc.Type.isType(type, 'record')) continue;
    const ctor = (type as avsc.types.RecordType).recordConstructor as { prototype: object };
    ctor.prototype = Object.prototype;
  }
}

function readSchemaFile(source: string | URL): unknown {
  const path = source instanceof URL ? fileURLToPath(source) : source;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `cannot read the Avro schema file ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `the Avro schema file ${path} is not JSON: ${(cause as Error).message}`,
      { cause },
    );
  }
}

/**
 * Reads and checks a schema. The registry client registers schemas by name, so the top-level
 * schema must be a named type (record, enum or fixed).
 */
export function loadAvroSchema(source: AvroSchemaSource): LoadedSchema {
  const where =
    typeof source === 'string' || source instanceof URL ? `file ${String(source)}` : 'schema';
  const json =
    typeof source === 'string' || source instanceof URL ? readSchemaFile(source) : source;
  let type: Type;
  try {
    type = parseAvroType(json);
  } catch (cause) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `the Avro ${where} is not a valid schema: ${(cause as Error).message}`,
      { cause },
    );
  }
  const fullName = type.name;
  if (fullName === undefined) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `the Avro ${where} must be a named type (record, enum or fixed), got ${type.typeName}`,
    );
  }
  return {
    fullName,
    shortName: fullName.slice(fullName.lastIndexOf('.') + 1),
    text: JSON.stringify(json),
    type,
  };
}
