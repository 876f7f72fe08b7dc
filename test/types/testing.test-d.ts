// Type tests of the test driver (`tributary/testing`), compiled by `npm run typecheck`: each
// line marked as an expected error must be one, and every other line must compile. Nothing
// here runs.
import { avro, json, string } from '../../src/serde/index.ts';
import type { SchemaRegistryClient } from '../../src/serde/index.ts';
import { createTestDriver, memorySchemaRegistry } from '../../src/testing/index.ts';
import type { LostState, OutputRecord, TestDriver } from '../../src/testing/index.ts';
import { topology } from '../../src/topology/index.ts';

interface Reading {
  sensor: string;
  celsius: number;
}

// The in-memory registry is a registry client: avro() takes it as it takes the HTTP one.
const registry: SchemaRegistryClient = memorySchemaRegistry();
const value = avro<Reading>({ registry, schema: { type: 'record', name: 'R', fields: [] } });

const t = topology('types-testing');
t.stream('in', { key: string(), value }).to('out', { key: string(), value: json<Reading>() });
declare const driver: TestDriver;
void createTestDriver(t.build(), { partitions: 2, batchSize: 10, commit: 'manual' });

// Given serdes type the records piped and read.
const input = driver.input('in', { key: string(), value: json<Reading>() });
input.pipe('s1', { sensor: 's1', celsius: 20 }, { timestamp: 1000 });
// @ts-expect-error the value must be a Reading
input.pipe('s1', { sensor: 's1' });
// @ts-expect-error the key must be a string
input.pipe(1, { sensor: 's1', celsius: 20 });
const out: OutputRecord<string, Reading>[] = driver
  .output('out', { key: string(), value: json<Reading>() })
  .readAll();
// @ts-expect-error the values read are Readings
const numbers: number[] = driver
  .output('out', { key: string(), value: json<Reading>() })
  .readValues();
// Without serdes, the topology's own are used and the types are stated.
driver.input<string, Reading>('in').pipe('s2', { sensor: 's2', celsius: 1 });
// @ts-expect-error stated types are checked too
driver.input<string, Reading>('in').pipe('s2', 1);

// @ts-expect-error commit is 'batch' or 'manual'
void createTestDriver(t.build(), { commit: 'always' });

export async function restarted(): Promise<LostState[]> {
  await driver.flush();
  driver.commit();
  return driver.restart();
}
void out;
void numbers;
