import type { BaseOptions } from '@platformatic/kafka';

import type { KafkaClientOptions, KafkaSasl } from '../client.ts';

const mechanisms = {
  plain: 'PLAIN',
  'scram-sha-256': 'SCRAM-SHA-256',
  'scram-sha-512': 'SCRAM-SHA-512',
} as const satisfies Record<KafkaSasl['mechanism'], string>;

/**
 * The connection options every client of the adapter shares. Topics are never created by a
 * metadata request (the runtime creates its topics with their configs first).
 */
export function baseOptions(options: KafkaClientOptions): BaseOptions {
  const { sasl, tls } = options;
  return {
    clientId: options.clientId,
    bootstrapBrokers: options.brokers,
    autocreateTopics: false,
    ...(sasl === undefined
      ? {}
      : {
          sasl: {
            mechanism: mechanisms[sasl.mechanism],
            username: sasl.username,
            password: sasl.password,
          },
        }),
    ...(tls === undefined ? {} : { tls }),
  };
}
