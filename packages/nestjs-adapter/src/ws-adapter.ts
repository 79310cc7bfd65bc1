/**
 * WsuiteAdapter: Nest's WebSocket adapter on @wsuite/core. Routes upgrades to gateways by path,
 * runs connection-time auth, turns messages into `{ event, data }` for the gateway handlers and
 * their replies back into frames, and shuts down with 1001.
 */
import type { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { Logger, type INestApplicationContext, type WsMessageHandler } from '@nestjs/common';
import { AbstractWsAdapter, type BaseWsInstance } from '@nestjs/websockets';
import { defer, Subject, takeUntil, type Observable } from 'rxjs';
import { abortHandshake, closeWithInternalError, CloseCode, runConnectionHandler, WebSocketServer, type Message, type WebSocketConnection, type WebSocketRequest } from '@wsuite/core';
import { checkAdapterOptions, resolveGateway, type ResolvedGateway, type WsuiteAdapterOptions, type WsuiteGatewayOptions } from './options';
import { defaultMessageParser, defaultMessageSerializer, EXCEPTION_EVENT, isParsedMessage, type InvalidMessagePayload } from './messages';
import { requestPath } from './paths';
import { decideUpgrade } from './upgrade-decision';
import { platformAddressResolver, type AddressResolver } from './client-address';

/** Core's server as Nest's adapter base types it (core's typed `on` takes any event name at run time too). */
export type GatewayServer = WebSocketServer & BaseWsInstance;
/** Core's connection as Nest's adapter base types it. */
export type GatewayClient = WebSocketConnection & BaseWsInstance;

/** Nest's callback for a new connection: `handleConnection(client, request)`. */
type ConnectCallback = (client: WebSocketConnection, request: IncomingMessage) => void;
/** Nest's `transform`: a handler's result (value, Promise or Observable) as an Observable. */
type Transform = (result: unknown) => Observable<unknown>;

interface Gateway {
  readonly server: WebSocketServer;
  readonly port: number;
  readonly settings: ResolvedGateway;
  readonly onConnect: ConnectCallback[];
  closing: boolean;
}

/** One HTTP server carrying gateways: the app's (port 0) or one this adapter listens on. */
interface Host {
  readonly http: HttpServer;
  readonly owned: boolean;
  readonly gateways: Map<string, Gateway>;
  readonly onUpgrade: (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
}

interface Client {
  readonly gateway: Gateway;
  readonly handlers: Map<string, Array<{ handler: WsMessageHandler; transform: Transform }>>;
  readonly closed: Subject<void>;
  listening: boolean;
  warned: boolean;
}

/**
 * `app.useWebSocketAdapter(new WsuiteAdapter(app, options))`. Gateways on port 0 (the default)
 * share the application's HTTP server; a gateway on another port gets an HTTP server this
 * adapter listens on. `@ConnectedSocket()` and `handleConnection` get core's
 * `WebSocketConnection`, `@WebSocketServer()` gets the gateway's core `WebSocketServer`.
 */
export class WsuiteAdapter extends AbstractWsAdapter<GatewayServer, GatewayClient, WsuiteGatewayOptions> {
  private readonly options: WsuiteAdapterOptions;
  private readonly logger = new Logger('WsuiteAdapter');
  private readonly hosts = new Map<number, Host>();
  private readonly gateways = new WeakMap<WebSocketServer, Gateway>();
  private readonly clients = new WeakMap<WebSocketConnection, Client>();
  private readonly app: unknown;
  // Resolved at the first upgrade, once the application's platform is set up; null: core's own handling.
  private addressResolver: AddressResolver | null | undefined;

  /**
   * @param appOrHttpServer the Nest application (or its HTTP server); needed for port-0 gateways
   * @param options defaults for every gateway; bad options throw a TypeError/RangeError here
   */
  constructor(appOrHttpServer?: INestApplicationContext | HttpServer, options: WsuiteAdapterOptions = {}) {
    super(appOrHttpServer);
    this.app = appOrHttpServer;
    this.options = checkAdapterOptions(options);
  }

  /** Build the core server of one gateway and route its path to it. Throws on bad options or a taken path. */
  create(port: number, options: WsuiteGatewayOptions & { namespace?: unknown } = {}): GatewayServer {
    const { namespace, ...gatewayOptions } = options;
    if (namespace !== undefined) throw new TypeError('WsuiteAdapter does not support namespaces (a socket.io feature): use one path per gateway.');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`Gateway port must be an integer from 0 to 65535, got ${port}.`);
    const settings = resolveGateway(this.options, gatewayOptions);
    const host = this.hostFor(port);
    if (host.gateways.has(settings.path)) throw new Error(`Two gateways use the path "${settings.path}" on port ${port}.`);
    const server = new WebSocketServer({ ...settings.core, noServer: true });
    const gateway: Gateway = { server, port, settings, onConnect: [], closing: false };
    host.gateways.set(settings.path, gateway);
    this.gateways.set(server, gateway);
    return server as GatewayServer;
  }

  /** Nest's connection callback gets `(client, request)`: core's connection and the upgrade request. */
  override bindClientConnect(server: WebSocketServer, callback: ConnectCallback): void {
    this.gatewayOf(server).onConnect.push(callback);
  }

  /** Nest's disconnect callback runs once, when the connection closes; Nest 12 passes the close code on as `handleDisconnect`'s reason. */
  override bindClientDisconnect(client: WebSocketConnection, callback: (reason: number) => void): void {
    client.once('close', (code) => callback(code));
  }

  /** Dispatch the client's messages to the gateway's handlers and send what they return. */
  bindMessageHandlers(client: WebSocketConnection, handlers: WsMessageHandler[], transform: Transform): void {
    const state = this.clients.get(client);
    if (!state) throw new TypeError('bindMessageHandlers: this connection was not accepted by this adapter.');
    // Gateways sharing one path bind to the same client; all of their handlers count.
    for (const handler of handlers) {
      const list = state.handlers.get(handler.message) ?? [];
      list.push({ handler, transform });
      state.handlers.set(handler.message, list);
    }
    if (state.listening) return;
    state.listening = true;
    client.on('message', (message) => this.dispatch(client, state, message));
  }

  /** Close a client that connected before the application was ready (1013, try again later). */
  closeClient(client: WebSocketConnection): void {
    client.close(CloseCode.TryAgainLater);
  }

  /** Close one gateway: upgrades to it get 503, its connections are closed with 1001 (dropped after `closeTimeout`). */
  override async close(server: WebSocketServer): Promise<void> {
    const gateway = this.gateways.get(server);
    if (gateway) gateway.closing = true;
    await server.close({ code: CloseCode.GoingAway });
  }

  /** Remove the `upgrade` listeners this adapter added and close the HTTP servers it owns. */
  override async dispose(): Promise<void> {
    const hosts = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all(
      hosts.map((host) => {
        host.http.removeListener('upgrade', host.onUpgrade);
        if (!host.owned) return undefined;
        return new Promise<void>((resolve) => host.http.close(() => resolve()));
      }),
    );
  }

  private gatewayOf(server: WebSocketServer): Gateway {
    const gateway = this.gateways.get(server);
    if (!gateway) throw new TypeError('This WebSocketServer was not created by this adapter.');
    return gateway;
  }

  private hostFor(port: number): Host {
    const existing = this.hosts.get(port);
    if (existing) return existing;
    const appServer = this.httpServer as HttpServer | undefined;
    if (port === 0 && typeof appServer?.on !== 'function') {
      throw new TypeError('A gateway on port 0 shares the application\'s HTTP server: create the adapter with new WsuiteAdapter(app).');
    }
    const owned = port !== 0;
    const http = owned ? createServer((_request, response) => response.writeHead(426, { Upgrade: 'websocket' }).end()) : (appServer as HttpServer);
    const host: Host = { http, owned, gateways: new Map(), onUpgrade: (request, socket, head) => this.route(host, request, socket, head) };
    http.on('upgrade', host.onUpgrade);
    if (owned) {
      http.on('error', (error) => this.logger.error(`WebSocket server on port ${port}: ${error.message}`));
      http.listen(port);
    }
    this.hosts.set(port, host);
    return host;
  }

  private route(host: Host, request: IncomingMessage, socket: Duplex, head: Buffer): void {
    let path: string;
    try {
      path = requestPath(request.url ?? '/');
    } catch {
      abortHandshake(socket, 400, 'Invalid request target');
      return;
    }
    const gateway = host.gateways.get(path);
    if (!gateway) {
      // Another upgrade listener on this server may serve the path: leave the socket to it.
      if (host.http.listenerCount('upgrade') === 1) abortHandshake(socket, 404, 'No WebSocket gateway at this path');
      return;
    }
    if (gateway.closing) {
      abortHandshake(socket, 503, 'Server shutting down');
      return;
    }
    gateway.server.handleUpgrade(request, socket, head, (wsRequest) => {
      this.admit(gateway, wsRequest).catch((error: unknown) => {
        this.logger.error(`Upgrade to ${gateway.settings.path} failed: ${String(error)}`);
        socket.destroy();
      });
    }, { remoteAddresses: this.addressesOf(request) });
  }

  /** The client's address chain under the platform's trust-proxy setting (Express or Fastify), or undefined. */
  private addressesOf(request: IncomingMessage): string[] | undefined {
    if (this.addressResolver === undefined) this.addressResolver = platformAddressResolver(this.app) ?? null;
    return this.addressResolver ? this.addressResolver(request) : undefined;
  }

  private async admit(gateway: Gateway, request: WebSocketRequest): Promise<void> {
    let answered = false;
    request.once('requestResolved', () => (answered = true));
    const decision = await decideUpgrade(gateway.settings.canUpgrade, request.httpRequest, { path: gateway.settings.path, port: gateway.port });
    // Shutdown or a lost socket may have answered while the hooks ran; a connection accepted
    // after close() began would escape it, so a closing gateway refuses.
    if (answered) return;
    if (gateway.closing) {
      request.reject(503, 'Server shutting down');
      return;
    }
    if ('status' in decision) {
      if (decision.error !== undefined) this.logger.error(`canUpgrade failed on ${gateway.settings.path}: ${String(decision.error)}`);
      request.reject(decision.status, decision.reason);
      return;
    }
    const client = request.accept(request.requestedProtocols[0] ?? null, null, undefined, decision.headers);
    const state: Client = { gateway, handlers: new Map(), closed: new Subject<void>(), listening: false, warned: false };
    this.clients.set(client, state);
    client.once('close', () => state.closed.next());
    // Nest's exception filters call client.emit('exception', payload): a listener on that local
    // event sends it to the peer, leaving core's own events untouched.
    (client as unknown as EventEmitter).on(EXCEPTION_EVENT, (payload: unknown) => this.reply(client, state, { event: EXCEPTION_EVENT, data: payload }));
    // A throw from handleConnection or from a listener it attached, or a socket error: logged, 1011.
    runConnectionHandler(
      client,
      () => {
        for (const callback of gateway.onConnect) callback(client, request.httpRequest);
      },
      (error) => {
        this.logger.error(`Connection handler failed on ${gateway.settings.path}: ${String(error)}`);
        closeWithInternalError(client);
      },
      { onErrorHandlerFailure: (failure) => this.logger.error(`Logging failed on ${gateway.settings.path}: ${String(failure)}`) },
    );
  }

  private dispatch(client: WebSocketConnection, state: Client, message: Message): void {
    const isBinary = message.type === 'binary';
    const parse = state.gateway.settings.messageParser ?? defaultMessageParser;
    let parsed: unknown;
    try {
      parsed = parse(isBinary ? message.binaryData : message.utf8Data, { isBinary, client });
    } catch (error) {
      this.refuse(client, state, 'Invalid message: expected JSON {"event": string, "data": any}', error);
      return;
    }
    if (parsed === null || parsed === undefined) return;
    if (!isParsedMessage(parsed)) {
      this.refuse(client, state, 'Invalid message: expected JSON {"event": string, "data": any}');
      return;
    }
    const { event, data } = parsed;
    const targets = state.handlers.get(event);
    if (!targets) {
      this.refuse(client, state, `No handler for event ${JSON.stringify(event.slice(0, 64))}`);
      return;
    }
    for (const { handler, transform } of targets) {
      defer(() => transform(handler.callback(data, event)))
        .pipe(takeUntil(state.closed))
        .subscribe({
          next: (response) => this.reply(client, state, response),
          // Nest routes handler errors to the exception filters; what gets here is a bug to report once.
          error: (error: unknown) => this.warnOnce(state, `Handler for ${JSON.stringify(event)} failed: ${String(error)}`),
        });
    }
  }

  /** Answer a message that could not be dispatched with an `exception` frame; log once per connection. */
  private refuse(client: WebSocketConnection, state: Client, message: string, error?: unknown): void {
    this.warnOnce(state, `${message}${error === undefined ? '' : ` (${String(error)})`}`);
    const payload: InvalidMessagePayload = { status: 'error', message };
    this.reply(client, state, { event: EXCEPTION_EVENT, data: payload });
  }

  private reply(client: WebSocketConnection, state: Client, response: unknown): void {
    if (response === null || response === undefined || client.state !== 'open') return;
    let frame: string | Buffer | null | undefined;
    try {
      frame = (state.gateway.settings.messageSerializer ?? defaultMessageSerializer)(response, client);
    } catch (error) {
      this.warnOnce(state, `Could not serialize a reply: ${String(error)}`);
      return;
    }
    if (frame !== null && frame !== undefined) client.send(frame);
  }

  // A hostile client can send bad messages without end: one log line per connection at most.
  private warnOnce(state: Client, text: string): void {
    if (state.warned) return;
    state.warned = true;
    this.logger.warn(`${state.gateway.settings.path}: ${text} (further problems on this connection are not logged)`);
  }
}
