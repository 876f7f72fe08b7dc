import { down } from '../../infra/stack/stack.ts';
import type { serviceContext } from '../../infra/stack/stack.ts';
import type { Settings } from '../../src/app/index.ts';
import { CassandraClient } from '../../src/connectors/cassandra/index.ts';

/** Drops the demo's keyspace (unless kept) and releases the Cassandra client. */
export async function dropKeyspace(
  settings: Pick<Settings, 'cassandra'>,
  cassandra: CassandraClient | undefined,
  keyspace: string,
  drop: boolean,
): Promise<void> {
  if (!drop) {
    await cassandra?.release();
    return;
  }
  const client = cassandra ?? new CassandraClient(settings.cassandra);
  if (cassandra === undefined) await client.acquire();
  await client.execute(`DROP KEYSPACE IF EXISTS ${keyspace}`).catch(() => undefined);
  await client.release();
}

/** Stops the stack services the demo started, unless --keep. */
export async function stopStarted(
  ctx: ReturnType<typeof serviceContext>,
  started: string[],
  keep: boolean,
  say: (line: string) => void,
): Promise<void> {
  if (!keep && started.length > 0) {
    await down(ctx, started as Parameters<typeof down>[1]);
    say(`stopped what the demo started: ${started.join(', ')}`);
  } else if (started.length > 0) {
    say('the stack keeps running (--keep); npm run stack -- down stops it');
  }
}

/** Runs a demo: its problems (none: passed) make the exit code, cleaned up either way. */
export async function runDemo(
  main: () => Promise<string[]>,
  cleanUp: () => Promise<void>,
  passed: string,
  say: (line: string) => void,
): Promise<void> {
  try {
    const found = await main();
    await cleanUp();
    if (found.length === 0) {
      say(passed);
    } else {
      for (const line of found) process.stderr.write(`demo: FAILED: ${line}\n`);
      process.exitCode = 1;
    }
  } catch (error) {
    process.stderr.write(
      `demo failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    await cleanUp().catch(() => undefined);
    process.exitCode = 1;
  }
}
