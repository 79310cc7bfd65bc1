/**
 * One WebSocket route on an Express app or Router: a route for the upgrade method only, with
 * its middleware, ending in the hand-over to core's handshake and the handler.
 */
import type { IRouter, NextFunction, Request, RequestHandler, Response } from 'express';
import { abortHandshake, type WebSocketRequest } from '@wsuite/core';
import type { RouteConfig } from './options';
import { runHandler, type WebSocketRouteHandler } from './run-handler';
import { endUpgrade, getUpgradeContext, isWebSocketUpgrade, WEBSOCKET_METHOD } from './upgrade-context';

/** Register `path` on `router`: `middleware` run on the upgrade request, then `handler` on the connection. */
export function addWebSocketRoute(router: IRouter, path: string, config: RouteConfig, middleware: RequestHandler[], handler: WebSocketRouteHandler): void {
  const onlyUpgrades: RequestHandler = (req, res, next) => {
    if (isWebSocketUpgrade(req)) return next();
    if (config.upgradeRequired && (req.method === 'GET' || req.method === 'HEAD')) {
      res.status(426).set({ Connection: 'Upgrade', Upgrade: 'websocket' }).send('Upgrade Required');
      return;
    }
    next('route');
  };
  const accept: RequestHandler = (req, res, next) => acceptUpgrade(req, res, next, config, handler);
  // `all`, because the upgrade method is not one Express has a shorthand for.
  router.route(path).all(onlyUpgrades, ...middleware, accept);
}

function acceptUpgrade(req: Request, _res: Response, next: NextFunction, config: RouteConfig, handler: WebSocketRouteHandler): void {
  const context = getUpgradeContext(req);
  // A middleware that answered and still called next(): the HTTP answer stands.
  if (!context || context.upgrade.answered) return;
  const { socket, head, upgrade, target } = context;
  if (!target.accepting) {
    upgrade.release();
    abortHandshake(socket, 503, 'Server shutting down');
    return;
  }
  // Core checks the handshake, which requires GET; the handler sees the real method too.
  req.method = context.method;
  const upgradeOptions = { remoteAddresses: addressChain(req) };
  target.serverFor(config.core).handleUpgrade(req, socket, head, (request) => {
    let protocol: string | undefined;
    try {
      protocol = selectProtocol(config, request, req);
    } catch (error) {
      // The response is still bound to the socket, so Express's error handling answers.
      req.method = WEBSOCKET_METHOD;
      next(error);
      return;
    }
    // Headers the middleware set (a session cookie, CORS, a trace id) go out with the 101.
    const headers = upgrade.headers;
    upgrade.release();
    const connection = request.accept(protocol, undefined, undefined, headers);
    context.handOver();
    endUpgrade(req);
    runHandler(handler, connection, req, config.errorHandler);
  }, upgradeOptions);
}

/**
 * The client's address chain as the app's `trust proxy` setting resolves it (client first,
 * socket peer last): `req.ips` lists the trusted addresses from the client inwards, without the
 * socket's peer; `req.ip` is the peer when no proxy is trusted. Undefined (core's own handling) when unknown.
 */
function addressChain(req: Request): string[] | undefined {
  const chain = req.ips.length > 0 ? [...req.ips, req.socket.remoteAddress] : [req.ip];
  return chain.every((address) => typeof address === 'string') ? (chain as string[]) : undefined;
}

function selectProtocol(config: RouteConfig, request: WebSocketRequest, req: Request): string | undefined {
  const requested = request.requestedProtocols;
  if (!config.handleProtocols) return requested[0];
  const chosen = config.handleProtocols(requested, req);
  if (chosen === false || chosen === null || chosen === undefined) return undefined;
  if (typeof chosen !== 'string' || !requested.includes(chosen.toLowerCase())) {
    throw new TypeError(`handleProtocols returned ${JSON.stringify(chosen)}, which the client did not request (requested: ${requested.join(', ') || 'none'}).`);
  }
  return chosen;
}
