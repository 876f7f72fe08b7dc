// The pure parts of `tributary dlq`: reading a dead letter back, the filters, the summary and
// its text, and the record a replay writes. Dead letters are made by the runtime's own writer.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import {
  formatReplayReport,
  formatSummary,
  matches,
  preview,
  readDeadLetter,
  replayRecord,
  SummaryBuilder,
} from '../../src/app/index.ts';
import type { DeadLetter, DeadLetterFilter, ReplayReport } from '../../src/app/index.ts';
import { filterFrom, timeBound } from '../../src/cli/commands/dlq.ts';
import { TributaryError } from '../../src/core/index.ts';
import type { FetchedRecord } from '../../src/kafka/index.ts';
import { deadLetter } from '../../src/runtime/dead-letter.ts';

const base = Date.UTC(2026, 2, 1);

interface Made {
  letter: DeadLetter;
  input: FetchedRecord;
  sourceTopic: string;
  sourcePartition: number;
  code: string;
  operator: string;
}

/** A dead letter as the runtime writes it, then as the dead-letter topic hands it back. */
function made(n: number, code: string, operator: string, sourceTopic = 'readings'): Made {
  const input: FetchedRecord = {
    key: Buffer.from(`k-${n}`),
    value: Buffer.from(JSON.stringify({ n })),
    timestamp: base + n * 60_000,
    headers: { 'trace-id': `t-${n}`, bin: Buffer.from([0, n, 0xff]) },
    offset: String(100 + n),
  };
  const sourcePartition = n % 3;
  const out = deadLetter(
    'app-dlq',
    input,
    { topic: sourceTopic, partition: sourcePartition, offset: input.offset },
    operator,
    { code, message: `failure ${n}` },
  );
  const fetched: FetchedRecord = {
    key: out.key,
    value: out.value,
    // The dead-letter topic stamps its own append time.
    timestamp: base + 10 * 86_400_000 + n,
    // Kafka hands every header back as bytes.
    headers: Object.fromEntries(
      Object.entries(out.headers).map(([k, v]) => [k, v === undefined ? v : Buffer.from(v)]),
    ),
    offset: String(n),
  };
  return {
    letter: readDeadLetter(n % 2, fetched),
    input,
    sourceTopic,
    sourcePartition,
    code,
    operator,
  };
}

function bare(partition: number, offset: string, headers: FetchedRecord['headers']): DeadLetter {
  return readDeadLetter(partition, {
    key: null,
    value: Buffer.from('x'),
    timestamp: base,
    headers,
    offset,
  });
}

describe('dead letters read back', () => {
  it('finds what the runtime wrote: reason, code, operator, message and the source position', () => {
    const { letter } = made(4, 'LATE_RECORD', 'hourly');
    assert.equal(letter.code, 'LATE_RECORD');
    assert.equal(letter.reason, 'late');
    assert.equal(letter.operator, 'hourly');
    assert.equal(letter.message, 'failure 4');
    assert.equal(letter.sourceTopic, 'readings');
    assert.equal(letter.sourcePartition, 1);
    assert.equal(letter.sourceOffset, '104');
    assert.equal(letter.sourceTimestamp, base + 4 * 60_000);
    assert.equal(letter.appendTime, base + 10 * 86_400_000 + 4);
    assert.equal(letter.partition, 0);
    assert.equal(letter.offset, '4');
  });

  it('leaves undefined what a letter lacks or cannot be read as a number', () => {
    const letter = bare(0, '1', {
      'tributary.error.code': 'X',
      'tributary.source.timestamp': 'yesterday',
    });
    assert.equal(letter.sourceTimestamp, undefined);
    assert.equal(letter.sourceTopic, undefined);
    assert.equal(letter.operator, undefined);
  });

  it('replays the original record: key, value, own headers (binary too) and timestamp', () => {
    for (const [n, code] of [
      [1, 'SERDE_DESERIALIZE_FAILED'],
      [5, 'LATE_RECORD'],
    ] as const) {
      const { letter, input } = made(n, code, 'op');
      const record = replayRecord(letter, 'app-dlq', 'readings', 2);
      assert.deepEqual(record, {
        topic: 'readings',
        key: input.key,
        value: input.value,
        timestamp: input.timestamp,
        partition: 2,
        headers: {
          'trace-id': Buffer.from(`t-${n}`),
          bin: Buffer.from([0, n, 0xff]),
          'tributary.replay.of': `app-dlq:${n % 2}:${n}`,
        },
      });
      assert.equal('partition' in replayRecord(letter, 'app-dlq', 'other', undefined), false);
    }
  });
});

