// One lint config for the whole monorepo.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'coverage/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', console: 'readonly', __dirname: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The chat examples' browser page: a plain script with the browser's globals.
    files: ['examples/chat-common/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { window: 'readonly', document: 'readonly', location: 'readonly', WebSocket: 'readonly' } },
  },
  {
    // Protocol code is pure: bytes in, events out. No sockets, HTTP, timers or emitters.
    files: ['packages/core/src/protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['net', 'node:net', 'http', 'node:http', 'https', 'node:https', 'tls', 'node:tls', 'events', 'node:events', 'timers', 'node:timers'] }],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'setImmediate', 'process'],
    },
  },
);
