import { createAPI, crc32c, produceV11, Writer } from '@platformatic/kafka';
import type { Producer } from '@platformatic/kafka';

import { overrideApi } from './api-lookup.ts';
import type { LibraryApi } from './api-lookup.ts';

/**
 * Our encoder of Produce requests (v11, the highest @platformatic/kafka 2.12 implements and the
 * one it picks against Kafka 4.x), used in place of the library's by both of the adapter's
 * producers (`useOwnProduceEncoder`).
 *
 * Why: the library builds every record in a Writer of its own (a DynamicBuffer of one small
 * Buffer per field), appends those lists into one per record batch, concatenates the batch once
 * for its CRC and the whole request once more for the socket. Profiled on W1 this per-record
 * encoding and the garbage it leaves were the largest cost the adapter adds. This encoder sizes
 * each record batch first and writes it into one Buffer, so a request is a few Buffers whatever
 * its record count: the library's Writer then only prefixes the request header.
 *
 * The bytes are the library's (checked byte for byte in test/unit/produce-request.test.ts) with
 * one difference: a record's timestamp delta is zigzag-encoded over 64 bits, where the library's
 * shift of 31 bits writes a record 2^31 ms (24.8 days) or more from its batch's first one with
 * a wrong timestamp (producer.ts, `maxTimestampDeltaMs`, keeps splitting such sends so that the
 * library's encoder, still used for compressed sends, stays right).
 */

/** One message as the library hands it to the Produce API. */
export interface ProduceMessage {
  topic: string;
  partition?: number;
  key?: Buffer | null;
  value?: Buffer | null;
  headers?: Map<Buffer, Buffer | null | undefined>;
  timestamp?: bigint;
}

/** The options the library passes with each Produce request. */
export interface ProduceOptions {
  compression?: string;
  producerId?: bigint;
  producerEpoch?: number;
  sequences?: { getWithDefault(key: string, fallback: number): number };
  transactionalId?: string;
  partitionLeaderEpoch?: number;
}

const magic = 2;
const transactionalAttribute = 1 << 4;
/** From the batch length's end to the first record: leader epoch ... record count. */
const batchHeaderBytes = 4 + 1 + 4 + 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** From the attributes (where the CRC starts) to the first record. */
const crcHeaderBytes = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

