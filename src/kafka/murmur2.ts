/**
 * MurmurHash2 exactly as the Java client computes it (org.apache.kafka.common.utils.Utils.murmur2,
 * seed 0x9747b28c), so a key lands on the same partition whether Java, librdkafka
 * (`partitioner=murmur2_random`) or Tributary produced it. Returns a signed 32-bit int, as Java.
 */
export function murmur2(data: Uint8Array): number {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    // Java assembles each block little-endian from the bytes.
    let k = view.getInt32(i * 4, true);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  // The last 1-3 bytes, as Java's switch with fall-through.
  const tail = length4 * 4;
  const rest = length % 4;
  if (rest >= 3) h ^= view.getUint8(tail + 2) << 16;
  if (rest >= 2) h ^= view.getUint8(tail + 1) << 8;
  if (rest >= 1) {
    h ^= view.getUint8(tail);
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** Java's Utils.toPositive: clears the sign bit (not Math.abs, which differs for MIN_VALUE). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}
