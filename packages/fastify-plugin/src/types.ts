/**
 * Public types and the declaration merging on `'fastify'`: `{ websocket: true }` routes type
 * their handler as `(connection, request)`, `wsHandler` and `subprotocols` are route options,
 * and the instance and request gain `websocketServer`, `injectWS` and `ws`.
 */
import type { ServerConfig, WebSocketConnection, WebSocketServer } from '@wsuite/core';
import type {
  ContextConfigDefault,
  FastifyBaseLogger,
  FastifyInstance,
  FastifyRequest,
  FastifySchema,
  FastifyTypeProvider,
  FastifyTypeProviderDefault,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerBase,
  RawServerDefault,
  RouteGenericInterface,
  RouteOptions,
  RouteShorthandOptions,
} from 'fastify';

/**
 * A WebSocket route handler: called once the handshake is done, with core's connection and the
 * Fastify request (params, query, headers, decorations). `this` is the route's Fastify instance.
 * A throw or a rejected returned promise goes to the plugin's `errorHandler`; other return values
 * are ignored.
 */
export type WebSocketHandler<
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger,
> = (
  this: FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider>,
  connection: WebSocketConnection,
  request: FastifyRequest<RouteGeneric, RawServer, RawRequest, SchemaCompiler, TypeProvider, ContextConfig, Logger>,
) => unknown;

/**
 * How a route picks the subprotocol: the protocols it speaks in order of preference (the first
 * one the client offered wins), or a function of the client's list (lower-cased, in the
 * client's order) returning the one to use. Nothing selected means no `Sec-WebSocket-Protocol`
 * in the 101. Default: none.
 */
export type SubprotocolSelector = readonly string[] | ((requested: readonly string[], request: FastifyRequest) => string | null | undefined);

/**
 * Called with errors thrown or rejected by a WebSocket handler (or thrown by a listener on its
 * connection) and with socket errors. `this` is the route's Fastify instance.
 */
export type WebSocketErrorHandler = (this: FastifyInstance, error: Error, connection: WebSocketConnection, request: FastifyRequest) => void;

/**
 * Called at the start of `fastify.close()`, after new upgrades start getting 503 and before
 * the connections still open are closed with 1001 (e.g. to say goodbye, or close some with
 * another code). `this` is the Fastify instance the plugin was registered on.
 */
export type WebSocketPreClose = (this: FastifyInstance, server: WebSocketServer) => void | Promise<void>;

/** Core server options the plugin passes through (limits, keepalive, timeouts, parsing). */
export type CoreServerOptions = Partial<Omit<ServerConfig, 'httpServer' | 'noServer' | 'autoAcceptConnections'>>;

/** Options of `fastify.register(fastifyWebSocket, options)`. */
export interface FastifyWebSocketOptions extends CoreServerOptions {
  /**
   * Where handler, listener and socket errors go.
   * @default log with `request.log.error`, then close with 1011
   */
  errorHandler?: WebSocketErrorHandler;
  /** Runs first on shutdown; the 1001 close of the remaining connections follows. */
  preClose?: WebSocketPreClose;
}

/** Options of `fastify.injectWS`. */
export interface InjectWSOptions {
  /** Extra request headers (they may override the handshake's own, to test bad handshakes). */
  headers?: Record<string, string>;
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
}

/** Shorthand options of a WebSocket-only route: `{ websocket: true }` plus Fastify's options. */
export type WebSocketRouteShorthandOptions<
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger,
> = Omit<RouteShorthandOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>, 'websocket' | 'wsHandler'> & {
  websocket: true;
};

/** Full options of a WebSocket-only route: `route({ method: 'GET', url, websocket: true, handler })`. */
export type WebSocketRouteOptions<
  RawServer extends RawServerBase = RawServerDefault,
  RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
  RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
  RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
  ContextConfig = ContextConfigDefault,
  SchemaCompiler extends FastifySchema = FastifySchema,
  TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  Logger extends FastifyBaseLogger = FastifyBaseLogger,
> = Omit<RouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>, 'websocket' | 'wsHandler' | 'handler'> & {
  websocket: true;
  handler: WebSocketHandler<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>;
};

declare module 'fastify' {
  interface RouteShorthandOptions<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    RouteGeneric extends RouteGenericInterface = RouteGenericInterface,
    ContextConfig = ContextConfigDefault,
    SchemaCompiler extends FastifySchema = FastifySchema,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger,
  > {
    /**
     * `true` makes the route WebSocket-only, with `handler(connection, request)` (typed by the
     * `{ websocket: true }` overloads); plain HTTP requests to it get 426.
     */
    websocket?: false;
    /** The WebSocket handler of a route whose `handler` keeps serving plain HTTP. */
    wsHandler?: WebSocketHandler<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>;
    /** Subprotocol selection of this WebSocket route. */
    subprotocols?: SubprotocolSelector;
  }

  interface RouteShorthandMethod<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
    Logger extends FastifyBaseLogger = FastifyBaseLogger,
  > {
    <RouteGeneric extends RouteGenericInterface = RouteGenericInterface, ContextConfig = ContextConfigDefault, const SchemaCompiler extends FastifySchema = FastifySchema>(
      path: string,
      opts: WebSocketRouteShorthandOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>,
      handler: WebSocketHandler<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>,
    ): FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider>;
  }

  interface FastifyInstance<
    RawServer extends RawServerBase = RawServerDefault,
    RawRequest extends RawRequestDefaultExpression<RawServer> = RawRequestDefaultExpression<RawServer>,
    RawReply extends RawReplyDefaultExpression<RawServer> = RawReplyDefaultExpression<RawServer>,
    Logger extends FastifyBaseLogger = FastifyBaseLogger,
    TypeProvider extends FastifyTypeProvider = FastifyTypeProviderDefault,
  > {
    /** Core's server: `connections`, `broadcast()`, `connect`/`close` events. */
    websocketServer: WebSocketServer;
    /**
     * Open a WebSocket to `path` without a port (tests): resolves with the client end once the
     * handshake is done, rejects with an `InjectWSError` carrying the HTTP status otherwise.
     */
    injectWS(path?: string, options?: InjectWSOptions): Promise<WebSocketConnection>;
    route<RouteGeneric extends RouteGenericInterface = RouteGenericInterface, ContextConfig = ContextConfigDefault, const SchemaCompiler extends FastifySchema = FastifySchema>(
      opts: WebSocketRouteOptions<RawServer, RawRequest, RawReply, RouteGeneric, ContextConfig, SchemaCompiler, TypeProvider, Logger>,
    ): FastifyInstance<RawServer, RawRequest, RawReply, Logger, TypeProvider>;
  }

  interface FastifyRequest {
    /** True when the request is a WebSocket upgrade (so hooks can tell the two kinds apart). */
    ws: boolean;
  }
}
