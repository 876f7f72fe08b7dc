// The Open-Meteo replay server (a deterministic stand-in for the archive and forecast APIs) and
// its weather model: demo and test tools, not part of the package.
export { startReplayServer } from './replay-server.ts';
export type {
  MalformedKind,
  ReplayFaults,
  ReplayRequest,
  ReplayServer,
  ReplayServerOptions,
} from './replay-server.ts';
export { modelledWeather } from './weather-model.ts';
export type { WeatherValues } from './weather-model.ts';
