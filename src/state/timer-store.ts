import { TributaryError } from '../core/index.ts';
import type { Timer, TimerKind, Timers } from '../core/index.ts';
import type { MemoryStore } from './memory-store.ts';

// The timers of one processor instance, persisted in a store of their own (as Flink keeps
// timers in its state backend), so they are changelogged, checkpointed, restored and committed
// with the task like every store, and survive a kill -9 (docs/decisions/0012).
//
// Layout (byte order is firing order):
//   <kind: 1 byte, 0 event / 1 wall><time: 8 bytes, big-endian><key: UTF-8>  ->  "1"
//   0xff                                                                     ->  stream time, 8 bytes BE
// The stream time is kept so that after a restart event timers fire exactly where they would
// have without it: the task's stream time starts again from the records it reads next, which
// may be older than what it had seen (input out of order), and a timer set below the old stream
// time must still fire at once.

const twoTo32 = 0x1_0000_0000;
const present = Buffer.from('1');
const streamTimeKey = Buffer.from([0xff]);
const kindByte: Record<TimerKind, number> = { event: 0, wall: 1 };

function timeBytes(into: Buffer, at: number, time: number): void {
  into.writeUInt32BE(Math.floor(time / twoTo32), at);
  into.writeUInt32BE(time % twoTo32, at + 4);
}

/** The store key of a timer (see the layout above). */
export function timerKey(kind: TimerKind, time: number, key: string): Buffer {
  const keyLength = Buffer.byteLength(key, 'utf8');
  const storeKey = Buffer.allocUnsafe(9 + keyLength);
  storeKey[0] = kindByte[kind];
  timeBytes(storeKey, 1, time);
  storeKey.write(key, 9, 'utf8');
  return storeKey;
}

function parseTimer(storeKey: Buffer): Timer {
  const kind: TimerKind = storeKey[0] === 0 ? 'event' : 'wall';
  const time = storeKey.readUInt32BE(1) * twoTo32 + storeKey.readUInt32BE(5);
  return { kind, time, key: storeKey.toString('utf8', 9) };
}

/** A processor's timers over its timer store (a MemoryStore of bytes). */
export class TimerStore implements Timers {
  private time: number | undefined;

  constructor(
    private readonly store: MemoryStore<Buffer>,
    /** The operator, for messages. */
    private readonly operator: string,
  ) {}

  get name(): string {
    return this.store.name;
  }

  get streamTime(): number | undefined {
    return this.time;
  }

  /** Reads the stream time back from the (restored) store. */
  restored(): void {
    const data = this.store.get(streamTimeKey);
    this.time =
      data === undefined || data.length !== 8
        ? undefined
        : data.readUInt32BE(0) * twoTo32 + data.readUInt32BE(4);
  }

  /** The task's stream time moved to `time`: kept when it is larger than what the store has. */
  observe(time: number | undefined): void {
    if (time === undefined || (this.time !== undefined && time <= this.time)) return;
    if (!Number.isSafeInteger(time) || time < 0) return;
    this.time = time;
    const data = Buffer.allocUnsafe(8);
    timeBytes(data, 0, time);
    this.store.put(streamTimeKey, data);
  }

  schedule(kind: TimerKind, time: number, key = ''): void {
    this.store.put(this.keyOf(kind, time, key), present);
  }

  cancel(kind: TimerKind, time: number, key = ''): boolean {
    const storeKey = this.keyOf(kind, time, key);
    if (this.store.get(storeKey) === undefined) return false;
    this.store.delete(storeKey);
    return true;
  }

  /** The earliest timer of `kind` with time <= upTo, removed from the store; or undefined. */
  takeDue(kind: TimerKind, upTo: number): Timer | undefined {
    const first = this.store.first(timerKey(kind, 0, ''));
    if (first === undefined) return undefined;
    const [storeKey] = first;
    if (storeKey[0] !== kindByte[kind] || storeKey.length < 9) return undefined;
    const timer = parseTimer(storeKey);
    if (timer.time > upTo) return undefined;
    this.store.delete(storeKey);
    return timer;
  }

  /** Every timer set, in firing order (event timers first). */
  all(): Timer[] {
    return this.store
      .range(timerKey('event', 0, ''), streamTimeKey)
      .filter(([storeKey]) => storeKey.length >= 9)
      .map(([storeKey]) => parseTimer(storeKey));
  }

  private keyOf(kind: TimerKind, time: number, key: string): Buffer {
    if (kind !== 'event' && kind !== 'wall') {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `a timer of operator '${this.operator}' is 'event' or 'wall', got '${String(kind)}'`,
      );
    }
    if (!Number.isSafeInteger(time) || time < 0) {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `a timer of operator '${this.operator}' is set at whole ms since the epoch, got ${time}`,
      );
    }
    if (typeof key !== 'string') {
      throw new TributaryError(
        'OPERATOR_FAILED',
        `a timer key of operator '${this.operator}' is a string, got ${typeof key}`,
      );
    }
    return timerKey(kind, time, key);
  }
}
