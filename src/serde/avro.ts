import type { Resolver, Type } from 'avsc';

import { TributaryError } from '../core/index.ts';
import { loadAvroSchema, parseAvroType } from './avro-schema.ts';
import type { AvroSchemaSource } from './avro-schema.ts';
import { registryClient } from './registry-client.ts';
import type {
  Compatibility,
  SchemaRegistryClient,
  SchemaRegistrySettings,
} from './registry-client.ts';
import { withRetry } from './registry-retry.ts';
import type { RetryOptions } from './registry-retry.ts';
import type { Serde } from './serde.ts';
import { encodeWire, readWireHeader } from './wire-format.ts';

/**
 * How a subject is named (Confluent's strategies): `topic` is TopicNameStrategy
 * (`<topic>-value`, `<topic>-key`), `record` RecordNameStrategy (`<record full name>`),
 * `topic-record` TopicRecordNameStrategy (`<topic>-<record full name>`).
 */
export type SubjectStrategy =
  | 'topic'
  | 'record'
  | 'topic-record'
  | ((topic: string, context: { isKey: boolean; recordName: string }) => string);

export interface AvroOptions {
  /** The registry's settings (the app's `Settings.registry`) or a shared `schemaRegistry()`. */
  registry: SchemaRegistrySettings | SchemaRegistryClient;
  /** Parsed .avsc JSON, or the path or file URL of an .avsc file. */
  schema: AvroSchemaSource;
  /** A key serde: subject `<topic>-key` under the default strategy. */
  isKey?: boolean;
  /** Default `topic`. */
  subjectStrategy?: SubjectStrategy;
  /**
   * Sets the subject's compatibility level before registering (PUT /config/<subject>), so the
   * registry checks the schema against it. Without it the subject keeps its level, or the
   * registry's default: BACKWARD on Confluent, NONE (no check) on Apicurio.
   */
  compatibility?: Compatibility;
  /** While the registry is unavailable, in init and prepareBatch. */
  retry?: RetryOptions;
}

/** How records written with one schema id are read. */
type Writer =
  | { kind: 'readable'; resolver: Resolver | undefined }
  | { kind: 'unknown' }
  | { kind: 'unreadable'; reason: string };

function subjectName(
  strategy: SubjectStrategy,
  topic: string,
  isKey: boolean,
  recordName: string,
): string {
  if (typeof strategy === 'function') return strategy(topic, { isKey, recordName });
  if (strategy === 'record') return recordName;
  if (strategy === 'topic-record') return `${topic}-${recordName}`;
  return `${topic}-${isKey ? 'key' : 'value'}`;
}

