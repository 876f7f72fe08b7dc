import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modelledWeather } from '../../tools/open-meteo-replay/index.ts';
import type { WeatherValues } from '../../tools/open-meteo-replay/index.ts';

const hour = 3_600_000;
const year = Array.from({ length: 365 * 24 }, (_, i) => Date.UTC(2026, 0, 1) + i * hour);
const values = (key: keyof WeatherValues, lat: number, lon: number): number[] =>
  year.map((t) => modelledWeather(lat, lon, t)[key]).filter((v): v is number => v !== null);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe("the replay server's weather", () => {
  it('is a pure function of latitude, longitude and hour', () => {
    const t = Date.UTC(2026, 10, 20, 13);
    assert.deepEqual(modelledWeather(52.52, 13.41, t), modelledWeather(52.52, 13.41, t));
    assert.deepEqual(
      modelledWeather(52.52, 13.41, t),
      modelledWeather(52.52, 13.41, t + 59 * 60_000),
    );
    assert.notDeepEqual(modelledWeather(52.52, 13.41, t), modelledWeather(52.53, 13.41, t));
  });

  it('stays in plausible ranges, rounded as Open-Meteo rounds', () => {
    const t = values('temperature_2m', 52.52, 13.41);
    assert.ok(Math.min(...t) > -25 && Math.max(...t) < 40);
    assert.ok(t.every((v) => Math.round(v * 10) / 10 === v && !Object.is(v, -0)));
    const rh = values('relative_humidity_2m', 52.52, 13.41);
    assert.ok(rh.every((v) => Number.isInteger(v) && v >= 8 && v <= 100));
    const rain = values('precipitation', 52.52, 13.41);
    const wet = rain.filter((v) => v > 0).length / rain.length;
    assert.ok(wet > 0.03 && wet < 0.2, `wet share ${wet}`);
    assert.ok(values('wind_speed_10m', 52.52, 13.41).every((v) => v >= 0 && v < 60));
  });

  it('is colder at high latitude and in the local winter, warmer in the afternoon than before dawn', () => {
    assert.ok(mean(values('temperature_2m', 1, 36)) > mean(values('temperature_2m', 61, -150)));
    const january = (lat: number) => mean(values('temperature_2m', lat, 0).slice(0, 31 * 24));
    const july = (lat: number) => mean(values('temperature_2m', lat, 0).slice(181 * 24, 212 * 24));
    assert.ok(july(50) - january(50) > 10);
    assert.ok(january(-34) - july(-34) > 10);
    const atUtcHour = (h: number) =>
      mean(
        year
          .filter((time) => new Date(time).getUTCHours() === h)
          .map((time) => modelledWeather(50, 0, time).temperature_2m ?? 0),
      );
    assert.ok(atUtcHour(15) - atUtcHour(4) > 5);
  });

  it('leaves a value out (null) in a few hours, as real feeds do', () => {
    const gaps = year.filter((t) => Object.values(modelledWeather(52.52, 13.41, t)).includes(null));
    assert.ok(gaps.length > 0 && gaps.length < 60, `${gaps.length} hours with a gap`);
  });
});
