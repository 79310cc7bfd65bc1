/**
 * The plugin: one `upgrade` listener that runs each upgrade request through Fastify's routing
 * and hooks, core's server for the handshake once a WebSocket route is reached, decorators, and
 * graceful shutdown on `fastify.close()`.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { CloseCode, WebSocketServer, abortHandshake, createUpgradeResponse, runConnectionHandler, type WebSocketConnection } from '@wsuite/core';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { defaultErrorHandler } from './errors';
import { injectWebSocket } from './inject-ws';
import { resolvePluginOptions } from './options';
import { isWebSocketRoute, wrapWebSocketRoute } from './route';
import './route-guard';
import type { FastifyWebSocketOptions, InjectWSOptions } from './types';
import { selectSubprotocol, setPluginState, trackUpgrade, upgradeOf, type PluginState } from './upgrade';

const SHUTTING_DOWN = 'Server is shutting down';
// One registration per HTTP server: two would both answer every upgrade.
const serversInUse = new WeakSet<object>();

const plugin: FastifyPluginAsync<FastifyWebSocketOptions> = async function fastifyWebSocketPlugin(fastify, options) {
  const { core, errorHandler = defaultErrorHandler, preClose } = resolvePluginOptions(options);
  if (serversInUse.has(fastify.server)) throw new Error('@wsuite/fastify-plugin is already registered on this Fastify server; register it once.');
  let wss: WebSocketServer;
  try {
    wss = new WebSocketServer({ ...core, noServer: true });
  } catch (error) {
    (error as Error).message = `@wsuite/fastify-plugin: ${(error as Error).message}`;
    throw error;
  }
  serversInUse.add(fastify.server);
  let closing = false;

  const state: PluginState = {
    accept(instance, request, pending, route, headers) {
      if (!pending.upgrade.release()) return;
      pending.socket.removeListener('error', pending.onSocketError);
      // Hooks may have been running while fastify.close() began.
      if (closing) {
        abortHandshake(pending.socket, 503, SHUTTING_DOWN);
        return;
      }
      const upgradeOptions = { remoteAddresses: addressChain(request) };
      wss.handleUpgrade(request.raw, pending.socket, pending.head, (handshake) => {
        let protocol: string | undefined;
        try {
          protocol = selectSubprotocol(route.subprotocols, handshake.requestedProtocols, request);
        } catch (error) {
          request.log.error({ err: error }, 'WebSocket subprotocol selection failed');
          handshake.reject(500);
          return;
        }
        let connection: WebSocketConnection;
        try {
          connection = handshake.accept(protocol, undefined, undefined, headers);
        } catch (error) {
          // Core has already answered 500 (e.g. a subprotocol the client did not offer).
          request.log.error({ err: error }, 'WebSocket handshake failed');
          return;
        }
        runConnectionHandler(connection, () => route.handler.call(instance, connection, request), (error) => errorHandler.call(instance, error, connection, request), {
          onErrorHandlerFailure: (failure) => request.log.error({ err: failure }, 'WebSocket errorHandler threw'),
        });
      }, upgradeOptions);
    },
  };
  setPluginState(fastify, state);

  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (closing) {
      abortHandshake(socket, 503, SHUTTING_DOWN);
      return;
    }
    // Node removed its own socket listeners before `upgrade`: a reset while hooks run must not crash.
    const onSocketError = (): void => {
      socket.destroy();
    };
    socket.on('error', onSocketError);
    const upgrade = createUpgradeResponse(request, socket);
    trackUpgrade(request, { socket, head, upgrade, onSocketError });
    try {
      fastify.routing(request, upgrade.response);
    } catch (error) {
      fastify.log.error({ err: error }, 'WebSocket upgrade routing failed');
      abortHandshake(socket, 500);
    }
  };
  fastify.server.on('upgrade', onUpgrade);

  fastify.decorate('websocketServer', wss);
  fastify.decorate('injectWS', function injectWS(this: FastifyInstance, path?: string, injectOptions?: InjectWSOptions) {
    return injectWebSocket(this, path, injectOptions);
  });
  fastify.decorateRequest('ws', {
    getter(this: FastifyRequest) {
      return upgradeOf(this.raw) !== undefined;
    },
  });

  // Wraps routes declared from here on even when the route guard is not installed.
  fastify.addHook('onRoute', (route) => {
    if (isWebSocketRoute(route)) wrapWebSocketRoute(route);
  });

  fastify.addHook('preClose', async function closeWebSockets() {
    closing = true;
    if (preClose) {
      try {
        await preClose.call(fastify, wss);
      } catch (error) {
        fastify.log.error({ err: error }, 'WebSocket preClose failed');
      }
    }
    await wss.close({ code: CloseCode.GoingAway, reason: 'Server shutting down' });
  });
  fastify.addHook('onClose', (_instance, done) => {
    fastify.server.removeListener('upgrade', onUpgrade);
    serversInUse.delete(fastify.server);
    done();
  });
};

/**
 * The client's address chain as Fastify's `trustProxy` resolves it (client first, socket peer
 * last): `request.ips` lists the trusted hops from the socket outwards, `request.ip` is the
 * socket's peer when no proxy is trusted. Undefined (core's own handling) when unknown.
 */
function addressChain(request: FastifyRequest): string[] | undefined {
  const ips = request.ips;
  const chain = ips && ips.length > 0 ? [...ips].reverse() : [request.ip];
  return chain.every((address) => typeof address === 'string') ? chain : undefined;
}

/**
 * The Fastify plugin: `fastify.register(fastifyWebSocket, options)`, then declare routes with
 * `{ websocket: true }` (handler `(connection, request)`) or a `wsHandler`.
 */
export const fastifyWebSocket = fp(plugin, { fastify: '5.x', name: '@wsuite/fastify-plugin' });
