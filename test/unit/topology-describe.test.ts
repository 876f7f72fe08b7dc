import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { json, string } from '../../src/serde/index.ts';
import { topology } from '../../src/topology/index.ts';
import type { Topology } from '../../src/topology/index.ts';

interface Reading {
  station: string;
  ok: boolean;
  celsius: number;
}

const readingSerdes = { key: string(), value: json<Reading>() };

function linear(): Topology {
  const t = topology('weather');
  t.stream('readings', readingSerdes, { name: 'readings' })
    .filter((_key, value) => value.ok, { name: 'only-ok', onError: 'skip' })
    .mapValues((value) => value.celsius)
    .to('celsius', { key: string(), value: json<number>() });
  return t.build();
}

/** Two source topics merged, branched, and one branch re-keyed through a repartition topic. */
function branched(): Topology {
  const t = topology('weather');
  const readings = t.stream('readings', readingSerdes, { name: 'readings' });
  const forecasts = t.stream('forecasts', readingSerdes, { name: 'forecasts' });
  const [hot, rest] = readings
    .merge(forecasts, { name: 'all' })
    .branch([(_key, value) => value.celsius > 30, () => true], { name: 'split' });
  hot
    .keyBy((_key, value) => value.station, { name: 'by-station', ...readingSerdes })
    .to('hot.by-station', readingSerdes, { name: 'hot-out' });
  rest.peek(() => {}, { name: 'log' });
  return t.build();
}

const lines = (...text: string[]): string => text.join('\n');

describe('describe()', () => {
  it('describes a linear topology as text', () => {
    assert.equal(
      linear().describe().text,
      lines(
        'Topology: weather',
        '  Sub-topology 0',
        '    Source: readings (topics: readings)',
        '      --> only-ok',
        '    Processor: only-ok (filter)',
        '      --> map-values-2',
        '      <-- readings',
        '    Processor: map-values-2 (mapValues)',
        '      --> sink-3',
        '      <-- only-ok',
        '    Sink: sink-3 (topic: celsius)',
        '      <-- map-values-2',
        'Topics read: readings',
        'Topics written: celsius',
        'Internal topics: weather-dlq (dead letters)',
      ),
    );
  });

  it('describes merge, branch and repartition as text', () => {
    assert.equal(
      branched().describe().text,
      lines(
        'Topology: weather',
        '  Sub-topology 0',
        '    Source: readings (topics: readings)',
        '      --> all',
        '    Source: forecasts (topics: forecasts)',
        '      --> all',
        '    Processor: all (merge)',
        '      --> split',
        '      <-- readings, forecasts',
        '    Processor: split (branch)',
        '      --> split-0, split-1',
        '      <-- all',
        '    Processor: split-0 (merge)',
        '      --> by-station',
        '      <-- split',
        '    Processor: split-1 (merge)',
        '      --> log',
        '      <-- split',
        '    Processor: by-station (selectKey)',
        '      --> by-station-repartition-sink',
        '      <-- split-0',
        '    Sink: by-station-repartition-sink (topic: weather-by-station-repartition)',
        '      <-- by-station',
        '    Processor: log (peek)',
        '      --> none',
        '      <-- split-1',
        '  Sub-topology 1',
        '    Source: by-station-repartition-source (topics: weather-by-station-repartition)',
        '      --> hot-out',
        '    Sink: hot-out (topic: hot.by-station)',
        '      <-- by-station-repartition-source',
        'Topics read: readings, forecasts',
        'Topics written: hot.by-station',
        'Internal topics: weather-by-station-repartition (repartition), weather-dlq (dead letters)',
      ),
    );
  });

  it('draws a linear topology as a Mermaid flowchart', () => {
    assert.equal(
      linear().describe().mermaid,
      lines(
        'flowchart LR',
        '  topic_readings[("readings")]',
        '  topic_celsius[("celsius")]',
        '  subgraph sub0["Sub-topology 0"]',
        '    op_readings["readings<br/>source"]',
        '    op_only_ok["only-ok<br/>filter"]',
        '    op_map_values_2["map-values-2<br/>mapValues"]',
        '    op_sink_3["sink-3<br/>sink"]',
        '  end',
        '  topic_readings --> op_readings',
        '  op_readings --> op_only_ok',
        '  op_only_ok --> op_map_values_2',
        '  op_map_values_2 --> op_sink_3',
        '  op_sink_3 --> topic_celsius',
      ),
    );
  });

  it('draws each sub-topology as a subgraph joined through the repartition topic', () => {
    assert.equal(
      branched().describe().mermaid,
      lines(
        'flowchart LR',
        '  topic_readings[("readings")]',
        '  topic_forecasts[("forecasts")]',
        '  topic_weather_by_station_repartition[("weather-by-station-repartition")]',
        '  topic_hot_by_station[("hot.by-station")]',
        '  subgraph sub0["Sub-topology 0"]',
        '    op_readings["readings<br/>source"]',
        '    op_forecasts["forecasts<br/>source"]',
        '    op_all["all<br/>merge"]',
        '    op_split["split<br/>branch"]',
        '    op_split_0["split-0<br/>merge"]',
        '    op_split_1["split-1<br/>merge"]',
        '    op_by_station["by-station<br/>selectKey"]',
        '    op_by_station_repartition_sink["by-station-repartition-sink<br/>sink"]',
        '    op_log["log<br/>peek"]',
        '  end',
        '  subgraph sub1["Sub-topology 1"]',
        '    op_by_station_repartition_source["by-station-repartition-source<br/>source"]',
        '    op_hot_out["hot-out<br/>sink"]',
        '  end',
        '  topic_readings --> op_readings',
        '  op_readings --> op_all',
        '  topic_forecasts --> op_forecasts',
        '  op_forecasts --> op_all',
        '  op_all --> op_split',
        '  op_split --> op_split_0',
        '  op_split --> op_split_1',
        '  op_split_0 --> op_by_station',
        '  op_split_1 --> op_log',
        '  op_by_station --> op_by_station_repartition_sink',
        '  op_by_station_repartition_sink --> topic_weather_by_station_repartition',
        '  topic_weather_by_station_repartition --> op_by_station_repartition_source',
        '  op_by_station_repartition_source --> op_hot_out',
        '  op_hot_out --> topic_hot_by_station',
      ),
    );
  });

  it('keeps Mermaid ids apart for names that sanitize alike', () => {
    const t = topology('app');
    t.stream('a.b', readingSerdes, { name: 'a.b' }).peek(() => {}, { name: 'a-b' });
    const { mermaid } = t.build().describe();
    assert.match(mermaid, /op_a_b\["a\.b<br\/>source"\]/);
    assert.match(mermaid, /op_a_b_2\["a-b<br\/>peek"\]/);
    assert.match(mermaid, /op_a_b --> op_a_b_2/);
  });

  it('gives the same output every time', () => {
    assert.deepEqual(branched().describe(), branched().describe());
  });
});
