/**
 * The registry of error codes. Every TributaryError carries one; codes are stable (users match
 * on them, dead-letter headers and metrics carry them), so a code is never renamed or reused.
 */
export const errorCodes = {
  CONFIG_INVALID: { domain: 'user', retriable: false },
  KAFKA_UNAVAILABLE: { domain: 'external', retriable: true },
  PARTITIONER_INVALID_PARTITION_COUNT: { domain: 'internal', retriable: false },
  /** A record's key or value bytes could not be decoded by its serde. */
  SERDE_DESERIALIZE_FAILED: { domain: 'user', retriable: false },
  /** A key or value could not be encoded by its serde. */
  SERDE_SERIALIZE_FAILED: { domain: 'user', retriable: false },
  /** A JSON value did not match its schema. */
  SERDE_VALIDATION_FAILED: { domain: 'user', retriable: false },
  /** A null key or value where the serde does not accept null. */
  SERDE_NULL: { domain: 'user', retriable: false },
  /** An Avro record names a schema id the registry does not know (it goes to the dead-letter topic). */
  SERDE_UNKNOWN_SCHEMA: { domain: 'user', retriable: false },
  /**
   * An Avro serde was used before its schemas were loaded: serialize before init registered the
   * schema, or deserialize of a schema id that prepareBatch did not fetch.
   */
  SCHEMA_NOT_LOADED: { domain: 'internal', retriable: false },
  /** The schema registry refused a schema as incompatible with the subject's earlier versions. */
  SCHEMA_INCOMPATIBLE: { domain: 'user', retriable: false },
  /** The schema registry could not be reached or answered with a server error. */
  REGISTRY_UNAVAILABLE: { domain: 'external', retriable: true },
  /** The schema registry refused a request: credentials, an invalid schema, a bad setting. */
  REGISTRY_REJECTED: { domain: 'user', retriable: false },
  /** A user function (map, filter, process, ...) threw. */
  OPERATOR_FAILED: { domain: 'user', retriable: false },
  /** The topology is not valid (duplicate name, no sink, ...). */
  TOPOLOGY_INVALID: { domain: 'user', retriable: false },
  /** A source topic is missing or topics that must be co-partitioned differ in partition count. */
  TOPIC_MISMATCH: { domain: 'user', retriable: false },
  /** A topic a tool reads or writes does not exist (`tributary dlq`: the dead-letter topic, --to-topic). */
  TOPIC_NOT_FOUND: { domain: 'user', retriable: false },
  /** A record arrived after its window closed (later than the grace period): reason `late`. */
  LATE_RECORD: { domain: 'user', retriable: false },
  /**
   * A record's timestamp lies outside the range its target topic accepts
   * (`message.timestamp.after.max.ms` / `before.max.ms` against the broker's clock): it goes to
   * the dead-letter topic, reason `refused`, instead of the topic.
   */
  TIMESTAMP_OUT_OF_RANGE: { domain: 'user', retriable: false },
  /** A store could not be restored or flushed. */
  STATE_FAILED: { domain: 'internal', retriable: true },
  /**
   * A store's RocksDB files could not be opened or read (checksum or size mismatch, missing or
   * truncated files): the task's local state is wiped and restored from the changelog.
   */
  STATE_CORRUPT: { domain: 'external', retriable: true },
  /** The state directory cannot be written (read-only, permissions): the worker exits 1. */
  STATE_DIR_UNWRITABLE: { domain: 'user', retriable: false },
  /** The state directory's file system is full: the worker exits 1. */
  STATE_DISK_FULL: { domain: 'external', retriable: false },
  /** Cassandra could not be reached (connect). */
  CASSANDRA_UNAVAILABLE: { domain: 'external', retriable: true },
  /** An external sink (Cassandra) could not write; retried until it can, or the worker stops. */
  SINK_WRITE_FAILED: { domain: 'external', retriable: true },
  /** `tributary reset` found live members in the application's consumer group. */
  RESET_REFUSED: { domain: 'user', retriable: true },
  /** A topology file could not be loaded or does not export a topology. */
  TOPOLOGY_FILE_INVALID: { domain: 'user', retriable: false },
  /** The worker could not shut down within its time limit. */
  SHUTDOWN_TIMEOUT: { domain: 'internal', retriable: false },
  /** A model file does not exist or cannot be read (the message names the path). */
  MODEL_NOT_FOUND: { domain: 'user', retriable: false },
  /** A model file is not JSON or not a valid model (the message names the file and JSON path). */
  MODEL_INVALID: { domain: 'user', retriable: false },
  /** A record's features do not fit its model: a feature absent, or null where a number is needed. */
  MODEL_INPUT_INVALID: { domain: 'user', retriable: false },
  /**
   * The test driver (`tributary/testing`) was asked for something it cannot do as asked: a
   * synchronous read while piped records still need a serde's asynchronous init or prepareBatch
   * (await `driver.flush()` first), or a topic the topology does not read or write.
   */
  TEST_DRIVER_MISUSE: { domain: 'user', retriable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retriable: boolean }>;

/** Whose fault an error is: the user's (code, data or settings), an external system's, or ours. */
export type ErrorDomain = 'user' | 'external' | 'internal';

export type ErrorCode = keyof typeof errorCodes;
