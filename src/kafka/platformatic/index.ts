/**
 * kafka/platformatic: src/kafka's contract on @platformatic/kafka (README.md). The second
 * adapter beside kafkajs's; the contract suite runs both against the real broker.
 *
 * @example
 *   const client = createPlatformaticClient({ brokers: ['127.0.0.1:9092'], clientId: 'weather-1' });
 *   const producer = client.recordProducer();
 */
export { createPlatformaticClient } from './client.ts';
