import { TributaryError } from '../core/index.ts';

/**
 * Kafka's rule for topic names. Application ids and operator names follow it too, because both
 * become parts of topic names (`<appId>-<operator>-repartition`, `<appId>-dlq`) and of store
 * directories; Kafka Streams applies the same rule to processor names.
 */
const legalCharacters = /^[A-Za-z0-9._-]+$/;
const maxTopicLength = 249;
const ruleText = "1 to 249 of the characters a-z A-Z 0-9 '.' '_' '-'";

/** Throws unless `topic` is a legal Kafka topic name; `role` says where it came from. */
export function checkTopicName(topic: string, role: string): void {
  const legal =
    legalCharacters.test(topic) &&
    topic.length <= maxTopicLength &&
    topic !== '.' &&
    topic !== '..';
  if (!legal) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `${role} '${topic}' is not a valid Kafka topic name: use ${ruleText}, and not '.' or '..'`,
    );
  }
}

/** The application id names the consumer group and prefixes every internal topic. */
export function checkAppId(appId: string): void {
  if (!legalCharacters.test(appId)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `application id '${appId}' is not valid: it becomes part of Kafka topic names, so use ${ruleText}`,
    );
  }
  checkTopicName(dlqTopic(appId), `the dead-letter topic of application id '${appId}'`);
}

export function checkOperatorName(name: string): void {
  if (!legalCharacters.test(name)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `operator name '${name}' is not valid: it can become part of Kafka topic and store names, so use ${ruleText}`,
    );
  }
}

/** Store names become changelog topic names and RocksDB directory names. */
export function checkStoreName(store: string, operator: string): void {
  if (typeof store !== 'string') {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `operator '${operator}' needs a store name: { store: '...' } names its changelog topic`,
    );
  }
  if (!legalCharacters.test(store)) {
    throw new TributaryError(
      'TOPOLOGY_INVALID',
      `store name '${store}' of operator '${operator}' is not valid: it becomes part of the changelog topic and the store directory, so use ${ruleText}`,
    );
  }
}

export function repartitionTopic(appId: string, operator: string): string {
  return `${appId}-${operator}-repartition`;
}

export function dlqTopic(appId: string): string {
  return `${appId}-dlq`;
}

export function changelogTopic(appId: string, store: string): string {
  return `${appId}-${store}-changelog`;
}
