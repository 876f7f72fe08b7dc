import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';

import { endpoints, uniqueName } from './helpers.ts';

const schema = readFileSync(new URL('../../schemas/observation.avsc', import.meta.url), 'utf8');

describe('Schema registry (real Apicurio, Confluent-compatible API)', () => {
  const registry = new SchemaRegistry({ host: endpoints.registryUrl });

  it('registers an Avro schema, encodes and decodes a record, and reads the schema back by id', async () => {
    const subject = `${uniqueName('it-observations')}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject });
    assert.ok(Number.isInteger(id) && id > 0);

    const observation = {
      location: 'bergen',
      latitude: 60.39,
      longitude: 5.32,
      time: Date.UTC(2026, 10, 21, 8),
      temperature_2m: 4.5,
      relative_humidity_2m: 81,
      precipitation: null,
      wind_speed_10m: 12.3,
    };
    const encoded = await registry.encode(id, observation);
    // Confluent wire format: magic byte 0, then the schema id as a big-endian int32.
    assert.equal(encoded.readUInt8(0), 0);
    assert.equal(encoded.readInt32BE(1), id);

    // A fresh client has no cache: decoding fetches the schema from the registry by id.
    const fresh = new SchemaRegistry({ host: endpoints.registryUrl });
    const decoded = (await fresh.decode(encoded)) as typeof observation;
    assert.deepEqual({ ...decoded, time: new Date(decoded.time).getTime() }, observation);

    const response = await fetch(`${endpoints.registryUrl}/schemas/ids/${id}`);
    assert.equal(response.status, 200);
    const byId = (await response.json()) as { schema: string };
    assert.deepEqual(JSON.parse(byId.schema).name, 'Observation');
    assert.equal(await registry.getLatestSchemaId(subject), id);
  });
});
