/**
 * WebSocketRequest: one upgrade request waiting for the application's decision. Holds what the
 * client asked for, and answers exactly once, with `accept()` (101 and a connection) or
 * `reject()` (an HTTP error).
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parse as parseUrl, type UrlWithParsedQuery } from 'node:url';
import { computeAcceptKey, validateUpgradeRequest } from './protocol/handshake';
import { HandshakeError } from './protocol/errors';
import { findIllegalTokenChar } from './protocol/validation';
import { parseExtensionsHeader, type Extension } from './protocol/extension-header';
import { formatSetCookies, parseCookies, type RequestCookie, type SetCookie } from './protocol/cookies';
import { EMPTY_BUFFER } from './protocol/buffer-util';
import { WebSocketConnection } from './connection';
import { deflateExtensionEntry, resolveDeflate, type ResolvedDeflate } from './deflate-options';
import { acceptDeflateOffer, parseExtensionList, type ParsedExtension } from './protocol/deflate-negotiation';
import { abortHandshake, formatHttpResponse, isSocketWritable } from './http-response';
import type { ResolvedServerConfig } from './config';
import type { UpgradeHeaders } from './upgrade-response';

/** Events of a {@link WebSocketRequest}. */
export interface WebSocketRequestEvents {
  requestResolved: [request: WebSocketRequest];
  requestAccepted: [connection: WebSocketConnection];
  requestRejected: [request: WebSocketRequest];
}

/**
 * Most bytes kept from a client that sends before its request is answered (a client must wait
 * for the 101); beyond it the socket is no longer read, and the rest waits in the kernel.
 */
const EARLY_DATA_LIMIT = 64 * 1024;

/** Response headers only the handshake itself may set. */
const HANDSHAKE_HEADERS = new Set([
  'upgrade',
  'connection',
  'sec-websocket-accept',
  'sec-websocket-protocol',
  'sec-websocket-extensions',
  'content-length',
  'transfer-encoding',
]);

/** A pending WebSocket upgrade request (`require('@wsuite/core').request`). */
export class WebSocketRequest extends EventEmitter<WebSocketRequestEvents> {
  /** The socket the request arrived on. */
  readonly socket: Socket;
  /** The HTTP upgrade request. */
  readonly httpRequest: IncomingMessage;
  /** The request target (path and query). */
  readonly resource: string;
  /** The target parsed as a legacy URL object, with a parsed `query`. */
  resourceURL!: UrlWithParsedQuery;
  /** The `Host` header. */
  host!: string;
  /** The `Sec-WebSocket-Key` header. */
  key!: string;
  /** 13 or 8. */
  webSocketVersion!: number;
  /** `Origin` (version 13) or `Sec-WebSocket-Origin` (version 8). */
  origin: string | undefined;
  /** Requested subprotocols, lower-cased, in the client's order. */
  requestedProtocols: string[] = [];
  /** Lower-cased subprotocol name to the client's spelling. */
  protocolFullCaseMap: Record<string, string> = {};
  /** Parsed `Sec-WebSocket-Extensions`. */
  requestedExtensions: Extension[] = [];
  /** Parsed `Cookie` header. */
  cookies: RequestCookie[] = [];
  /** The client's address: the first X-Forwarded-For entry, else the socket's peer. */
  remoteAddress: string | undefined;
  /** The X-Forwarded-For chain followed by the socket's peer address. */
  remoteAddresses: string[];
  /** The server config this request was made with. */
  readonly serverConfig: ResolvedServerConfig;
  /** True once accepted or rejected. */
  _resolved = false;
  /** True once the socket ended or closed. */
  _socketIsClosing = false;

  private readonly head: Buffer;
  /** Bytes read while the request waits for its answer; null until `_watchForHangUp()`. */
  private early: Buffer[] | null = null;
  private earlySize = 0;
  private deflate: ResolvedDeflate | null = null;
  private extensionOffers: ParsedExtension[] = [];
  private readonly onSocketGone = (): void => {
    this._socketIsClosing = true;
  };
  private readonly onEarlyData = (chunk: Buffer): void => {
    this.early?.push(chunk);
    this.earlySize += chunk.length;
    if (this.earlySize >= EARLY_DATA_LIMIT) this.socket.pause();
  };
  // A client that half-closed can never send a frame (not even a close): its request is over.
  // Destroying the socket frees its pending slot now rather than at the handshake timeout.
  private readonly onHangUp = (): void => {
    this._socketIsClosing = true;
    if (!this._resolved) this.socket.destroy();
  };
  // Until the request is answered, socket errors (a reset, say) only mark it closing: Node removed
  // its own error listener before 'upgrade', so without this one a reset would crash the process.
  private readonly onSocketError = (): void => {
    this._socketIsClosing = true;
    this.socket.destroy();
  };

