// Window math and the layout of window store keys, for the aggregate operator. The DSL
// (src/topology) validated the window: whole positive sizes, advance <= size, grace >= 0.

/** The windows of an aggregation, as the plan holds them (structurally, without the DSL). */
export type WindowSpec =
  | { readonly type: 'tumbling'; readonly sizeMs: number; readonly graceMs: number }
  | {
      readonly type: 'hopping';
      readonly sizeMs: number;
      readonly advanceMs: number;
      readonly graceMs: number;
    }
  | { readonly type: 'session'; readonly gapMs: number; readonly graceMs: number };

/**
 * The starts of the time windows `[start, start + size)` that contain `timestamp`, ascending:
 * multiples of `advance` (of `size` for tumbling windows). As in Kafka Streams, no window starts
 * before the epoch.
 */
export function windowStarts(timestamp: number, sizeMs: number, advanceMs: number): number[] {
  const last = timestamp - (timestamp % advanceMs);
  const first = Math.max(0, (Math.floor((timestamp - sizeMs) / advanceMs) + 1) * advanceMs);
  const starts: number[] = [];
  for (let start = first; start <= last; start += advanceMs) starts.push(start);
  return starts;
}

const twoTo32 = 0x1_0000_0000;

/**
 * A window's store key: the encoded grouping key, then the window start as an 8-byte big-endian
 * unsigned integer (ms since the epoch). Written as two 32-bit halves: starts are safe integers
 * >= 0, and this avoids a BigInt per record.
 */
export function windowKey(keyBytes: Buffer, start: number): Buffer {
  const key = Buffer.allocUnsafe(keyBytes.length + 8);
  keyBytes.copy(key, 0);
  key.writeUInt32BE(Math.floor(start / twoTo32), keyBytes.length);
  key.writeUInt32BE(start % twoTo32, keyBytes.length + 4);
  return key;
}

/** The grouping key and window start of a window store key. */
export function parseWindowKey(storeKey: Buffer): { keyBytes: Buffer; start: number } {
  const at = storeKey.length - 8;
  if (at < 0)
    throw new RangeError(`a window store key has at least 8 bytes, got ${storeKey.length}`);
  const start = storeKey.readUInt32BE(at) * twoTo32 + storeKey.readUInt32BE(at + 4);
  return { keyBytes: storeKey.subarray(0, at), start };
}

/** A time for messages: ISO 8601 where it is a date, else the number. */
export function isoTime(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
