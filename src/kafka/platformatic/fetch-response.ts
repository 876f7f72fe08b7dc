import {
  createAPI,
  fetchV17,
  Reader,
  readKnownTaggedFields,
  readRecordsBatch,
  ResponseError,
} from '@platformatic/kafka';
import type { Consumer, RecordsBatch } from '@platformatic/kafka';

import { overrideApi } from './api-lookup.ts';
import type { LibraryApi } from './api-lookup.ts';

/**
 * Our decoder of Fetch responses (v17, what @platformatic/kafka 2.12 picks against Kafka 4.x),
 * used in place of the library's by the adapter's fetcher (`useOwnFetchDecoder`).
 *
 * Why: the library reads every record field through its DynamicBuffer reader (a lookup of the
 * chunk holding each offset), makes a BigInt of every record's timestamp delta and an object per
 * header list; for W1 and a restore that was most of what fetching costs besides the socket.
 * This decoder reads each partition's record batches from one Buffer with plain offsets, and
 * keeps offsets and timestamps as numbers below the batch (a batch's first offset and producer
 * id stay BigInts, as the library's filter of aborted transactions compares them). The response's
 * other fields are read as the library reads them. Compressed batches (the adapter's producers
 * do not compress, other producers may) are handed to the library's reader.
 */

/** One record as decoded: numbers relative to its batch, key and value slices of the response. */
export interface FetchedBatchRecord {
  offsetDelta: number;
  timestampDelta: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: [Buffer, Buffer | null][];
}

/** One record batch: what the fetcher and the filters of aborted transactions read. */
export interface FetchedRecordBatch {
  firstOffset: bigint;
  lastOffsetDelta: number;
  attributes: number;
  producerId: bigint;
  producerEpoch: number;
  firstTimestamp: number;
  maxTimestamp: number;
  records: FetchedBatchRecord[];
}

/** First offset (8) and length (4): a batch's length counts from after them. */
const batchHead = 12;
/** Bits 0-2 of a batch's attributes: its compression. */
const compressionBits = 0x07;

/** A cursor over one Buffer. */
interface Cursor {
  at: number;
}

