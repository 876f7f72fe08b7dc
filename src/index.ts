/** Tributary's public API. Each layer's index lists what it exports. */
export * from './core/index.ts';
export * from './kafka/index.ts';
