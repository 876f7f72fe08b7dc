import { TributaryError } from '../core/index.ts';
import type { Serde } from './serde.ts';

function nullError(name: string, topic: string): TributaryError {
  return new TributaryError(
    'SERDE_NULL',
    `${name} serde got null on topic ${topic}; wrap it in nullable() to accept null`,
  );
}

/** UTF-8 strings. */
export function string(): Serde<string> {
  return {
    name: 'string',
    serialize: (value) => Buffer.from(value, 'utf8'),
    deserialize: (data, topic) => {
      if (data === null) throw nullError('string', topic);
      return data.toString('utf8');
    },
  };
}

/** Raw bytes, passed through. */
export function bytes(): Serde<Buffer> {
  return {
    name: 'bytes',
    serialize: (value) => value,
    deserialize: (data, topic) => {
      if (data === null) throw nullError('bytes', topic);
      return data;
    },
  };
}

/** Accepts null (a Kafka tombstone, or a record without a key) as well as the inner type. */
export function nullable<T>(inner: Serde<T>): Serde<T | null> {
  const serde: Serde<T | null> = {
    name: `nullable(${inner.name})`,
    serialize: (value, topic) => (value === null ? null : inner.serialize(value, topic)),
    deserialize: (data, topic) => (data === null ? null : inner.deserialize(data, topic)),
  };
  return {
    ...serde,
    ...(inner.init === undefined ? {} : { init: inner.init }),
    ...(inner.prepareBatch === undefined ? {} : { prepareBatch: inner.prepareBatch }),
  };
}
