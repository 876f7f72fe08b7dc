import type { ErrorDomain } from '../../core/index.ts';

/**
 * The codes of this connector. They follow the registry of src/core/error-codes.ts (stable names,
 * a domain, a retry hint) and belong there; until they move, MqttSourceError mirrors
 * TributaryError's shape (`code`, `domain`, `retriable`, `cause`) so callers handle both alike.
 * The MQTT_PAYLOAD_* and MQTT_KEY_MISSING codes are never thrown: they are the
 * `tributary.error.code` header of a message sent to the dead-letter topic.
 */
export const mqttErrorCodes = {
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

export type MqttErrorCode = keyof typeof mqttErrorCodes;

/** The codes a message can be dead-lettered with. */
export type MalformedCode = Extract<
  MqttErrorCode,
  'MQTT_PAYLOAD_NOT_UTF8' | 'MQTT_PAYLOAD_NOT_JSON' | 'MQTT_PAYLOAD_NOT_OBJECT' | 'MQTT_KEY_MISSING'
>;

export class MqttSourceError extends Error {
  override name = 'MqttSourceError';
  readonly code: MqttErrorCode;
  readonly domain: ErrorDomain;
  readonly retriable: boolean;

  constructor(code: MqttErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    const entry = mqttErrorCodes[code];
    this.code = code;
    this.domain = entry.domain;
    this.retriable = entry.retriable;
  }
}