describe('dead-letter filters', () => {
  const letters = [
    made(0, 'LATE_RECORD', 'hourly'),
    made(1, 'LATE_RECORD', 'daily'),
    made(2, 'SERDE_DESERIALIZE_FAILED', 'readings'),
    made(3, 'OPERATOR_FAILED', 'to-fahrenheit', 'other-topic'),
    made(4, 'LATE_RECORD', 'hourly', 'other-topic'),
  ];
  const timeless = bare(0, '9', { 'tributary.error.code': 'LATE_RECORD' });
  const taken = (filter: DeadLetterFilter): number[] =>
    letters.filter((m) => matches(m.letter, filter)).map((m) => Number(m.letter.offset));

  it('takes any of the codes, operators, reasons and source topics given, all together', () => {
    assert.deepEqual(taken({}), [0, 1, 2, 3, 4]);
    assert.deepEqual(taken({ codes: ['LATE_RECORD'] }), [0, 1, 4]);
    assert.deepEqual(taken({ codes: ['LATE_RECORD', 'OPERATOR_FAILED'] }), [0, 1, 3, 4]);
    assert.deepEqual(taken({ operators: ['hourly'] }), [0, 4]);
    assert.deepEqual(taken({ reasons: ['invalid', 'failed'] }), [2, 3]);
    assert.deepEqual(taken({ sourceTopics: ['other-topic'] }), [3, 4]);
    assert.deepEqual(taken({ codes: ['LATE_RECORD'], sourceTopics: ['readings'] }), [0, 1]);
    assert.deepEqual(taken({ codes: ['NOPE'] }), []);
  });

  it('takes source times from `from` (inclusive) to `to` (exclusive), never a letter without one', () => {
    assert.deepEqual(taken({ from: base + 60_000 }), [1, 2, 3, 4]);
    assert.deepEqual(taken({ to: base + 3 * 60_000 }), [0, 1, 2]);
    assert.deepEqual(taken({ from: base + 60_000, to: base + 3 * 60_000 }), [1, 2]);
    assert.equal(matches(timeless, {}), true);
    assert.equal(matches(timeless, { codes: ['LATE_RECORD'] }), true);
    assert.equal(matches(timeless, { from: 0 }), false);
    assert.equal(matches(timeless, { to: base * 2 }), false);
  });

  it('reads its bounds from the command line: ISO 8601 or milliseconds, from before to', () => {
    assert.equal(timeBound('2026-03-01T00:00:00Z'), base);
    assert.equal(timeBound(String(base)), base);
    assert.throws(() => timeBound('yesterday'), /ISO 8601/);
    assert.deepEqual(filterFrom({ code: ['A', 'B'], from: 1, to: 2 }), {
      codes: ['A', 'B'],
      from: 1,
      to: 2,
    });
    assert.throws(
      () => filterFrom({ from: 2, to: 2 }),
      (e: unknown) => e instanceof TributaryError && e.code === 'CONFIG_INVALID',
    );
  });
});

