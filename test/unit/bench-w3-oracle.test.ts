// W3's input and output check (bench/compare/w3-data.ts): a join that drops, doubles or
// mis-enriches readings must score nothing, so the checker itself is tested.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { epoch, sensorsFor } from '../../bench/compare/data.ts';
import { compareW3, meta, metaLine, w3Line, w3Reading } from '../../bench/compare/w3-data.ts';
import type { W3Output } from '../../bench/compare/w3-data.ts';

describe('W3 benchmark oracle', () => {
  const total = 20_000;
  const sensors = sensorsFor(total);
  // Independent of the module's joiner: the enrichment written out from the spec.
  const joined = (i: number): W3Output => {
    const r = w3Reading(i, total);
    const m = meta(i % sensors);
    return { ...r, temperature: r.temperature + m.calibrationOffset, location: m.location };
  };
  const right = Array.from({ length: total }, (_, i) => joined(i));

  it('gives every reading a sensor with a row and a unique timestamp', () => {
    const ids = new Set<string>();
    for (let k = 0; k < sensors; k++) ids.add(metaLine(k).split('\t')[0] ?? '');
    assert.equal(ids.size, sensors);
    const stamps = new Set<number>();
    for (let i = 0; i < total; i++) {
      const [key, ts, value] = w3Line(i, total).split('\t');
      assert.ok(ids.has(key ?? ''), `reading ${i} has no metadata row`);
      const r = JSON.parse(value ?? '') as { sensorId: string; timestamp: number };
      assert.equal(r.sensorId, key);
      assert.equal(r.timestamp, Number(ts));
      stamps.add(r.timestamp);
    }
    assert.equal(stamps.size, total);
    // Metadata is stamped before every reading.
    assert.ok(Number(metaLine(0).split('\t')[1]) < epoch);
    // Offsets vary, so a join that ignores the table cannot pass.
    assert.ok(
      new Set(Array.from({ length: sensors }, (_, k) => meta(k).calibrationOffset)).size > 50,
    );
  });

  it('accepts the right output, also after a JSON round trip', () => {
    assert.deepEqual(compareW3(right, total), []);
    const roundTrip = right.map((v) => JSON.parse(JSON.stringify(v)) as W3Output);
    assert.deepEqual(compareW3(roundTrip.reverse(), total), []);
  });

  it('finds missing, doubled, extra and mis-enriched readings', () => {
    assert.match(compareW3(right.slice(1), total).join(), /1 readings missing/);
    assert.match(
      compareW3([...right, right[5] as W3Output], total).join(),
      /1 readings output more than once/,
    );
    const extra = { ...joined(0), timestamp: epoch + total * 100 };
    assert.match(compareW3([...right, extra], total).join(), /1 records not in the input/);
    const uncalibrated = right.map((v, i) =>
      i === 7 ? { ...v, temperature: w3Reading(7, total).temperature } : v,
    );
    assert.match(compareW3(uncalibrated, total).join(), /reading 7:/);
    const elsewhere = right.map((v, i) =>
      i === 9 ? { ...v, location: meta((9 + 1) % sensors).location } : v,
    );
    assert.match(compareW3(elsewhere, total).join(), /reading 9:/);
  });
});
