/**
 * End-to-end tests: the examples in a real browser (Debian's Chromium via playwright-core) and
 * as programs. Run with `npm run test:e2e` (it builds first); `npm test` never picks these up
 * (the root jest.config.js only looks under packages/).
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/e2e'],
  testMatch: ['**/*.e2e.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json', diagnostics: false }],
  },
  // The examples and the e2e helpers load the built packages (dist/), as users do.
  testTimeout: 60000,
  maxWorkers: 2,
};
