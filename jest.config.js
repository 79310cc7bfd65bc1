/** One Jest run for every package: unit and integration tests, TypeScript through ts-jest. */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages'],
  testMatch: ['**/test/**/*.test.ts'],
  transform: {
    // Nest needs decorator metadata: the adapter's files compile with its own tsconfig (listed
    // first), through a ts-jest wrapper because ts-jest keeps one tsconfig per Jest project.
    '^.+/packages/nestjs-adapter/.+\\.ts$': ['<rootDir>/packages/nestjs-adapter/jest-transform.js', { tsconfig: '<rootDir>/packages/nestjs-adapter/tsconfig.test.json', diagnostics: false }],
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  moduleNameMapper: {
    // Tests import sibling packages from source, so no build is needed between edits.
    '^@wsuite/([^/]+)$': '<rootDir>/packages/$1/src',
  },
  testTimeout: 20000,
};
