/**
 * The package's entry point: an instance holding the default options, which registers typed
 * WebSocket routes on any app or Router and attaches the app to its HTTP server.
 */
import express, { type Application, type IRouter, type RequestHandler, type Router, type RouterOptions } from 'express';
import type { RouteParameters } from 'express-serve-static-core';
import type { MountableServer } from '@wsuite/core';
import { attachToServer, type AttachedWebSocket } from './attach';
import { resolveOptions, type ExpressWebSocketOptions, type RouteConfig, type WebSocketRouteOptions } from './options';
import type { WebSocketRouteHandler } from './run-handler';
import { addWebSocketRoute } from './ws-route';

/** Route middleware (run on the upgrade request, before the handshake), then the handler. */
export type WebSocketRouteArgs<P> = [...middleware: Array<RequestHandler<P>>, handler: WebSocketRouteHandler<P>];

/** `ws(path, ...)` on a Router made by `wsx.router()`. */
export interface WebSocketRouteMethod<T> {
  /** Add a WebSocket route with the instance's options. `req.params` is typed from `path`. */
  <Path extends string>(path: Path, ...args: WebSocketRouteArgs<RouteParameters<Path>>): T;
  /** Add a WebSocket route with its own options (over the instance's). */
  <Path extends string>(path: Path, options: WebSocketRouteOptions, ...args: WebSocketRouteArgs<RouteParameters<Path>>): T;
}

/** An `express.Router` with a `ws()` method; mount it with `app.use()` like any Router. */
export interface WebSocketRouter extends Router {
  /** Add a WebSocket route to this router; returns the router for chaining. */
  ws: WebSocketRouteMethod<this>;
}

/** What `createExpressWebSocket()` returns. */
export interface ExpressWebSocket {
  /**
   * Add a WebSocket route to an app or Router: `middleware` run on the upgrade request (after
   * the app's and router's own middleware) and may answer with any HTTP status; the handler
   * gets the open connection. Returns `router`.
   */
  ws<R extends IRouter, Path extends string>(router: R, path: Path, ...args: WebSocketRouteArgs<RouteParameters<Path>>): R;
  /** The same, with route options over the instance's. */
  ws<R extends IRouter, Path extends string>(router: R, path: Path, options: WebSocketRouteOptions, ...args: WebSocketRouteArgs<RouteParameters<Path>>): R;
  /** A new `express.Router(options)` with a `ws()` method bound to this instance. */
  router(options?: RouterOptions): WebSocketRouter;
  /**
   * Take `server`'s upgrades and run them through `app` (the app `server` serves). Attach once
   * per server; each attachment has its own core servers and connections.
   */
  attach(server: MountableServer, app: Application): AttachedWebSocket;
}

/**
 * Create an instance; `options` are the defaults of its routes. Invalid options throw a
 * `TypeError`/`RangeError` here (route options throw when the route is registered).
 */
export function createExpressWebSocket(options: ExpressWebSocketOptions = {}): ExpressWebSocket {
  const defaults = resolveOptions(options, undefined);

  function ws<R extends IRouter>(router: R, path: string, ...rest: unknown[]): R {
    if (!router || typeof router.route !== 'function') throw new TypeError('ws() needs an Express app or Router as its first argument.');
    if (typeof path !== 'string') throw new TypeError(`ws() needs a string path, got ${typeof path}.`);
    const hasOptions = rest.length > 0 && typeof rest[0] !== 'function';
    const functions = hasOptions ? rest.slice(1) : rest;
    if (functions.length === 0) throw new TypeError(`ws("${path}") needs a handler.`);
    if (!functions.every((f) => typeof f === 'function')) throw new TypeError(`ws("${path}"): middleware and handler must be functions.`);
    const config: RouteConfig = hasOptions ? resolveOptions(rest[0], defaults) : defaults;
    const middleware = functions.slice(0, -1) as RequestHandler[];
    addWebSocketRoute(router, path, config, middleware, functions[functions.length - 1] as WebSocketRouteHandler);
    return router;
  }

  return {
    ws: ws as ExpressWebSocket['ws'],
    router(routerOptions) {
      const router = express.Router(routerOptions) as WebSocketRouter;
      const method = (path: string, ...rest: unknown[]) => ws(router, path, ...rest);
      router.ws = method as WebSocketRouter['ws'];
      return router;
    },
    attach: attachToServer,
  };
}
