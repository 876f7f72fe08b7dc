/**
 * The Confluent wire format: a magic byte 0, the schema id as a big-endian int32, then the
 * Avro binary encoding of the value (no Avro container header).
 *
 *   +------+----------------+------------------+
 *   | 0x00 | schema id (BE) | Avro binary ...  |
 *   +------+----------------+------------------+
 *     1 B        4 B
 */
export const magicByte = 0;
export const headerLength = 5;

export function encodeWire(schemaId: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(headerLength + payload.length);
  out.writeUInt8(magicByte, 0);
  out.writeInt32BE(schemaId, 1);
  payload.copy(out, headerLength);
  return out;
}

/** What the header says, or why it is not one. */
export type WireHeader =
  { ok: true; schemaId: number; payload: Buffer } | { ok: false; reason: string };

export function readWireHeader(data: Buffer): WireHeader {
  if (data.length < headerLength) {
    return {
      ok: false,
      reason: `${data.length} bytes are too short for the Confluent wire format (magic byte and 4-byte schema id)`,
    };
  }
  const magic = data.readUInt8(0);
  if (magic !== magicByte) {
    return {
      ok: false,
      reason: `magic byte ${magic}, expected ${magicByte}: not the Confluent wire format`,
    };
  }
  return { ok: true, schemaId: data.readInt32BE(1), payload: data.subarray(headerLength) };
}
