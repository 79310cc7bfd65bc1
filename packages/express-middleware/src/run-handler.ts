/**
 * Calling a WebSocket handler through core's runner, so nothing it does can crash the process:
 * sync throws, async rejections, throws from listeners on the connection and the connection's
 * socket errors all go to the route's error handler.
 */
import type { Request } from 'express';
import { runConnectionHandler, type WebSocketConnection } from '@wsuite/core';
import type { WebSocketErrorHandler } from './options';

/** A WebSocket route's handler: runs once the handshake is done. */
export type WebSocketRouteHandler<P = Request['params']> = (connection: WebSocketConnection, req: Request<P>) => void | Promise<void>;

/** Run `handler` on a freshly accepted connection, reporting every failure to `onError`. */
export function runHandler<P>(handler: WebSocketRouteHandler<P>, connection: WebSocketConnection, req: Request<P>, onError: WebSocketErrorHandler): void {
  runConnectionHandler(
    connection,
    () => handler(connection, req),
    (error) => onError(error, connection, req as unknown as Request),
    {
      onErrorHandlerFailure: (failure, error) => console.error('[@wsuite/express-middleware] errorHandler threw while handling', error, failure),
    },
  );
}
