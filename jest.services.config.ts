import type { Config } from 'jest';

// The integration tests that need real servers: PostgreSQL (127.0.0.1:5432, PG* variables
// override) and Redis (127.0.0.1:6379, REDIS_URL overrides). Run with `npm run test:services`.
// A server that cannot be reached fails the run with a message saying which one and where.
const config: Config = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
    '^poolkeeper$': '<rootDir>/src/index.ts',
    '^poolkeeper/redis-budget$': '<rootDir>/src/redis-budget/index.ts',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  roots: ['<rootDir>/tests/services'],
  testMatch: ['**/*.test.ts'],
  testTimeout: 30_000,
};

export default config;
