/**
 * The upgrade requests in flight through Fastify's routing, and where a route finds the plugin
 * registration (its "state") that completes them.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpgradeHeaders, UpgradeResponse } from '@wsuite/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { SubprotocolSelector, WebSocketHandler } from './types';

/** An upgrade request that Fastify is routing: its raw socket, early bytes and stand-in response. */
export interface PendingUpgrade {
  socket: Duplex;
  head: Buffer;
  upgrade: UpgradeResponse;
  /** Guards the socket while hooks run; removed when core takes over. */
  onSocketError: () => void;
}

/** What a wrapped route hands the plugin for the handshake. */
export interface RouteWebSocket {
  handler: WebSocketHandler;
  subprotocols: SubprotocolSelector | undefined;
}

/** One plugin registration, as routes in its scope see it. */
export interface PluginState {
  /**
   * Complete the handshake for `request` and run the route's WebSocket handler. `headers` (those
   * the hooks set on the reply) go out with the 101.
   */
  accept(instance: FastifyInstance, request: FastifyRequest, pending: PendingUpgrade, route: RouteWebSocket, headers: UpgradeHeaders): void;
}

// Registry keys are global symbols: the route guard installed by one copy of this module must
// find what another copy stored (Jest, for one, loads the module again for every test file).
const kState = Symbol.for('@wsuite/fastify-plugin.state');
const kUpgrade = Symbol.for('@wsuite/fastify-plugin.upgrade');

type WithUpgrade = IncomingMessage & { [kUpgrade]?: PendingUpgrade };

/** Remember that `request` arrived as an upgrade. */
export function trackUpgrade(request: IncomingMessage, pending: PendingUpgrade): void {
  (request as WithUpgrade)[kUpgrade] = pending;
}

/** The upgrade behind `request`, or undefined for a plain HTTP request. */
export function upgradeOf(request: IncomingMessage): PendingUpgrade | undefined {
  return (request as WithUpgrade)[kUpgrade];
}

/** Make `state` visible to `instance` and the instances below it. */
export function setPluginState(instance: FastifyInstance, state: PluginState): void {
  instance.decorate(kState, state);
}

/** The registration visible from `instance` (own or inherited), if any. */
export function pluginStateOf(instance: FastifyInstance): PluginState | undefined {
  return (instance as unknown as Record<symbol, PluginState | undefined>)[kState];
}

/** The subprotocol a route selects from the client's list (lower-cased), or undefined. */
export function selectSubprotocol(selector: SubprotocolSelector | undefined, requested: readonly string[], request: FastifyRequest): string | undefined {
  if (selector === undefined || requested.length === 0) return undefined;
  if (typeof selector === 'function') return selector(requested, request) ?? undefined;
  return selector.find((protocol) => requested.includes(protocol.toLowerCase()));
}
