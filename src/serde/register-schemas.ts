import { loadAvroSchema } from './avro-schema.ts';
import type { AvroSchemaSource } from './avro-schema.ts';
import { registryClient } from './registry-client.ts';
import type {
  Compatibility,
  SchemaRegistryClient,
  SchemaRegistrySettings,
} from './registry-client.ts';
import { withRetry } from './registry-retry.ts';
import type { RetryOptions } from './registry-retry.ts';

export interface SchemaToRegister {
  subject: string;
  /** Parsed .avsc JSON, or the path or file URL of an .avsc file. */
  schema: AvroSchemaSource;
  /** Sets the subject's compatibility level first (see AvroOptions.compatibility). */
  compatibility?: Compatibility;
}

export interface RegisteredSchema {
  subject: string;
  id: number;
}

/**
 * Registers Avro schemas, in order, and returns their ids: for a command that registers a
 * pipeline's schemas ahead of its workers. Every schema is read and checked before the first is
 * registered; the first refusal (SCHEMA_INCOMPATIBLE, REGISTRY_REJECTED) stops the rest.
 *
 * @example
 *   await registerSchemas(settings.registry, [
 *     { subject: 'weather-observations-value', schema: weatherSchemaFiles.observation },
 *   ]);
 */
export async function registerSchemas(
  registry: SchemaRegistrySettings | SchemaRegistryClient,
  schemas: readonly SchemaToRegister[],
  options: { retry?: RetryOptions } = {},
): Promise<RegisteredSchema[]> {
  const client = registryClient(registry);
  const loaded = schemas.map((entry) => ({ ...entry, text: loadAvroSchema(entry.schema).text }));
  const registered: RegisteredSchema[] = [];
  for (const { subject, text, compatibility } of loaded) {
    const id = await withRetry(() => client.register(subject, text, compatibility), options.retry);
    registered.push({ subject, id });
  }
  return registered;
}
