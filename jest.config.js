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
    // Tests import sibling packages from source, so no build is needed between edits.
    '^@wsuite/([^/]+)$': '<rootDir>/packages/$1/src',
  },
  testTimeout: 20000,
};
