/**
 * Opening-handshake rules (RFC 6455 §4): validating a client's upgrade request and computing
 * the accept key. Failures are `HandshakeError`s carrying the HTTP status to answer with.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_VERSION, SUPPORTED_VERSIONS, WEBSOCKET_GUID } from './constants';
import { HandshakeError } from './errors';
import { findIllegalTokenChar } from './validation';

/** `Sec-WebSocket-Accept` for a `Sec-WebSocket-Key`: base64(SHA-1(key + GUID)). */
export function computeAcceptKey(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** A base64 encoding of 16 bytes: 22 base64 characters and `==`. */
const KEY_PATTERN = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/** Whether a `Sec-WebSocket-Key` is a base64-encoded 16-byte nonce (RFC 6455 §4.1). */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/** The parts of an HTTP request the handshake looks at. */
export interface UpgradeRequestLike {
  method?: string;
  httpVersionMajor?: number;
  httpVersionMinor?: number;
  headers: Record<string, string | string[] | undefined>;
}

/** What a valid upgrade request asked for. */
export interface ValidatedUpgrade {
  host: string;
  key: string;
  webSocketVersion: number;
  /** `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8), if sent. */
  origin: string | undefined;
  /** Requested subprotocols, lower-cased, in the client's order. */
  requestedProtocols: string[];
  /** Lower-cased subprotocol name to the spelling the client sent. */
  protocolFullCaseMap: Record<string, string>;
}

function header(request: UpgradeRequestLike, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function fail(code: string, status: number, message: string, headers?: Record<string, string>): never {
  throw new HandshakeError(code, status, message, headers);
}

/**
 * Validate an upgrade request in a fixed order and return what it asks for.
 * Throws a {@link HandshakeError} with the status and message to answer with.
 */
export function validateUpgradeRequest(request: UpgradeRequestLike): ValidatedUpgrade {
  const host = header(request, 'host');
  if (!host) fail('WS_ERR_HANDSHAKE_NO_HOST', 400, 'Client must provide a Host header.');
  if (request.method !== undefined && request.method !== 'GET') {
    fail('WS_ERR_HANDSHAKE_METHOD', 405, `Invalid HTTP method ${request.method}: a WebSocket upgrade must use GET.`, { Allow: 'GET' });
  }
  if (request.httpVersionMajor !== undefined) {
    const major = request.httpVersionMajor;
    const minor = request.httpVersionMinor ?? 0;
    if (major < 1 || (major === 1 && minor < 1)) fail('WS_ERR_HANDSHAKE_HTTP_VERSION', 400, 'Client must use HTTP/1.1 or later.');
  }
  const upgrade = header(request, 'upgrade');
  if (!upgrade || !upgrade.split(',').some((token) => token.trim().toLowerCase() === 'websocket')) {
    fail('WS_ERR_HANDSHAKE_UPGRADE', 400, 'Client must send an Upgrade: websocket header.');
  }
  const key = header(request, 'sec-websocket-key');
  if (!key) fail('WS_ERR_HANDSHAKE_NO_KEY', 400, 'Client must provide a value for Sec-WebSocket-Key.');
  if (!isValidKey(key.trim())) {
    fail('WS_ERR_HANDSHAKE_INVALID_KEY', 400, 'Sec-WebSocket-Key must be a base64-encoded 16-byte value.');
  }
  const versionHeader = (header(request, 'sec-websocket-version') ?? '').trim();
  const version = parseInt(versionHeader, 10);
  if (!version) fail('WS_ERR_HANDSHAKE_NO_VERSION', 400, 'Client must provide a value for Sec-WebSocket-Version.');
  if (!/^\d+$/.test(versionHeader) || !SUPPORTED_VERSIONS.includes(version)) {
    fail(
      'WS_ERR_HANDSHAKE_UNSUPPORTED_VERSION',
      426,
      `Unsupported websocket client version: ${versionHeader}Only versions 8 and 13 are supported.`,
      { 'Sec-WebSocket-Version': String(DEFAULT_VERSION) },
    );
  }
  const origin = version === 8 ? header(request, 'sec-websocket-origin') : header(request, 'origin');

  const requestedProtocols: string[] = [];
  const protocolFullCaseMap: Record<string, string> = Object.create(null);
  const protocolHeader = header(request, 'sec-websocket-protocol');
  if (protocolHeader !== undefined) {
    for (const raw of protocolHeader.split(',')) {
      const protocol = raw.trim();
      const bad = findIllegalTokenChar(protocol);
      if (protocol === '' || bad !== undefined) {
        fail('WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 400, `Invalid Sec-WebSocket-Protocol header: ${JSON.stringify(protocol)} is not a valid token.`);
      }
      const lower = protocol.toLowerCase();
      if (lower in protocolFullCaseMap) {
        fail('WS_ERR_HANDSHAKE_INVALID_PROTOCOL', 400, `Invalid Sec-WebSocket-Protocol header: ${JSON.stringify(protocol)} is listed twice.`);
      }
      requestedProtocols.push(lower);
      protocolFullCaseMap[lower] = protocol;
    }
  }
  return { host: host as string, key: (key as string).trim(), webSocketVersion: version, origin, requestedProtocols, protocolFullCaseMap };
}
