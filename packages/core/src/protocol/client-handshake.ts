/**
 * The client's side of the opening handshake (RFC 6455 §4.1), pure: reading the URL to connect
 * to, building the request headers, and checking the server's 101 response. No sockets.
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_VERSION } from './constants';
import { computeAcceptKey } from './handshake';
import { findIllegalTokenChar } from './validation';
import { parseExtensionsHeader, type Extension } from './extension-header';

type Message = (detail: string) => string;
const fixed = (text: string): Message => () => text;

/** Every way an opening handshake can fail on the client, with WebSocket-Node's message where it has one. */
const CLIENT_HANDSHAKE_ERRORS = {
  WS_ERR_SERVER_NOT_101: (detail: string) => `Server responded with a non-101 status: ${detail}`,
  WS_ERR_SERVER_CONNECTION_HEADER: fixed('Expected a Connection: Upgrade header from the server'),
  WS_ERR_SERVER_UPGRADE_HEADER: fixed('Expected an Upgrade: websocket header from the server'),
  WS_ERR_SERVER_NO_ACCEPT: fixed('Expected Sec-WebSocket-Accept header from server'),
  WS_ERR_SERVER_BAD_ACCEPT: (expected: string) => `Sec-WebSocket-Accept header from server didn't match expected value of ${expected}`,
  WS_ERR_SERVER_UNKNOWN_PROTOCOL: fixed('Server did not respond with a requested protocol.'),
  WS_ERR_SERVER_UNREQUESTED_PROTOCOL: (protocol: string) =>
    `Server selected the subprotocol ${JSON.stringify(protocol)}, but the client did not request any subprotocol.`,
  WS_ERR_SERVER_UNOFFERED_EXTENSION: (header: string) =>
    `Server accepted the extension(s) ${JSON.stringify(header)}, but the client did not offer any extension.`,
  WS_ERR_SERVER_EXTENSION_REJECTED: (reason: string) => `Server's Sec-WebSocket-Extensions response is not acceptable: ${reason}`,
  WS_ERR_CONNECT_ABORTED: fixed('The connection attempt was aborted: abort() was called before the server answered.'),
  WS_ERR_HANDSHAKE_TIMEOUT: (ms: string) => `The server did not answer the opening handshake within ${ms} ms.`,
} as const satisfies Record<string, Message>;

/** A stable code naming a client handshake failure, e.g. `WS_ERR_SERVER_BAD_ACCEPT`. */
export type ClientHandshakeErrorCode = keyof typeof CLIENT_HANDSHAKE_ERRORS;

/** Why a connection attempt failed before the WebSocket opened (the `connectFailed` error). */
export class ClientHandshakeError extends Error {
  /** The stable error code. */
  readonly code: ClientHandshakeErrorCode;
  /** The HTTP status of the server's answer, when it gave one. */
  readonly statusCode: number | undefined;

  constructor(code: ClientHandshakeErrorCode, detail = '', statusCode?: number) {
    super(CLIENT_HANDSHAKE_ERRORS[code](detail));
    this.name = 'ClientHandshakeError';
    this.code = code;
    this.statusCode = statusCode;
  }
}

/** A fresh `Sec-WebSocket-Key`: 16 bytes from the crypto random source, base64-encoded. */
export function generateKey(): string {
  return randomBytes(16).toString('base64');
}

// ---- URL --------------------------------------------------------------------------------

/** An already-parsed URL: a WHATWG `URL`, or a legacy `url.parse()` result. */
export interface WebSocketUrlLike {
  protocol?: string | null;
  hostname?: string | null;
  host?: string | null;
  port?: string | number | null;
  pathname?: string | null;
  search?: string | null;
  /** Legacy `url.parse()` only: path and query together. */
  path?: string | null;
  /** Legacy `url.parse()` only: `user:password`. */
  auth?: string | null;
  /** WHATWG `URL` only. */
  username?: string;
  /** WHATWG `URL` only. */
  password?: string;
}

/** Where a WebSocket URL says to connect. */
export interface WebSocketTarget {
  /** True for `wss:` (and `https:`). */
  secure: boolean;
  /** The host name or address to connect to (IPv6 without brackets). */
  hostname: string;
  /** The TCP port (80 or 443 when the URL has none). */
  port: number;
  /** The request target: path and query, always starting with `/`. */
  path: string;
  /** The `Host` header value: the host, plus `:port` when the port is not the scheme's default. */
  hostHeader: string;
  /** `user:password` from the URL, decoded, when present (sent as Basic authorization). */
  auth: string | undefined;
  /** The URL serialized with a `ws:`/`wss:` scheme, without credentials or fragment. */
  href: string;
}

