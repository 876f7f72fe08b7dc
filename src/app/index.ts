/**
 * app: wiring. Turns a topology and settings into a running worker: Kafka client, runtime,
 * logger; handles signals.
 *
 * @example
 *   await runWorker(topology, { brokers: ['127.0.0.1:9092'] });
 */
export { createLogger } from './logger.ts';
export type { LoggerOptions } from './logger.ts';
export { runWorker, startWorker } from './worker.ts';
export type { Worker, WorkerOptions } from './worker.ts';
