import type { Config } from 'jest';

// ESM mode so that p-queue (ESM-only) is loaded for real, not mocked.
// Run through `NODE_OPTIONS=--experimental-vm-modules` (see package.json scripts).
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^poolkeeper$': '<rootDir>/src/index.ts',
    '^poolkeeper/(otel|prometheus)$': '<rootDir>/src/$1.ts',
    '^poolkeeper/generic-pool$': '<rootDir>/src/generic-pool/index.ts',
    '^poolkeeper/redis-budget$': '<rootDir>/src/redis-budget/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/tests/services/'],
  testTimeout: 20_000,
};

export default config;
