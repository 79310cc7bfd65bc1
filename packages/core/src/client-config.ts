/**
 * WebSocketClient configuration: WebSocket-Node's client keys and defaults, merged over a copy
 * (the caller's object is never changed) and checked once, when the client is built.
 */
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import { CLIENT_CONNECTION_DEFAULTS, validateConnectionConfig, type ConnectionConfig } from './config';
import { SUPPORTED_VERSIONS } from './protocol/constants';

/** TLS settings for `wss:` requests: any `https.request` option, plus `headers` sent with every `wss:` request. */
export type ClientTlsOptions = HttpsRequestOptions;

/** The settings of a `WebSocketClient` (WebSocket-Node's client config). */
export interface ClientConfig extends ConnectionConfig {
  /** 13 (RFC 6455) or 8; 8 only renames `Origin` to `Sec-WebSocket-Origin`. @default 13 */
  webSocketVersion: number;
  /**
   * Options copied onto every `wss:` request (all but `hostname`, `port`, `method`, `path` and
   * `headers`, which the client sets; `headers` are sent below the caller's). @default {}
   */
  tlsOptions: ClientTlsOptions;
}

/** What the `WebSocketClient` constructor accepts: any subset of {@link ClientConfig}; unknown keys pass through. */
export type WebSocketClientOptions = Partial<ClientConfig> & Record<string, unknown>;

/** A merged client config, shared by the client and every connection it opens. */
export type ResolvedClientConfig = ClientConfig & Record<string, unknown>;

/** WebSocket-Node's client defaults (keepalive off unless asked for, with the server's option names). */
export const CLIENT_DEFAULTS: Readonly<Omit<ClientConfig, 'tlsOptions'>> = Object.freeze({
  ...CLIENT_CONNECTION_DEFAULTS,
  webSocketVersion: 13,
  perMessageDeflate: true,
});

/**
 * Merge `options` over {@link CLIENT_DEFAULTS} into a new object (`tlsOptions` merged key by
 * key into a copy) and check it. Throws a `TypeError`/`RangeError` naming the bad option.
 */
export function resolveClientConfig(options?: WebSocketClientOptions | null): ResolvedClientConfig {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new TypeError(`WebSocketClient config must be an object, got ${typeof options}.`);
  }
  const given = options ?? {};
  const tlsOptions = given.tlsOptions ?? {};
  if (typeof tlsOptions !== 'object') throw new TypeError(`Option "tlsOptions" must be an object of https.request options, got ${typeof tlsOptions}.`);
  const config = { ...CLIENT_DEFAULTS, ...given, tlsOptions: { ...tlsOptions } } as ResolvedClientConfig;
  if (!SUPPORTED_VERSIONS.includes(config.webSocketVersion)) {
    throw new RangeError('Requested webSocketVersion is not supported. Allowed values are 8 and 13.');
  }
  validateConnectionConfig(config);
  return config;
}
