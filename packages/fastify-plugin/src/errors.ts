/**
 * The default `errorHandler`. (Core's `runConnectionHandler` routes every error a handler, a
 * listener on its connection or its socket produces to the route's `errorHandler`.)
 */
import { CloseCode } from '@wsuite/core';
import type { WebSocketErrorHandler } from './types';

/** The default `errorHandler`: log with the request's logger, then close with 1011. */
export const defaultErrorHandler: WebSocketErrorHandler = function defaultErrorHandler(error, connection, request) {
  request.log.error({ err: error }, 'WebSocket handler failed');
  if (connection.connected) connection.close(CloseCode.InternalError, 'Internal error');
};
