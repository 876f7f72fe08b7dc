import cassandra from 'cassandra-driver';

import { TributaryError } from '../../core/index.ts';

/** How to reach Cassandra: what the TRIBUTARY_CASSANDRA_* settings (settings.ts) resolve to. */
export interface CassandraConnection {
  contactPoints: string[];
  localDataCenter: string;
  credentials?: { username: string; password: string };
}

/**
 * One driver client shared by a worker's Cassandra sinks: connected by the first sink that
 * opens, shut down when the last one closes. Authentication (PasswordAuthenticator) is passed
 * to the driver when credentials are set. Reconnection is tried every second, so a node that
 * comes back is used again within a second or two.
 *
 * The connection may be given as a function, called when the driver is first needed: a
 * topology's context hands out this client while `tributary describe` builds the topology,
 * and a malformed TRIBUTARY_CASSANDRA_* value must not stop a command that never connects.
 */
export class CassandraClient {
  private built: { connection: CassandraConnection; driver: cassandra.Client } | undefined;
  private users = 0;
  private connecting: Promise<void> | undefined;

  constructor(private readonly settings: CassandraConnection | (() => CassandraConnection)) {}

  get connection(): CassandraConnection {
    return this.build().connection;
  }

  get driver(): cassandra.Client {
    return this.build().driver;
  }

  private build(): { connection: CassandraConnection; driver: cassandra.Client } {
    if (this.built !== undefined) return this.built;
    const connection = typeof this.settings === 'function' ? this.settings() : this.settings;
    const { credentials } = connection;
    const driver = new cassandra.Client({
      contactPoints: connection.contactPoints,
      localDataCenter: connection.localDataCenter,
      ...(credentials === undefined
        ? {}
        : {
            authProvider: new cassandra.auth.PlainTextAuthProvider(
              credentials.username,
              credentials.password,
            ),
          }),
      policies: {
        reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(1000),
      },
      queryOptions: { consistency: cassandra.types.consistencies.localQuorum, prepare: true },
      socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
    });
    this.built = { connection, driver };
    return this.built;
  }

  /** Connects (once) and counts a user. */
  async acquire(): Promise<void> {
    // Outside the try: a bad setting is CONFIG_INVALID, not an unreachable Cassandra.
    const driver = this.driver;
    this.users++;
    try {
      this.connecting ??= driver.connect();
      await this.connecting;
    } catch (error) {
      this.users--;
      this.connecting = undefined;
      throw new TributaryError(
        'CASSANDRA_UNAVAILABLE',
        `Cassandra at ${this.connection.contactPoints.join(', ')} (data center ${this.connection.localDataCenter}) is not reachable: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Drops a user; the last one shuts the driver down. */
  async release(): Promise<void> {
    if (this.users === 0) return;
    this.users--;
    if (this.users === 0 && this.connecting !== undefined) {
      this.connecting = undefined;
      await this.driver.shutdown();
    }
  }

  execute(query: string, params: unknown[] = []): Promise<cassandra.types.ResultSet> {
    return this.driver.execute(query, params, { prepare: true });
  }

  /** Runs one prepared statement for many parameter lists, at most `concurrency` at a time. */
  async executeMany(query: string, params: unknown[][], concurrency: number): Promise<void> {
    await cassandra.concurrent.executeConcurrent(this.driver, query, params, {
      concurrencyLevel: concurrency,
      raiseOnFirstError: true,
    });
  }
}
