import type { types } from 'cassandra-driver';

import type { CassandraClient } from '../../src/connectors/cassandra/index.ts';
import type { WindowRow } from '../verify/compare.ts';

/** Every row of a query, page by page. */
export async function allRows(
  client: CassandraClient,
  query: string,
  params: unknown[] = [],
): Promise<types.Row[]> {
  const rows: types.Row[] = [];
  let pageState: string | undefined;
  do {
    const result = await client.driver.execute(query, params, {
      prepare: true,
      fetchSize: 5000,
      ...(pageState === undefined ? {} : { pageState }),
    });
    rows.push(...result.rows);
    pageState = result.pageState ?? undefined;
  } while (pageState !== undefined);
  return rows;
}

/** Rows in a table, 0 while the sink has not created it yet. */
export async function rowCount(client: CassandraClient, table: string): Promise<number> {
  try {
    const result = await client.driver.execute(`SELECT count(*) AS n FROM ${table}`, [], {
      prepare: true,
    });
    return Number(result.first()?.get('n') ?? 0);
  } catch {
    return 0;
  }
}

/** A window's row as the comparison reads it: its key column, window start, count and values. */
export function windowRowOf(
  keyColumn: string,
  columns: readonly string[],
): (row: types.Row) => WindowRow {
  return (row) => {
    const values: Record<string, number | null> = {};
    for (const column of columns) values[column] = row.get(column) as number | null;
    return {
      key: row.get(keyColumn) as string,
      windowStart: (row.get('window_start') as Date).getTime(),
      count: row.get('count') as number,
      values,
    };
  };
}
