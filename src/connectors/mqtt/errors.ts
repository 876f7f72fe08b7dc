import { errorCodes, TributaryError } from '../../core/index.ts';

/**
 * This connector's codes: its part of the one registry (src/core/error-codes.ts). The
 * MQTT_PAYLOAD_* and MQTT_KEY_MISSING codes are never thrown: they are the
 * `tributary.error.code` header of a message sent to the dead-letter topic.
 */
export const mqttErrorCodes = {
  MQTT_UNAVAILABLE: errorCodes.MQTT_UNAVAILABLE,
  MQTT_CONNECTION_REFUSED: errorCodes.MQTT_CONNECTION_REFUSED,
  MQTT_SUBSCRIBE_REFUSED: errorCodes.MQTT_SUBSCRIBE_REFUSED,
  MQTT_PAYLOAD_NOT_UTF8: errorCodes.MQTT_PAYLOAD_NOT_UTF8,
  MQTT_PAYLOAD_NOT_JSON: errorCodes.MQTT_PAYLOAD_NOT_JSON,
  MQTT_PAYLOAD_NOT_OBJECT: errorCodes.MQTT_PAYLOAD_NOT_OBJECT,
  MQTT_KEY_MISSING: errorCodes.MQTT_KEY_MISSING,
} as const;

export type MqttErrorCode = keyof typeof mqttErrorCodes;

/** The codes a message can be dead-lettered with. */
export type MalformedCode = Extract<
  MqttErrorCode,
  'MQTT_PAYLOAD_NOT_UTF8' | 'MQTT_PAYLOAD_NOT_JSON' | 'MQTT_PAYLOAD_NOT_OBJECT' | 'MQTT_KEY_MISSING'
>;

/** A TributaryError of this connector. */
export class MqttSourceError extends TributaryError {
  override name = 'MqttSourceError';
  declare readonly code: MqttErrorCode;

  constructor(code: MqttErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
