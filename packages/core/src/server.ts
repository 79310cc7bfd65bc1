/**
 * WebSocketServer: takes upgrade requests from one or more HTTP(S) servers (or from a
 * framework through `handleUpgrade`), hands valid ones to the application, and tracks the
 * connections it accepted.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, Opcode } from './protocol/constants';
import { HandshakeError } from './protocol/errors';
import { encodeFragmentedMessage, encodeFrame, encodeTextFrame } from './protocol/frame-encoder';
import { SERVER_DEFAULTS, validateConnectionConfig, type MountableServer, type ResolvedServerConfig, type ServerConfig } from './config';
import { WebSocketRequest } from './request';
import type { WebSocketConnection } from './connection';
import { createBufferingLogger } from './debug';

/** Events of a {@link WebSocketServer}. */
export interface WebSocketServerEvents {
  request: [request: WebSocketRequest];
  connect: [connection: WebSocketConnection];
  close: [connection: WebSocketConnection, closeReasonCode: number, closeDescription: string];
  upgradeError: [error: Error];
}

/** What the server config accepts: `httpServer` is needed by `mount`, the rest has defaults. */
export type WebSocketServerOptions = Partial<ServerConfig> & Record<string, unknown>;

const noMask = (): null => null;
/**
 * Sockets whose upgrade request a WebSocketServer has taken. When two servers are mounted on one
 * http.Server, both see every upgrade: the first one owns the socket, the second leaves it alone
 * (otherwise both could answer, and the client would get two 101 responses on one socket).
 */
const claimedSockets = new WeakSet<Duplex>();
const debug = createBufferingLogger('websocket:server', 'server');