  /**
   * @param socket the upgrade socket
   * @param httpRequest the upgrade request
   * @param serverConfig a complete server config
   * @param head bytes that arrived after the request headers (frames sent with the handshake)
   */
  constructor(socket: Socket | Duplex, httpRequest: IncomingMessage, serverConfig: ResolvedServerConfig, head?: Buffer) {
    super();
    this.socket = socket as Socket;
    this.httpRequest = httpRequest;
    this.resource = httpRequest.url ?? '/';
    this.remoteAddress = this.socket.remoteAddress;
    this.remoteAddresses = [this.remoteAddress ?? ''];
    this.serverConfig = serverConfig;
    this.head = head ?? EMPTY_BUFFER;
    this.socket.on('end', this.onSocketGone);
    this.socket.on('close', this.onSocketGone);
    this.socket.on('error', this.onSocketError);
  }

  /**
   * @internal Read the socket while the application decides (the server calls this for a request
   * not answered at once), so a client that hangs up is noticed when it does. Bytes the client
   * sends meanwhile are kept (up to 64 KiB, then reading stops) and go to the connection first.
   */
  _watchForHangUp(): void {
    if (this._resolved || this._socketIsClosing || this.early !== null) return;
    this.early = [];
    this.socket.removeListener('end', this.onSocketGone);
    this.socket.on('end', this.onHangUp);
    this.socket.on('data', this.onEarlyData);
  }

  /** Stop reading for the request; returns the bytes a connection must see first. */
  private stopWatching(): Buffer {
    const early = this.early;
    if (early === null) return this.head;
    this.early = null;
    this.socket.removeListener('data', this.onEarlyData);
    this.socket.removeListener('end', this.onHangUp);
    return early.length === 0 ? this.head : Buffer.concat([this.head, ...early]);
  }

  /** Validate and parse the handshake. Throws a `HandshakeError` (with `httpCode`) if it is invalid. */
  readHandshake(): void {
    const request = this.httpRequest;
    this.resourceURL = parseUrl(this.resource, true);
    const handshake = validateUpgradeRequest(request);
    this.host = handshake.host;
    this.key = handshake.key;
    this.webSocketVersion = handshake.webSocketVersion;
    this.origin = handshake.origin;
    this.requestedProtocols = handshake.requestedProtocols;
    this.protocolFullCaseMap = handshake.protocolFullCaseMap;

    const forwardedFor = request.headers['x-forwarded-for'];
    if (!this.serverConfig.ignoreXForwardedFor && forwardedFor) {
      const chain = (Array.isArray(forwardedFor) ? forwardedFor.join(', ') : forwardedFor).split(/,\s*/);
      chain.push(this.socket.remoteAddress ?? '');
      this.remoteAddresses = chain;
      this.remoteAddress = chain[0];
    }
    const extensionsHeader = request.headers['sec-websocket-extensions'];
    if (this.serverConfig.parseExtensions) this.requestedExtensions = parseExtensionsHeader(extensionsHeader);
    this.deflate = resolveDeflate(this.serverConfig.perMessageDeflate);
    if (this.deflate && extensionsHeader) {
      try {
        this.extensionOffers = parseExtensionList(extensionsHeader);
      } catch (error) {
        throw new HandshakeError('WS_ERR_HANDSHAKE_INVALID_EXTENSIONS', 400, (error as Error).message);
      }
    }
    if (this.serverConfig.parseCookies) {
      try {
        this.cookies = parseCookies(request.headers.cookie);
      } catch (error) {
        throw new HandshakeError('WS_ERR_HANDSHAKE_COOKIE', 400, (error as Error).message);
      }
    }
  }

  /**
   * Use an address chain a framework resolved with its trust-proxy setting (client first,
   * socket peer last) instead of the one core read from X-Forwarded-For.
   */
  _useRemoteAddresses(addresses: readonly string[]): void {
    this.remoteAddresses = [...addresses];
    this.remoteAddress = addresses[0];
  }

