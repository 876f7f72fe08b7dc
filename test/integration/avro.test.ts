import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';

import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';

import { TributaryError } from '../../src/core/index.ts';
import { avro, registerSchemas, schemaRegistry } from '../../src/serde/index.ts';
import type { Serde } from '../../src/serde/index.ts';
import { endpoints, uniqueName } from './helpers.ts';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type { Observation } from '../../src/connectors/open-meteo/index.ts';

const registryUrl = endpoints.registryUrl;
/** Apicurio's own API, to see the rules its ccompat API keeps for a subject. */
const nativeUrl = registryUrl.replace(/\/apis\/ccompat\/v7$/, '/apis/registry/v3');

const v1Schema = JSON.parse(readFileSync(weatherSchemaFiles.observation, 'utf8')) as {
  fields: object[];
};
const withField = (field: object) => ({ ...v1Schema, fields: [...v1Schema.fields, field] });
/** The next version: an optional field with a default, a backward-compatible change. */
const v2Schema = withField({ name: 'cloud_cover', type: ['null', 'double'], default: null });
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

/** A loopback port that was free a moment ago, so nothing listens on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function json(url: string): Promise<unknown> {
  const response = await fetch(url);
  assert.ok(response.ok, `${url}: HTTP ${response.status}`);
  return response.json();
}

const subjectUrl = (subject: string): string =>
  `${registryUrl}/subjects/${encodeURIComponent(subject)}`;

function init<T>(serde: Serde<T>, topic: string): Promise<void> {
  assert.ok(serde.init !== undefined);
  return serde.init(topic);
}

async function prepare<T>(serde: Serde<T>, topic: string, data: (Buffer | null)[]): Promise<void> {
  assert.ok(serde.prepareBatch !== undefined);
  await serde.prepareBatch(data, topic);
}

function encode<T>(serde: Serde<T>, value: T, topic: string): Buffer {
  const bytes = serde.serialize(value, topic);
  assert.ok(bytes !== null);
  return bytes;
}

describe('Avro serde against the real schema registry (Apicurio, Confluent-compatible API)', () => {
  const settings = { url: registryUrl };

  it('registers at init under <topic>-value, and a fresh serde decodes once prepareBatch fetched the id', async () => {
    const topic = uniqueName('it-avro-observations');
    const writer = avro<Observation>({
      registry: settings,
      schema: weatherSchemaFiles.observation,
    });
    await init(writer, topic);
    const bytes = encode(writer, observation, topic);
    const id = bytes.readInt32BE(1);
    assert.equal(bytes.readUInt8(0), 0);
    const latest = (await json(`${subjectUrl(`${topic}-value`)}/versions/latest`)) as {
      id: number;
      version: number;
    };
    assert.deepEqual([latest.id, latest.version], [id, 1]);

    // Another process: no cache, so deserialize needs the schema prepareBatch fetches.
    const reader = avro<Observation>({
      registry: schemaRegistry(settings),
      schema: weatherSchemaFiles.observation,
    });
    assert.throws(() => reader.deserialize(bytes, topic), { code: 'SCHEMA_NOT_LOADED' });
    await prepare(reader, topic, [bytes]);
    assert.deepStrictEqual(reader.deserialize(bytes, topic), observation);

    // The bytes are what Confluent's own clients write: the kafkajs registry client reads them.
    const decoded = (await new SchemaRegistry({ host: registryUrl }).decode(bytes)) as Observation;
    assert.deepEqual({ ...decoded, time: new Date(decoded.time).getTime() }, observation);
  });

  it('evolves: v1 and v2 records both decode with the v2 reader and with the v1 reader', async () => {
    const topic = uniqueName('it-avro-evolve');
    const subject = `${topic}-value`;
    const options = { registry: settings, compatibility: 'BACKWARD' } as const;
    const v1 = avro<Observation>({ ...options, schema: weatherSchemaFiles.observation });
    const v2 = avro<ObservationV2>({ ...options, schema: v2Schema });
    await init(v1, topic);
    await init(v2, topic);
    assert.deepEqual(await json(`${subjectUrl(subject)}/versions`), [1, 2]);
    assert.deepEqual(await json(`${registryUrl}/config/${subject}`), {
      compatibilityLevel: 'BACKWARD',
    });
    const fromV1 = encode(v1, observation, topic);
    const fromV2 = encode(v2, { ...observation, cloud_cover: 62.5 }, topic);
    assert.notEqual(fromV1.readInt32BE(1), fromV2.readInt32BE(1));

    const readerV1 = avro<Observation>({ registry: settings, schema: v1Schema });
    const readerV2 = avro<ObservationV2>({ registry: settings, schema: v2Schema });
    await prepare(readerV1, topic, [fromV1, fromV2]);
    await prepare(readerV2, topic, [fromV1, fromV2]);
    assert.deepStrictEqual(readerV2.deserialize(fromV1, topic), {
      ...observation,
      cloud_cover: null,
    });
    assert.deepStrictEqual(readerV2.deserialize(fromV2, topic), {
      ...observation,
      cloud_cover: 62.5,
    });
    assert.deepStrictEqual(readerV1.deserialize(fromV1, topic), observation);
    assert.deepStrictEqual(readerV1.deserialize(fromV2, topic), observation);
  });

  it('registers a new subject from several workers starting at once (the registry answers 409 to all but one setting its level)', async () => {
    const subject = `${uniqueName('it-avro-race')}-value`;
    const schema = readFileSync(weatherSchemaFiles.observation, 'utf8');
    // Separate clients, as separate worker processes have: nothing shared but the registry.
    const ids = await Promise.all(
      Array.from({ length: 6 }, () =>
        schemaRegistry({ url: registryUrl }).register(subject, schema, 'BACKWARD'),
      ),
    );
    assert.equal(new Set(ids).size, 1, `one schema id for all: ${ids.join(', ')}`);
    const config = (await json(`${registryUrl}/config/${encodeURIComponent(subject)}`)) as {
      compatibilityLevel: string;
    };
    assert.equal(config.compatibilityLevel, 'BACKWARD');
  });

  it('stops init with SCHEMA_INCOMPATIBLE, naming the subject and the reason, on an incompatible change', async () => {
    const topic = uniqueName('it-avro-incompatible');
    const subject = `${topic}-value`;
    const options = { registry: settings, compatibility: 'BACKWARD' } as const;
    await init(avro({ ...options, schema: weatherSchemaFiles.observation }), topic);

    const requiredField = withField({ name: 'station', type: 'string' });
    const retyped = {
      ...v1Schema,
      fields: v1Schema.fields.map((f) =>
        (f as { name: string }).name === 'latitude' ? { name: 'latitude', type: 'string' } : f,
      ),
    };
    for (const [what, schema, reason] of [
      ['a new field without a default', requiredField, /station/],
      ['a field of another type', retyped, /latitude|fields\/1/],
    ] as const) {
      await assert.rejects(init(avro({ ...options, schema }), topic), (error: unknown) => {
        assert.ok(error instanceof TributaryError, what);
        assert.equal(error.code, 'SCHEMA_INCOMPATIBLE', what);
        assert.equal(error.retriable, false);
        assert.match(error.message, new RegExp(`subject ${subject} `), what);
        assert.match(error.message, /compatibility BACKWARD/, what);
        assert.match(error.message, /Incompatible artifact/, what);
        assert.match(error.message, reason, what);
        return true;
      });
    }
    assert.deepEqual(await json(`${subjectUrl(subject)}/versions`), [1]);
  });

  it("without a compatibility option leaves the subject to the registry's default (none on Apicurio)", async () => {
    const topic = uniqueName('it-avro-default');
    const subject = `${topic}-value`;
    await init(avro({ registry: settings, schema: weatherSchemaFiles.observation }), topic);
    // No rule was set on the subject (the kafkajs client alone would have set BACKWARD)...
    assert.deepEqual(await json(`${nativeUrl}/groups/default/artifacts/${subject}/rules`), []);
    // ...so Apicurio, whose global default is no compatibility check, accepts any change.
    const incompatible = withField({ name: 'station', type: 'string' });
    await init(avro({ registry: settings, schema: incompatible }), topic);
    assert.deepEqual(await json(`${subjectUrl(subject)}/versions`), [1, 2]);
  });

  it('fails a record naming an unknown schema id with SERDE_UNKNOWN_SCHEMA and corrupt bytes with SERDE_DESERIALIZE_FAILED', async () => {
    const topic = uniqueName('it-avro-bad');
    const writer = avro<Observation>({
      registry: settings,
      schema: weatherSchemaFiles.observation,
    });
    await init(writer, topic);
    const good = encode(writer, observation, topic);
    const unknownId = 999999;
    assert.equal((await fetch(`${registryUrl}/schemas/ids/${unknownId}`)).status, 404);
    const unknown = Buffer.from(good);
    unknown.writeInt32BE(unknownId, 1);
    const corrupt = good.subarray(0, good.length - 4);
    const wrongMagic = Buffer.from([1, ...good.subarray(1)]);

    const reader = avro<Observation>({
      registry: settings,
      schema: weatherSchemaFiles.observation,
    });
    await prepare(reader, topic, [good, unknown, corrupt, wrongMagic, null]);
    assert.deepStrictEqual(reader.deserialize(good, topic), observation);
    assert.throws(() => reader.deserialize(unknown, topic), {
      code: 'SERDE_UNKNOWN_SCHEMA',
      message: new RegExp(
        `topic ${topic}: it names schema id ${unknownId}, which the schema registry at ${registryUrl} does not know`,
      ),
    });
    assert.throws(() => reader.deserialize(corrupt, topic), {
      code: 'SERDE_DESERIALIZE_FAILED',
      message: /corrupt Avro bytes for schema id \d+: truncated buffer/,
    });
    assert.throws(() => reader.deserialize(wrongMagic, topic), {
      code: 'SERDE_DESERIALIZE_FAILED',
      message: /magic byte 1, expected 0/,
    });
    assert.throws(() => reader.deserialize(null, topic), { code: 'SERDE_NULL' });
  });

  it('names the URL when the registry cannot be reached, as a retriable REGISTRY_UNAVAILABLE', async () => {
    // A loopback port nothing listens on: the connection is refused at once.
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const retry = { attempts: 2, initialDelayMs: 10 };
    const serde = avro<Observation>({
      registry: { url, auth: { username: 'tributary', password: 'registry-secret' } },
      schema: weatherSchemaFiles.observation,
      retry,
    });
    const check = (error: unknown): boolean => {
      assert.ok(error instanceof TributaryError);
      assert.equal(error.code, 'REGISTRY_UNAVAILABLE');
      assert.equal(error.retriable, true);
      assert.ok(
        error.message.startsWith(`schema registry at ${url} cannot be reached (`),
        error.message,
      );
      assert.match(error.message, /ECONNREFUSED/);
      assert.match(error.message, /\(tried 2 times\)$/);
      assert.doesNotMatch(error.message, /registry-secret/);
      return true;
    };
    await assert.rejects(init(serde, 'observations'), check);

    // While running: prepareBatch throws (the batch is retried), through the client library.
    const header = Buffer.from([0, 0, 0, 0, 7, 0]);
    await assert.rejects(prepare(serde, 'observations', [header]), (error: unknown) => {
      check(error);
      assert.match((error as Error).message, /while fetching schema id 7/);
      return true;
    });
  });

  it('registers a list of schemas for a command and returns their ids', async () => {
    const prefix = uniqueName('it-avro-register');
    const subjects = {
      observations: `${prefix}-observations-value`,
      hourly: `${prefix}-hourly-value`,
      daily: `${prefix}-daily-value`,
    };
    const ids = await registerSchemas(settings, [
      { subject: subjects.observations, schema: weatherSchemaFiles.observation },
      { subject: subjects.hourly, schema: weatherSchemaFiles.hourly, compatibility: 'BACKWARD' },
      { subject: subjects.daily, schema: weatherSchemaFiles.daily, compatibility: 'BACKWARD' },
    ]);
    assert.deepEqual(
      ids.map((r) => r.subject),
      Object.values(subjects),
    );
    for (const { subject, id } of ids) {
      const latest = (await json(`${subjectUrl(subject)}/versions/latest`)) as { id: number };
      assert.equal(latest.id, id, subject);
    }
    // The same schema again keeps its id: registering is idempotent.
    const again = await registerSchemas(schemaRegistry(settings), [
      { subject: subjects.hourly, schema: weatherSchemaFiles.hourly },
    ]);
    assert.deepEqual(again, [ids[1]]);
  });
});
