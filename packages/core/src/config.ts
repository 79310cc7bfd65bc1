/**
 * Configuration: WebSocket-Node's keys and defaults, merged in one place and checked once,
 * so a bad option fails when the server (or client) is built, not later on a live connection.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
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
  /**
   * Cap, in bytes, on outgoing data buffered for this connection (`bufferedAmount`: queued,
   * compressing and in the socket's buffer). While that much is buffered, sends are refused and
   * `bufferOverflowPolicy` applies, so a peer that stops reading cannot grow our memory (the
   * buffer passes the cap by one message at most). `Infinity` turns the cap off.
   * Servers: by default 8 MiB or twice `maxReceivedMessageSize`, whichever is larger (room to
   * answer the largest accepted message); clients: off unless set.
   */
  maxBufferedAmount?: number;
  /**
   * What a send past `maxBufferedAmount` does: `'close'` drops the connection with 1008 (the
   * default), `'drop'` discards the message and reports it (`messageDropped` event, and the
   * send callback gets a `SendBufferFullError`, code `WS_ERR_SEND_BUFFER_FULL`).
   */
  bufferOverflowPolicy?: BufferOverflowPolicy;
}

/** What a connection does with a send that would exceed `maxBufferedAmount`. */
export type BufferOverflowPolicy = 'close' | 'drop';

/**
 * Which browser origins may connect: a list of serialized origins (`https://example.com`,
 * compared case-insensitively; `'null'` for opaque origins), or a function deciding per request.
 */
export type AllowedOrigins = readonly string[] | ((origin: string | undefined, httpRequest: IncomingMessage) => boolean);

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
  /**
   * Time, in ms, from the upgrade request reaching the server to the application's `accept()`
   * or `reject()`; a request still undecided then is answered with 408 and its socket closed.
   * 0 turns the timer off. @default 10000
   */
  handshakeTimeout: number;
  /**
   * Most upgrade requests awaiting `accept()`/`reject()` at once; more are answered with 503.
   * `Infinity` turns the cap off. @default 1000
   */
  maxPendingRequests: number;
  /**
   * Most connections (open ones plus pending requests) at once; more are answered with 503.
   * `Infinity` turns the cap off. @default 50000
   */
  maxConnections: number;
  /**
   * Largest upgrade request head (request line and header lines, in bytes) core accepts; a
   * larger one is answered with 431. Node's own `maxHeaderSize` (16 KiB) applies before this.
   * @default 16384
   */
  maxHandshakeHeaderSize: number;
  /**
   * Refuse upgrades from other origins with 403 before any `request` event. Unset (the
   * default) lets every origin through, as WebSocket-Node does.
   */
  allowedOrigins?: AllowedOrigins;
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
  handshakeTimeout: 10000,
  maxPendingRequests: 1000,
  maxConnections: 50000,
  maxHandshakeHeaderSize: 16384,
  // Resolved at mount: max(8 MiB, 2 × maxReceivedMessageSize) unless set.
  maxBufferedAmount: undefined,
  bufferOverflowPolicy: 'close',
  allowedOrigins: undefined,
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
  checkBufferLimit(config);
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

/** The server's default `maxBufferedAmount` floor. */
export const MIN_DEFAULT_BUFFERED_AMOUNT = 8 * 1024 * 1024;

/** `maxBufferedAmount` for a merged server config: the one given, else max(8 MiB, 2 × maxReceivedMessageSize). */
export function resolveMaxBufferedAmount(config: Record<string, unknown>): number {
  if (config.maxBufferedAmount !== undefined) return config.maxBufferedAmount as number;
  return Math.max(MIN_DEFAULT_BUFFERED_AMOUNT, 2 * (config.maxReceivedMessageSize as number));
}

/**
 * Check the server-only options (limits, timeouts, origin allowlist) of a merged server config.
 * Throws a `TypeError`/`RangeError` naming the option.
 */
export function validateServerLimits(config: Record<string, unknown>): void {
  for (const key of ['maxPendingRequests', 'maxConnections', 'maxHandshakeHeaderSize'] as const) checkCount(config, key);
  const timeout = config.handshakeTimeout;
  if (typeof timeout !== 'number' || Number.isNaN(timeout)) throw new TypeError(`Option "handshakeTimeout" must be a number of milliseconds, got ${describe(timeout)}.`);
  if (!(timeout >= 0) || timeout === Infinity) {
    throw new RangeError(`Option "handshakeTimeout" must be a finite non-negative number of milliseconds (0 turns it off), got ${timeout}.`);
  }
  checkAllowedOrigins(config.allowedOrigins);
}

/** A limit: a positive integer, or Infinity for none. */
function checkCount(config: Record<string, unknown>, key: string): void {
  const value = config[key];
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`Option "${key}" must be a number, got ${describe(value)}.`);
  if (!(value >= 1) || (!Number.isInteger(value) && value !== Infinity)) {
    throw new RangeError(`Option "${key}" must be a positive integer (or Infinity for no limit), got ${value}.`);
  }
}

function checkBufferLimit(config: Record<string, unknown>): void {
  if (config.maxBufferedAmount !== undefined) checkCount(config, 'maxBufferedAmount');
  const policy = config.bufferOverflowPolicy;
  if (policy !== undefined && policy !== 'close' && policy !== 'drop') {
    throw new TypeError(`Option "bufferOverflowPolicy" must be 'close' or 'drop', got ${describe(policy)}.`);
  }
}

function checkAllowedOrigins(value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (!Array.isArray(value)) throw new TypeError(`Option "allowedOrigins" must be an array of origins or a function, got ${describe(value)}.`);
  value.forEach((entry: unknown, index) => {
    if (typeof entry !== 'string') throw new TypeError(`Option "allowedOrigins[${index}]" must be a string, got ${describe(entry)}.`);
    const serialized = serializeOrigin(entry);
    // A browser sends the serialized form; anything else (a path, a default port) would never match.
    if (serialized !== entry.toLowerCase()) {
      throw new RangeError(`Option "allowedOrigins[${index}]" must be an origin as browsers send it (scheme://host[:port]), got ${describe(entry)}${serialized ? `; did you mean "${serialized}"?` : '.'}`);
    }
  });
}

/** The ASCII serialization of `value`'s origin, `'null'` for `'null'`, or '' when it is no URL. */
function serializeOrigin(value: string): string {
  if (value.toLowerCase() === 'null') return 'null';
  try {
    const origin = new URL(value).origin;
    return origin === 'null' ? '' : origin;
  } catch {
    return '';
  }
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
