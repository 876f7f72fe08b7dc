// Metadata of the simulated sensors, as a device registry would publish it to the compacted
// `sensor-metadata` topic that topologies/sensors.ts joins the readings with: each sensor's
// calibration offset (°C added to what it reports), its location and the unit it reports
// temperature in. Deterministic for a seed; `changes` are later calibrations of some sensors.
import { seededRandom, sensorIds } from './sensor-model.ts';

export interface SensorMetadata {
  sensorId: string;
  /** °C added to the sensor's temperature (after conversion from its unit). */
  calibrationOffset: number;
  location: string;
  /** The unit of the temperature the sensor reports. */
  unit: 'C' | 'F';
}

export const sensorLocations = [
  'greenhouse-north',
  'greenhouse-south',
  'barn',
  'cold-store',
  'office',
];

/** The initial metadata of `sensors` sensors: offsets in tenths of a degree within ±1 °C. */
export function sensorMetadata(sensors: number, seed = 1): SensorMetadata[] {
  const next = seededRandom(seed);
  return sensorIds(sensors).map((sensorId, i) => ({
    sensorId,
    calibrationOffset: Math.round(next() * 20 - 10) / 10,
    location: sensorLocations[i % sensorLocations.length] ?? 'unknown',
    unit: 'C',
  }));
}

/**
 * A recalibration of every `every`-th sensor: a new offset (the old one plus 0.5 °C), the rest
 * of its metadata as before.
 */
export function recalibrated(metadata: SensorMetadata[], every = 3): SensorMetadata[] {
  return metadata
    .filter((_, i) => i % every === 0)
    .map((m) => ({ ...m, calibrationOffset: Math.round((m.calibrationOffset + 0.5) * 10) / 10 }));
}

/** °C of a reported temperature in its sensor's unit, calibrated: what the pipeline computes. */
export function calibratedCelsius(
  temperature: number,
  meta: Pick<SensorMetadata, 'unit' | 'calibrationOffset'>,
): number {
  const celsius = meta.unit === 'F' ? (temperature - 32) / 1.8 : temperature;
  return celsius + meta.calibrationOffset;
}
