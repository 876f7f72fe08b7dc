import type { Settings } from '../../src/app/index.ts';
import type { Logger } from '../../src/core/index.ts';
import { simulateSensors } from './simulator.ts';
import type { SimulationReport } from './simulator.ts';

/** `npm run produce -- sensors`: the simulator, publishing readings to the MQTT broker. */
export async function produceSensors(
  settings: Pick<Settings, 'mqtt'>,
  options: {
    sensors: number;
    ratePerSecond: number;
    durationSeconds?: number;
    count?: number;
    history?: { start: number; intervalMs: number };
    badShare: number;
    seed: number;
    logger: Logger;
  },
): Promise<SimulationReport> {
  const { credentials } = settings.mqtt;
  return simulateSensors({
    url: settings.mqtt.url,
    ...(credentials === undefined ? {} : credentials),
    sensors: options.sensors,
    ratePerSecond: options.ratePerSecond,
    ...(options.durationSeconds === undefined ? {} : { durationSeconds: options.durationSeconds }),
    ...(options.count === undefined ? {} : { count: options.count }),
    ...(options.history === undefined ? {} : { history: options.history }),
    badShare: options.badShare,
    seed: options.seed,
    logger: options.logger,
  });
}
