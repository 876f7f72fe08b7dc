/**
 * serde: how keys and values become Kafka bytes and back. Avro with the schema registry
 * implements the same Serde interface.
 *
 * @example
 *   const readings = json({ schema: z.object({ sensor: z.string(), celsius: z.number() }) });
 */
export { json } from './json.ts';
export type { JsonOptions } from './json.ts';
export { bytes, nullable, string } from './primitives.ts';
export type { Serde, SerdeType, Serdes } from './serde.ts';
