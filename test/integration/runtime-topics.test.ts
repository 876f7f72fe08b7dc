import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { startWorker } from '../../src/app/index.ts';
import { silentLogger, TributaryError } from '../../src/core/index.ts';
import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { createTopics, kafka } from './topics.ts';

const serdes = { key: string(), value: json<number>() };
const start = (t: ReturnType<typeof topology>) =>
  startWorker(t.build(), {
    brokers: endpoints.kafkaBrokers,
    logger: silentLogger,
    workerId: 'topics-test',
  });

describe('internal topics at worker start (real broker)', () => {
  it('creates the repartition and dead-letter topics with the partition count of the sources', async () => {
    const appId = uniqueName('it-internal');
    await createTopics([{ topic: `${appId}-in`, partitions: 4 }]);
    const t = topology(appId);
    t.stream(`${appId}-in`, serdes)
      .keyBy((_k, v) => String(v), { name: 'by-value', ...serdes })
      .to(`${appId}-out`, serdes);
    const worker = await start(t);
    await worker.stop();
    const admin = kafka.admin();
    await admin.connect();
    const metadata = await admin.fetchTopicMetadata({
      topics: [`${appId}-by-value-repartition`, `${appId}-dlq`],
    });
    await admin.disconnect();
    assert.deepEqual(metadata.topics.map((m) => [m.name, m.partitions.length]).sort(), [
      [`${appId}-by-value-repartition`, 4],
      [`${appId}-dlq`, 4],
    ]);
  });

  it('refuses to start when co-partitioned source topics differ in partition count, naming both', async () => {
    const appId = uniqueName('it-copart');
    await createTopics([
      { topic: `${appId}-a`, partitions: 3 },
      { topic: `${appId}-b`, partitions: 6 },
    ]);
    const t = topology(appId);
    t.stream(`${appId}-a`, serdes)
      .merge(t.stream(`${appId}-b`, serdes))
      .to(`${appId}-out`, serdes);
    await assert.rejects(start(t), (error: unknown) => {
      assert.ok(error instanceof TributaryError);
      assert.equal(error.code, 'TOPIC_MISMATCH');
      assert.match(error.message, new RegExp(`${appId}-a \\(3\\), ${appId}-b \\(6\\)`));
      return true;
    });
  });

  it('refuses to start when a source topic does not exist, naming it', async () => {
    const appId = uniqueName('it-missing');
    const t = topology(appId);
    t.stream(`${appId}-nowhere`, serdes).to(`${appId}-out`, serdes);
    await assert.rejects(start(t), {
      code: 'TOPIC_MISMATCH',
      message: new RegExp(`source topic ${appId}-nowhere of application ${appId} does not exist`),
    });
  });

  it('refuses to start when a repartition topic exists with another partition count', async () => {
    const appId = uniqueName('it-repart');
    await createTopics([
      { topic: `${appId}-in`, partitions: 2 },
      { topic: `${appId}-by-v-repartition`, partitions: 5 },
    ]);
    const t = topology(appId);
    t.stream(`${appId}-in`, serdes)
      .keyBy((_k, v) => String(v), { name: 'by-v', ...serdes })
      .to(`${appId}-out`, serdes);
    await assert.rejects(start(t), {
      code: 'TOPIC_MISMATCH',
      message: /has 5 partitions but its source topics .* have 2/,
    });
  });
});
