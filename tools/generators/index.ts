// Load generators (npm run produce -- readings|weather): demo and test tools.
export {
  produceRecords,
  produceWeather,
  random,
  readings,
  weatherLocations,
  weatherObservations,
} from './generators.ts';
export type {
  GeneratedObservation,
  GeneratedRecord,
  ProduceOptions,
  ProduceWeatherOptions,
  ReadingsOptions,
  WeatherLocation,
  WeatherOptions,
  WeatherProduceReport,
  WeatherRecord,
} from './generators.ts';
