/** One Jest run for every package: unit and integration tests, TypeScript through ts-jest. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    '^@wsuite/core$': '<rootDir>/packages/core/src/index.ts',
  },
  testTimeout: 20000,
};
