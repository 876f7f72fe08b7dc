// What `npm run demo:sensors` expects, from the messages the MQTT broker acknowledged to the
// simulator: the hourly rows and one prediction per closed hour (sensor-oracle.ts), the bad
// payloads in the source's dead-letter topic (not UTF-8, not JSON, not an object) and in the
// application's (JSON objects the topology's schema rejects), and the spikes in the flagged
// topic. Records are recognised by their MQTT topic and payload (dead letters keep both) or,
// flagged ones, by sensor and timestamp.
import type { ExpectedDeadLetter, WindowRow } from './compare.ts';
import { outOfRange, sensorOracle } from './sensor-oracle.ts';
import type { SensorOracle } from './sensor-oracle.ts';
import { calibratedCelsius } from '../../tools/mqtt-sensors/index.ts';
import type {
  SensorMetadata,
  SensorReading,
  SimulatedKind,
  SimulatedMessage,
} from '../../tools/mqtt-sensors/index.ts';

/** The codes the MQTT source gives the payloads it cannot forward. */
const atSource: Partial<Record<SimulatedKind, string>> = {
  'not-json': 'MQTT_PAYLOAD_NOT_JSON',
  'not-utf8': 'MQTT_PAYLOAD_NOT_UTF8',
  'not-object': 'MQTT_PAYLOAD_NOT_OBJECT',
};
/** JSON objects the topology's serde rejects. */
const atTopology: readonly SimulatedKind[] = ['missing-field', 'wrong-type'];

export const messageIdentity = (mqttTopic: string, payload: Buffer): string =>
  `${mqttTopic} ${payload.toString('base64')}`;
export const readingIdentity = (sensorId: string, timestamp: number): string =>
  `${sensorId}@${new Date(timestamp).toISOString()}`;

export interface SensorExpectations {
  oracle: SensorOracle;
  hourly: WindowRow[];
  /** One per closed hour (one model version): keys, count 1. */
  predictions: WindowRow[];
  sourceDeadLetters: ExpectedDeadLetter[];
  appDeadLetters: ExpectedDeadLetter[];
  flagged: ExpectedDeadLetter[];
  /** Records the source forwards to the readings topic. */
  forwarded: number;
}

/**
 * `messages`: what the broker acknowledged, in any order (they are put in publish order);
 * `metadata`: each sensor's metadata, as the pipeline joins it (published before the readings),
 * so the readings are calibrated as the pipeline calibrates them before its range check.
 */
export function sensorExpectations(
  messages: SimulatedMessage[],
  metadata: ReadonlyMap<string, SensorMetadata>,
): SensorExpectations {
  const sent = [...messages].sort((a, b) => a.index - b.index);
  const calibrated = (r: SensorReading): SensorReading => {
    const m = metadata.get(r.sensorId);
    if (m === undefined) throw new Error(`no metadata for ${r.sensorId} in the demo`);
    return { ...r, temperature: calibratedCelsius(r.temperature, m) };
  };
  const readings = sent.flatMap((m) => (m.reading === undefined ? [] : [calibrated(m.reading)]));
  const oracle = sensorOracle(readings);
  const hourly: WindowRow[] = [];
  const predictions: WindowRow[] = [];
  for (const [id, row] of oracle.rows) {
    const at = id.lastIndexOf('@');
    const key = id.slice(0, at);
    const windowStart = Number(id.slice(at + 1));
    const { count, ...values } = row;
    hourly.push({ key, windowStart, count, values });
    predictions.push({ key, windowStart, count: 1, values: {} });
  }
  const sourceDeadLetters: ExpectedDeadLetter[] = [];
  const appDeadLetters: ExpectedDeadLetter[] = [];
  const flagged: ExpectedDeadLetter[] = [];
  let forwarded = 0;
  for (const m of sent) {
    const code = atSource[m.kind];
    const match = messageIdentity(m.topic, m.payload);
    if (code !== undefined) {
      sourceDeadLetters.push({ match, code, cause: `${m.kind} payloads published` });
      continue;
    }
    forwarded++;
    if (atTopology.includes(m.kind))
      appDeadLetters.push({ match, code: 'SERDE_*', cause: `${m.kind} payloads published` });
    else if (m.reading !== undefined && outOfRange(calibrated(m.reading)))
      flagged.push({
        match: readingIdentity(m.reading.sensorId, m.reading.timestamp),
        code: 'FLAGGED',
        cause: 'out-of-range readings published',
      });
  }
  return { oracle, hourly, predictions, sourceDeadLetters, appDeadLetters, flagged, forwarded };
}
