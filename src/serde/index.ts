/**
 * serde: how keys and values become Kafka bytes and back. Avro with the schema registry
 * implements the same Serde interface.
 *
 * @example
 *   const readings = json({ schema: z.object({ sensor: z.string(), celsius: z.number() }) });
 *   const registry = schemaRegistry(settings.registry);
 *   const observations = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
 */
export { json } from './json.ts';
export type { JsonOptions } from './json.ts';
export { bytes, nullable, string } from './primitives.ts';
export type { Serde, SerdeType, Serdes } from './serde.ts';
export { avro } from './avro.ts';
export type { AvroOptions, SubjectStrategy } from './avro.ts';
export type { AvroSchemaJson, AvroSchemaSource } from './avro-schema.ts';
export { registerSchemas } from './register-schemas.ts';
export type { RegisteredSchema, SchemaToRegister } from './register-schemas.ts';
export { schemaRegistry } from './registry-client.ts';
export type {
  Compatibility,
  SchemaRegistryClient,
  SchemaRegistryClientOptions,
  SchemaRegistrySettings,
  WriterSchema,
} from './registry-client.ts';
export type { RetryOptions } from './registry-retry.ts';
export { registrySettings } from './registry-settings.ts';
