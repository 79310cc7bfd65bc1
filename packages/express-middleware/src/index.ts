/**
 * `@wsuite/express-middleware`: WebSocket routes for Express 5 whose upgrade requests run
 * through the app's middleware before the handshake. Re-exports only.
 */
export { createExpressWebSocket } from './create-express-websocket';
export type { ExpressWebSocket, WebSocketRouteArgs, WebSocketRouteMethod, WebSocketRouter } from './create-express-websocket';
export type { AttachedWebSocket, ShutdownOptions } from './attach';
export { defaultErrorHandler } from './options';
export type { CoreServerOptions, ExpressWebSocketOptions, ProtocolSelector, WebSocketErrorHandler, WebSocketRouteOptions } from './options';
export type { WebSocketRouteHandler } from './run-handler';
export { isWebSocketUpgrade, WEBSOCKET_METHOD } from './upgrade-context';
