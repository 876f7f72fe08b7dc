import type { SettingGroup } from '../../core/index.ts';

/** Where the MQTT broker is. */
export interface MqttConnection {
  url: string;
  credentials?: { username: string; password: string };
}

const rows = {
  url: {
    env: 'TRIBUTARY_MQTT_URL',
    expects: 'an mqtt:// or mqtts:// URL',
    fallback: () => 'mqtt://127.0.0.1:1883',
  },
  username: { env: 'TRIBUTARY_MQTT_USERNAME', expects: 'a name' },
  password: { env: 'TRIBUTARY_MQTT_PASSWORD', expects: 'a password', secret: true },
};

/** TRIBUTARY_MQTT_*: the broker the MQTT source (and the sensor simulator) connects to. */
export const mqttSettings: SettingGroup<{ mqtt: MqttConnection }> = {
  name: 'mqtt',
  rows,
  keys: ['mqtt'],
  resolve(r) {
    const credentials = r.credentials(rows.username, rows.password);
    const url = r.string(rows.url).trim();
    if (!/^mqtts?:\/\/[^/\s]+/.test(url)) r.fail(rows.url);
    return { mqtt: { url, ...(credentials === undefined ? {} : { credentials }) } };
  },
};