/** A WebSocket server (`require('@wsuite/core').server`). */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** The merged config; undefined until `mount` (or construction with a config). */
  config: ResolvedServerConfig | undefined;
  /** Accepted connections that have not closed, in accept order. */
  readonly connections: WebSocketConnection[] = [];
  /** Requests handed to the application and not yet accepted or rejected. */
  readonly pendingRequests: WebSocketRequest[] = [];

  private readonly onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => this.handleUpgrade(request, socket, head);

  /** @param config server config; when given, the server is mounted at once */
  constructor(config?: WebSocketServerOptions) {
    super();
    if (config) this.mount(config);
  }

  /**
   * Merge `config` over the defaults, check it, and listen to `upgrade` on `config.httpServer`
   * (one server or an array). Throws when `httpServer` is missing (and `noServer` is not set)
   * or an option is invalid.
   */
  mount(config: WebSocketServerOptions): void {
    if (config === null || typeof config !== 'object') throw new TypeError('WebSocketServer config must be an object.');
    const merged = { ...SERVER_DEFAULTS, ...config } as Record<string, unknown>;
    if (!merged.httpServer && !merged.noServer) throw new Error('You must specify an httpServer on which to mount the WebSocket server.');
    const servers = (merged.httpServer ? (Array.isArray(merged.httpServer) ? merged.httpServer : [merged.httpServer]) : []) as MountableServer[];
    for (const server of servers) {
      if (!server || typeof (server as EventEmitter).on !== 'function') {
        throw new TypeError('httpServer must be an http.Server or https.Server (or an array of them).');
      }
    }
    validateConnectionConfig(merged);
    merged.httpServer = servers;
    this.config = merged as ResolvedServerConfig;
    for (const server of servers) server.on('upgrade', this.onUpgrade);
  }

  /** Stop listening to `upgrade` events. Open connections are untouched. */
  unmount(): void {
    if (!this.config) return;
    for (const server of this.config.httpServer) server.removeListener('upgrade', this.onUpgrade);
  }

  /** Close every connection (1000) and answer every pending request with 503. */
  closeAllConnections(code: number = CloseCode.Normal, description?: string): void {
    for (const connection of [...this.connections]) connection.close(code, description);
    for (const request of [...this.pendingRequests]) {
      process.nextTick(() => {
        if (!request._resolved) request.reject(503);
      });
    }
  }

  /** `unmount()`, then close every connection and pending request. */
  shutDown(): void {
    this.unmount();
    this.closeAllConnections();
  }

  /**
   * Send a message to every connection: Buffers and ArrayBuffer views as binary, anything
   * else with `toString()` as text. The frame is encoded once and the same bytes are written
   * to every connection.
   */
  broadcast(data: Buffer | ArrayBufferView | string | { toString(): string }): void {
    if (Buffer.isBuffer(data)) this.broadcastBytes(data);
    else if (ArrayBuffer.isView(data)) this.broadcastBytes(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    else if (data !== null && data !== undefined && typeof data.toString === 'function') this.broadcastUTF(data);
    else throw new TypeError('broadcast() needs a Buffer or a value with toString().');
  }

  /** Send a text message to every connection (encoded once). */
  broadcastUTF(data: string | { toString(): string }): void {
    const text = typeof data === 'string' ? data : data.toString();
    const byteLength = Buffer.byteLength(text);
    const frames = this.needsFragments(byteLength)
      ? this.encodeFragments(Opcode.Text, Buffer.from(text, 'utf8'))
      : [encodeTextFrame(text, byteLength, Opcode.Text)];
    this.writeToAll(frames);
  }

  /** Send a binary message to every connection (encoded once). */
  broadcastBytes(data: Buffer): void {
    if (!Buffer.isBuffer(data)) throw new TypeError('You must pass a Node Buffer object to WebSocketServer.prototype.broadcastBytes()');
    const frames = this.needsFragments(data.length) ? this.encodeFragments(Opcode.Binary, data) : encodeFrame(Opcode.Binary, data);
    this.writeToAll(frames);
  }

  private needsFragments(length: number): boolean {
    const config = this.config ?? SERVER_DEFAULTS;
    return config.fragmentOutgoingMessages && length > config.fragmentationThreshold;
  }

  private encodeFragments(opcode: number, payload: Buffer): Buffer[] {
    return encodeFragmentedMessage(opcode, payload, (this.config ?? SERVER_DEFAULTS).fragmentationThreshold, noMask);
  }

  private writeToAll(frames: Buffer[]): void {
    for (const connection of this.connections) {
      if (connection.state === 'open') connection.sendEncodedFrames(frames);
    }
  }

  /**
   * Handle one upgrade request: validate it (an invalid one is answered with its HTTP error and
   * `upgradeError`), then pass it to `onRequest` when given, else emit `request` (or
   * auto-accept, or answer 404). Frameworks that own the HTTP server call this from their own
   * upgrade handling, after their routing and hooks have let the request through.
   */
  handleUpgrade(httpRequest: IncomingMessage, socket: Duplex, head?: Buffer, onRequest?: (request: WebSocketRequest) => void): void {
    if (!this.config) throw new Error('WebSocketServer is not mounted: call mount(config) or pass a config to the constructor first.');
    // Another handler (e.g. a second server on the same http.Server) already answered.
    if (socket.destroyed || socket.writableEnded || claimedSockets.has(socket)) return;
    claimedSockets.add(socket);
    const request = new WebSocketRequest(socket, httpRequest, this.config, head);
    try {
      request.readHandshake();
    } catch (error) {
      const e = error as HandshakeError;
      debug('invalid handshake: %s', e.message);
      request.reject(e.httpCode || 400, e.message, e.headers as Record<string, string> | undefined);
      this.emit('upgradeError', e);
      return;
    }
    this.pendingRequests.push(request);
    request.once('requestAccepted', (connection) => this.handleRequestAccepted(connection));
    request.once('requestResolved', () => this.handleRequestResolved(request));
    socket.once('close', () => this.handleRequestResolved(request));

    if (onRequest) {
      onRequest(request);
    } else if (!this.config.autoAcceptConnections && this.listenerCount('request') > 0) {
      this.emit('request', request);
    } else if (this.config.autoAcceptConnections) {
      request.accept(request.requestedProtocols[0], request.origin);
    } else {
      request.reject(404, 'No handler is configured to accept the connection.');
    }
  }

  /**
   * Graceful shutdown: stop taking upgrades, answer pending requests with 503, close every
   * connection with `code` (1001 by default), and resolve once all have closed. Connections
   * still open after `timeout` ms are dropped.
   */
  async close(options: { code?: number; reason?: string; timeout?: number } = {}): Promise<void> {
    const code = options.code ?? CloseCode.GoingAway;
    const reason = options.reason ?? 'Server shutting down';
    const timeout = options.timeout ?? this.config?.closeTimeout ?? SERVER_DEFAULTS.closeTimeout;
    if (!Number.isFinite(timeout) || timeout < 0) throw new RangeError(`close() timeout must be a non-negative number of ms, got ${timeout}.`);
    this.unmount();
    const open = [...this.connections];
    const closed = open.map((connection) => new Promise<void>((resolve) => {
      if (connection.state === 'closed' && connection.closeEventEmitted) resolve();
      else connection.once('close', () => resolve());
    }));
    this.closeAllConnections(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeout);
    });
    await Promise.race([Promise.all(closed), deadline]);
    clearTimeout(timer);
    for (const connection of open) if (!connection.closeEventEmitted) connection.drop(code, reason, true);
  }

  /** Track a newly accepted connection and emit `connect`. */
  handleRequestAccepted(connection: WebSocketConnection): void {
    connection.once('close', (code, description) => this.handleConnectionClose(connection, code, description));
    this.connections.push(connection);
    this.emit('connect', connection);
  }

  /** Forget a closed connection and emit `close`. */
  handleConnectionClose(connection: WebSocketConnection, closeReasonCode: number, description: string): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
    this.emit('close', connection, closeReasonCode, description);
  }

  /** Forget a request that was answered (or whose socket closed). */
  handleRequestResolved(request: WebSocketRequest): void {
    const index = this.pendingRequests.indexOf(request);
    if (index !== -1) this.pendingRequests.splice(index, 1);
  }
}
