import { TributaryError } from '../core/index.ts';
import { parseAvroType } from '../serde/avro-schema.ts';
import type { Compatibility, SchemaRegistryClient, WriterSchema } from '../serde/index.ts';

/** An avsc type, as the serde layer (the only importer of avsc) hands it out. */
type Type = Extract<WriterSchema, { kind: 'avro' }>['type'];

/** One version of a subject. */
export interface RegisteredVersion {
  id: number;
  version: number;
  /** The schema's JSON text as registered. */
  schema: string;
}

export interface MemorySchemaRegistryOptions {
  /** The level of a subject registered without one. Default BACKWARD (Confluent's default). */
  defaultCompatibility?: Compatibility;
  /** The first id handed out. Default 1. */
  firstId?: number;
}

/**
 * A schema registry held in memory, for unit tests (as Kafka Streams tests use its
 * MockSchemaRegistry): the same interface as the HTTP client (`schemaRegistry()`), so `avro()`
 * serdes given it register, write and read the Confluent wire format (magic byte, 4-byte id)
 * exactly as against a real registry, with no network. Ids are global, as Confluent's: the same
 * schema gets the same id under every subject. A new version is checked against the subject's
 * compatibility level (avsc's schema resolution) and refused with SCHEMA_INCOMPATIBLE.
 *
 * @example
 *   const registry = memorySchemaRegistry();
 *   const value = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
 */
export class MemorySchemaRegistry implements SchemaRegistryClient {
  readonly url = 'memory://schema-registry';
  private readonly byId = new Map<number, { text: string; type: Type }>();
  private readonly idOfText = new Map<string, number>();
  private readonly subjects = new Map<string, RegisteredVersion[]>();
  private readonly levels = new Map<string, Compatibility>();
  private nextId: number;
  private readonly defaultLevel: Compatibility;

  constructor(options: MemorySchemaRegistryOptions = {}) {
    this.nextId = options.firstId ?? 1;
    this.defaultLevel = options.defaultCompatibility ?? 'BACKWARD';
  }

  register(subject: string, schema: string, compatibility?: Compatibility): Promise<number> {
    try {
      return Promise.resolve(this.registerNow(subject, schema, compatibility));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  writerSchema(id: number): Promise<WriterSchema> {
    const found = this.byId.get(id);
    return Promise.resolve(
      found === undefined ? { kind: 'unknown' } : { kind: 'avro', type: found.type },
    );
  }

  /** The versions registered under a subject, oldest first. */
  versions(subject: string): RegisteredVersion[] {
    return [...(this.subjects.get(subject) ?? [])];
  }

  /** Every subject with at least one version. */
  subjectNames(): string[] {
    return [...this.subjects.keys()];
  }

  private registerNow(subject: string, schema: string, compatibility?: Compatibility): number {
    if (compatibility !== undefined) this.levels.set(subject, compatibility);
    let type: Type;
    try {
      type = parseAvroType(JSON.parse(schema));
    } catch (cause) {
      throw new TributaryError(
        'REGISTRY_REJECTED',
        `schema registry at ${this.url} refused an invalid schema for subject ${subject}: ${(cause as Error).message}`,
        { cause },
      );
    }
    // The same schema (by its canonical form) keeps its id.
    const canonical = JSON.stringify(type.schema());
    const versions = this.subjects.get(subject) ?? [];
    const existingId = this.idOfText.get(canonical);
    const already = versions.find((v) => v.id === existingId);
    if (already !== undefined) return already.id;
    this.checkCompatible(subject, type, versions);
    const id = existingId ?? this.nextId++;
    this.idOfText.set(canonical, id);
    this.byId.set(id, { text: schema, type });
    versions.push({ id, version: versions.length + 1, schema });
    this.subjects.set(subject, versions);
    return id;
  }

  private checkCompatible(subject: string, type: Type, versions: RegisteredVersion[]): void {
    const level = this.levels.get(subject) ?? this.defaultLevel;
    if (level === 'NONE' || versions.length === 0) return;
    const against = level.endsWith('_TRANSITIVE') ? versions : versions.slice(-1);
    const backward = level.startsWith('BACKWARD') || level.startsWith('FULL');
    const forward = level.startsWith('FORWARD') || level.startsWith('FULL');
    for (const version of against) {
      const old = this.byId.get(version.id)?.type;
      if (old === undefined) continue;
      // BACKWARD: the new schema reads what the old one wrote; FORWARD: the other way round.
      const problem =
        (backward ? unreadable(type, old) : undefined) ??
        (forward ? unreadable(old, type) : undefined);
      if (problem !== undefined) {
        throw new TributaryError(
          'SCHEMA_INCOMPATIBLE',
          `schema registry at ${this.url} refused the schema for subject ${subject} as incompatible with its version ${version.version} (compatibility ${level}): ${problem}`,
        );
      }
    }
  }
}

/** Why a reader schema cannot read a writer's records, or undefined when it can. */
function unreadable(reader: Type, writer: Type): string | undefined {
  try {
    reader.createResolver(writer);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** A fresh in-memory schema registry (see MemorySchemaRegistry). */
export function memorySchemaRegistry(
  options: MemorySchemaRegistryOptions = {},
): MemorySchemaRegistry {
  return new MemorySchemaRegistry(options);
}
