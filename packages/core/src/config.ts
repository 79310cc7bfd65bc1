/**
 * Configuration: WebSocket-Node's keys and defaults, merged in one place and checked once,
 * so a bad option fails when the server (or client) is built, not later on a live connection.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { resolveDeflate, type PerMessageDeflateSetting } from './deflate-options';

/** Settings every connection reads (server and client). */
export interface ConnectionConfig {
  /** Largest frame accepted; a larger one closes with 1009. */
  maxReceivedFrameSize: number;
  /** Largest message accepted (all fragments together); a larger one closes with 1009. */
  maxReceivedMessageSize: number;
  /** Split outgoing messages larger than `fragmentationThreshold` into several frames. */
  fragmentOutgoingMessages: boolean;
  /** Largest payload sent in one frame when fragmenting. */
  fragmentationThreshold: number;
  /** Send pings when the peer is silent. */
  keepalive: boolean;
  /** Silence, in ms, after which a ping is sent. */
  keepaliveInterval: number;
  /** Drop the connection when nothing arrives within `keepaliveGracePeriod` after a ping. */
  dropConnectionOnKeepaliveTimeout: boolean;
  /** Time, in ms, a peer has to answer a keepalive ping. */
  keepaliveGracePeriod: number;
  /** Use TCP keepalive (`socket.setKeepAlive`) instead of pings. */
  useNativeKeepalive: boolean;
  /** Emit whole messages (`message`); when false, emit every `frame` instead. */
  assembleFragments: boolean;
  /** `socket.setNoDelay(value)`. */
  disableNagleAlgorithm: boolean;
  /** Time, in ms, the peer has to complete a close handshake before the socket is destroyed. */
  closeTimeout: number;
  /**
   * permessage-deflate (RFC 7692): `true` for the defaults, an options object, or `false`.
   * Off by default on servers, offered by default by clients.
   */
  perMessageDeflate?: PerMessageDeflateSetting;
}

/** An HTTP or HTTPS server a WebSocket server can be mounted on. */
export type MountableServer = HttpServer | HttpsServer;

/** Options of `WebSocketServer` (WebSocket-Node's server config). */
export interface ServerConfig extends ConnectionConfig {
  /** The server(s) whose `upgrade` events to handle. */
  httpServer: MountableServer | MountableServer[];
  /**
   * Mount on no HTTP server: upgrades arrive through `handleUpgrade()` (framework adapters).
   * @default false
   */
  noServer: boolean;
  /** Accept every valid request with the first requested protocol, without a `request` event. */
  autoAcceptConnections: boolean;
  /** Ignore `X-Forwarded-For` when computing `remoteAddress`. */
  ignoreXForwardedFor: boolean;
  /** Parse the `Cookie` header into `request.cookies`. */
  parseCookies: boolean;
  /** Parse `Sec-WebSocket-Extensions` into `request.requestedExtensions`. */
  parseExtensions: boolean;
}

/** The server config after defaults are merged: `httpServer` is always an array. */
export interface ResolvedServerConfig extends Omit<ServerConfig, 'httpServer'> {
  httpServer: MountableServer[];
  [key: string]: unknown;
}

/** Defaults shared by server and client connections. */
const CONNECTION_DEFAULTS = {
  fragmentOutgoingMessages: true,
  fragmentationThreshold: 0x4000,
  assembleFragments: true,
  disableNagleAlgorithm: true,
  closeTimeout: 5000,
};

/** WebSocket-Node's server defaults. */
export const SERVER_DEFAULTS: Readonly<Omit<ServerConfig, 'httpServer'>> = Object.freeze({
  ...CONNECTION_DEFAULTS,
  maxReceivedFrameSize: 0x10000,
  maxReceivedMessageSize: 0x100000,
  keepalive: true,
  keepaliveInterval: 20000,
  dropConnectionOnKeepaliveTimeout: true,
  keepaliveGracePeriod: 10000,
  useNativeKeepalive: false,
  noServer: false,
  perMessageDeflate: false,
  autoAcceptConnections: false,
  ignoreXForwardedFor: false,
  parseCookies: true,
  parseExtensions: true,
});

/** WebSocket-Node's client connection defaults (no keepalive unless asked for). */
export const CLIENT_CONNECTION_DEFAULTS: Readonly<ConnectionConfig> = Object.freeze({
  ...CONNECTION_DEFAULTS,
  maxReceivedFrameSize: 0x100000,
  maxReceivedMessageSize: 0x800000,
  keepalive: false,
  keepaliveInterval: 20000,
  dropConnectionOnKeepaliveTimeout: true,
  keepaliveGracePeriod: 10000,
  useNativeKeepalive: false,
});

/** Every key a server config may have (for adapters that check user options). */
export const SERVER_OPTION_KEYS: readonly string[] = Object.freeze(['httpServer', ...Object.keys(SERVER_DEFAULTS)]);

const SIZE_KEYS = ['maxReceivedFrameSize', 'maxReceivedMessageSize', 'fragmentationThreshold'] as const;
const BOOLEAN_KEYS = [
  'fragmentOutgoingMessages',
  'keepalive',
  'dropConnectionOnKeepaliveTimeout',
  'useNativeKeepalive',
  'assembleFragments',
  'disableNagleAlgorithm',
  'noServer',
  'autoAcceptConnections',
  'ignoreXForwardedFor',
  'parseCookies',
  'parseExtensions',
] as const;

/**
 * Check a merged config: sizes are positive integers, flags are booleans, timeouts are
 * non-negative numbers. Throws a `TypeError`/`RangeError` naming the option.
 */
export function validateConnectionConfig(config: Record<string, unknown>): void {
  for (const key of SIZE_KEYS) {
    const value = config[key];
    if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`Option "${key}" must be a number, got ${describe(value)}.`);
    if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
      throw new RangeError(`Option "${key}" must be a positive integer (bytes), got ${value}.`);
    }
  }
  for (const key of BOOLEAN_KEYS) {
    const value = config[key];
    if (value !== undefined && typeof value !== 'boolean') throw new TypeError(`Option "${key}" must be a boolean, got ${describe(value)}.`);
  }
  resolveDeflate(config.perMessageDeflate);
  const closeTimeout = config.closeTimeout;
  if (typeof closeTimeout !== 'number' || !(closeTimeout >= 0)) {
    throw new RangeError(`Option "closeTimeout" must be a non-negative number of milliseconds, got ${describe(closeTimeout)}.`);
  }
  if (config.keepalive && !config.useNativeKeepalive) {
    if (typeof config.keepaliveInterval !== 'number' || !(config.keepaliveInterval > 0)) {
      throw new TypeError('keepaliveInterval must be specified and numeric if keepalive is true.');
    }
    if (config.dropConnectionOnKeepaliveTimeout && (typeof config.keepaliveGracePeriod !== 'number' || !(config.keepaliveGracePeriod > 0))) {
      throw new TypeError('keepaliveGracePeriod  must be specified and numeric if dropConnectionOnKeepaliveTimeout is true.');
    }
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
