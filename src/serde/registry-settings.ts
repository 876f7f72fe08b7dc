import type { SettingGroup } from '../core/index.ts';
import type { SchemaRegistrySettings } from './registry-client.ts';

const rows = {
  url: {
    env: 'TRIBUTARY_REGISTRY_URL',
    expects: 'an http(s) URL of a Confluent-compatible schema registry API',
    fallback: () => 'http://127.0.0.1:8081/apis/ccompat/v7',
  },
  username: { env: 'TRIBUTARY_REGISTRY_USERNAME', expects: 'a name' },
  password: { env: 'TRIBUTARY_REGISTRY_PASSWORD', expects: 'a password', secret: true },
};

/** TRIBUTARY_REGISTRY_*: the schema registry of the Avro serdes. */
export const registrySettings: SettingGroup<{ registry: SchemaRegistrySettings }> = {
  name: 'registry',
  rows,
  keys: ['registry'],
  resolve(r) {
    const auth = r.credentials(rows.username, rows.password);
    return {
      registry: {
        url: r.url(rows.url, ['http:', 'https:']),
        ...(auth === undefined ? {} : { auth }),
      },
    };
  },
};
