/**
 * Encodes and decodes one type to and from Kafka bytes. Members are function properties, not
 * methods, so TypeScript checks them strictly: a `Serde<number>` is not a `Serde<string>`, and a
 * sink whose serde does not match its stream's type does not compile.
 *
 * `serialize` and `deserialize` are synchronous (a batch is decoded without awaiting per
 * record); a serde that needs I/O (the Avro serde and its registry) does it in `init`, once per
 * topic at start, and in `prepareBatch`, once per fetched batch.
 */
export interface Serde<T> {
  /** A short name for describe() and error messages: `json`, `string`, `avro(observation)`. */
  readonly name: string;
  readonly serialize: (value: T, topic: string) => Buffer | null;
  /** Throws a TributaryError (SERDE_*) when the bytes are not a valid T. */
  readonly deserialize: (data: Buffer | null, topic: string) => T;
  readonly init?: (topic: string) => Promise<void>;
  readonly prepareBatch?: (data: readonly (Buffer | null)[], topic: string) => Promise<void>;
}

/** The type a serde encodes. */
export type SerdeType<S> = S extends Serde<infer T> ? T : never;

/** A key serde and a value serde. */
export interface Serdes<K, V> {
  key: Serde<K>;
  value: Serde<V>;
}
