import type { ZodType, ZodTypeDef } from 'zod';

import { TributaryError } from '../core/index.ts';
import type { Serde } from './serde.ts';

export interface JsonOptions<T> {
  /** Validates every decoded value; a value that does not match goes to the dead-letter topic. */
  schema?: ZodType<T, ZodTypeDef, unknown>;
}

/**
 * Strict: JSON is UTF-8 (RFC 8259), and a lenient decode would turn invalid bytes into U+FFFD
 * and accept the record with a value nobody sent (found by the fuzz test). `ignoreBOM` keeps a
 * byte order mark in the text, so it stays invalid JSON as before.
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * JSON values. Without a schema the decoded value is trusted to be a T; with a zod schema it is
 * checked, and the schema's output is the value.
 */
export function json<T>(options: JsonOptions<T> = {}): Serde<T> {
  const { schema } = options;
  return {
    name: schema === undefined ? 'json' : 'json(zod)',
    serialize: (value, topic) => {
      try {
        return Buffer.from(JSON.stringify(value), 'utf8');
      } catch (cause) {
        throw new TributaryError(
          'SERDE_SERIALIZE_FAILED',
          `cannot encode a value as JSON for topic ${topic}: ${(cause as Error).message}`,
          { cause },
        );
      }
    },
    deserialize: (data, topic) => {
      if (data === null) {
        throw new TributaryError(
          'SERDE_NULL',
          `json serde got null on topic ${topic}; wrap it in nullable() to accept null`,
        );
      }
      if (data.length === 0) {
        throw new TributaryError(
          'SERDE_DESERIALIZE_FAILED',
          `empty bytes are not JSON (topic ${topic})`,
        );
      }
      let text: string;
      try {
        text = utf8.decode(data);
      } catch (cause) {
        throw new TributaryError(
          'SERDE_DESERIALIZE_FAILED',
          `${data.length} bytes on topic ${topic} are not UTF-8, so not JSON`,
          { cause },
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (cause) {
        throw new TributaryError(
          'SERDE_DESERIALIZE_FAILED',
          `invalid JSON on topic ${topic}: ${(cause as Error).message}`,
          { cause },
        );
      }
      if (schema === undefined) return parsed as T;
      const result = schema.safeParse(parsed);
      if (!result.success) {
        const issue = result.error.issues[0];
        const where =
          issue === undefined || issue.path.length === 0 ? 'value' : issue.path.join('.');
        throw new TributaryError(
          'SERDE_VALIDATION_FAILED',
          `JSON on topic ${topic} does not match its schema: ${where}: ${issue?.message ?? 'invalid'}`,
          { cause: result.error },
        );
      }
      return result.data;
    },
  };
}
