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

/**
 * Parses a schema the way every Avro serde reads it:
 *
 * - logical types are not mapped (avsc's default without `logicalTypes`): `timestamp-millis` is
 *   a plain number of milliseconds since the epoch, on both sides, which is what aggregations
 *   and Cassandra writes want;
 * - unions of null and one type are plain values (`number | null`, avsc's `wrapUnions: 'auto'`);
 * - records decode to plain objects (see plainRecords).
 */
export function parseAvroType(schema: unknown): Type {
  const named: Record<string, Type> = {};
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
