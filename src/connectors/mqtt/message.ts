import { TributaryError } from '../../core/index.ts';
import type { MalformedCode } from './errors.ts';

/** A JSON object payload, as parsed. */
export type JsonObject = Record<string, unknown>;

/**
 * The record key of a message: from its topic, or from the parsed payload (undefined when the
 * payload is not a JSON object, so a dead-lettered message can still carry a topic-derived key).
 * Undefined or '' means no key: the message goes to the dead-letter topic (MQTT_KEY_MISSING).
 */
export type KeyExtractor = (topic: string, payload: JsonObject | undefined) => string | undefined;

/** The event time (ms) of a message, or undefined to use the time it was received. */
export type TimestampExtractor = (payload: JsonObject) => number | undefined;

/** A shared subscription `$share/<group>/<filter>` matches what `<filter>` matches. */
function bareFilter(filter: string): string {
  return filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;
}

/** Checks a topic filter: non-empty, `+` and `#` only as whole levels, `#` only last. */
export function validateTopicFilter(filter: string, setting = 'topics'): void {
  const levels = bareFilter(filter).split('/');
  const bad =
    filter === '' ||
    (filter.startsWith('$share/') && filter.split('/').length < 3) ||
    levels.some((level, i) => {
      if (level.includes('#')) return level !== '#' || i !== levels.length - 1;
      return level.includes('+') && level !== '+';
    });
  if (bad) {
    throw new TributaryError(
      'CONFIG_INVALID',
      `${setting}: '${filter}' is not an MQTT topic filter (levels split by '/', '+' a whole level, '#' only last)`,
    );
  }
}

/** Whether an MQTT topic matches a topic filter (`+` one level, `#` the rest). */
export function topicMatches(filter: string, topic: string): boolean {
  const pattern = bareFilter(filter).split('/');
  const levels = topic.split('/');
  // Wildcards do not match topics starting with '$' (MQTT 4.7.2).
  if (topic.startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false;
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i];
    if (want === '#') return true;
    if (i >= levels.length) return false;
    if (want !== '+' && want !== levels[i]) return false;
  }
  return pattern.length === levels.length;
}

/**
 * The default key: the level at the first `+` of the first filter matching the topic
 * (`sensors/+/data` and `sensors/greenhouse-3/data` give `greenhouse-3`); for a filter without
 * `+`, the levels under its `#`; otherwise the whole topic.
 */
export function wildcardKey(filters: readonly string[]): KeyExtractor {
  const patterns = filters.map((filter) => ({ filter, levels: bareFilter(filter).split('/') }));
  return (topic) => {
    const match = patterns.find((p) => topicMatches(p.filter, topic));
    if (match === undefined) return topic;
    const levels = topic.split('/');
    const plus = match.levels.indexOf('+');
    if (plus >= 0) return levels[plus];
    const hash = match.levels.indexOf('#');
    return hash >= 0 ? levels.slice(hash).join('/') : topic;
  };
}

/** The key is one level of the topic (0-based; negative counts from the end). */
export function topicLevelKey(index: number): KeyExtractor {
  return (topic) => topic.split('/').at(index);
}

/** The key is a payload field: a non-empty string, or a finite number written in decimal. */
export function payloadFieldKey(field: string): KeyExtractor {
  return (_topic, payload) => {
    const value = payload?.[field];
    if (typeof value === 'string') return value;
    if (typeof value === 'number' && Number.isFinite(value)) return String(value);
    return undefined;
  };
}

/** The event time is a payload field: epoch milliseconds, or an ISO-8601 string. */
export function payloadFieldTimestamp(field = 'timestamp'): TimestampExtractor {
  return (payload) => {
    const value = payload[field];
    if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
    if (typeof value === 'string') {
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? undefined : ms;
    }
    return undefined;
  };
}

/** What a message is: a keyed JSON object to publish, or something for the dead-letter topic. */
export type ClassifiedMessage =
  | { kind: 'record'; key: string; payload: JsonObject }
  | { kind: 'malformed'; code: MalformedCode; message: string; key: string | undefined };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Classifies a message by the least the source needs: UTF-8, JSON, an object, a key. Whether
 * the object is a valid reading is for the topology's serde to say.
 */
export function classifyMessage(
  topic: string,
  payload: Uint8Array,
  key: KeyExtractor,
): ClassifiedMessage {
  const malformed = (code: MalformedCode, message: string): ClassifiedMessage => ({
    kind: 'malformed',
    code,
    message,
    key: nonEmpty(key(topic, undefined)),
  });
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return malformed('MQTT_PAYLOAD_NOT_UTF8', `payload of ${payload.length} bytes is not UTF-8`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    return malformed(
      'MQTT_PAYLOAD_NOT_JSON',
      `payload is not JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    const what = parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed;
    return malformed('MQTT_PAYLOAD_NOT_OBJECT', `payload is JSON but ${what}, not an object`);
  }
  const object = parsed as JsonObject;
  const found = nonEmpty(key(topic, object));
  if (found === undefined) {
    return {
      kind: 'malformed',
      code: 'MQTT_KEY_MISSING',
      message: `no record key in topic '${topic}' or its payload`,
      key: undefined,
    };
  }
  return { kind: 'record', key: found, payload: object };
}

function nonEmpty(key: string | undefined): string | undefined {
  return key === undefined || key === '' ? undefined : key;
}
