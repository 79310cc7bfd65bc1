/**
 * Calling a WebSocket handler so nothing it does can crash the process: sync throws, async
 * rejections and the connection's socket errors all go to the route's error handler.
 */
import { types } from 'node:util';
import type { Request } from 'express';
import type { WebSocketConnection } from '@wsuite/core';
import type { WebSocketErrorHandler } from './options';

/** A WebSocket route's handler: runs once the handshake is done. */
export type WebSocketRouteHandler<P = Request['params']> = (connection: WebSocketConnection, req: Request<P>) => void | Promise<void>;

/** Run `handler` on a freshly accepted connection, reporting every failure to `onError`. */
export function runHandler<P>(handler: WebSocketRouteHandler<P>, connection: WebSocketConnection, req: Request<P>, onError: WebSocketErrorHandler): void {
  const report = (reason: unknown): void => reportError(onError, toError(reason), connection, req as unknown as Request);
  // Core emits `error` only when someone listens; this listener also keeps a socket error from being unhandled.
  connection.on('error', report);
  try {
    const result = handler(connection, req);
    if (isThenable(result)) result.then(undefined, report);
  } catch (error) {
    report(error);
  }
}

function reportError(onError: WebSocketErrorHandler, error: Error, connection: WebSocketConnection, req: Request): void {
  try {
    onError(error, connection, req);
  } catch (handlerError) {
    console.error('[@wsuite/express-middleware] errorHandler threw while handling', error, handlerError);
    if (connection.connected) connection.close(1011, 'Internal error');
  }
}

function toError(reason: unknown): Error {
  // isNativeError also recognizes errors from another realm (vm contexts, test runners).
  return reason instanceof Error || types.isNativeError(reason) ? reason : new Error(`Non-error thrown: ${String(reason)}`);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}
