import { connect } from 'node:net';

import cassandra from 'cassandra-driver';
import { Kafka, logLevel } from '../../src/kafka/kafkajs.ts';
import mqtt from 'mqtt';

// Protocol-level readiness checks: each resolves when the server answers a real request and
// throws (with the server's own error) when it does not. Each bounds its own time.

const requestTimeoutMs = 3000;

/** Kafka: a Metadata request answered with at least one broker and a controller. */
export async function probeKafka(brokers: string[]): Promise<void> {
  const kafka = new Kafka({
    clientId: 'tributary-stack-probe',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: requestTimeoutMs,
    requestTimeout: requestTimeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    if (cluster.brokers.length === 0 || cluster.controller === null) {
      throw new Error('metadata lists no broker or no controller yet');
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Cassandra: `SELECT release_version FROM system.local`; returns the version. */
/**
 * A CQL OPTIONS request on a raw socket: resolves once the native protocol answers SUPPORTED.
 * The driver is asked only then, because a driver client whose connect failed keeps its control
 * connection's socket open even after shutdown(), which keeps the calling process alive.
 */
function cqlOptions(contactPoint: string): Promise<void> {
  const [host, port] = contactPoint.split(':');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: host ?? '127.0.0.1', port: Number(port ?? 9042) });
    const done = (error?: Error): void => {
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    socket.setTimeout(requestTimeoutMs, () => done(new Error('no answer to OPTIONS')));
    socket.once('error', done);
    // Protocol v4 frame: version, flags, stream (2 bytes), opcode OPTIONS (5), body length 0.
    socket.once('connect', () => socket.write(Buffer.from([4, 0, 0, 0, 5, 0, 0, 0, 0])));
    socket.once('data', (frame: Buffer) =>
      frame[4] === 6 ? done() : done(new Error(`OPTIONS answered opcode ${frame[4]}`)),
    );
  });
}

export async function probeCassandra(contactPoint: string, dataCenter: string): Promise<string> {
  await cqlOptions(contactPoint);
  const client = new cassandra.Client({
    contactPoints: [contactPoint],
    localDataCenter: dataCenter,
    socketOptions: { connectTimeout: requestTimeoutMs, readTimeout: requestTimeoutMs },
    pooling: { warmup: false },
  });
  try {
    await client.connect();
    const result = await client.execute('SELECT release_version FROM system.local');
    const version = result.first()?.get('release_version') as string | undefined;
    if (version === undefined) throw new Error('system.local returned no row');
    return version;
  } finally {
    await client.shutdown().catch(() => undefined);
  }
}

/** Schema registry: `GET /subjects` answers 200 with a JSON array. */
export async function probeRegistry(registryUrl: string): Promise<void> {
  const response = await fetch(`${registryUrl}/subjects`, {
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  if (response.status !== 200) throw new Error(`GET /subjects answered ${response.status}`);
  const body: unknown = await response.json();
  if (!Array.isArray(body)) throw new Error('GET /subjects did not answer a JSON array');
}

/** Prometheus: `GET /-/ready` answers 200. */
export async function probePrometheus(prometheusUrl: string): Promise<void> {
  const response = await fetch(`${prometheusUrl}/-/ready`, {
    signal: AbortSignal.timeout(requestTimeoutMs),
  });
  if (response.status !== 200) throw new Error(`GET /-/ready answered ${response.status}`);
}

/** Mosquitto: an MQTT CONNECT answered by a successful CONNACK. */
export async function probeMqtt(url: string): Promise<void> {
  const client = await mqtt.connectAsync(
    url,
    {
      connectTimeout: requestTimeoutMs,
      reconnectPeriod: 0,
      clientId: `tributary-probe-${process.pid}`,
    },
    false,
  );
  await client.endAsync();
}
