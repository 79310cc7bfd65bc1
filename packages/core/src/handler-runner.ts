/**
 * Running application code on a connection so nothing it does can crash the process: a sync
 * throw, an async rejection and the connection's socket errors all reach one error handler.
 * Every framework adapter calls its users' handlers through this.
 */
import { types } from 'node:util';
import { CloseCode } from './protocol/constants';
import type { WebSocketConnection } from './connection';

/** An error handler for a connection's handler. */
export type ConnectionErrorHandler = (error: Error) => void;

/** `reason` as an Error (a non-Error throw is wrapped, with its value in the message). */
export function toError(reason: unknown): Error {
  // isNativeError also recognizes errors from another realm (vm contexts, test runners).
  return reason instanceof Error || types.isNativeError(reason) ? reason : new Error(`Non-error thrown: ${String(reason)}`);
}

/**
 * Call `invoke` (which runs the user's handler) and route every failure to `onError`. If
 * `onError` itself throws, that is logged and the connection closes with 1011.
 */
export function runConnectionHandler(connection: WebSocketConnection, invoke: () => unknown, onError: ConnectionErrorHandler): void {
  const report = (reason: unknown): void => {
    const error = toError(reason);
    try {
      onError(error);
    } catch (handlerError) {
      console.error('[wsuite] the error handler threw while handling', error, handlerError);
      closeWithInternalError(connection);
    }
  };
  // Core emits 'error' only when someone listens: this listener routes socket errors to onError.
  connection.on('error', report);
  try {
    const result = invoke();
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, report);
  } catch (error) {
    report(error);
  }
}

/** Close with 1011 Internal Error if the connection is still open. */
export function closeWithInternalError(connection: WebSocketConnection, reason = 'Internal error'): void {
  if (connection.connected) connection.close(CloseCode.InternalError, reason);
}
