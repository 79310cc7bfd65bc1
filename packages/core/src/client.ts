/**
 * WebSocketClient: opens a WebSocket over `http.request`/`https.request` (so agents and proxies
 * work), checks the server's 101, and hands the socket to a masking `WebSocketConnection`.
 */
import { EventEmitter } from 'node:events';
import { request as httpRequest, type ClientRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { resolveDeflate, deflateExtensionEntry } from './deflate-options';
import { checkDeflateResponse, formatDeflateOffer } from './protocol/deflate-negotiation';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ClientHandshakeError,
  buildHandshakeHeaders,
  generateKey,
  non101ResponseError,
  normalizeProtocols,
  parseWebSocketUrl,
  verifyHandshakeResponse,
  type ClientExtensionNegotiator,
  type ExpectedHandshake,
  type HandshakeHeaders,
  type WebSocketUrlLike,
} from './protocol/client-handshake';
import { resolveClientConfig, type ResolvedClientConfig, type WebSocketClientOptions } from './client-config';
import { WebSocketConnection } from './connection';

/** Events of a {@link WebSocketClient}. */
export interface WebSocketClientEvents {
  /** The handshake succeeded; bytes that came with the 101 are delivered right after this event. */
  connect: [connection: WebSocketConnection];
  /** The attempt failed: a network or TLS error (Node's own error object), or a {@link ClientHandshakeError}. */
  connectFailed: [error: Error];
  /** The server answered with another status than 101 and a listener exists (then there is no `connectFailed`). */
  httpResponse: [response: IncomingMessage, client: WebSocketClient];
}

/** The subprotocols argument of `connect`: one protocol, a list, or nothing. */
export type RequestedProtocols = string | readonly string[] | null | undefined;

/** Request options the client sets itself; the TLS options may not replace them. */
const CLIENT_OWNED_OPTIONS = new Set(['hostname', 'port', 'method', 'path', 'headers']);

const noop = (): void => undefined;

/** A WebSocket client (`require('@wsuite/core').client`). */
export class WebSocketClient extends EventEmitter<WebSocketClientEvents> {
  /** The merged config, shared with every connection this client opens. */
  readonly config: ResolvedClientConfig;
  /** The pending upgrade request, until the server answers or the attempt fails. */
  _req: ClientRequest | null = null;
  /** The subprotocols requested by the last `connect`. */
  protocols: string[] = [];
  /** The origin sent by the last `connect`. */
  origin: string | undefined;
  /** The URL of the last `connect`, with a `ws:`/`wss:` scheme. */
  url: URL | undefined;
  /** Whether the last `connect` used TLS. */
  secure = false;
  /** The `Sec-WebSocket-Key` of the last `connect`. */
  base64nonce: string | undefined;
  /** The upgraded socket of the last handshake. */
  socket: Socket | undefined;
  /** The server's answer to the last handshake. */
  response: IncomingMessage | undefined;
  /** Bytes that arrived with the 101, until they are handed to the connection. */
  firstDataChunk: Buffer | null = null;
  /** The subprotocol the server selected in the last handshake. */
  protocol: string | undefined;

  /** @param config client settings (see `CLIENT_DEFAULTS`); the object is not modified */
  constructor(config?: WebSocketClientOptions | null) {
    super();
    this.config = resolveClientConfig(config);
  }

