/**
 * Error routing for WebSocket handlers: every error a handler, a listener on its connection or
 * its socket produces goes to one `errorHandler`, and none reaches `uncaughtException`.
 */
import { CloseCode, type WebSocketConnection } from '@wsuite/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocketErrorHandler } from './types';

/** The default `errorHandler`: log with the request's logger, then close with 1011. */
export const defaultErrorHandler: WebSocketErrorHandler = function defaultErrorHandler(error, connection, request) {
  request.log.error({ err: error }, 'WebSocket handler failed');
  if (connection.connected) connection.close(CloseCode.InternalError, 'Internal error');
};

/** A reporter that calls `errorHandler` safely (a throwing errorHandler is logged, and the connection closed). */
export function createErrorReporter(
  errorHandler: WebSocketErrorHandler,
  instance: FastifyInstance,
  connection: WebSocketConnection,
  request: FastifyRequest,
): (error: unknown) => void {
  return (error) => {
    try {
      errorHandler.call(instance, error instanceof Error ? error : new Error(String(error)), connection, request);
    } catch (failure) {
      request.log.error({ err: failure }, 'WebSocket errorHandler threw');
      if (connection.connected) connection.close(CloseCode.InternalError, 'Internal error');
    }
  };
}

/**
 * Route exceptions thrown by the connection's listeners (a `message` listener that throws, say)
 * to `report`. Without this they would unwind through the socket's `data` event into
 * `uncaughtException`; core has no hook for listener errors yet, so the adapter wraps `emit`.
 */
export function routeListenerErrors(connection: WebSocketConnection, report: (error: unknown) => void): void {
  const emit = connection.emit as (this: WebSocketConnection, event: string, ...args: unknown[]) => boolean;
  const guarded = function (this: WebSocketConnection, event: string, ...args: unknown[]): boolean {
    try {
      return emit.call(this, event, ...args);
    } catch (error) {
      report(error);
      return true;
    }
  };
  connection.emit = guarded as WebSocketConnection['emit'];
}
