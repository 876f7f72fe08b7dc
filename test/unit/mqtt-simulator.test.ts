import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyMessage, wildcardKey } from '../../src/connectors/mqtt/index.ts';
import { sensorIds, sensorMessages, simulatedKinds } from '../../tools/mqtt-sensors/index.ts';
import type { HistoricalRunOptions, SimulatedMessage } from '../../tools/mqtt-sensors/index.ts';

const minute = 60_000;
const start = Date.UTC(2026, 5, 1, 0, 0);
const twoHours: HistoricalRunOptions = {
  sensors: 100,
  seed: 7,
  history: { start, intervalMs: minute },
  durationSeconds: 2 * 3600,
};

const run = (options: HistoricalRunOptions): SimulatedMessage[] => [...sensorMessages(options)];

describe('sensor simulator messages', () => {
  it('are the same for the same seed and differ for another', () => {
    const a = run(twoHours);
    const b = run(twoHours);
    assert.deepEqual(
      a.map((m) => m.payload.toString('hex')),
      b.map((m) => m.payload.toString('hex')),
    );
    const c = run({ ...twoHours, seed: 8 });
    assert.notDeepEqual(
      a.slice(0, 50).map((m) => m.payload.toString()),
      c.slice(0, 50).map((m) => m.payload.toString()),
    );
  });

  it('give every sensor one reading slot per interval, in rising time order', () => {
    const messages = run(twoHours);
    const slots = messages.filter((m) => m.kind !== 'duplicate');
    assert.equal(slots.length, 100 * 120);
    const perSensor = new Map<string, number[]>();
    for (const m of slots)
      perSensor.set(m.sensorId, [...(perSensor.get(m.sensorId) ?? []), m.timestamp]);
    assert.deepEqual([...perSensor.keys()].sort(), sensorIds(100));
    for (const times of perSensor.values()) {
      assert.equal(times.length, 120);
      assert.deepEqual(
        times.slice(1).map((t, i) => t - (times[i] ?? 0)),
        Array<number>(119).fill(minute),
      );
      const first = times[0] ?? -1;
      assert.ok(first >= start && first < start + minute);
    }
    const stamps = slots.map((m) => m.timestamp);
    assert.deepEqual(
      stamps,
      [...stamps].sort((a, b) => a - b),
      'timestamps never go back',
    );
    assert.deepEqual(
      messages.map((m) => m.index),
      messages.map((_, i) => i),
    );
    assert.ok(messages.every((m) => m.topic === `sensors/${m.sensorId}/data`));
  });

  it('stop after count slots, the last duplicate included', () => {
    const { durationSeconds: _whole, ...withoutDuration } = twoHours;
    const messages = run({ ...withoutDuration, count: 250 });
    assert.equal(messages.filter((m) => m.kind !== 'duplicate').length, 250);
  });

  it('carry plausible readings with a daily cycle, and spikes of 999 or -273', () => {
    const day = run({ ...twoHours, durationSeconds: 24 * 3600, spikeShare: 0.01 });
    const readings = day.filter((m) => m.kind === 'reading');
    for (const { reading, payload } of readings) {
      assert.ok(reading !== undefined);
      assert.deepEqual(JSON.parse(payload.toString()), reading);
      assert.ok(reading.temperature > -10 && reading.temperature < 45, `${reading.temperature}`);
      assert.ok(reading.humidity >= 0 && reading.humidity <= 100, `${reading.humidity}`);
    }
    const spikes = day.filter((m) => m.kind === 'spike');
    assert.ok(spikes.length > 50, `${spikes.length} spikes`);
    assert.ok(
      spikes.every((m) => m.reading?.temperature === 999 || m.reading?.temperature === -273),
    );
    // Warmer in the afternoon than before dawn, for the fleet as a whole.
    const meanAt = (hour: number): number => {
      const at = readings.filter((m) => new Date(m.timestamp).getUTCHours() === hour);
      return at.reduce((sum, m) => sum + (m.reading?.temperature ?? 0), 0) / at.length;
    };
    assert.ok(meanAt(15) - meanAt(3) > 4, `15:00 ${meanAt(15)}, 03:00 ${meanAt(3)}`);
  });

  it('send a duplicate right after the original: same sensor, same timestamp, same bytes', () => {
    const messages = run(twoHours);
    const duplicates = messages.filter((m) => m.kind === 'duplicate');
    assert.ok(duplicates.length > 20 && duplicates.length < 120, `${duplicates.length}`);
    for (const dup of duplicates) {
      const original = messages[dup.index - 1];
      assert.equal(original?.sensorId, dup.sensorId);
      assert.equal(original?.timestamp, dup.timestamp);
      assert.deepEqual(original?.payload, dup.payload);
    }
  });

  it('include about badShare bad payloads of every kind, which the source classifies as meant', () => {
    const messages = run({ ...twoHours, durationSeconds: 10 * 3600, badShare: 0.02 });
    const slots = messages.filter((m) => m.kind !== 'duplicate').length;
    const bad = messages.filter((m) => m.reading === undefined);
    assert.ok(Math.abs(bad.length / slots - 0.02) < 0.005, `bad share ${bad.length / slots}`);
    const key = wildcardKey(['sensors/+/data']);
    const toDeadLetter = new Set(['not-json', 'not-utf8', 'not-object']);
    // Only readings and spikes are sent twice.
    assert.ok(
      messages.every((m) => m.kind !== 'duplicate' || m.reading !== undefined),
      'no bad payload is duplicated',
    );
    for (const kind of simulatedKinds) {
      const ofKind = messages.filter((m) => m.kind === kind);
      assert.ok(ofKind.length > 0, `some ${kind}`);
      for (const m of ofKind) {
        const classified = classifyMessage(m.topic, m.payload, key);
        assert.equal(
          classified.kind,
          toDeadLetter.has(kind) ? 'malformed' : 'record',
          `${kind}: ${m.payload.toString()}`,
        );
        if (classified.kind === 'record') assert.equal(classified.key, m.sensorId);
      }
    }
    const missing = messages.filter((m) => m.kind === 'missing-field');
    assert.ok(
      missing.every((m) => {
        const fields = Object.keys(JSON.parse(m.payload.toString()) as object);
        return fields.length === 3 && fields.includes('sensorId');
      }),
    );
    const wrong = messages.filter((m) => m.kind === 'wrong-type');
    assert.ok(
      wrong.every(
        (m) =>
          typeof (JSON.parse(m.payload.toString()) as { temperature: unknown }).temperature ===
          'string',
      ),
    );
  });

  it('refuses options it cannot use', () => {
    assert.throws(() => run({ ...twoHours, sensors: 0 }), /sensors must be/);
    assert.throws(() => run({ ...twoHours, badShare: 2 }), /badShare must be in \[0, 1\]/);
    assert.throws(() => run({ ...twoHours, topicPrefix: 'a/+' }), /topicPrefix/);
    assert.throws(
      () => run({ sensors: 1, history: { start, intervalMs: minute } }),
      /needs count or durationSeconds/,
    );
  });
});