  /**
   * Open a WebSocket to `requestUrl` (`ws://` or `wss://`). Emits `connect` or `connectFailed`
   * (or `httpResponse`) later; bad arguments throw at once. `headers` are sent below the
   * handshake's own; `extraRequestOptions` go to `http(s).request`, e.g. an `agent` for a proxy
   * (the default is `agent: false`, a fresh connection), or TLS options for `wss:`.
   */
  connect(
    requestUrl: string | URL | WebSocketUrlLike,
    requestedProtocols?: RequestedProtocols,
    origin?: string | null,
    headers?: OutgoingHttpHeaders | null,
    extraRequestOptions?: RequestOptions | null,
  ): void {
    const target = parseWebSocketUrl(requestUrl instanceof URL ? requestUrl.href : requestUrl);
    const protocols = normalizeProtocols(requestedProtocols);
    const key = generateKey();
    const tlsOptions = this.config.tlsOptions;
    const negotiator = this.createExtensionNegotiator();

    this.protocols = protocols;
    this.origin = origin ?? undefined;
    this.url = new URL(target.href);
    this.secure = target.secure;
    this.base64nonce = key;

    const callerHeaders = { ...(target.secure ? tlsOptions.headers : undefined), ...headers } as HandshakeHeaders;
    const options: RequestOptions = {
      agent: false,
      ...extraRequestOptions,
      hostname: target.hostname,
      port: target.port,
      method: 'GET',
      path: target.path,
      headers: buildHandshakeHeaders({
        key,
        hostHeader: target.hostHeader,
        webSocketVersion: this.config.webSocketVersion,
        protocols,
        origin,
        extensionOffer: negotiator?.offer(),
        headers: callerHeaders,
      }),
    };
    if (target.auth !== undefined && options.auth === undefined) options.auth = target.auth;
    if (target.secure) {
      for (const [name, value] of Object.entries(tlsOptions)) {
        if (!CLIENT_OWNED_OPTIONS.has(name)) (options as Record<string, unknown>)[name] = value;
      }
    }

    const req = (target.secure ? httpsRequest : httpRequest)(options);
    this._req = req;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      if (this._req === req) this._req = null;
      return true;
    };
    // Stays attached after the answer: Node may still report errors of a request it has handed over.
    req.on('error', (error) => {
      if (settle()) this.emit('connectFailed', error);
    });
    req.on('timeout', () => req.destroy(new ClientHandshakeError('WS_ERR_HANDSHAKE_TIMEOUT', String(options.timeout))));
    req.on('upgrade', (response: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (settle()) this.handleUpgrade(response, socket as Socket, head, { key, protocols, extensions: negotiator });
      else socket.destroy();
    });
    req.on('response', (response: IncomingMessage) => {
      if (settle()) this.handleResponse(req, response, { key, protocols, extensions: negotiator });
    });
    req.end();
  }

  /** Cancel the pending connection attempt; `connectFailed` follows. Does nothing once the server has answered. */
  abort(): void {
    const req = this._req;
    if (!req) return;
    this._req = null;
    req.destroy(new ClientHandshakeError('WS_ERR_CONNECT_ABORTED'));
  }

  /**
   * The extension negotiator for one connection attempt: permessage-deflate when the
   * `perMessageDeflate` option is on (the default), else none.
   */
  protected createExtensionNegotiator(): ClientExtensionNegotiator | undefined {
    const deflate = resolveDeflate(this.config.perMessageDeflate);
    if (!deflate) return undefined;
    return {
      offer: () => formatDeflateOffer(deflate.policy),
      accept: (_extensions, header) => {
        const agreed = checkDeflateResponse(header || undefined, deflate.policy);
        if (typeof agreed === 'string') throw new Error(agreed);
        return agreed ? [deflateExtensionEntry(agreed)] : [];
      },
    };
  }

  private handleUpgrade(response: IncomingMessage, socket: Socket, head: Buffer, expected: ExpectedHandshake): void {
    this.socket = socket;
    this.response = response;
    this.firstDataChunk = head;
    let negotiated;
    try {
      negotiated = verifyHandshakeResponse(response, expected);
    } catch (error) {
      this.firstDataChunk = null;
      // Node removed its own listeners from the upgraded socket; keep a late error from crashing.
      socket.on('error', noop);
      socket.destroy();
      this.emit('connectFailed', error as Error);
      return;
    }
    this.protocol = negotiated.protocol;
    const connection = new WebSocketConnection(socket, negotiated.extensions, negotiated.protocol, true, this.config);
    connection.webSocketVersion = this.config.webSocketVersion;
    connection._addSocketEventListeners();
    this.emit('connect', connection);
    this.firstDataChunk = null;
    // After `connect`, so the application's listeners see frames the server sent with the 101.
    if (head.length > 0) connection.handleSocketData(head);
  }

  private handleResponse(req: ClientRequest, response: IncomingMessage, expected: ExpectedHandshake): void {
    this.response = response;
    if (this.listenerCount('httpResponse') > 0) {
      this.emit('httpResponse', response, this);
      response.socket?.end();
      return;
    }
    let error: Error = non101ResponseError(response.statusCode ?? 0, response.statusMessage, response.headers);
    // Node reports a 101 without `Connection: Upgrade` as a plain response: say what is missing.
    if (response.statusCode === 101) {
      try {
        verifyHandshakeResponse(response, expected);
      } catch (reason) {
        error = reason as Error;
      }
    }
    response.on('error', noop);
    req.destroy();
    this.emit('connectFailed', error);
  }
}
