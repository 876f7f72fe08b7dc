// What the disorder tests' worker fixture and their oracle share: the shape of a reading and
// each scenario's windows. Only data lives here; the oracle (disorder-oracle.ts) and the
// topology (fixtures/disorder-worker.ts) each compute on their own.

/** One reading of a device. `value` is a whole number, so sums and means are exact. */
export interface Reading {
  device: string;
  /** Event time, ms since the epoch. */
  time: number;
  value: number;
  /**
   * Set on a copy a device sent again (a QoS 1 resend, a gateway replaying what it was not sure
   * went out): same device, time and value. The oracle leaves such a copy out of every window
   * and clock, as the deduplication before the windows does (withDuplicates).
   */
  duplicate?: true;
}

export type Scenario = 'backfill' | 'reconnect' | 'skew';

export type TimeMode = 'key' | 'partition';

export interface ScenarioWindow {
  /** Tumbling window size. */
  sizeMs: number;
  graceMs: number;
}

const minuteMs = 60_000;

/** Each scenario's tumbling window, sized to its readings' spacing and disorder. */
export const scenarioWindows: Record<Scenario, ScenarioWindow> = {
  // 10-minute readings over days, arriving up to 15 min out of order within a device.
  backfill: { sizeMs: 60 * minuteMs, graceMs: 20 * minuteMs },
  // 1-minute readings, up to 3 min out of order.
  reconnect: { sizeMs: 15 * minuteMs, graceMs: 5 * minuteMs },
  // 2-minute readings, up to 5 min out of order.
  skew: { sizeMs: 30 * minuteMs, graceMs: 10 * minuteMs },
};

export const scenarios = Object.keys(scenarioWindows) as Scenario[];
