/**
 * `@wsuite/fastify-plugin`: WebSocket routes for Fastify 5 on @wsuite/core. Re-exports only.
 */
import { fastifyWebSocket } from './plugin';

export { fastifyWebSocket };
export default fastifyWebSocket;
export { InjectWSError } from './inject-ws';
export { createDuplexPair, PairedSocket } from './duplex-pair';
export type {
  CoreServerOptions,
  FastifyWebSocketOptions,
  InjectWSOptions,
  SubprotocolSelector,
  WebSocketErrorHandler,
  WebSocketHandler,
  WebSocketPreClose,
  WebSocketRouteOptions,
  WebSocketRouteShorthandOptions,
} from './types';
export type { WebSocketConnection, WebSocketServer } from '@wsuite/core';