describe('dead-letter summary', () => {
  const codes = ['LATE_RECORD', 'SERDE_DESERIALIZE_FAILED', 'OPERATOR_FAILED'];
  const operators = ['hourly', 'readings', 'to-fahrenheit'];
  // 23 letters: codes in a rotation that gives them unequal counts.
  const all = Array.from({ length: 23 }, (_, n) => {
    const i = n % 5 === 0 ? 2 : n % 2;
    return made(n, codes[i] ?? '', operators[i] ?? '', n % 4 === 0 ? 'other' : 'readings');
  });
  const handmade = bare(1, '99', { 'tributary.error.code': 'HANDMADE' });

  it('counts by code, operator, reason and source topic, largest first, with time ranges and samples', () => {
    const builder = new SummaryBuilder('app-dlq', { sourceTopics: ['readings', 'other'] }, 2);
    for (const m of all) builder.add(m.letter);
    builder.add(handmade);
    const s = builder.finish(2);
    const count = (name: (m: Made) => string): Map<string, number> => {
      const counts = new Map<string, number>();
      for (const m of all) counts.set(name(m), (counts.get(name(m)) ?? 0) + 1);
      return counts;
    };
    const sortedEntries = (c: Map<string, number>) =>
      [...c].sort(([a, x], [b, y]) => y - x || a.localeCompare(b));
    assert.equal(s.read, all.length + 1);
    assert.equal(
      s.selected,
      all.length,
      'the filter on source topics leaves the hand-made letter out',
    );
    assert.deepEqual(Object.entries(s.byCode), sortedEntries(count((m) => m.code)));
    assert.deepEqual(Object.entries(s.byOperator), sortedEntries(count((m) => m.operator)));
    assert.deepEqual(Object.entries(s.bySourceTopic), sortedEntries(count((m) => m.sourceTopic)));
    const reasons = count((m) =>
      m.code === 'LATE_RECORD' ? 'late' : m.code.startsWith('SERDE_') ? 'invalid' : 'failed',
    );
    assert.deepEqual(Object.entries(s.byReason), sortedEntries(reasons));
    assert.deepEqual(s.sourceTime, {
      first: new Date(base).toISOString(),
      last: new Date(base + 22 * 60_000).toISOString(),
    });
    assert.deepEqual(s.appendTime, {
      first: new Date(base + 10 * 86_400_000).toISOString(),
      last: new Date(base + 10 * 86_400_000 + 22).toISOString(),
    });
    assert.equal(s.notReplayable, 0);
    assert.deepEqual(Object.keys(s.samples), Object.keys(s.byCode));
    for (const [code, samples] of Object.entries(s.samples)) {
      const first = all.filter((m) => m.code === code).slice(0, 2);
      assert.deepEqual(
        samples.map((x) => [x.letter, x.key, x.sourceOffset, x.value]),
        first.map((m) => [
          `${m.letter.partition}:${m.letter.offset}`,
          m.input.key?.toString(),
          m.input.offset,
          m.input.value?.toString(),
        ]),
      );
    }
  });

  it('counts letters without a code, operator or source under (none), and as not replayable', () => {
    const builder = new SummaryBuilder('app-dlq', {}, 3);
    builder.add(handmade);
    builder.add(bare(0, '5', {}));
    const s = builder.finish(2);
    assert.deepEqual(s.byCode, { '(none)': 1, HANDMADE: 1 });
    assert.deepEqual(s.byOperator, { '(none)': 2 });
    assert.equal(s.notReplayable, 2);
    assert.equal(s.sourceTime, null);
  });

  it('prints the counts and samples as text', () => {
    const builder = new SummaryBuilder('app-dlq', { codes: ['LATE_RECORD'] }, 1);
    for (const m of all) builder.add(m.letter);
    const s = builder.finish(2);
    const late = all.filter((m) => m.code === 'LATE_RECORD').length;
    const text = formatSummary(s);
    assert.match(
      text,
      new RegExp(
        `^dead-letter topic app-dlq: 23 letters in 2 partitions, ${late} selected \\(code LATE_RECORD\\)$`,
        'm',
      ),
    );
    assert.match(text, new RegExp(`^ +${late} {2}LATE_RECORD$`, 'm'));
    assert.match(text, new RegExp(`^samples of LATE_RECORD \\(1 of ${late}\\)$`, 'm'));
    const first = all.find((m) => m.code === 'LATE_RECORD');
    assert.match(text, new RegExp(`^ {6}hourly: failure ${first?.letter.offset}$`, 'm'));
    assert.match(
      text,
      new RegExp(`^ {6}value \\{"n":${first?.letter.offset}\\} \\(7 bytes\\)$`, 'm'),
    );
    assert.doesNotMatch(text, /SERDE/);
  });
});

describe('dead-letter text', () => {
  it('escapes control characters a message quotes from binary input', () => {
    const builder = new SummaryBuilder('app-dlq', {}, 1);
    builder.add(
      bare(0, '1', {
        'tributary.error.code': 'SERDE_DESERIALIZE_FAILED',
        'tributary.error.operator': 'readings',
        'tributary.error.message': 'bad \u0000 byte\nhere',
      }),
    );
    const text = formatSummary(builder.finish(1));
    assert.match(text, /^ {6}readings: bad \\u0000 byte\\u000ahere$/m);
    assert.equal(text.includes('\u0000'), false, 'no raw NUL');
  });
});

describe('replay report', () => {
  it('says what was replayed, by code and target, and what was skipped and why', () => {
    const report: ReplayReport = {
      topic: 'app-dlq',
      ledger: 'app-dlq-replayed',
      dryRun: false,
      read: 10,
      filters: {},
      selected: 9,
      replayed: 5,
      byCode: { LATE_RECORD: 4, SERDE_NULL: 1 },
      byTarget: { readings: 5 },
      alreadyReplayed: 3,
      notReplayable: 1,
      missingHeaders: { 'tributary.source.timestamp': 1 },
      targetMissing: {},
    };
    const text = formatReplayReport(report);
    assert.equal(
      text,
      [
        'dead-letter topic app-dlq: 10 letters read, 9 selected',
        'replayed: 5',
        '  by code',
        '    4  LATE_RECORD',
        '    1  SERDE_NULL',
        '  by target topic',
        '    5  readings',
        'skipped, already replayed (ledger app-dlq-replayed): 3',
        'skipped, headers missing: 1',
        '    1  tributary.source.timestamp',
        '',
      ].join('\n'),
    );
    assert.match(formatReplayReport({ ...report, dryRun: true }), /^would replay: 5$/m);
  });
});

describe('preview of bytes', () => {
  it('shows text as it is, cut to its length, and binary as hex', () => {
    assert.equal(preview(null, 10), null);
    assert.equal(preview(Buffer.from('hello'), 10), 'hello');
    assert.equal(preview(Buffer.from('hello world'), 5), 'hello…');
    assert.equal(preview(Buffer.from('é'.repeat(30)), 4), 'éééé…');
    assert.equal(preview(Buffer.from([0xff, 0x00, 0x10]), 10), '0xff0010');
    assert.equal(preview(Buffer.from('a\u0000b'), 10), '0x610062');
    assert.equal(preview(Buffer.alloc(40, 0xfe), 8), '0xfefefefe…');
  });
});