/** An unsigned varint as a number (up to 2^53). */
function readUnsignedVarInt(buffer: Buffer, cursor: Cursor): number {
  let byte = buffer[cursor.at++] as number;
  let value = byte & 0x7f;
  if (byte < 0x80) return value;
  let shift = 7;
  while (shift < 28) {
    byte = buffer[cursor.at++] as number;
    value |= (byte & 0x7f) << shift;
    if (byte < 0x80) return value >>> 0;
    shift += 7;
  }
  // Past 28 bits: multiply, as bit operations are 32-bit.
  value >>>= 0;
  let scale = 2 ** 28;
  do {
    if (cursor.at >= buffer.length) throw new RangeError('varint past the end of its buffer');
    byte = buffer[cursor.at++] as number;
    value += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return value;
}

/** A zigzag varint (or varlong within 2^53) as a signed number. */
function readVarInt(buffer: Buffer, cursor: Cursor): number {
  const raw = readUnsignedVarInt(buffer, cursor);
  return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
}

/** A varint-length-prefixed byte field: null for length -1, else a slice (no copy). */
function readBytes(buffer: Buffer, cursor: Cursor): Buffer | null {
  const length = readVarInt(buffer, cursor);
  if (length < 0) return null;
  const start = cursor.at;
  cursor.at += length;
  if (cursor.at > buffer.length) throw new RangeError('record field past the end of its batch');
  return buffer.subarray(start, cursor.at);
}

/** A batch as the library reads it (a compressed one, or any below Fetch v17), in our shape. */
export function fromLibraryBatch(batch: RecordsBatch): FetchedRecordBatch {
  return {
    firstOffset: batch.firstOffset,
    lastOffsetDelta: batch.lastOffsetDelta,
    attributes: batch.attributes,
    producerId: batch.producerId,
    producerEpoch: batch.producerEpoch,
    firstTimestamp: Number(batch.firstTimestamp),
    maxTimestamp: Number(batch.maxTimestamp),
    records: batch.records.map((r) => ({
      offsetDelta: r.offsetDelta,
      timestampDelta: Number(r.timestampDelta),
      key: r.key ?? null,
      value: r.value ?? null,
      headers: r.headers.map(([k, v]) => [k, v ?? null] as [Buffer, Buffer | null]),
    })),
  };
}

/**
 * The whole record batches (magic 2) in `buffer`, in order: a batch cut short at the end (a
 * fetch's size limit falls inside it) is left out, as the library and the Java consumer do.
 */
export function readRecordBatches(buffer: Buffer): FetchedRecordBatch[] {
  const batches: FetchedRecordBatch[] = [];
  let start = 0;
  while (buffer.length - start >= batchHead) {
    const length = buffer.readInt32BE(start + 8);
    const end = start + batchHead + length;
    if (end > buffer.length) break;
    const attributes = buffer.readInt16BE(start + 21);
    if ((attributes & compressionBits) !== 0) {
      batches.push(fromLibraryBatch(readRecordsBatch(Reader.from(buffer.subarray(start, end)))));
      start = end;
      continue;
    }
    const firstTimestamp =
      buffer.readInt32BE(start + 27) * 2 ** 32 + buffer.readUInt32BE(start + 31);
    const count = buffer.readInt32BE(start + 57);
    const records = new Array<FetchedBatchRecord>(count);
    const cursor = { at: start + 61 };
    for (let i = 0; i < count; i++) {
      const recordLength = readVarInt(buffer, cursor);
      const recordEnd = cursor.at + recordLength;
      cursor.at++; // attributes, unused
      const timestampDelta = readVarInt(buffer, cursor);
      const offsetDelta = readVarInt(buffer, cursor);
      const key = readBytes(buffer, cursor);
      const value = readBytes(buffer, cursor);
      const headerCount = readVarInt(buffer, cursor);
      const headers = new Array<[Buffer, Buffer | null]>(Math.max(0, headerCount));
      for (let h = 0; h < headerCount; h++)
        headers[h] = [readBytes(buffer, cursor) ?? Buffer.alloc(0), readBytes(buffer, cursor)];
      if (cursor.at !== recordEnd)
        throw new RangeError(
          `a record of ${recordLength} bytes read as ${cursor.at - recordEnd + recordLength}`,
        );
      records[i] = { offsetDelta, timestampDelta, key, value, headers };
    }
    if (cursor.at !== end) throw new RangeError('a record batch read past or short of its length');
    batches.push({
      firstOffset: buffer.readBigInt64BE(start),
      lastOffsetDelta: buffer.readInt32BE(start + 23),
      attributes,
      producerId: buffer.readBigInt64BE(start + 43),
      producerEpoch: buffer.readInt16BE(start + 51),
      firstTimestamp,
      maxTimestamp: buffer.readInt32BE(start + 35) * 2 ** 32 + buffer.readUInt32BE(start + 39),
      records,
    });
    start = end;
  }
  return batches;
}

type LibraryReader = InstanceType<typeof Reader>;

/**
 * The Fetch v17 response, field by field as the library's parser reads it (its response type),
 * with each partition's `records` decoded by `readRecordBatches` (FetchedRecordBatch[]).
 */
export function parseFetchResponseV17(
  _correlationId: number,
  apiKey: number,
  apiVersion: number,
  reader: LibraryReader,
): fetchV17.FetchResponse {
  const errors: [string, [number, null]][] = [];
  const throttleTimeMs = reader.readInt32();
  const errorCode = reader.readInt16();
  if (errorCode !== 0) errors.push(['', [errorCode, null]]);
  const sessionId = reader.readInt32();
  const responses = reader.readArray((r: LibraryReader, i: number) => ({
    topicId: r.readUUID(),
    partitions: r.readArray(
      (r: LibraryReader, j: number) => {
        const partition: Record<string, unknown> = {
          partitionIndex: r.readInt32(),
          errorCode: r.readInt16(),
          highWatermark: r.readInt64(),
          lastStableOffset: r.readInt64(),
          logStartOffset: r.readInt64(),
          divergingEpoch: { epoch: -1, endOffset: -1n },
          currentLeader: { leaderId: -1, leaderEpoch: -1 },
          snapshotId: { endOffset: -1n, epoch: -1 },
          abortedTransactions: r.readNullableArray((r: LibraryReader) => ({
            producerId: r.readInt64(),
            firstOffset: r.readInt64(),
          })),
          preferredReadReplica: r.readInt32(),
          records: [],
        };
        if (partition['errorCode'] !== 0)
          errors.push([
            `/responses/${i}/partitions/${j}`,
            [partition['errorCode'] as number, null],
          ]);
        let size = r.readUnsignedVarInt();
        if (size === 0) partition['records'] = null;
        if (size > 1) {
          size--;
          partition['records'] = readRecordBatches(r.buffer.slice(r.position, r.position + size));
          r.skip(size);
        }
        readKnownTaggedFields(r, {
          0: (r: LibraryReader) => {
            partition['divergingEpoch'] = { epoch: r.readInt32(), endOffset: r.readInt64() };
          },
          1: (r: LibraryReader) => {
            partition['currentLeader'] = { leaderId: r.readInt32(), leaderEpoch: r.readInt32() };
          },
          2: (r: LibraryReader) => {
            partition['snapshotId'] = { endOffset: r.readInt64(), epoch: r.readInt32() };
          },
        });
        return partition;
      },
      true,
      false,
    ),
  }));
  const response = {
    throttleTimeMs,
    errorCode,
    sessionId,
    nodeEndpoints: [] as unknown[],
    responses,
  };
  readKnownTaggedFields(reader, {
    0: (r: LibraryReader) => {
      response.nodeEndpoints = r.readArray((r: LibraryReader) => ({
        nodeId: r.readInt32(),
        host: r.readString(),
        port: r.readInt32(),
        rack: r.readNullableString(),
      }));
    },
  });
  if (errors.length > 0)
    throw new ResponseError(apiKey, apiVersion, Object.fromEntries(errors), response);
  return response as unknown as fetchV17.FetchResponse;
}

/** Fetch v17 with the library's request encoder and our response decoder. */
const ownFetchV17 = createAPI(
  1,
  17,
  fetchV17.createRequest as (...args: unknown[]) => never,
  parseFetchResponseV17 as never,
) as unknown as LibraryApi;

/**
 * Makes a consumer of the library decode its Fetch responses with ours when the version it
 * picks is v17; any other version keeps the library's (the fetcher then converts).
 */
export function useOwnFetchDecoder(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): void {
  overrideApi(consumer, 'Fetch', (api) => (api.version === 17 ? ownFetchV17 : api));
}