const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:/i;
/** `http:` and `https:` are read as `ws:` and `wss:`, as the WHATWG WebSocket standard and `ws` do. */
const SECURE_BY_SCHEME: Readonly<Record<string, boolean>> = { 'ws:': false, 'wss:': true, 'http:': false, 'https:': true };

const NO_SCHEME = 'You must specify a full WebSocket URL, including protocol.';
const NO_HOST = 'You must specify a full WebSocket URL, including hostname. Relative URLs are not supported.';

/**
 * Read a WebSocket URL: a string, a WHATWG `URL` or a legacy parsed URL object. Only `ws:` and
 * `wss:` (or `http:`/`https:`, their WHATWG equivalents) are accepted; anything else, including
 * `host:port` strings that would parse with `host:` as the scheme, throws a `TypeError`.
 */
export function parseWebSocketUrl(input: string | WebSocketUrlLike): WebSocketTarget {
  let url: WebSocketUrlLike;
  if (typeof input === 'string') {
    if (!SCHEME_PATTERN.test(input)) throw new TypeError(NO_SCHEME);
    url = parseUrlString(input);
  } else if (input !== null && typeof input === 'object') {
    url = input;
  } else {
    throw new TypeError(`The WebSocket URL must be a string or a URL object, got ${input === null ? 'null' : typeof input}.`);
  }
  if (!url.protocol) throw new TypeError(NO_SCHEME);
  const scheme = url.protocol.toLowerCase();
  const secure = SECURE_BY_SCHEME[scheme];
  if (secure === undefined) {
    throw new TypeError(
      `Unsupported URL scheme ${JSON.stringify(scheme)}: a WebSocket URL must start with ws:// or wss://` +
        (typeof input === 'string' ? ` (got ${JSON.stringify(input)}).` : '.'),
    );
  }
  const rawHost = url.hostname || stripPort(url.host ?? '');
  if (!rawHost) throw new TypeError(NO_HOST);
  const hostname = rawHost.startsWith('[') && rawHost.endsWith(']') ? rawHost.slice(1, -1) : rawHost;
  const defaultPort = secure ? 443 : 80;
  const port = url.port === undefined || url.port === null || url.port === '' ? defaultPort : Number(url.port);
  if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new RangeError(`Invalid port ${JSON.stringify(url.port)} in WebSocket URL.`);
  const hostPart = hostname.includes(':') ? `[${hostname}]` : hostname;
  const hostHeader = port === defaultPort ? hostPart : `${hostPart}:${port}`;
  const path = requestPath(url);
  return { secure, hostname, port, path, hostHeader, auth: credentials(url), href: `${secure ? 'wss:' : 'ws:'}//${hostHeader}${path}` };
}

function parseUrlString(input: string): URL {
  try {
    return new URL(input);
  } catch {
    const authority = input.slice(input.indexOf(':') + 1).replace(/^\/+/, '');
    if (authority === '' || authority.startsWith('?') || authority.startsWith('#')) throw new TypeError(NO_HOST);
    throw new TypeError(`Invalid WebSocket URL ${JSON.stringify(input)}: expected ws://host[:port][/path] or wss://host[:port][/path].`);
  }
}

function stripPort(host: string): string {
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
}

function requestPath(url: WebSocketUrlLike): string {
  if (typeof url.path === 'string' && url.path !== '') return url.path.startsWith('/') ? url.path : `/${url.path}`;
  const pathname = url.pathname || '/';
  return `${pathname.startsWith('/') ? pathname : `/${pathname}`}${url.search ?? ''}`;
}

function credentials(url: WebSocketUrlLike): string | undefined {
  if (url.auth) return url.auth;
  if (!url.username && !url.password) return undefined;
  return `${decodeURIComponent(url.username ?? '')}:${decodeURIComponent(url.password ?? '')}`;
}

// ---- request ----------------------------------------------------------------------------

/**
 * The subprotocols to request, as WebSocket-Node reads its argument: a non-empty string is one
 * protocol, an array is a list, anything else means none. Each must be an HTTP token, listed
 * once (case-insensitively, as servers compare them); otherwise a `TypeError` is thrown.
 */