/** Bytes of an unsigned varint holding `value` (0 <= value < 2^53). */
function unsignedVarIntSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(value / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** Zigzag of a signed integer (|value| < 2^52), as a non-negative number. */
function zigzag(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

/** Writes an unsigned varint at `at`; returns the offset after it. */
function writeUnsignedVarInt(buffer: Buffer, at: number, value: number): number {
  while (value >= 0x80000000) {
    buffer[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  while (value >= 0x80) {
    buffer[at++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  buffer[at++] = value;
  return at;
}

/** Bytes of a varint-length-prefixed field: -1 for null, else its length then its bytes. */
function bytesFieldSize(value: Buffer | null | undefined): number {
  if (value == null) return 1;
  return unsignedVarIntSize(value.length * 2) + value.length;
}

function writeBytesField(buffer: Buffer, at: number, value: Buffer | null | undefined): number {
  if (value == null) {
    buffer[at] = 1; // zigzag(-1)
    return at + 1;
  }
  at = writeUnsignedVarInt(buffer, at, value.length * 2);
  value.copy(buffer, at);
  return at + value.length;
}

/**
 * One record batch (magic 2, uncompressed) of a partition's messages, in one Buffer: base
 * offset 0, then its length, leader epoch, magic, CRC-32C, and the records.
 */
export function encodeRecordBatch(
  messages: ProduceMessage[],
  options: ProduceOptions,
  now: bigint = BigInt(Date.now()),
): Buffer {
  const count = messages.length;
  const first = messages[0] as ProduceMessage;
  const firstTimestamp = first.timestamp ?? now;
  const firstMs = Number(firstTimestamp);
  let maxTimestamp = firstTimestamp;
  // Pass 1: each record's body size (after its length varint), its timestamp delta's zigzag.
  const bodies = new Array<number>(count);
  const deltas = new Array<number>(count);
  let recordsBytes = 0;
  for (let i = 0; i < count; i++) {
    const message = messages[i] as ProduceMessage;
    const timestamp = message.timestamp ?? now;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    const delta = zigzag(Number(timestamp) - firstMs);
    deltas[i] = delta;
    let body =
      1 +
      unsignedVarIntSize(delta) +
      unsignedVarIntSize(i * 2) +
      bytesFieldSize(message.key) +
      bytesFieldSize(message.value);
    const headers = message.headers;
    const headerCount = headers === undefined ? 0 : headers.size;
    body += unsignedVarIntSize(headerCount * 2);
    if (headerCount > 0)
      for (const [name, value] of headers as Map<Buffer, Buffer | null | undefined>)
        body += bytesFieldSize(name) + bytesFieldSize(value);
    bodies[i] = body;
    recordsBytes += unsignedVarIntSize(body * 2) + body;
  }
  const batchLength = batchHeaderBytes + recordsBytes;
  const buffer = Buffer.allocUnsafe(12 + batchLength);
  buffer.writeBigInt64BE(0n, 0); // base offset
  buffer.writeInt32BE(batchLength, 8);
  buffer.writeInt32BE(options.partitionLeaderEpoch ?? 0, 12);
  buffer.writeInt8(magic, 16);
  // CRC at 17, written last.
  buffer.writeInt16BE(options.transactionalId ? transactionalAttribute : 0, 21);
  buffer.writeInt32BE(count - 1, 23); // last offset delta
  buffer.writeBigInt64BE(firstTimestamp, 27);
  buffer.writeBigInt64BE(maxTimestamp, 35);
  buffer.writeBigInt64BE(options.producerId ?? -1n, 43);
  buffer.writeInt16BE(options.producerEpoch ?? 0, 51);
  const sequence =
    options.sequences?.getWithDefault(`${first.topic}:${first.partition ?? 0}`, 0) ?? 0;
  buffer.writeInt32BE(sequence, 53);
  buffer.writeInt32BE(count, 57);
  // Pass 2: the records.
  let at = 61;
  for (let i = 0; i < count; i++) {
    const message = messages[i] as ProduceMessage;
    at = writeUnsignedVarInt(buffer, at, (bodies[i] as number) * 2);
    buffer[at++] = 0; // attributes
    at = writeUnsignedVarInt(buffer, at, deltas[i] as number);
    at = writeUnsignedVarInt(buffer, at, i * 2);
    at = writeBytesField(buffer, at, message.key);
    at = writeBytesField(buffer, at, message.value);
    const headers = message.headers;
    const headerCount = headers === undefined ? 0 : headers.size;
    at = writeUnsignedVarInt(buffer, at, headerCount * 2);
    if (headerCount > 0)
      for (const [name, value] of headers as Map<Buffer, Buffer | null | undefined>) {
        at = writeBytesField(buffer, at, name);
        at = writeBytesField(buffer, at, value);
      }
  }
  if (at !== buffer.length) throw new Error(`record batch sized ${buffer.length}, written ${at}`);
  buffer.writeUInt32BE(crc32c(buffer.subarray(21, 21 + crcHeaderBytes + recordsBytes)), 17);
  return buffer;
}

/** A compact string (v9+): its length + 1 as an unsigned varint, then its UTF-8 bytes. */
function compactString(writer: Writer, value: string | null | undefined): void {
  if (value == null) {
    writer.appendUnsignedVarInt(0);
    return;
  }
  const bytes = Buffer.from(value, 'utf-8');
  writer.appendUnsignedVarInt(bytes.length + 1);
  if (bytes.length > 0) writer.append(bytes);
}

/** The library's grouping (`groupByProperty`), so partitions go in the same order. */
function groupBy<K extends 'topic' | 'partition'>(
  messages: ProduceMessage[],
  property: K,
): [string, ProduceMessage[]][] {
  const buckets: Record<string, ProduceMessage[]> = Object.create(null);
  for (const message of messages) (buckets[String(message[property] ?? 0)] ??= []).push(message);
  return Object.entries(buckets);
}

/**
 * The Produce v11 request: transactional id, acks, timeout, then per topic and partition one
 * record batch as COMPACT_RECORDS, with the empty tagged-field sections of a flexible version.
 */
export function createProduceRequestV11(
  acks: number,
  timeout: number,
  messages: ProduceMessage[],
  options: ProduceOptions = {},
): Writer {
  const now = BigInt(Date.now());
  const writer = Writer.create();
  compactString(writer, options.transactionalId);
  writer.appendInt16(acks).appendInt32(timeout);
  const topics = groupBy(messages, 'topic');
  writer.appendUnsignedVarInt(topics.length + 1);
  for (const [topic, inTopic] of topics) {
    compactString(writer, topic);
    const partitions = groupBy(inTopic, 'partition');
    writer.appendUnsignedVarInt(partitions.length + 1);
    for (const [partition, inPartition] of partitions) {
      const batch = encodeRecordBatch(inPartition, options, now);
      writer
        .appendInt32(Number(partition))
        .appendUnsignedVarInt(batch.length + 1)
        .append(batch);
      writer.appendTaggedFields();
    }
    writer.appendTaggedFields();
  }
  writer.appendTaggedFields();
  if (acks === 0) writer.context.noResponse = true;
  return writer;
}

/** Produce v11 with our request encoder; the library's response parser. */
const ownProduceV11 = createAPI(
  0,
  11,
  (acks: number, timeout: number, messages: ProduceMessage[], options: ProduceOptions) =>
    // Compressed sends (a setting we do not expose) keep the library's encoder.
    options?.compression !== undefined && options.compression !== 'none'
      ? (produceV11.createRequest as (...a: unknown[]) => Writer)(acks, timeout, messages, options)
      : createProduceRequestV11(acks, timeout, messages, options),
  produceV11.parseResponse,
) as unknown as LibraryApi;

/**
 * Makes a producer of the library send its Produce requests through our encoder when the
 * version it picks is v11; any other version keeps the library's.
 */
export function useOwnProduceEncoder(producer: Producer<Buffer, Buffer, Buffer, Buffer>): void {
  overrideApi(producer, 'Produce', (api) => (api.version === 11 ? ownProduceV11 : api));
}
