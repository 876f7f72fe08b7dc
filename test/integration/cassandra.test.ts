import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import cassandra from 'cassandra-driver';

import { endpoints, uniqueName } from './helpers.ts';

describe('Cassandra (real node)', () => {
  const keyspace = uniqueName('it').replaceAll('-', '_');
  const client = new cassandra.Client({
    contactPoints: [endpoints.cassandraContactPoint],
    localDataCenter: endpoints.cassandraDataCenter,
  });

  before(async () => {
    await client.connect();
  });

  after(async () => {
    await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`);
    await client.shutdown();
  });

  it('answers system.local with a 5.0 release', async () => {
    const row = (await client.execute('SELECT release_version FROM system.local')).first();
    assert.match(String(row?.get('release_version')), /^5\.0\./);
  });

  it('creates a keyspace and table, upserts rows and reads them back', async () => {
    await client.execute(
      `CREATE KEYSPACE ${keyspace} WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}`,
    );
    await client.execute(
      `CREATE TABLE ${keyspace}.hourly (location text, window_start timestamp, count int, mean double,
       PRIMARY KEY ((location), window_start)) WITH CLUSTERING ORDER BY (window_start ASC)`,
    );
    const insert = `INSERT INTO ${keyspace}.hourly (location, window_start, count, mean) VALUES (?, ?, ?, ?)`;
    const hours = [0, 1, 2].map((h) => new Date(Date.UTC(2026, 10, 21, h)));
    for (const [i, hour] of hours.entries()) {
      await client.execute(insert, ['oslo', hour, 10 + i, 1.5 * i], { prepare: true });
    }
    // The same key again is an upsert: a replay rewrites the row, it does not add one.
    await client.execute(insert, ['oslo', hours[1], 42, 9.75], { prepare: true });

    const result = await client.execute(
      `SELECT window_start, count, mean FROM ${keyspace}.hourly WHERE location = ?`,
      ['oslo'],
      { prepare: true },
    );
    assert.deepEqual(
      result.rows.map((r) => [
        (r.get('window_start') as Date).toISOString(),
        r.get('count'),
        r.get('mean'),
      ]),
      [
        ['2026-11-21T00:00:00.000Z', 10, 0],
        ['2026-11-21T01:00:00.000Z', 42, 9.75],
        ['2026-11-21T02:00:00.000Z', 12, 3],
      ],
    );
  });
});