export function normalizeProtocols(protocols: unknown): string[] {
  const list: unknown[] = typeof protocols === 'string' ? (protocols.length > 0 ? [protocols] : []) : Array.isArray(protocols) ? protocols : [];
  const seen = new Map<string, string>();
  return list.map((item) => {
    const protocol = String(item);
    const bad = findIllegalTokenChar(protocol);
    if (bad !== undefined) throw new TypeError(`Protocol list contains invalid character "${bad}"`);
    if (protocol === '') throw new TypeError('Protocol list contains an empty protocol name.');
    const previous = seen.get(protocol.toLowerCase());
    if (previous !== undefined) throw new TypeError(`Protocol list contains ${JSON.stringify(previous)} and ${JSON.stringify(protocol)}: each subprotocol may be requested once.`);
    seen.set(protocol.toLowerCase(), protocol);
    return protocol;
  });
}

/** Request headers as the HTTP client takes them. */
export type HandshakeHeaders = Record<string, string | number | string[]>;

/** What {@link buildHandshakeHeaders} needs. */
export interface HandshakeRequestOptions {
  /** The `Sec-WebSocket-Key` (see {@link generateKey}). */
  key: string;
  /** The `Host` value derived from the URL, used unless `headers` has a Host header. */
  hostHeader: string;
  /** 13 or 8. @default 13 */
  webSocketVersion?: number;
  /** Subprotocols to request (already normalized). */
  protocols?: readonly string[];
  /** Sent as `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8) when non-empty. */
  origin?: string | null;
  /** The `Sec-WebSocket-Extensions` offer, from an extension negotiator. */
  extensionOffer?: string;
  /** The caller's headers; the handshake headers override them (compared case-insensitively). */
  headers?: HandshakeHeaders | null;
}

/**
 * The upgrade request's headers: the caller's headers first, then the handshake's own, which
 * always win. A caller's `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` are dropped:
 * subprotocols come from the protocol list (so the response can be checked against it), and
 * extensions only from a negotiator (frames of an extension nobody runs could not be read).
 */
export function buildHandshakeHeaders(options: HandshakeRequestOptions): HandshakeHeaders {
  const headers: HandshakeHeaders = {};
  if (options.headers) {
    for (const [name, value] of Object.entries(options.headers)) {
      if (value === undefined || value === null) continue;
      const lower = name.toLowerCase();
      if (lower === 'sec-websocket-protocol' || lower === 'sec-websocket-extensions') continue;
      setHeader(headers, name, value);
    }
  }
  const version = options.webSocketVersion ?? DEFAULT_VERSION;
  setHeader(headers, 'Upgrade', 'websocket');
  setHeader(headers, 'Connection', 'Upgrade');
  setHeader(headers, 'Sec-WebSocket-Version', String(version));
  setHeader(headers, 'Sec-WebSocket-Key', options.key);
  if (findHeaderName(headers, 'host') === undefined) headers.Host = options.hostHeader;
  if (options.protocols && options.protocols.length > 0) setHeader(headers, 'Sec-WebSocket-Protocol', options.protocols.join(', '));
  if (options.origin) setHeader(headers, version === 8 ? 'Sec-WebSocket-Origin' : 'Origin', options.origin);
  if (options.extensionOffer) setHeader(headers, 'Sec-WebSocket-Extensions', options.extensionOffer);
  return headers;
}

function findHeaderName(headers: HandshakeHeaders, lowerName: string): string | undefined {
  return Object.keys(headers).find((name) => name.toLowerCase() === lowerName);
}

function setHeader(headers: HandshakeHeaders, name: string, value: string | number | string[]): void {
  const existing = findHeaderName(headers, name.toLowerCase());
  if (existing !== undefined) delete headers[existing];
  headers[name] = value;
}

// ---- response ---------------------------------------------------------------------------

/**
 * Negotiates one connection's extensions on the client. The client asks it for the offer to
 * send, and hands it the extensions the server accepted. (permessage-deflate will be one.)
 */
export interface ClientExtensionNegotiator {
  /** The `Sec-WebSocket-Extensions` value to offer. */
  offer(): string;
  /**
   * Check the extensions the server accepted (`[]` when it sent none; `header` is the raw
   * `Sec-WebSocket-Extensions` value, '' when absent) and return what the connection runs.
   * Throw an `Error` saying why to fail the connection.
   */
  accept(extensions: Extension[], header: string): unknown[];
}

