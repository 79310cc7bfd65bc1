/**
 * Registration options: checked once, when the plugin is registered, so a typo or a wrong type
 * fails `register` with a message naming the option.
 */
import { SERVER_DEFAULTS } from '@wsuite/core';
import type { CoreServerOptions, FastifyWebSocketOptions, WebSocketErrorHandler, WebSocketPreClose } from './types';

/** What the plugin keeps from its options. */
export interface ResolvedPluginOptions {
  core: CoreServerOptions;
  errorHandler: WebSocketErrorHandler | undefined;
  preClose: WebSocketPreClose | undefined;
}

// The plugin owns these: upgrades come through Fastify's routing, every request gets a handler.
const OWNED_BY_PLUGIN: Record<string, string> = {
  httpServer: 'the plugin listens on fastify.server itself',
  noServer: 'the plugin always runs core in noServer mode',
  autoAcceptConnections: 'routes decide which upgrades are accepted',
};
// Fastify passes its own register options (prefix, ...) to every plugin.
const FASTIFY_REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);
const CORE_KEYS = new Set(Object.keys(SERVER_DEFAULTS).filter((key) => !(key in OWNED_BY_PLUGIN)));

/** Split and check the options given to `register`. Throws a TypeError naming a bad option. */
export function resolvePluginOptions(options: FastifyWebSocketOptions | undefined): ResolvedPluginOptions {
  const given = (options ?? {}) as Record<string, unknown>;
  const core: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (key === 'errorHandler' || key === 'preClose' || FASTIFY_REGISTER_KEYS.has(key)) continue;
    if (key in OWNED_BY_PLUGIN) throw new TypeError(`@wsuite/fastify-plugin: option "${key}" is not supported: ${OWNED_BY_PLUGIN[key]}.`);
    if (!CORE_KEYS.has(key)) {
      throw new TypeError(`@wsuite/fastify-plugin: unknown option "${key}". Known options: errorHandler, preClose, ${[...CORE_KEYS].join(', ')}.`);
    }
    core[key] = value;
  }
  for (const key of ['errorHandler', 'preClose'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'function') {
      throw new TypeError(`@wsuite/fastify-plugin: option "${key}" must be a function, got ${typeof given[key]}.`);
    }
  }
  return {
    core: core as CoreServerOptions,
    errorHandler: given.errorHandler as WebSocketErrorHandler | undefined,
    preClose: given.preClose as WebSocketPreClose | undefined,
  };
}
