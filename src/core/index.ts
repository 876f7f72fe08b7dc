/**
 * core: records, processors, time, logging and errors shared by every layer. Imports nothing.
 *
 * @example
 *   throw new TributaryError('CONFIG_INVALID', 'TRIBUTARY_BROKERS must be host:port[,host:port]');
 */
export { systemClock } from './clock.ts';
export type { Clock } from './clock.ts';
export { domainExitCodes, errorCodes } from './error-codes.ts';
export { exitCodeOf } from './exit-code.ts';
export { backoffDelay, withRetries } from './retry.ts';
export type { Backoff, RetryOptions } from './retry.ts';
export { syncDirectory, writeFileAtomically } from './files.ts';
export type { ErrorCode, ErrorDomain } from './error-codes.ts';
export { TributaryError } from './errors.ts';
export { silentLogger } from './logger.ts';
export {
  flagOf,
  printableSettings,
  rawSettings,
  resolveSettings,
  rowsOf,
  SettingsReader,
} from './settings.ts';
export type { RawSettings, ResolvedSettings, SettingGroup, SettingSpec } from './settings.ts';
export { SettingsSource } from './settings-source.ts';
export type { Logger } from './logger.ts';
export type { Processor, ProcessorContext, ProcessorSupplier } from './processor.ts';
export type {
  AnyStoreDefinition,
  KeyValue,
  KeyValueStore,
  KeyValueStoreDefinition,
  StoreDefinition,
  StoreKind,
  StoreSerde,
  Timer,
  TimerKind,
  Timers,
  WindowedEntry,
  WindowStore,
  WindowStoreDefinition,
} from './store.ts';
export { replayedFromHeader } from './record.ts';
export type { Headers, RawRecord, SourcePosition, StreamRecord } from './record.ts';
export { parseTaskId, taskId } from './task-id.ts';
export type { TaskId } from './task-id.ts';
export { noTelemetry } from './telemetry.ts';
export type {
  OperatorSnapshot,
  PartitionLag,
  RuntimeSnapshot,
  StandbySnapshot,
  StoreCacheSnapshot,
  TaskSnapshot,
  Telemetry,
  WorkerTotals,
} from './telemetry.ts';
export type { ExternalSink, SinkRecord } from './external-sink.ts';
export { isSessionWindow } from './windows.ts';
export type { SessionWindowSpec, TimeWindowKind, WindowSpec } from './windows.ts';
export { tableChangeHeader } from './tables.ts';
export type {
  AnyJoiner,
  AnyTableAdder,
  JoinOp,
  TableChange,
  TableOp,
  TableView,
} from './tables.ts';
