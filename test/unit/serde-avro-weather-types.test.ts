import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';

import avsc from 'avsc';
import { weatherSchemaFiles } from '../../src/connectors/open-meteo/index.ts';
import type {
  Observation,
  WeatherDaily,
  WeatherHourly,
} from '../../src/connectors/open-meteo/index.ts';

interface AvscRecord {
  name: string;
  namespace: string;
  fields: { name: string; type: unknown; default?: unknown }[];
}

const readSchema = (file: URL): AvscRecord => JSON.parse(readFileSync(file, 'utf8')) as AvscRecord;

// Samples typed with Required<T>: the compiler refuses a missing field and an extra one, so their
// keys are exactly the type's fields. One with every measure set, and one typed NullWhereAllowed<T>
// where each field the type lets be null must be null, so its nulls are exactly T's nullable fields.
type NullWhereAllowed<T> = { [K in keyof T]-?: null extends T[K] ? null : T[K] };

const observation: Required<Observation> = {
  location: 'bergen',
  latitude: 60.39,
  longitude: 5.32,
  time: Date.UTC(2026, 10, 21, 8),
  temperature_2m: 4.5,
  relative_humidity_2m: 81,
  precipitation: 0.2,
  wind_speed_10m: 12.3,
};
const observationNulls: NullWhereAllowed<Observation> = {
  ...observation,
  temperature_2m: null,
  relative_humidity_2m: null,
  precipitation: null,
  wind_speed_10m: null,
};
const hourly: Required<WeatherHourly> = {
  location: 'bergen',
  window_start: Date.UTC(2026, 10, 21, 8),
  window_end: Date.UTC(2026, 10, 21, 9),
  count: 4,
  temperature_min: 3.9,
  temperature_max: 4.8,
  temperature_mean: 4.4,
  humidity_mean: 80.5,
  precipitation_total: 1.2,
  wind_speed_max: 15,
};
const hourlyNulls: NullWhereAllowed<WeatherHourly> = {
  ...hourly,
  temperature_min: null,
  temperature_max: null,
  temperature_mean: null,
  humidity_mean: null,
  precipitation_total: null,
  wind_speed_max: null,
};
const daily: Required<WeatherDaily> = {
  ...hourly,
  window_start: Date.UTC(2026, 10, 21),
  window_end: Date.UTC(2026, 10, 22),
  count: 24,
};
const dailyNulls: NullWhereAllowed<WeatherDaily> = { ...hourlyNulls, count: 0 };

const cases = [
  {
    file: weatherSchemaFiles.observation,
    record: 'Observation',
    samples: [observation, observationNulls],
  },
  { file: weatherSchemaFiles.hourly, record: 'WeatherHourly', samples: [hourly, hourlyNulls] },
  { file: weatherSchemaFiles.daily, record: 'WeatherDaily', samples: [daily, dailyNulls] },
];

const isNullable = (type: unknown): boolean => Array.isArray(type) && type.includes('null');

describe('weather schemas and their TypeScript types', () => {
  for (const { file, record, samples } of cases) {
    it(`${record}: the TypeScript type has exactly the fields of ${file.pathname.split('/').pop()}`, () => {
      const schema = readSchema(file);
      assert.equal(schema.name, record);
      assert.equal(schema.namespace, 'dev.tributary.weather');
      const type = avsc.Type.forSchema(schema as unknown as avsc.schema.RecordType);
      for (const sample of samples) {
        assert.deepEqual(Object.keys(sample).sort(), schema.fields.map((f) => f.name).sort());
        // The values the TypeScript type allows are values of the schema...
        const errors: string[] = [];
        type.isValid(sample, { errorHook: (path) => errors.push(path.join('.')) });
        assert.deepEqual(errors, [], `fields not matching the schema: ${errors.join(', ')}`);
        // ...and survive an Avro round trip unchanged.
        assert.deepEqual({ ...type.fromBuffer(type.toBuffer(sample)) }, sample);
      }
      // A field is `number | null` in TypeScript exactly where the schema allows null.
      const nullSample = samples[1] as Record<string, unknown>;
      for (const field of schema.fields) {
        assert.equal(
          nullSample[field.name] === null,
          isNullable(field.type),
          `${record}.${field.name}: nullable in the schema and in the TypeScript type alike`,
        );
        if (isNullable(field.type)) assert.equal(field.default, null, `${field.name} default`);
      }
    });
  }

  it('hourly and daily aggregates have the same fields', () => {
    const names = (file: URL): string[] => readSchema(file).fields.map((f) => JSON.stringify(f));
    assert.deepEqual(names(weatherSchemaFiles.hourly), names(weatherSchemaFiles.daily));
  });

  it('window bounds and observation times are timestamp-millis longs', () => {
    const logical = (file: URL, field: string): unknown =>
      readSchema(file).fields.find((f) => f.name === field)?.type;
    const millis = { type: 'long', logicalType: 'timestamp-millis' };
    assert.deepEqual(logical(weatherSchemaFiles.observation, 'time'), millis);
    for (const file of [weatherSchemaFiles.hourly, weatherSchemaFiles.daily]) {
      assert.deepEqual(logical(file, 'window_start'), millis);
      assert.deepEqual(logical(file, 'window_end'), millis);
    }
  });
});