/** The parts of the server's response the check reads (an `IncomingMessage` fits). */
export interface HandshakeResponseLike {
  headers: Record<string, string | string[] | undefined>;
}

/** What the client sent, to check the response against. */
export interface ExpectedHandshake {
  /** The `Sec-WebSocket-Key` that was sent. */
  key: string;
  /** The subprotocols that were requested. */
  protocols: readonly string[];
  /** The negotiator whose offer was sent, if any. */
  extensions?: ClientExtensionNegotiator;
}

/** What a valid 101 response agreed to. */
export interface NegotiatedHandshake {
  /** The subprotocol the server selected, or undefined when it selected none. */
  protocol: string | undefined;
  /** The extensions the connection runs (from the negotiator). */
  extensions: unknown[];
  /** The server's `Sec-WebSocket-Extensions` value ('' when none). */
  extensionsHeader: string;
}

function responseHeader(response: HandshakeResponseLike, name: string): string | undefined {
  const value = response.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function hasToken(value: string | undefined, token: string): boolean {
  return value !== undefined && value.split(',').some((item) => item.trim().toLowerCase() === token);
}

/**
 * Check a 101 response (RFC 6455 §4.1): `Connection` lists `upgrade`, `Upgrade` is `websocket`,
 * `Sec-WebSocket-Accept` matches the key, the subprotocol is one that was requested (none is
 * fine, as in browsers), and extensions were offered. Throws a {@link ClientHandshakeError}.
 */
export function verifyHandshakeResponse(response: HandshakeResponseLike, expected: ExpectedHandshake): NegotiatedHandshake {
  if (!hasToken(responseHeader(response, 'connection'), 'upgrade')) throw new ClientHandshakeError('WS_ERR_SERVER_CONNECTION_HEADER');
  if (!hasToken(responseHeader(response, 'upgrade'), 'websocket')) throw new ClientHandshakeError('WS_ERR_SERVER_UPGRADE_HEADER');
  const accept = responseHeader(response, 'sec-websocket-accept');
  if (!accept) throw new ClientHandshakeError('WS_ERR_SERVER_NO_ACCEPT');
  const expectedAccept = computeAcceptKey(expected.key);
  if (accept.trim() !== expectedAccept) throw new ClientHandshakeError('WS_ERR_SERVER_BAD_ACCEPT', expectedAccept);

  const protocol = responseHeader(response, 'sec-websocket-protocol')?.trim() || undefined;
  if (protocol !== undefined) {
    if (expected.protocols.length === 0) throw new ClientHandshakeError('WS_ERR_SERVER_UNREQUESTED_PROTOCOL', protocol);
    if (!expected.protocols.includes(protocol)) throw new ClientHandshakeError('WS_ERR_SERVER_UNKNOWN_PROTOCOL');
  }

  const extensionsHeader = responseHeader(response, 'sec-websocket-extensions')?.trim() ?? '';
  let extensions: unknown[] = [];
  if (!expected.extensions) {
    if (extensionsHeader !== '') throw new ClientHandshakeError('WS_ERR_SERVER_UNOFFERED_EXTENSION', extensionsHeader);
  } else {
    try {
      extensions = expected.extensions.accept(parseExtensionsHeader(extensionsHeader || undefined), extensionsHeader);
    } catch (error) {
      throw new ClientHandshakeError('WS_ERR_SERVER_EXTENSION_REJECTED', error instanceof Error ? error.message : String(error));
    }
  }
  return { protocol, extensions, extensionsHeader };
}

/**
 * The `connectFailed` error for a response that is not a 101, in WebSocket-Node's format: status
 * line, then every header (lower-case name) on its own line.
 */
export function non101ResponseError(statusCode: number, statusMessage: string | undefined, headers: Record<string, unknown>): ClientHandshakeError {
  const lines = Object.keys(headers).map((name) => `${name}: ${String(headers[name])}`);
  const detail = `${statusCode} ${statusMessage ?? ''}\nResponse Headers Follow:\n${lines.join('\n')}\n`;
  return new ClientHandshakeError('WS_ERR_SERVER_NOT_101', detail, statusCode);
}
