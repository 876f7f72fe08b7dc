import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import avsc from 'avsc';

import { TributaryError } from '../../src/core/index.ts';
import { avro, nullable, registerSchemas } from '../../src/serde/index.ts';
import type { Compatibility, SchemaRegistryClient, WriterSchema } from '../../src/serde/index.ts';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type { Observation } from '../../src/connectors/open-meteo/index.ts';

const observationSchema = JSON.parse(readFileSync(weatherSchemaFiles.observation, 'utf8')) as {
  fields: object[];
};
/** The observation schema's next version: one optional field more. */
const observationV2 = {
  ...observationSchema,
  fields: [
    ...observationSchema.fields,
    { name: 'cloud_cover', type: ['null', 'double'], default: null },
  ],
};
type ObservationV2 = Observation & { cloud_cover: number | null };

const observation: Observation = {
  location: 'bergen',
  latitude: 60.39,
  longitude: 5.32,
  time: Date.UTC(2026, 10, 21, 8),
  temperature_2m: 4.5,
  relative_humidity_2m: 81,
  precipitation: null,
  wind_speed_10m: 12.3,
};

/**
 * A registry in memory: a schema text gets one id (as on Apicurio and Confluent), under any
 * subject. It can be told to be unavailable for a number of calls.
 */
class StubRegistry implements SchemaRegistryClient {
  readonly url = 'http://registry.test/apis/ccompat/v7';
  readonly registrations: { subject: string; compatibility: Compatibility | undefined }[] = [];
  readonly fetched: number[] = [];
  unavailableCalls = 0;
  private readonly ids = new Map<string, number>();
  private readonly texts = new Map<number, string>();
  private nextId = 41;

  add(schema: object): number {
    const text = JSON.stringify(schema);
    let id = this.ids.get(text);
    if (id === undefined) {
      id = ++this.nextId;
      this.ids.set(text, id);
      this.texts.set(id, text);
    }
    return id;
  }

  private check(): void {
    if (this.unavailableCalls <= 0) return;
    this.unavailableCalls--;
    throw new TributaryError(
      'REGISTRY_UNAVAILABLE',
      `schema registry at ${this.url} cannot be reached (ECONNREFUSED)`,
    );
  }

  async register(subject: string, schema: string, compatibility?: Compatibility): Promise<number> {
    this.check();
    this.registrations.push({ subject, compatibility });
    return this.add(JSON.parse(schema) as object);
  }

  async writerSchema(id: number): Promise<WriterSchema> {
    this.check();
    this.fetched.push(id);
    const text = this.texts.get(id);
    if (text === undefined) return { kind: 'unknown' };
    return { kind: 'avro', type: avsc.Type.forSchema(JSON.parse(text) as avsc.schema.AvroSchema) };
  }
}

const noWait = { attempts: 3, initialDelayMs: 0 };

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    if (error instanceof TributaryError) return error.code;
    throw error;
  }
  return 'no error';
};

