/**
 * The registry of error codes. Every TributaryError carries one; codes are stable (users match
 * on them, dead-letter headers and metrics carry them), so a code is never renamed or reused.
 * A code's domain decides the exit code of a command it ends (domainExitCodes below); the
 * connectors' codes (HTTP_*, MQTT_*) are here too, their error classes are TributaryErrors.
 */
export const errorCodes = {
  CONFIG_INVALID: { domain: 'config', retriable: false },
  KAFKA_UNAVAILABLE: { domain: 'external', retriable: true },
  /**
   * A task's transaction sent its offsets under a generation the member has since moved past (a
   * rebalance completed while the commit was out) and the coordinator refused them: the task is
   * rebuilt and its batch retried under the new generation; the worker stays in the group.
   */
  TASK_MIGRATED: { domain: 'external', retriable: true },
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
  TOPOLOGY_INVALID: { domain: 'config', retriable: false },
  /** A source topic is missing or topics that must be co-partitioned differ in partition count. */
  TOPIC_MISMATCH: { domain: 'user', retriable: false },
  /** A topic a tool reads or writes does not exist (`tributary dlq`: the dead-letter topic, --to-topic). */
  TOPIC_NOT_FOUND: { domain: 'config', retriable: false },
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
  TOPOLOGY_FILE_INVALID: { domain: 'config', retriable: false },
  /** The worker could not shut down within its time limit. */
  SHUTDOWN_TIMEOUT: { domain: 'internal', retriable: false },
  /** A model file does not exist or cannot be read (the message names the path). */
  MODEL_NOT_FOUND: { domain: 'config', retriable: false },
  /** A model file is not JSON or not a valid model (the message names the file and JSON path). */
  MODEL_INVALID: { domain: 'config', retriable: false },
  /** A record's features do not fit its model: a feature absent, or null where a number is needed. */
  MODEL_INPUT_INVALID: { domain: 'user', retriable: false },
  /**
   * The test driver (`tributary/testing`) was asked for something it cannot do as asked: a
   * synchronous read while piped records still need a serde's asynchronous init or prepareBatch
   * (await `driver.flush()` first), or a topic the topology does not read or write.
   */
  TEST_DRIVER_MISUSE: { domain: 'user', retriable: false },
  // The Open-Meteo (HTTP poll) source: HttpSourceError carries these (httpErrorCodes).
  /** A network error, a timeout or a status other than 2xx (5xx and 429 are retriable). */
  HTTP_REQUEST_FAILED: { domain: 'external', retriable: true },
  /** A 2xx answer whose body is not the expected Open-Meteo JSON. */
  HTTP_RESPONSE_INVALID: { domain: 'external', retriable: true },
  /** The progress file could not be read, parsed or written. */
  HTTP_PROGRESS_FAILED: { domain: 'internal', retriable: false },
  // The MQTT source: MqttSourceError carries these (mqttErrorCodes). The MQTT_PAYLOAD_* and
  // MQTT_KEY_MISSING codes are never thrown: they are the `tributary.error.code` header of a
  // message sent to the dead-letter topic.
  /** The broker could not be reached (or did not answer the CONNECT) in time. */
  MQTT_UNAVAILABLE: { domain: 'external', retriable: true },
  /** The broker refused the connection: credentials, client id, not authorized. */
  MQTT_CONNECTION_REFUSED: { domain: 'user', retriable: false },
  /** The broker refused a subscription (or granted QoS 0 where QoS 1 is needed). */
  MQTT_SUBSCRIBE_REFUSED: { domain: 'user', retriable: false },
  /** A payload that is not valid UTF-8. */
  MQTT_PAYLOAD_NOT_UTF8: { domain: 'user', retriable: false },
  /** A UTF-8 payload that is not JSON. */
  MQTT_PAYLOAD_NOT_JSON: { domain: 'user', retriable: false },
  /** JSON, but not an object (an array, a number, a string, null). */
  MQTT_PAYLOAD_NOT_OBJECT: { domain: 'user', retriable: false },
  /** The key extractor found no key (in the topic or the payload). */
  MQTT_KEY_MISSING: { domain: 'user', retriable: false },
} as const satisfies Record<string, { domain: ErrorDomain; retriable: boolean }>;

/**
 * Whose fault an error is:
 *   config    the user's invocation or configuration (a setting, a topology or model file, a
 *             topic named on the command line), found before anything started;
 *   user      the user's code or data at run time (a serde, an operator, a record, a schema);
 *   external  a system we depend on (Kafka, the registry, Cassandra, MQTT, HTTP, the disk);
 *   internal  ours (a bug or an invariant broken).
 */
export type ErrorDomain = 'config' | 'user' | 'external' | 'internal';

/**
 * The exit code of the `tributary` command (and the tools' CLI, and a worker) when an error of
 * the domain ends it: 2 for bad usage or configuration (nothing was started), 1 for any other
 * failure. 0 is success; an error that is not a TributaryError exits 1.
 */
export const domainExitCodes = {
  config: 2,
  user: 1,
  external: 1,
  internal: 1,
} as const satisfies Record<ErrorDomain, number>;

export type ErrorCode = keyof typeof errorCodes;
