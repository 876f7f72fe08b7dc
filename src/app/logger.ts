import { pino } from 'pino';

import type { Logger } from '../core/index.ts';

export interface LoggerOptions {
  level?: string;
  app: string;
  worker: string;
}

/** pino JSON logs on stdout, every line carrying the app and worker. */
export function createLogger(options: LoggerOptions): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { app: options.app, worker: options.worker },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
