// Type tests of the package's entries (docs/api.md), compiled by `npm run typecheck` through
// tsconfig.json's `paths` (the same names a user imports): each line marked as an expected error
// must be one, and every other line must compile. Nothing here runs.
import { json, string, topology, TributaryError } from 'tributary';
import type { Processor, ProcessorContext, StreamRecord, TopologyContext } from 'tributary';
import { cassandraSink } from 'tributary/connectors/cassandra';
import { createMqttSource } from 'tributary/connectors/mqtt';
import { createPollSource } from 'tributary/connectors/open-meteo';
import { predict } from 'tributary/models';
import { createTestDriver, ManualClock } from 'tributary/testing';

// Internals are not exported from any entry.
// @ts-expect-error PlanNode is internal
import type { PlanNode as _PlanNode } from 'tributary';
// @ts-expect-error Task is internal
import type { Task as _Task } from 'tributary';
// @ts-expect-error murmur2 is internal
import { murmur2 as _murmur2 } from 'tributary';
// @ts-expect-error the layer indexes are not entries
import type { AnySerde as _AnySerde } from 'tributary/topology';
// @ts-expect-error the trainers are a tool, not part of tributary/models
import { fitLinear as _fitLinear } from 'tributary/models';
// @ts-expect-error the replay server is a tool, not part of the Open-Meteo connector
import { startReplayServer as _startReplayServer } from 'tributary/connectors/open-meteo';

// A custom processor written against the public types only.
const upper: Processor<string, string, string, string> = {
  process(record: StreamRecord<string, string>, context: ProcessorContext<string, string>) {
    context.forward({ ...record, value: record.value.toUpperCase() });
  },
};

export function build(context: TopologyContext) {
  const t = topology('types-public-api');
  t.stream('in', { key: string(), value: string() })
    .process(() => upper, { name: 'upper' })
    .to('out', { key: string(), value: json<string>() });
  void context.settings;
  return t.build();
}

void [cassandraSink, createMqttSource, createPollSource, predict, createTestDriver, ManualClock];
void new TributaryError('CONFIG_INVALID', 'x');
