// Avro topologies in the test driver, against the in-memory schema registry: the serdes' init
// registers their schemas, records carry the Confluent wire format with the registry's ids, and
// prepareBatch fetches the writer schema of a record written with another version, as the
// worker does; the registry checks compatibility as a Confluent registry would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { deadLetterHeaders } from '../../src/runtime/index.ts';
import { avro, bytes, string } from '../../src/serde/index.ts';
import type { SchemaRegistryClient } from '../../src/serde/index.ts';
import { createTestDriver, memorySchemaRegistry } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

const readingV2 = {
  type: 'record',
  name: 'Reading',
  namespace: 'test.driver',
  fields: [
    { name: 'celsius', type: 'double' },
    { name: 'unit', type: 'string', default: 'C' },
  ],
};
const readingV1 = {
  type: 'record',
  name: 'Reading',
  namespace: 'test.driver',
  fields: [{ name: 'celsius', type: 'double' }],
};
const fahrenheit = {
  type: 'record',
  name: 'Fahrenheit',
  namespace: 'test.driver',
  fields: [
    { name: 'fahrenheit', type: 'double' },
    { name: 'unit', type: 'string' },
  ],
};
interface Reading {
  celsius: number;
  unit: string;
}
interface Fahrenheit {
  fahrenheit: number;
  unit: string;
}

function avroTopology(registry: SchemaRegistryClient) {
  const t = topology('drv-avro');
  t.stream(
    'readings',
    { key: string(), value: avro<Reading>({ registry, schema: readingV2 }) },
    { name: 'readings' },
  )
    .mapValues((r) => ({ fahrenheit: r.celsius * 1.8 + 32, unit: r.unit }), { name: 'convert' })
    .to('fahrenheit', {
      key: string(),
      value: avro<Fahrenheit>({ registry, schema: fahrenheit }),
    });
  return t.build();
}

describe('test driver with Avro and the in-memory schema registry', () => {
  it('registers at start, writes the wire format with the registry ids, and reads it back', async () => {
    const registry = memorySchemaRegistry();
    const driver = await createTestDriver(avroTopology(registry), { batchSize: 2 });
    assert.deepEqual(registry.subjectNames().sort(), ['fahrenheit-value', 'readings-value']);
    const input = driver.input<string, Reading>('readings');
    const out = driver.output<string, Fahrenheit>('fahrenheit');
    input.pipe('s1', { celsius: 100, unit: 'C' });
    input.pipe('s2', { celsius: -40, unit: 'C' });
    input.pipe('s3', { celsius: 0, unit: 'C' });
    // Processing needs the serdes' prepareBatch (async): a synchronous read says so.
    assert.throws(() => out.readValues(), { code: 'TEST_DRIVER_MISUSE', message: /flush/ });
    await driver.flush();
    assert.deepEqual(out.readValues(), [
      { fahrenheit: 212, unit: 'C' },
      { fahrenheit: -40, unit: 'C' },
      { fahrenheit: 32, unit: 'C' },
    ]);
    const [raw] = driver.written('fahrenheit');
    assert.equal(raw?.value?.readUInt8(0), 0, 'magic byte');
    assert.equal(raw?.value?.readInt32BE(1), registry.versions('fahrenheit-value')[0]?.id);
  });

  it("reads records written with an older schema version through prepareBatch's resolver", async () => {
    const registry = memorySchemaRegistry();
    const driver = await createTestDriver(avroTopology(registry));
    // A producer still on version 1 (no unit): its serde registers version 1 at the next flush.
    const old = driver.input('readings', {
      key: string(),
      value: avro<{ celsius: number }>({ registry, schema: readingV1 }),
    });
    old.pipe('s1', { celsius: 10 });
    await driver.flush();
    assert.equal(registry.versions('readings-value').length, 2);
    const out = driver.output<string, Fahrenheit>('fahrenheit');
    await driver.flush();
    assert.deepEqual(out.readValues(), [{ fahrenheit: 50, unit: 'C' }], 'the default filled in');
  });

  it('dead-letters a record naming a schema id the registry does not know', async () => {
    const registry = memorySchemaRegistry();
    const driver = await createTestDriver(avroTopology(registry));
    const raw = driver.input('readings', { key: string(), value: bytes() });
    raw.pipe('bad', Buffer.from([0, 0, 0, 0x30, 0x39, 1, 2, 3]));
    await driver.flush();
    const [dead] = driver.written('drv-avro-dlq');
    assert.equal(dead?.headers[deadLetterHeaders.code], 'SERDE_UNKNOWN_SCHEMA');
    assert.match(String(dead?.headers[deadLetterHeaders.message]), /schema id 12345/);
  });

  it('gives a schema one id under every subject and refuses an incompatible version', async () => {
    const registry = memorySchemaRegistry({ firstId: 100 });
    const text = JSON.stringify(readingV2);
    const a = await registry.register('a-value', text);
    assert.equal(a, 100);
    assert.equal(await registry.register('b-value', text), a, 'same schema, same id');
    assert.equal(await registry.register('a-value', text), a, 'registered again: same id');
    // BACKWARD (the default): a new version must read the old one's records; a new field
    // without a default cannot.
    const breaking = {
      ...readingV2,
      fields: [...readingV2.fields, { name: 'sensor', type: 'string' }],
    };
    await assert.rejects(registry.register('a-value', JSON.stringify(breaking)), {
      code: 'SCHEMA_INCOMPATIBLE',
      message: /subject a-value.*BACKWARD/,
    });
    // Under NONE it is taken, with a new id.
    const id = await registry.register('a-value', JSON.stringify(breaking), 'NONE');
    assert.equal(id, 101);
    assert.equal((await registry.writerSchema(id)).kind, 'avro');
    assert.equal((await registry.writerSchema(999)).kind, 'unknown');
  });
});
