import type { SettingGroup } from '../core/index.ts';
import { defaultKafkaLibrary, kafkaLibraries } from '../kafka/index.ts';
import type { KafkaLibrary } from '../kafka/index.ts';

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSettings {
  brokers: string[];
  /** The client library a worker runs on (src/kafka/library.ts). */
  client: KafkaLibrary;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
  /** TLS to the brokers: PEM contents read from the files named in the settings. */
  tls?: { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean };
}

const pem = 'a readable PEM file';
const rows = {
  brokers: {
    env: 'TRIBUTARY_BROKERS',
    expects: 'a comma-separated list of host:port',
    fallback: () => '127.0.0.1:9092',
  },
  client: {
    env: 'TRIBUTARY_KAFKA_CLIENT',
    expects: 'kafkajs or platformatic',
    fallback: () => defaultKafkaLibrary,
  },
  saslMechanism: {
    env: 'TRIBUTARY_KAFKA_SASL_MECHANISM',
    expects: 'plain, scram-sha-256 or scram-sha-512',
  },
  saslUsername: { env: 'TRIBUTARY_KAFKA_SASL_USERNAME', expects: 'a name' },
  saslPassword: { env: 'TRIBUTARY_KAFKA_SASL_PASSWORD', expects: 'a password', secret: true },
  tls: { env: 'TRIBUTARY_KAFKA_TLS', expects: 'true or false', fallback: () => 'false' },
  tlsCaFile: { env: 'TRIBUTARY_KAFKA_TLS_CA_FILE', expects: pem },
  tlsCertFile: { env: 'TRIBUTARY_KAFKA_TLS_CERT_FILE', expects: pem },
  tlsKeyFile: { env: 'TRIBUTARY_KAFKA_TLS_KEY_FILE', expects: pem },
  tlsRejectUnauthorized: {
    env: 'TRIBUTARY_KAFKA_TLS_REJECT_UNAUTHORIZED',
    expects: 'true or false',
    fallback: () => 'true',
  },
};

/** TRIBUTARY_BROKERS and TRIBUTARY_KAFKA_*: how every command that talks to Kafka reaches it. */
export const kafkaSettings: SettingGroup<{ kafka: KafkaSettings }> = {
  name: 'kafka',
  rows,
  keys: ['kafka'],
  resolve(r) {
    const kafka: KafkaSettings = {
      brokers: r.hostPorts(rows.brokers),
      client: r.oneOf(rows.client, kafkaLibraries),
    };
    const mechanism =
      r.optional(rows.saslMechanism) === undefined
        ? undefined
        : r.oneOf(rows.saslMechanism, ['plain', 'scram-sha-256', 'scram-sha-512'] as const);
    const credentials = r.credentials(rows.saslUsername, rows.saslPassword);
    if (mechanism !== undefined) {
      if (credentials === undefined)
        return r.fail(rows.saslUsername, `it is required when ${rows.saslMechanism.env} is set`);
      kafka.sasl = { mechanism, ...credentials };
    } else if (credentials !== undefined) {
      r.fail(rows.saslMechanism, `it is required when ${rows.saslUsername.env} is set`);
    }
    const ca = r.file(rows.tlsCaFile);
    const cert = r.file(rows.tlsCertFile);
    const key = r.file(rows.tlsKeyFile);
    const rejectUnauthorized = r.boolean(rows.tlsRejectUnauthorized);
    if (r.boolean(rows.tls)) {
      kafka.tls = {
        rejectUnauthorized,
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
      };
    } else if (ca !== undefined || cert !== undefined || key !== undefined) {
      r.fail(rows.tls, 'it must be true when a TLS file is given');
    }
    return { kafka };
  },
};