function shortJson(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Each invalid part of a value: `time: expected long, got "2026-11-21T08:00:00.000Z"`. */
function invalidParts(type: Type, value: unknown): string {
  const parts: string[] = [];
  type.isValid(value, {
    errorHook: (path, part, partType) => {
      if (parts.length < 5)
        parts.push(
          `${path.length === 0 ? 'value' : path.join('.')}: expected ${partType.name ?? partType.typeName}, got ${shortJson(part)}`,
        );
    },
  });
  return parts.length === 0 ? 'invalid' : parts.join('; ');
}

/**
 * Avro values in the Confluent wire format (magic byte 0, 4-byte big-endian schema id, Avro
 * binary), with the schema in a Confluent-compatible registry.
 *
 * - `init(topic)` registers the schema under the topic's subject and keeps its id; the runtime
 *   calls it at start. An incompatible schema stops the start with SCHEMA_INCOMPATIBLE.
 * - `serialize` writes with that id. `deserialize` reads any schema id fetched by
 *   `prepareBatch` (once per fetched batch) and resolves the writer's schema to this serde's
 *   (the reader's), so records written with an older or newer compatible version decode into
 *   T's shape: fields the reader lacks are dropped, fields the writer lacks get their defaults.
 * - Timestamps (`timestamp-millis`) are numbers, milliseconds since the epoch, not Dates;
 *   unions of null and one type are `X | null`; records are plain objects.
 * - A record that cannot be decoded throws SERDE_DESERIALIZE_FAILED, one naming a schema id
 *   the registry does not know SERDE_UNKNOWN_SCHEMA: both go to the dead-letter topic. Null
 *   (a tombstone) is SERDE_NULL: wrap the serde in nullable() to accept it.
 *
 * T is not checked against the schema by the compiler: declare it to match (connectors/open-meteo/weather-types.ts
 * has the weather schemas' types, and a test compares them).
 *
 * @example
 *   const registry = schemaRegistry(settings.registry);
 *   const value = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
 */
export function avro<T>(options: AvroOptions): Serde<T> {
  const schema = loadAvroSchema(options.schema);
  const reader = schema.type;
  const client = registryClient(options.registry);
  const isKey = options.isKey ?? false;
  const strategy = options.subjectStrategy ?? 'topic';
  const name = `avro(${schema.shortName})`;
  /** The id this serde's schema has under each topic's subject, set by init. */
  const idByTopic = new Map<string, number>();
  /** Every schema id met so far, and how its records are read. */
  const writers = new Map<number, Writer>();

  const writerOf = async (id: number): Promise<Writer> => {
    const found = await withRetry(() => client.writerSchema(id), options.retry);
    if (found.kind === 'unknown') return found;
    if (found.kind === 'unreadable') return found;
    if (found.type.equals(reader)) return { kind: 'readable', resolver: undefined };
    try {
      // Parsed again as this serde parsed its own schema: a resolver reads each field with the
      // writer's type, and avsc's own long misreads longs in (-2^53, -2^52) (see safeLong).
      const writer = parseAvroType(found.type.schema());
      return { kind: 'readable', resolver: reader.createResolver(writer) };
    } catch (cause) {
      return {
        kind: 'unreadable',
        reason: `its schema (${found.type.name ?? found.type.typeName}) cannot be read as ${schema.fullName}: ${(cause as Error).message}`,
      };
    }
  };

  const fail = (topic: string, reason: string, cause?: unknown): TributaryError =>
    new TributaryError(
      'SERDE_DESERIALIZE_FAILED',
      `${name} cannot decode a record on topic ${topic}: ${reason}`,
      cause === undefined ? {} : { cause },
    );

  return {
    name,
    init: async (topic) => {
      const subject = subjectName(strategy, topic, isKey, schema.fullName);
      const id = await withRetry(
        () => client.register(subject, schema.text, options.compatibility),
        options.retry,
      );
      idByTopic.set(topic, id);
      writers.set(id, { kind: 'readable', resolver: undefined });
    },
    prepareBatch: async (data) => {
      const missing = new Set<number>();
      for (const bytes of data) {
        if (bytes === null) continue;
        const header = readWireHeader(bytes);
        if (header.ok && !writers.has(header.schemaId)) missing.add(header.schemaId);
      }
      const found = await Promise.all(
        [...missing].map(async (id) => [id, await writerOf(id)] as const),
      );
      for (const [id, writer] of found) writers.set(id, writer);
    },
    serialize: (value, topic) => {
      const id = idByTopic.get(topic);
      if (id === undefined) {
        throw new TributaryError(
          'SCHEMA_NOT_LOADED',
          `${name} has no schema id for topic ${topic}: init('${topic}') registers the schema and must run before serialize (the runtime calls it at start)`,
        );
      }
      let payload: Buffer;
      try {
        payload = reader.toBuffer(value);
      } catch (cause) {
        throw new TributaryError(
          'SERDE_SERIALIZE_FAILED',
          `cannot encode a value as ${name} for topic ${topic}: ${invalidParts(reader, value)}`,
          { cause },
        );
      }
      return encodeWire(id, payload);
    },
    deserialize: (data, topic) => {
      if (data === null) {
        throw new TributaryError(
          'SERDE_NULL',
          `${name} serde got null on topic ${topic}; wrap it in nullable() to accept null`,
        );
      }
      const header = readWireHeader(data);
      if (!header.ok) throw fail(topic, header.reason);
      const { schemaId, payload } = header;
      const writer = writers.get(schemaId);
      if (writer === undefined) {
        throw new TributaryError(
          'SCHEMA_NOT_LOADED',
          `${name} met schema id ${schemaId} on topic ${topic} before fetching it: prepareBatch must run on each batch before deserialize (the runtime calls it)`,
        );
      }
      if (writer.kind === 'unknown') {
        throw new TributaryError(
          'SERDE_UNKNOWN_SCHEMA',
          `${name} cannot decode a record on topic ${topic}: it names schema id ${schemaId}, which the schema registry at ${client.url} does not know`,
        );
      }
      if (writer.kind === 'unreadable')
        throw fail(topic, `schema id ${schemaId}: ${writer.reason}`);
      try {
        return reader.fromBuffer(payload, writer.resolver) as T;
      } catch (cause) {
        throw fail(
          topic,
          `corrupt Avro bytes for schema id ${schemaId}: ${(cause as Error).message}`,
          cause,
        );
      }
    },
  };
}
