// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import globals from 'globals';

// The layers of ../shared/DESIGN.md: imports only go down this list. Each entry names the
// folders (under src/) that a folder must not import.
const layers = [
  'core',
  'serde',
  'topology',
  'state',
  'operators',
  'kafka',
  'runtime',
  'connectors',
  'metrics',
  'app',
  'cli',
];
const mayImport = {
  core: [],
  serde: ['core'],
  topology: ['core', 'serde'],
  state: ['core', 'serde'],
  operators: ['core', 'serde', 'state'],
  kafka: ['core'],
  runtime: ['core', 'serde', 'topology', 'state', 'operators', 'kafka'],
  connectors: ['core', 'serde', 'operators'],
  metrics: ['core'],
  app: layers.filter((l) => l !== 'app' && l !== 'cli'),
  cli: ['core', 'app', 'topology'],
};
const layerZones = Object.entries(mayImport).flatMap(([layer, allowed]) =>
  layers
    .filter((other) => other !== layer && !allowed.includes(other))
    .map((other) => ({
      target: `./src/${layer}`,
      from: `./src/${other}`,
      message: `src/${layer} may not import src/${other} (see DESIGN.md, Layers).`,
    })),
);

// Each third-party system is imported by exactly one folder of src/.
const owners = [
  { pkg: 'kafkajs', folder: 'src/kafka' },
  { pkg: 'prom-client', folder: 'src/metrics' },
  { pkg: 'cassandra-driver', folder: 'src/connectors/cassandra' },
  { pkg: 'mqtt', folder: 'src/connectors/mqtt' },
  { pkg: '@nxtedition/rocksdb', folder: 'src/state/rocksdb' },
  { pkg: '@kafkajs/confluent-schema-registry', folder: 'src/serde' },
  { pkg: 'avsc', folder: 'src/serde' },
];
const ownerFolders = [...new Set(owners.map((o) => o.folder))];
const forbidOthers = (folder) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: owners
        .filter((o) => o.folder !== folder)
        .map(({ pkg, folder: owner }) => ({
          name: pkg,
          message: `Only ${owner}/ imports ${pkg} (DESIGN.md, Layers).`,
        })),
    },
  ],
});
// One config object per owner folder and one for the rest of src/, so no file matches two
// of them (a later flat-config entry would replace the earlier rule, not merge with it).
const ownerRules = [
  ...ownerFolders.map((folder) => ({
    files: [`${folder}/**/*.ts`],
    rules: forbidOthers(folder),
  })),
  {
    files: ['src/**/*.ts'],
    ignores: ownerFolders.map((folder) => `${folder}/**`),
    rules: forbidOthers(undefined),
  },
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.stack/', 'bench/rocksdb/node_modules/'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: true } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': ['error', { zones: layerZones }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/testing/**'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...layerZones,
            {
              target: './src',
              from: './src/testing',
              message: 'Production code never imports src/testing.',
            },
          ],
        },
      ],
    },
  },
  ...ownerRules,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
);
