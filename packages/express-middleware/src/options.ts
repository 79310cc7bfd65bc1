/**
 * Options of an instance and of a route: the adapter's own keys plus core's server settings,
 * checked once at `createExpressWebSocket()` or route registration and merged route-over-instance.
 */
import type { Request } from 'express';
import { SERVER_DEFAULTS, validateConnectionConfig, validateServerLimits, type ServerConfig, type WebSocketConnection } from '@wsuite/core';

/**
 * Core server settings an instance or a route may set (limits, keepalive, close timeout,
 * fragmentation, cookie/extension parsing); see `@wsuite/core`'s `ServerConfig` for each key.
 * The mounting keys belong to the adapter.
 */
export type CoreServerOptions = Partial<Omit<ServerConfig, 'httpServer' | 'noServer' | 'autoAcceptConnections'>>;

/**
 * Picks the subprotocol for an upgrade: `requested` is the client's list, lower-cased, in its
 * order. Return one of them, or `false`/`null`/`undefined` for none. Returning a protocol the
 * client did not ask for is an error (it reaches the Express error handler, no handshake).
 */
export type ProtocolSelector = (requested: readonly string[], req: Request) => string | false | null | undefined;

/**
 * Receives what a WebSocket handler threw or rejected with, and the connection's socket errors.
 * It runs outside any Express chain; it must not throw (if it does, the error is logged and the
 * connection closed with 1011).
 */
export type WebSocketErrorHandler = (error: Error, connection: WebSocketConnection, req: Request) => void;

/** What a route may set; unset keys come from the instance's options. */
export interface WebSocketRouteOptions extends CoreServerOptions {
  /** Subprotocol selection. @default the first protocol the client requested */
  handleProtocols?: ProtocolSelector;
  /** Where handler and socket errors go. @default log with `console.error`, close with 1011 */
  errorHandler?: WebSocketErrorHandler;
  /**
   * Answer a plain (non-upgrade) GET or HEAD on the route's path with 426 Upgrade Required. When
   * false the request goes on to the next route, so an HTTP route on the same path works
   * whatever the registration order, and a WebSocket-only path gets the app's 404.
   * @default false
   */
  upgradeRequired?: boolean;
}

/** Options of `createExpressWebSocket()`: the defaults of every route it registers. */
export type ExpressWebSocketOptions = WebSocketRouteOptions;

/** A route's settings after merging and checking. */
export interface RouteConfig {
  /**
   * The core server options. Routes that share this object (every route without core keys of
   * its own) share one core server per attached HTTP server.
   */
  readonly core: Readonly<CoreServerOptions>;
  readonly handleProtocols: ProtocolSelector | undefined;
  readonly errorHandler: WebSocketErrorHandler;
  readonly upgradeRequired: boolean;
}

const ADAPTER_KEYS = new Set(['handleProtocols', 'errorHandler', 'upgradeRequired']);
const RESERVED_KEYS = new Set(['httpServer', 'noServer', 'autoAcceptConnections']);
const CORE_KEYS = new Set(Object.keys(SERVER_DEFAULTS).filter((key) => !RESERVED_KEYS.has(key)));

/** Log the error and close the connection with 1011 (Internal Error). */
export const defaultErrorHandler: WebSocketErrorHandler = (error, connection) => {
  console.error('[@wsuite/express-middleware] WebSocket handler error:', error);
  if (connection.connected) connection.close(1011, 'Internal error');
};

/**
 * Check `options` and merge them over `base` (the instance's config, or nothing for the
 * instance itself). Throws a `TypeError`/`RangeError` naming the bad option.
 */
export function resolveOptions(options: unknown, base: RouteConfig | undefined): RouteConfig {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`WebSocket options must be an object, got ${options === null ? 'null' : typeof options}.`);
  }
  const given = options as Record<string, unknown>;
  const core: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given)) {
    if (RESERVED_KEYS.has(key)) throw new TypeError(`Option "${key}" is managed by @wsuite/express-middleware; attach() mounts the server.`);
    if (CORE_KEYS.has(key)) core[key] = value;
    else if (!ADAPTER_KEYS.has(key)) throw new TypeError(`Unknown WebSocket option "${key}".`);
  }
  for (const key of ['handleProtocols', 'errorHandler'] as const) {
    if (given[key] !== undefined && typeof given[key] !== 'function') throw new TypeError(`Option "${key}" must be a function, got ${typeof given[key]}.`);
  }
  if (given.upgradeRequired !== undefined && typeof given.upgradeRequired !== 'boolean') {
    throw new TypeError(`Option "upgradeRequired" must be a boolean, got ${typeof given.upgradeRequired}.`);
  }
  const hasOwnCore = Object.keys(core).length > 0;
  const mergedCore = hasOwnCore || !base ? { ...base?.core, ...core } : base.core;
  if (hasOwnCore) {
    validateConnectionConfig({ ...SERVER_DEFAULTS, ...mergedCore });
    validateServerLimits({ ...SERVER_DEFAULTS, ...mergedCore });
  }
  return {
    core: mergedCore,
    handleProtocols: (given.handleProtocols as ProtocolSelector | undefined) ?? base?.handleProtocols,
    errorHandler: (given.errorHandler as WebSocketErrorHandler | undefined) ?? base?.errorHandler ?? defaultErrorHandler,
    upgradeRequired: (given.upgradeRequired as boolean | undefined) ?? base?.upgradeRequired ?? false,
  };
}
