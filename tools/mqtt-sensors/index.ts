// The MQTT sensor simulator and its pure message model: demo and test tools, not part of the
// package.
export {
  historicalSlots,
  messageSequence,
  resolveModel,
  seededRandom,
  sensorIds,
  sensorMessages,
  simulatedKinds,
} from './sensor-model.ts';
export type {
  HistoricalRunOptions,
  HistoricalTime,
  ResolvedModel,
  SensorModelOptions,
  SensorReading,
  SimulatedKind,
  SimulatedMessage,
  Slot,
} from './sensor-model.ts';
export { simulateSensors } from './simulator.ts';
export type { SimulateSensorsOptions, SimulationReport } from './simulator.ts';
export { produceSensors } from './produce-sensors.ts';
export {
  calibratedCelsius,
  recalibrated,
  sensorLocations,
  sensorMetadata,
} from './sensor-metadata.ts';
export type { SensorMetadata } from './sensor-metadata.ts';