  /**
   * Complete the handshake. `acceptedProtocol` must be one the client requested (compared
   * case-insensitively; the 101 echoes the client's spelling). `extraHeaders` are added to the 101
   * (e.g. headers a framework set while routing the request); the handshake headers themselves
   * cannot be overridden. Returns the open connection.
   */
  accept(
    acceptedProtocol?: string | null,
    allowedOrigin?: string | null,
    cookies?: SetCookie[],
    extraHeaders?: Readonly<UpgradeHeaders>,
  ): WebSocketConnection {
    this.checkUnresolved();
    const headers: Array<[string, string]> = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', computeAcceptKey(this.key)],
    ];
    if (acceptedProtocol) {
      const wire = this.protocolFullCaseMap[acceptedProtocol.toLowerCase()] ?? acceptedProtocol;
      const bad = findIllegalTokenChar(wire);
      if (bad !== undefined) this.failAccept(`Illegal character ${JSON.stringify(bad)} in subprotocol.`);
      if (!this.requestedProtocols.includes(acceptedProtocol.toLowerCase())) this.failAccept('Specified protocol was not requested by the client.');
      headers.push(['Sec-WebSocket-Protocol', wire]);
    }
    if (allowedOrigin) {
      headers.push([this.webSocketVersion === 13 ? 'Origin' : 'Sec-WebSocket-Origin', allowedOrigin]);
    }
    if (cookies !== undefined) {
      let setCookies: string[] = [];
      try {
        setCookies = formatSetCookies(cookies);
      } catch (error) {
        this.failAccept((error as Error).message);
      }
      for (const cookie of setCookies) headers.push(['Set-Cookie', cookie]);
    }
    if (extraHeaders) {
      for (const [name, value] of Object.entries(extraHeaders)) {
        // The handshake headers are core's to write; a framework's copy of them is dropped.
        if (HANDSHAKE_HEADERS.has(name.toLowerCase()) || value === undefined || value === null) continue;
        for (const item of Array.isArray(value) ? value : [value]) headers.push([name, String(item)]);
      }
    }
    const extensions: unknown[] = [];
    const deflate = this.deflate ? acceptDeflateOffer(this.extensionOffers, this.deflate.policy) : null;
    if (deflate) {
      headers.push(['Sec-WebSocket-Extensions', deflate.response]);
      extensions.push(deflateExtensionEntry(deflate.params));
    }
    this._resolved = true;
    this.emit('requestResolved', this);

    const socketAlive = !this._socketIsClosing && isSocketWritable(this.socket);
    if (socketAlive) this.socket.write(formatHttpResponse(101, headers, 'Switching Protocols'), 'utf8');

    const connection = new WebSocketConnection(this.socket, extensions, acceptedProtocol || undefined, false, this.serverConfig);
    connection.webSocketVersion = this.webSocketVersion;
    connection.remoteAddress = this.remoteAddress;
    connection._setRemoteAddresses(this.remoteAddresses);

    this.removeSocketListeners();
    const head = this.stopWatching();
    if (socketAlive) {
      // Bytes that came with the handshake go first, after the caller has had a chance to
      // attach listeners; socket data follows once the data listener resumes the socket.
      const stoppedReading = this.earlySize >= EARLY_DATA_LIMIT;
      if (head.length > 0 || stoppedReading) {
        process.nextTick(() => {
          connection.handleSocketData(head);
          // The rest of what the client sent early waits in the kernel, behind `head`.
          if (stoppedReading) connection._resumeInput();
        });
      }
      connection._addSocketEventListeners();
    } else {
      process.nextTick(() => connection.drop(1006, 'TCP connection lost before handshake completed.', true));
    }
    this.emit('requestAccepted', connection);
    return connection;
  }

  /**
   * Refuse the upgrade with an HTTP status (300-599; a non-number gives 403), an optional reason
   * sent as `X-WebSocket-Reject-Reason`, and optional extra headers.
   */
  reject(status?: number, reason?: string, extraHeaders?: Record<string, string | number>): void {
    this.checkUnresolved();
    if (typeof status === 'number' && !(Number.isInteger(status) && status >= 300 && status <= 599)) {
      throw new RangeError(`reject() needs an HTTP status from 300 to 599 (a refusal), got ${status}.`);
    }
    const code = typeof status === 'number' ? status : 403;
    this._resolved = true;
    this.emit('requestResolved', this);
    this.stopWatching();
    if (this._socketIsClosing) this.socket.destroy();
    else abortHandshake(this.socket, code, reason, extraHeaders);
    this.emit('requestRejected', this);
  }

  private checkUnresolved(): void {
    if (this._resolved) throw new Error('WebSocketRequest may only be accepted or rejected one time.');
  }

  private failAccept(message: string): never {
    this.reject(500);
    throw new Error(message);
  }

  private removeSocketListeners(): void {
    this.socket.removeListener('end', this.onSocketGone);
    this.socket.removeListener('close', this.onSocketGone);
    this.socket.removeListener('error', this.onSocketError);
  }
}
