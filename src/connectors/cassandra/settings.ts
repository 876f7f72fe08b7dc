import type { SettingGroup } from '../../core/index.ts';
import type { CassandraConnection } from './client.ts';

const rows = {
  contactPoints: {
    env: 'TRIBUTARY_CASSANDRA_CONTACT_POINTS',
    expects: 'a comma-separated list of host:port',
    fallback: () => '127.0.0.1:9042',
  },
  localDc: {
    env: 'TRIBUTARY_CASSANDRA_LOCAL_DC',
    expects: 'the name of the local data center',
    fallback: () => 'datacenter1',
  },
  username: { env: 'TRIBUTARY_CASSANDRA_USERNAME', expects: 'a name' },
  password: { env: 'TRIBUTARY_CASSANDRA_PASSWORD', expects: 'a password', secret: true },
};

/** TRIBUTARY_CASSANDRA_*: where the Cassandra sinks' shared client connects. */
export const cassandraSettings: SettingGroup<{ cassandra: CassandraConnection }> = {
  name: 'cassandra',
  rows,
  keys: ['cassandra'],
  resolve(r) {
    const credentials = r.credentials(rows.username, rows.password);
    return {
      cassandra: {
        contactPoints: r.hostPorts(rows.contactPoints),
        localDataCenter: r.string(rows.localDc),
        ...(credentials === undefined ? {} : { credentials }),
      },
    };
  },
};
