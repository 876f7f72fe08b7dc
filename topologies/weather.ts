// The weather pipeline: Open-Meteo style observations (Avro, schema registry) -> per location,
// hourly and daily aggregates -> Avro topics and the Cassandra tables analytics.weather_hourly
// and analytics.weather_daily.
//
//   tributary describe topologies/weather.ts
//   tributary run topologies/weather.ts          # one worker; start several
//
// Topics: WEATHER_OBSERVATIONS_TOPIC (default `weather-observations`) in;
// WEATHER_HOURLY_TOPIC and WEATHER_DAILY_TOPIC (`weather-hourly`, `weather-daily`) out.
// Cassandra: WEATHER_KEYSPACE (default `analytics`), WEATHER_REPLICATION_FACTOR (default 1).
// A location's windows close when that location's own event time passes their end plus the
// grace (30 minutes for hours, 2 hours for days): time: 'key', so a backfill read location by
// location, or a station whose clock runs ahead, never makes another location's data late.
// WEATHER_IDLE_TIMEOUT_MS (default: unset, never) also closes a location's windows after that
// much wall-clock time without observations of it; leave it unset when replaying history, or a
// pause (a Cassandra outage) would close every open window at once.
import { avro, days, hours, minutes, string, topology, tumbling } from 'tributary';
import type { Stream, TopologyContext, Windowed } from 'tributary';
import { cassandraSink } from 'tributary/connectors/cassandra';
// The demo's own types and schema files (not part of the package's API).
import { weatherSchemaFiles } from 'tributary/connectors/open-meteo';
import type { Observation, WeatherAggregate } from 'tributary/connectors/open-meteo';
import { weatherAggregator } from './weather-aggregate.ts';
import type { WeatherStats } from './weather-aggregate.ts';

const env = (name: string, fallback: string): string => process.env[name] || fallback;

export default function weather({ registry, cassandra }: TopologyContext) {
  const observations = env('WEATHER_OBSERVATIONS_TOPIC', 'weather-observations');
  const hourlyTopic = env('WEATHER_HOURLY_TOPIC', 'weather-hourly');
  const dailyTopic = env('WEATHER_DAILY_TOPIC', 'weather-daily');
  const keyspace = env('WEATHER_KEYSPACE', 'analytics');
  const replication = {
    class: 'SimpleStrategy',
    replication_factor: Number(env('WEATHER_REPLICATION_FACTOR', '1')),
  };
  const idle = process.env['WEATHER_IDLE_TIMEOUT_MS'];
  const idleTimeoutMs = idle === undefined || idle === '' ? undefined : Number(idle);

  const t = topology('weather');
  const source = t.stream(
    observations,
    {
      key: string(),
      value: avro<Observation>({
        registry,
        schema: weatherSchemaFiles.observation,
        compatibility: 'BACKWARD',
      }),
    },
    { name: 'observations', timestamp: (value) => value.time },
  );

  // An observation delivered twice (the HTTP source republishing a batch after a crash, two
  // sources overlapping) counts once: each location's observation times are remembered for 26
  // hours of that location's own event time, the daily window's size + grace, as long as any
  // window an observation counts in stays open. Hourly observations: 26 entries per location.
  const observationsOnce = source.dedup({
    store: 'seen-observations',
    name: 'dedup',
    retentionMs: days(1) + hours(2),
  });

  const toAggregate = (w: Windowed<string, WeatherStats>): WeatherAggregate => ({
    location: w.key,
    window_start: w.start,
    window_end: w.end,
    ...w.value,
  });
  const columns = {
    location: 'text',
    window_start: 'timestamp',
    window_end: 'timestamp',
    count: 'int',
    temperature_min: 'double',
    temperature_max: 'double',
    temperature_mean: 'double',
    humidity_mean: 'double',
    precipitation_total: 'double',
    wind_speed_max: 'double',
  };
  const row = (_key: string, a: WeatherAggregate) => ({
    ...a,
    window_start: new Date(a.window_start),
    window_end: new Date(a.window_end),
  });
  const output = (
    stream: Stream<string, Windowed<string, WeatherStats>>,
    name: 'hourly' | 'daily',
    topic: string,
  ): void => {
    const aggregates = stream.mapValues(toAggregate, { name: `${name}-record` });
    aggregates.to(
      topic,
      {
        key: string(),
        value: avro<WeatherAggregate>({
          registry,
          schema: weatherSchemaFiles[name],
          compatibility: 'BACKWARD',
        }),
      },
      { name: `to-${name}-topic` },
    );
    aggregates.sinkTo(
      cassandraSink({
        client: cassandra,
        table: {
          keyspace,
          table: `weather_${name}`,
          columns,
          // One partition per location, its windows in time order: an upsert per (location, window).
          primaryKey: '((location), window_start)',
          replication,
        },
        row,
      }),
      { name: `to-${name}-table` },
    );
  };

  output(
    observationsOnce
      .groupByKey()
      .windowedBy(tumbling(hours(1), { grace: minutes(30) }))
      .aggregate(weatherAggregator, {
        store: 'hourly',
        name: 'hourly',
        time: 'key',
        ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
      }),
    'hourly',
    hourlyTopic,
  );
  output(
    observationsOnce
      .groupByKey()
      .windowedBy(tumbling(days(1), { grace: hours(2) }))
      .aggregate(weatherAggregator, {
        store: 'daily',
        name: 'daily',
        time: 'key',
        ...(idleTimeoutMs === undefined ? {} : { idleTimeoutMs }),
      }),
    'daily',
    dailyTopic,
  );
  return t.build();
}
