/**
 * WebSocketRouter: dispatches a server's requests to handlers by path and subprotocol.
 */
import { EventEmitter } from 'node:events';
import type { WebSocketServer } from './server';
import type { WebSocketRequest } from './request';
import { NO_PROTOCOL, WebSocketRouterRequest } from './router-request';

/** A router handler. */
export type RouterCallback = (request: WebSocketRouterRequest) => void;

/** One mounted route. */
export interface RouteHandler {
  path: RegExp;
  pathString: string;
  protocol: string;
  callback: RouterCallback;
}

/** Options of a {@link WebSocketRouter}. */
export interface WebSocketRouterOptions {
  /** A server to attach to at once. */
  server?: WebSocketServer;
}

/** A path/protocol router (`require('@wsuite/core').router`). */
export class WebSocketRouter extends EventEmitter {
  readonly config: WebSocketRouterOptions;
  readonly handlers: RouteHandler[] = [];
  server: WebSocketServer | undefined;

  private readonly onRequest = (request: WebSocketRequest): void => this.handleRequest(request);

  constructor(config: WebSocketRouterOptions = {}) {
    super();
    this.config = { ...config };
    if (this.config.server) this.attachServer(this.config.server);
  }

  /** Handle `server`'s `request` events. */
  attachServer(server: WebSocketServer): void {
    if (!server) throw new Error('You must specify a WebSocketServer instance to attach to.');
    this.server = server;
    server.on('request', this.onRequest);
  }

  /** Stop handling the attached server's requests. */
  detachServer(): void {
    if (!this.server) throw new Error('Cannot detach from server: not attached.');
    this.server.removeListener('request', this.onRequest);
    this.server = undefined;
  }

  /**
   * Route requests for `path` (an exact string, `'*'` for any, or a RegExp used as given) and
   * `protocol` (case-insensitive; `'*'` for any, falsy for clients that request none).
   */
  mount(path: string | RegExp, protocol: string | null | undefined, callback: RouterCallback): void {
    if (!path) throw new Error('You must specify a path for this handler.');
    if (!callback) throw new Error('You must specify a callback for this handler.');
    if (typeof callback !== 'function') throw new TypeError('The handler callback must be a function.');
    const regex = this.pathToRegExp(path);
    const lowerProtocol = (protocol || NO_PROTOCOL).toLowerCase();
    if (this.findHandlerIndex(regex.toString(), lowerProtocol) !== -1) {
      throw new Error('You may only mount one handler per path/protocol combination.');
    }
    this.handlers.push({ path: regex, pathString: path.toString(), protocol: lowerProtocol, callback });
  }

  /** Remove the handler for `path` and `protocol` (falsy protocol: the no-protocol handler). */
  unmount(path: string | RegExp, protocol?: string | null): void {
    const index = this.findHandlerIndex(this.pathToRegExp(path).toString(), (protocol || NO_PROTOCOL).toLowerCase());
    if (index === -1) throw new Error('Unable to find a route matching the specified path and protocol.');
    this.handlers.splice(index, 1);
  }

  /** Index of the handler with this path regex (as a string) and protocol, or -1. */
  findHandlerIndex(pathString: string, protocol: string): number {
    const lower = protocol.toLowerCase();
    return this.handlers.findIndex((handler) => handler.path.toString() === pathString && handler.protocol === lower);
  }

  /** `'*'` matches anything, a string matches exactly, a RegExp is used as given. */
  pathToRegExp(path: string | RegExp): RegExp {
    if (typeof path === 'string') {
      if (path === '*') return /^.*$/;
      return new RegExp(`^${path.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&')}$`);
    }
    if (path instanceof RegExp) return path;
    throw new Error('Path must be specified as either a string or a RegExp.');
  }

  /**
   * Dispatch: for each protocol the client requested (in its order), the first handler (in
   * mount order) whose path matches and whose protocol matches or is `'*'`. Otherwise 404.
   */
  handleRequest(request: WebSocketRequest): void {
    const protocols = request.requestedProtocols.length > 0 ? request.requestedProtocols : [NO_PROTOCOL];
    const pathname = request.resourceURL.pathname ?? '/';
    for (const protocol of protocols) {
      for (const handler of this.handlers) {
        // A RegExp with the g or y flag keeps state between test() calls.
        handler.path.lastIndex = 0;
        if (handler.path.test(pathname) && (handler.protocol === protocol || handler.protocol === '*')) {
          handler.callback(new WebSocketRouterRequest(request, protocol));
          return;
        }
      }
    }
    request.reject(404, 'No handler is available for the given request.');
  }
}
