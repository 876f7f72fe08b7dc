import { pino } from 'pino';

import type { Logger } from '../core/index.ts';

export interface LoggerOptions {
  level?: string;
  app: string;
  worker: string;
  /** Where lines go; default stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * Field names whose values never reach a log line, at any depth pino can address: credentials
 * of Kafka (SASL), the registry and Cassandra, and HTTP authorization headers.
 */
export const redactedPaths = [
  'password',
  '*.password',
  '*.*.password',
  '*.*.*.password',
  'authorization',
  '*.authorization',
  '*.*.authorization',
  'headers.authorization',
  'sasl',
  '*.sasl',
];

/** pino JSON logs on stdout, every line carrying the app and worker; secrets redacted. */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level ?? 'info',
    base: { app: options.app, worker: options.worker },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedPaths, censor: '***' },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}
