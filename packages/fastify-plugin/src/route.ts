/**
 * WebSocket routes: checks a route's WebSocket options when it is declared and replaces its
 * handler with one that sends upgrade requests to the plugin and plain HTTP requests to the
 * route's HTTP handler (or answers 426 Upgrade Required).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { UpgradeHeaders } from '@wsuite/core';
import { pluginStateOf, upgradeOf, type RouteWebSocket } from './upgrade';
import type { SubprotocolSelector, WebSocketHandler } from './types';

/** Marks a route whose handler was already replaced (the route guard and the plugin both look). */
const kWrapped = Symbol.for('@wsuite/fastify-plugin.wrapped');

/** A route as `onRoute` hooks see it, with the WebSocket options read loosely. */
export type RouteDeclaration = RouteOptions & { [kWrapped]?: true };

interface WebSocketFields {
  websocket?: unknown;
  wsHandler?: unknown;
  subprotocols?: unknown;
}

type HttpHandler = (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) => unknown;

/** Whether the route asks for WebSocket handling (`websocket: true` or a `wsHandler`). */
export function isWebSocketRoute(route: RouteOptions): boolean {
  const fields = route as WebSocketFields;
  return fields.websocket === true || fields.wsHandler !== undefined;
}

/**
 * Check a WebSocket route's options and replace its handler, once. Returns false when the
 * route was already wrapped. Throws a TypeError for a non-GET route, a `wsHandler` that is not a
 * function or a bad `subprotocols`: the route declaration fails.
 */
export function wrapWebSocketRoute(route: RouteDeclaration): boolean {
  if (route[kWrapped]) return false;
  const fields = route as WebSocketFields;
  const where = `WebSocket route ${String(route.method)} ${route.url}`;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  // Fastify re-declares each GET route as a HEAD route with the same options.
  const socketOnly = fields.wsHandler === undefined;
  const valid = socketOnly ? methods.every((m) => m === 'GET' || m === 'HEAD') : methods.some((m) => m === 'GET' || m === 'HEAD');
  if (!valid) {
    throw new TypeError(`${where}: ${socketOnly ? 'a websocket: true route must use GET only' : 'a route with a wsHandler must include GET'}.`);
  }
  if (fields.wsHandler !== undefined && typeof fields.wsHandler !== 'function') throw new TypeError(`${where}: wsHandler must be a function.`);
  checkSubprotocols(fields.subprotocols, where);

  const wsHandler = (fields.wsHandler ?? route.handler) as WebSocketHandler;
  const httpHandler = socketOnly ? undefined : (route.handler as HttpHandler);
  const socketRoute: RouteWebSocket = { handler: wsHandler, subprotocols: fields.subprotocols as SubprotocolSelector | undefined };

  route.handler = function webSocketRouteHandler(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const upgrade = upgradeOf(request.raw);
    if (upgrade === undefined) return httpHandler ? httpHandler.call(this, request, reply) : replyUpgradeRequired(reply);
    const state = pluginStateOf(this);
    // Only a route outside the plugin's scope gets here, and the route guard fails such apps at boot.
    if (state === undefined) return reply.code(500).send(new Error(`${where} is outside the scope of @wsuite/fastify-plugin.`));
    const headers = reply.getHeaders() as UpgradeHeaders;
    reply.hijack();
    state.accept(this, request, upgrade, socketRoute, headers);
    return undefined;
  } as RouteOptions['handler'];
  route[kWrapped] = true;
  return true;
}

function replyUpgradeRequired(reply: FastifyReply): FastifyReply {
  return reply
    .code(426)
    .header('upgrade', 'websocket')
    .send({ statusCode: 426, error: 'Upgrade Required', message: 'This route only accepts WebSocket connections.' });
}

function checkSubprotocols(value: unknown, where: string): void {
  if (value === undefined || typeof value === 'function') return;
  if (Array.isArray(value) && value.every((p) => typeof p === 'string' && p.length > 0)) return;
  throw new TypeError(`${where}: subprotocols must be an array of protocol names or a function.`);
}
