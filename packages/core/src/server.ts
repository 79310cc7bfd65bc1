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
import {
  SERVER_DEFAULTS,
  validateConnectionConfig,
  validateServerLimits,
  resolveMaxBufferedAmount,
  type MountableServer,
  type ResolvedServerConfig,
  type ServerConfig,
} from './config';
import { WebSocketRequest } from './request';
import type { WebSocketConnection } from './connection';
import { createBufferingLogger } from './debug';
import { TopicRegistry, assertTopic } from './topics';
import { assertPubSubDriver, readPublishOptions, toPublishPayload, type PubSubDriver, type PublishData, type PublishOptions } from './pubsub';

/** Events of a {@link WebSocketServer}. */
export interface WebSocketServerEvents {
  request: [request: WebSocketRequest];
  connect: [connection: WebSocketConnection];
  close: [connection: WebSocketConnection, closeReasonCode: number, closeDescription: string];
  upgradeError: [error: Error];
}

/** What the server config accepts: `httpServer` is needed by `mount`, the rest has defaults. */
export type WebSocketServerOptions = Partial<ServerConfig> & Record<string, unknown>;

/** Per-request settings a framework passes to `handleUpgrade`. */
export interface UpgradeOptions {
  /**
   * The client's address chain as the framework's trust-proxy setting resolved it: the client
   * first, the socket's peer last. Used for `remoteAddress(es)` instead of core's own
   * X-Forwarded-For handling (unless `ignoreXForwardedFor` is set, which keeps the socket's peer).
   */
  remoteAddresses?: readonly string[];
}

