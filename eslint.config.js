// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Each third-party system is imported by exactly one folder of src/.
const owners = [
  { pkg: 'kafkajs', folder: 'src/kafka' },
  { pkg: '@platformatic/kafka', folder: 'src/kafka' },
  { pkg: 'prom-client', folder: 'src/metrics' },
  { pkg: 'cassandra-driver', folder: 'src/connectors/cassandra' },
  { pkg: 'mqtt', folder: 'src/connectors/mqtt' },
  { pkg: 'rocksdb-native', folder: 'src/state/rocksdb' },
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

// The layer order of DESIGN.md and the absence of import cycles are checked by
// test/unit/architecture.test.ts, which reads the import graph of src/.
export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.stack/',
      'bench/rocksdb/node_modules/',
      'bench/quix/.venv/',
      'bench/kafka-streams/target/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  ...ownerRules,
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
);