describe('avro serde', () => {
  it('registers its schema under <topic>-value at init and round-trips a value', async () => {
    const registry = new StubRegistry();
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    assert.equal(serde.name, 'avro(Observation)');
    await serde.init?.('observations');
    assert.deepEqual(registry.registrations, [
      { subject: 'observations-value', compatibility: undefined },
    ]);
    const bytes = serde.serialize(observation, 'observations');
    assert.ok(bytes !== null);
    const decoded = serde.deserialize(bytes, 'observations');
    // Plain objects, timestamps as numbers of milliseconds.
    assert.deepStrictEqual(decoded, observation);
    assert.equal(typeof decoded.time, 'number');
    assert.deepEqual(registry.fetched, [], 'its own id needs no fetch');
  });

  it('writes the Confluent wire format: magic byte 0, big-endian schema id, Avro binary', async () => {
    const registry = new StubRegistry();
    const schema = {
      type: 'record',
      name: 'Reading',
      fields: [
        { name: 'sensor', type: 'string' },
        { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
      ],
    };
    const serde = avro<{ sensor: string; at: number }>({ registry, schema });
    await serde.init?.('readings');
    const id = registry.add(schema);
    assert.equal(id, 42);
    // 'ab' is length 2 (zig-zag 4) then the bytes; 1000 is zig-zag 2000 = 0xd0 0x0f.
    assert.deepEqual(
      serde.serialize({ sensor: 'ab', at: 1000 }, 'readings'),
      Buffer.from([0, 0, 0, 0, 42, 4, 0x61, 0x62, 0xd0, 0x0f]),
    );
  });

  it('names subjects by strategy: key, record name, topic and record name, a function', async () => {
    const registry = new StubRegistry();
    const schema = weatherSchemaFiles.observation;
    await avro({ registry, schema, isKey: true }).init?.('t');
    await avro({ registry, schema, subjectStrategy: 'record' }).init?.('t');
    await avro({ registry, schema, subjectStrategy: 'topic-record' }).init?.('t');
    await avro({
      registry,
      schema,
      subjectStrategy: (topic, { isKey, recordName }) => `${recordName}@${topic}/${isKey}`,
    }).init?.('t');
    assert.deepEqual(
      registry.registrations.map((r) => r.subject),
      [
        't-key',
        'dev.tributary.weather.Observation',
        't-dev.tributary.weather.Observation',
        'dev.tributary.weather.Observation@t/false',
      ],
    );
  });

  it('asks the registry for the compatibility level it is given', async () => {
    const registry = new StubRegistry();
    await avro({
      registry,
      schema: weatherSchemaFiles.observation,
      compatibility: 'BACKWARD',
    }).init?.('t');
    assert.deepEqual(registry.registrations, [{ subject: 't-value', compatibility: 'BACKWARD' }]);
  });

  it('decodes with a fresh serde once prepareBatch fetched the writer schema, once per id', async () => {
    const registry = new StubRegistry();
    const writer = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    await writer.init?.('t');
    const bytes = writer.serialize(observation, 't');
    const reader = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    assert.equal(
      codeOf(() => reader.deserialize(bytes, 't')),
      'SCHEMA_NOT_LOADED',
    );
    await reader.prepareBatch?.([bytes, bytes, null, Buffer.from('not avro')], 't');
    await reader.prepareBatch?.([bytes], 't');
    assert.deepEqual(registry.fetched, [42]);
    assert.deepStrictEqual(reader.deserialize(bytes, 't'), observation);
  });

  it('resolves older and newer writer schemas to the reader schema', async () => {
    const registry = new StubRegistry();
    const v1 = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    const v2 = avro<ObservationV2>({ registry, schema: observationV2 });
    await v1.init?.('t');
    await v2.init?.('t');
    const fromV1 = v1.serialize(observation, 't');
    const fromV2 = v2.serialize({ ...observation, cloud_cover: 75 }, 't');
    const batch = [fromV1, fromV2];
    await v1.prepareBatch?.(batch, 't');
    await v2.prepareBatch?.(batch, 't');
    // The newer reader fills the field the old writer lacked with its default...
    assert.deepStrictEqual(v2.deserialize(fromV1, 't'), { ...observation, cloud_cover: null });
    assert.deepStrictEqual(v2.deserialize(fromV2, 't'), { ...observation, cloud_cover: 75 });
    // ...and the older reader drops the field it does not know.
    assert.deepStrictEqual(v1.deserialize(fromV2, 't'), observation);
  });

  it('reads and writes longs exactly over the safe range, where avsc alone flips the sign of (-2^53, -2^52)', async () => {
    const registry = new StubRegistry();
    const v1 = { type: 'record', name: 'Tick', fields: [{ name: 'n', type: 'long' }] };
    const v2 = { ...v1, fields: [...v1.fields, { name: 'm', type: 'int', default: 0 }] };
    const reader = avro<{ n: number }>({ registry, schema: v1 });
    await reader.init?.('t');
    const id = registry.add(v1);
    const newer = registry.add(v2);
    // Avro's zigzag varint, written here with BigInt.
    const varint = (value: bigint): Buffer => {
      let z = (value << 1n) ^ (value >> 63n);
      const out: number[] = [];
      for (; z >= 0x80n; z >>= 7n) out.push(Number(z & 0x7fn) | 0x80);
      return Buffer.from([...out, Number(z)]);
    };
    const wire = (schemaId: number, body: Buffer): Buffer =>
      Buffer.concat([Buffer.from([0, 0, 0, 0, schemaId]), body]);
    const longs = [0, -1, 2 ** 52 + 1, -(2 ** 52) - 1, -5.1e15, -(2 ** 53) + 1, 2 ** 53 - 1];
    const batch = [wire(newer, Buffer.concat([varint(1n), Buffer.from([0])]))];
    await reader.prepareBatch?.(batch, 't');
    for (const n of longs) {
      assert.deepEqual(reader.serialize({ n }, 't'), wire(id, varint(BigInt(n))), `encodes ${n}`);
      assert.deepStrictEqual(reader.deserialize(wire(id, varint(BigInt(n))), 't'), { n }, `${n}`);
      // Through a resolver: the writer's schema is a newer version.
      const fromNewer = wire(newer, Buffer.concat([varint(BigInt(n)), varint(3n)]));
      assert.deepStrictEqual(reader.deserialize(fromNewer, 't'), { n }, `${n} from v2`);
    }
    for (const n of [2n ** 53n, -(2n ** 53n), 2n ** 62n])
      assert.throws(() => reader.deserialize(wire(id, varint(n)), 't'), {
        code: 'SERDE_DESERIALIZE_FAILED',
        message: /outside the integers a number holds exactly/,
      });
  });

  it('rejects bytes that are too short, have the wrong magic byte or are corrupt Avro', async () => {
    const registry = new StubRegistry();
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    await serde.init?.('t');
    const good = serde.serialize(observation, 't');
    assert.ok(good !== null);
    const cases = {
      empty: Buffer.alloc(0),
      short: Buffer.from([0, 0, 0]),
      magic: Buffer.from([1, ...good.subarray(1)]),
      json: Buffer.from('{"location":"bergen"}'),
      truncated: good.subarray(0, good.length - 3),
      trailing: Buffer.concat([good, Buffer.from([7])]),
      union: Buffer.from([...good.subarray(0, 5), 2, 0x61, ...Buffer.alloc(17), 6]),
    };
    for (const [what, bytes] of Object.entries(cases)) {
      assert.throws(
        () => serde.deserialize(bytes, 'observations'),
        (error: unknown) =>
          error instanceof TributaryError &&
          error.code === 'SERDE_DESERIALIZE_FAILED' &&
          error.message.includes('avro(Observation) cannot decode a record on topic observations'),
        what,
      );
    }
    assert.throws(() => serde.deserialize(cases.magic, 't'), /magic byte 1, expected 0/);
    assert.throws(() => serde.deserialize(cases.short, 't'), /3 bytes are too short/);
    assert.throws(
      () => serde.deserialize(cases.truncated, 't'),
      /corrupt Avro bytes for schema id 42: truncated buffer/,
    );
  });

  it('fails records naming an unknown schema id with SERDE_UNKNOWN_SCHEMA, and decodes the rest', async () => {
    const registry = new StubRegistry();
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    await serde.init?.('t');
    const good = serde.serialize(observation, 't');
    assert.ok(good !== null);
    const unknown = Buffer.from(good);
    unknown.writeInt32BE(999999, 1);
    await serde.prepareBatch?.([good, unknown], 't');
    assert.deepStrictEqual(serde.deserialize(good, 't'), observation);
    assert.throws(() => serde.deserialize(unknown, 'observations'), {
      code: 'SERDE_UNKNOWN_SCHEMA',
      message:
        'avro(Observation) cannot decode a record on topic observations: it names schema id 999999, which the schema registry at http://registry.test/apis/ccompat/v7 does not know',
    });
    // Remembered: the next batch does not ask again.
    await serde.prepareBatch?.([unknown], 't');
    assert.deepEqual(registry.fetched, [999999]);
  });

  it('fails records whose writer schema cannot be read as the reader schema', async () => {
    const registry = new StubRegistry();
    const other = avro<{ id: number }>({
      registry,
      schema: { type: 'record', name: 'Other', fields: [{ name: 'id', type: 'int' }] },
    });
    await other.init?.('t');
    const bytes = other.serialize({ id: 1 }, 't');
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    await serde.prepareBatch?.([bytes], 't');
    assert.throws(() => serde.deserialize(bytes, 't'), {
      code: 'SERDE_DESERIALIZE_FAILED',
      message:
        /schema id 42: its schema \(Other\) cannot be read as dev.tributary.weather.Observation/,
    });
  });

  it('refuses null unless wrapped in nullable()', async () => {
    const registry = new StubRegistry();
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    assert.equal(
      codeOf(() => serde.deserialize(null, 't')),
      'SERDE_NULL',
    );
    const tombstones = nullable(serde);
    await tombstones.init?.('t');
    assert.equal(tombstones.deserialize(null, 't'), null);
    assert.equal(tombstones.serialize(null, 't'), null);
    assert.deepEqual(registry.registrations, [{ subject: 't-value', compatibility: undefined }]);
  });

  it('refuses to serialize before init, and names the fields of a value that does not match', async () => {
    const registry = new StubRegistry();
    const serde = avro<Observation>({ registry, schema: weatherSchemaFiles.observation });
    assert.throws(() => serde.serialize(observation, 'observations'), {
      code: 'SCHEMA_NOT_LOADED',
      message: /has no schema id for topic observations: init\('observations'\) registers/,
    });
    await serde.init?.('observations');
    const wrong = {
      ...observation,
      time: new Date(observation.time),
      latitude: 'north',
    } as unknown as Observation;
    assert.throws(() => serde.serialize(wrong, 'observations'), {
      code: 'SERDE_SERIALIZE_FAILED',
      message:
        /cannot encode a value as avro\(Observation\) for topic observations: latitude: expected double, got "north"; time: expected long, got "2026-11-21T08:00:00.000Z"/,
    });
  });

  it('retries while the registry is unavailable, then gives up naming the tries', async () => {
    const registry = new StubRegistry();
    registry.unavailableCalls = 2;
    const serde = avro<Observation>({
      registry,
      schema: weatherSchemaFiles.observation,
      retry: noWait,
    });
    await serde.init?.('t');
    assert.equal(registry.registrations.length, 1);

    const reader = avro<Observation>({
      registry,
      schema: weatherSchemaFiles.observation,
      retry: noWait,
    });
    const bytes = serde.serialize(observation, 't');
    registry.unavailableCalls = 3;
    await assert.rejects(reader.prepareBatch?.([bytes], 't') ?? Promise.resolve(), {
      code: 'REGISTRY_UNAVAILABLE',
      retriable: true,
      message: /cannot be reached \(ECONNREFUSED\) \(tried 3 times\)/,
    });
    // The batch is tried again later and succeeds.
    await reader.prepareBatch?.([bytes], 't');
    assert.deepStrictEqual(reader.deserialize(bytes, 't'), observation);
  });

  it('refuses schemas that are not named types or cannot be read', () => {
    const registry = new StubRegistry();
    assert.throws(() => avro({ registry, schema: ['null', 'string'] }), {
      code: 'CONFIG_INVALID',
      message: /must be a named type \(record, enum or fixed\), got union/,
    });
    assert.throws(() => avro({ registry, schema: { type: 'record', name: 'X' } }), {
      code: 'CONFIG_INVALID',
      message: /is not a valid schema: non-array record fields/,
    });
    assert.throws(() => avro({ registry, schema: '/nonexistent/observation.avsc' }), {
      code: 'CONFIG_INVALID',
      message: /cannot read the Avro schema file \/nonexistent\/observation.avsc/,
    });
  });

  it('registers a list of schemas and returns their ids in order', async () => {
    const registry = new StubRegistry();
    const ids = await registerSchemas(registry, [
      { subject: 'obs-value', schema: weatherSchemaFiles.observation, compatibility: 'BACKWARD' },
      { subject: 'hourly-value', schema: weatherSchemaFiles.hourly },
      { subject: 'obs-2-value', schema: weatherSchemaFiles.observation },
    ]);
    assert.deepEqual(ids, [
      { subject: 'obs-value', id: 42 },
      { subject: 'hourly-value', id: 43 },
      { subject: 'obs-2-value', id: 42 },
    ]);
    assert.equal(registry.registrations[0]?.compatibility, 'BACKWARD');
  });
});