/** A pending request's handshake timer and socket listener, released when it is answered. */
interface PendingEntry {
  timer: NodeJS.Timeout | undefined;
  onSocketClose: () => void;
}

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
  private readonly pending = new Map<WebSocketRequest, PendingEntry>();
  // `allowedOrigins` given as a list, lower-cased once at mount.
  private originSet: ReadonlySet<string> | null = null;

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
    validateServerLimits(merged);
    merged.maxBufferedAmount = resolveMaxBufferedAmount(merged);
    merged.httpServer = servers;
    this.config = merged as ResolvedServerConfig;
    const origins = this.config.allowedOrigins;
    this.originSet = Array.isArray(origins) ? new Set(origins.map((origin: string) => origin.toLowerCase())) : null;
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

  /**
   * A message in fragments as one buffer: joined once here, it is one piece in each socket's
   * write instead of two per fragment (writev's cost grows with the pieces, per socket).
   */
  private encodeFragments(opcode: number, payload: Buffer): Buffer[] {
    return [Buffer.concat(encodeFragmentedMessage(opcode, payload, (this.config ?? SERVER_DEFAULTS).fragmentationThreshold, noMask))];
  }

  private writeToAll(frames: Buffer[]): void {
    // A copy: a connection over its buffer limit may close (and leave the list) inside the loop.
    for (const connection of [...this.connections]) {
      if (connection.state === 'open') connection.sendEncodedFrames(frames);
    }
  }

  // ---- topics (publish/subscribe) --------------------------------------------------------

  // Topic → subscribers and connection → topics; a topic's first and last subscriber tell the driver.
  private readonly topicRegistry = new TopicRegistry<WebSocketConnection>({
    onTopicOpened: (topic) => this.pubsubDriver?.subscribe(topic, this),
    onTopicClosed: (topic) => this.pubsubDriver?.unsubscribe(topic, this),
  });
  private pubsubDriver: PubSubDriver | null = null;

  /**
   * Send a message to every connection subscribed to `topic` (`connection.subscribe(topic)`),
   * then hand it to the pub/sub driver, if one is set, for the other processes. Buffers and
   * ArrayBuffer (views) are binary, anything else with `toString()` is text. The message is
   * framed once and the same bytes are written to every subscriber, each through its
   * `maxBufferedAmount` policy. Connections with permessage-deflate get it uncompressed.
   * `options.except` skips one connection (typically the sender); `options.local` keeps the
   * message off the driver. Returns the number of local subscribers it was handed to.
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number {
    assertTopic(topic, 'publish()');
    const { except, local } = readPublishOptions(options);
    const driver = local ? null : this.pubsubDriver;
    if (typeof data === 'string' && driver === null) {
      // Text for local subscribers only: encoded straight into its frame.
      const subscribers = this.topicRegistry.subscribersOf(topic);
      if (!subscribers) return 0;
      const byteLength = Buffer.byteLength(data);
      const frames = this.needsFragments(byteLength) ? this.encodeFragments(Opcode.Text, Buffer.from(data, 'utf8')) : [encodeTextFrame(data, byteLength, Opcode.Text)];
      return this.writeToSubscribers(subscribers, frames, except);
    }
    const { payload, isBinary } = toPublishPayload(data);
    const delivered = this.deliverLocally(topic, payload, isBinary, except);
    if (driver) driver.publish(topic, payload, isBinary, this);
    return delivered;
  }

  /**
   * Deliver a message that was published elsewhere (called by the pub/sub driver) to this
   * server's subscribers of `topic`; it is not handed back to the driver. `payload` is UTF-8
   * text when `isBinary` is false. Returns the number of local subscribers it was handed to.
   */
  deliverRemote(topic: string, payload: Buffer, isBinary: boolean): number {
    assertTopic(topic, 'deliverRemote()');
    if (!Buffer.isBuffer(payload)) throw new TypeError(`deliverRemote() needs the payload as a Buffer, got ${typeof payload}.`);
    return this.deliverLocally(topic, payload, isBinary === true, null);
  }

  /** Number of this server's connections subscribed to `topic` (other processes not counted). */
  subscriberCount(topic: string): number {
    assertTopic(topic, 'subscriberCount()');
    return this.topicRegistry.subscriberCount(topic);
  }

  /** The topics at least one of this server's connections is subscribed to (a copy). */
  get topics(): string[] {
    return this.topicRegistry.topics;
  }

  /** The pub/sub driver set with `setPubSub`, or null. */
  get pubsub(): PubSubDriver | null {
    return this.pubsubDriver;
  }

  /**
   * Fan `publish` out to other processes through `driver` (e.g. `@wsuite/redis`), or stop with
   * `null`. The topics that already have subscribers move from the old driver to the new one.
   * Throws a `TypeError` when `driver` lacks `subscribe`, `unsubscribe` or `publish`.
   */
  setPubSub(driver: PubSubDriver | null): this {
    assertPubSubDriver(driver);
    const previous = this.pubsubDriver;
    if (previous === driver) return this;
    this.pubsubDriver = driver;
    for (const topic of this.topicRegistry.topics) {
      previous?.unsubscribe(topic, this);
      driver?.subscribe(topic, this);
    }
    return this;
  }

  private deliverLocally(topic: string, payload: Buffer, isBinary: boolean, except: WebSocketConnection | null): number {
    const subscribers = this.topicRegistry.subscribersOf(topic);
    if (!subscribers) return 0;
    const opcode = isBinary ? Opcode.Binary : Opcode.Text;
    const frames = this.needsFragments(payload.length) ? this.encodeFragments(opcode, payload) : encodeFrame(opcode, payload);
    return this.writeToSubscribers(subscribers, frames, except);
  }

  private writeToSubscribers(subscribers: ReadonlySet<WebSocketConnection>, frames: Buffer[], except: WebSocketConnection | null): number {
    // The live set: a subscriber closed by its buffer policy inside the loop leaves it, and a Set skips it.
    let count = 0;
    for (const connection of subscribers) {
      if (connection === except || connection.state !== 'open') continue;
      connection.sendEncodedFrames(frames);
      count++;
    }
    return count;
  }

  /**
   * Handle one upgrade request: check it (an oversized head gets 431, an invalid handshake its
   * 4xx, an origin outside `allowedOrigins` 403, a server at `maxPendingRequests` or
   * `maxConnections` 503; each refusal also emits `upgradeError`), then pass it to `onRequest`
   * when given, else emit `request` (or auto-accept, or answer 404). A request still undecided
   * after `handshakeTimeout` is answered with 408. Frameworks that own the HTTP server call this
   * from their own upgrade handling, after their routing and hooks have let the request through.
   */
  handleUpgrade(
    httpRequest: IncomingMessage,
    socket: Duplex,
    head?: Buffer,
    onRequest?: (request: WebSocketRequest) => void,
    options?: UpgradeOptions,
  ): void {
    const config = this.config;
    if (!config) throw new Error('WebSocketServer is not mounted: call mount(config) or pass a config to the constructor first.');
    const remoteAddresses = options?.remoteAddresses;
    if (remoteAddresses !== undefined && (!Array.isArray(remoteAddresses) || remoteAddresses.length === 0 || !remoteAddresses.every((a) => typeof a === 'string'))) {
      throw new TypeError('handleUpgrade(): options.remoteAddresses must be a non-empty array of strings (client first, socket peer last).');
    }
    // Another handler (e.g. a second server on the same http.Server) already answered.
    if (socket.destroyed || socket.writableEnded || claimedSockets.has(socket)) return;
    claimedSockets.add(socket);
    const request = new WebSocketRequest(socket, httpRequest, config, head);
    const headSize = upgradeHeadSize(httpRequest);
    if (headSize > config.maxHandshakeHeaderSize) {
      this.refuse(request, new HandshakeError('WS_ERR_HANDSHAKE_HEADERS_TOO_LARGE', 431, `Request header fields too large (${headSize} bytes; the limit is ${config.maxHandshakeHeaderSize}).`));
      return;
    }
    try {
      request.readHandshake();
    } catch (error) {
      const e = error as HandshakeError;
      debug('invalid handshake: %s', e.message);
      this.refuse(request, e);
      return;
    }
    if (remoteAddresses !== undefined && !config.ignoreXForwardedFor) request._useRemoteAddresses(remoteAddresses);
    const originRefusal = this.checkOrigin(request);
    if (originRefusal) {
      this.refuse(request, originRefusal);
      return;
    }
    if (this.pendingRequests.length >= config.maxPendingRequests) {
      this.refuse(request, new HandshakeError('WS_ERR_HANDSHAKE_TOO_MANY_PENDING', 503, 'Too many WebSocket handshakes in progress.'));
      return;
    }
    // Pending requests count too: each may still become a connection.
    if (this.connections.length + this.pendingRequests.length >= config.maxConnections) {
      this.refuse(request, new HandshakeError('WS_ERR_HANDSHAKE_TOO_MANY_CONNECTIONS', 503, 'Too many WebSocket connections.'));
      return;
    }
    this.pendingRequests.push(request);
    const entry: PendingEntry = {
      timer: config.handshakeTimeout > 0 ? setTimeout(() => this.handleHandshakeTimeout(request), config.handshakeTimeout) : undefined,
      onSocketClose: () => this.handleRequestResolved(request),
    };
    this.pending.set(request, entry);
    request.once('requestAccepted', (connection) => this.handleRequestAccepted(connection));
    request.once('requestResolved', () => this.handleRequestResolved(request));
    socket.once('close', entry.onSocketClose);

    if (onRequest) {
      onRequest(request);
    } else if (!config.autoAcceptConnections && this.listenerCount('request') > 0) {
      this.emit('request', request);
    } else if (config.autoAcceptConnections) {
      request.accept(request.requestedProtocols[0], request.origin);
    } else {
      request.reject(404, 'No handler is configured to accept the connection.');
    }
    // The application answers later: meanwhile a client that hangs up must be noticed.
    if (!request._resolved) request._watchForHangUp();
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
    connection._attachToServer(this.topicRegistry, this);
    this.connections.push(connection);
    this.emit('connect', connection);
  }

  /** Forget a closed connection and emit `close`. */
  handleConnectionClose(connection: WebSocketConnection, closeReasonCode: number, description: string): void {
    const index = this.connections.indexOf(connection);
    if (index !== -1) this.connections.splice(index, 1);
    this.topicRegistry.removeMember(connection);
    this.emit('close', connection, closeReasonCode, description);
  }

  /** Forget a request that was answered (or whose socket closed), with its timer. */
  handleRequestResolved(request: WebSocketRequest): void {
    const index = this.pendingRequests.indexOf(request);
    if (index !== -1) this.pendingRequests.splice(index, 1);
    const entry = this.pending.get(request);
    if (!entry) return;
    this.pending.delete(request);
    clearTimeout(entry.timer);
    request.socket.removeListener('close', entry.onSocketClose);
  }

  /** The application did not answer within `handshakeTimeout`: 408, and the socket closes. */
  private handleHandshakeTimeout(request: WebSocketRequest): void {
    if (request._resolved) return;
    const timeout = this.config?.handshakeTimeout ?? SERVER_DEFAULTS.handshakeTimeout;
    this.refuse(request, new HandshakeError('WS_ERR_HANDSHAKE_TIMEOUT', 408, `The WebSocket handshake was not accepted or rejected within ${timeout} ms.`));
  }

  /** Answer a refused upgrade with the error's status and report it as `upgradeError`. */
  private refuse(request: WebSocketRequest, error: HandshakeError): void {
    request.reject(error.httpCode || 400, error.message, error.headers as Record<string, string> | undefined);
    this.emit('upgradeError', error);
  }

  /** A refusal when `allowedOrigins` is set and the request's origin is not allowed, else null. */
  private checkOrigin(request: WebSocketRequest): HandshakeError | null {
    const allowed = this.config?.allowedOrigins;
    if (allowed === undefined) return null;
    if (this.originSet) {
      return request.origin !== undefined && this.originSet.has(request.origin.toLowerCase()) ? null : originRefused(request.origin);
    }
    let verdict: unknown;
    try {
      verdict = (allowed as (origin: string | undefined, httpRequest: IncomingMessage) => unknown)(request.origin, request.httpRequest);
    } catch (error) {
      const failure = new HandshakeError('WS_ERR_HANDSHAKE_ORIGIN_CHECK_FAILED', 500, `The allowedOrigins function threw: ${String(error)}`);
      (failure as Error & { cause?: unknown }).cause = error;
      return failure;
    }
    return verdict === true ? null : originRefused(request.origin);
  }
}

function originRefused(origin: string | undefined): HandshakeError {
  return new HandshakeError('WS_ERR_HANDSHAKE_ORIGIN_NOT_ALLOWED', 403, origin === undefined ? 'An Origin header is required.' : 'Origin not allowed.');
}

/** Bytes of an upgrade request's head as received: request line and header lines (header strings are one char per byte). */
function upgradeHeadSize(request: IncomingMessage): number {
  let size = (request.method?.length ?? 0) + (request.url?.length ?? 0) + 12;
  const raw = request.rawHeaders;
  // Each header: name, ": ", value, CRLF.
  for (let i = 0; i < raw.length; i++) size += raw[i].length + 2;
  return size;
}
