/**
 * Running application code on a connection so nothing it does can crash the process: a sync
 * throw, an async rejection, a throw from one of the connection's listeners and the
 * connection's socket errors all reach one error handler. Every framework adapter calls its
 * users' handlers through this.
 */
import { types } from 'node:util';
import { CloseCode } from './protocol/constants';
import type { WebSocketConnection } from './connection';

/** An error handler for a connection's handler. */
export type ConnectionErrorHandler = (error: Error) => void;

/** Options of {@link runConnectionHandler}. */
export interface RunHandlerOptions {
  /**
   * Told when the error handler itself throws (`failure`) while handling `error`; the
   * connection is then closed with 1011. @default a `console.error` line
   */
  onErrorHandlerFailure?: (failure: unknown, error: Error) => void;
}

const logFailure = (failure: unknown, error: Error): void => {
  console.error('[wsuite] the error handler threw while handling', error, failure);
};

/** `reason` as an Error (a non-Error throw is wrapped, with its value in the message). */
export function toError(reason: unknown): Error {
  // isNativeError also recognizes errors from another realm (vm contexts, test runners).
  return reason instanceof Error || types.isNativeError(reason) ? reason : new Error(`Non-error thrown: ${String(reason)}`);
}

/**
 * Call `invoke` (which runs the user's handler) and route every failure to `onError`: what it
 * throws or rejects with, what the connection's listeners throw (a `message` listener, say) and
 * the connection's socket errors. If `onError` itself throws, that is reported to
 * `options.onErrorHandlerFailure` and the connection closes with 1011.
 */
export function runConnectionHandler(connection: WebSocketConnection, invoke: () => unknown, onError: ConnectionErrorHandler, options: RunHandlerOptions = {}): void {
  if (typeof invoke !== 'function') throw new TypeError('runConnectionHandler() needs the function that runs the handler as its second argument.');
  if (typeof onError !== 'function') throw new TypeError('runConnectionHandler() needs an error handler function as its third argument.');
  const onFailure = options.onErrorHandlerFailure ?? logFailure;
  if (typeof onFailure !== 'function') throw new TypeError('runConnectionHandler(): onErrorHandlerFailure must be a function.');
  const report = (reason: unknown): void => {
    const error = toError(reason);
    try {
      onError(error);
    } catch (handlerError) {
      try {
        onFailure(handlerError, error);
      } finally {
        closeWithInternalError(connection);
      }
    }
  };
  // Core emits 'error' only when someone listens: this listener routes socket errors to onError.
  connection.on('error', report);
  routeListenerErrors(connection, report);
  try {
    const result = invoke();
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') (result as PromiseLike<unknown>).then(undefined, report);
  } catch (error) {
    report(error);
  }
}

/**
 * Send exceptions thrown by `connection`'s listeners to `report` instead of letting them unwind
 * through the socket's `data` event into `uncaughtException`. Caught where it is emitted, the
 * error leaves the parser to carry on, so the connection's protocol state stays whole.
 */
function routeListenerErrors(connection: WebSocketConnection, report: (error: unknown) => void): void {
  const emit = connection.emit as (this: WebSocketConnection, event: string | symbol, ...args: unknown[]) => boolean;
  const guarded = function (this: WebSocketConnection, event: string | symbol, ...args: unknown[]): boolean {
    try {
      return emit.call(this, event, ...args);
    } catch (error) {
      report(error);
      return true;
    }
  };
  connection.emit = guarded as WebSocketConnection['emit'];
}

/** Close with 1011 Internal Error if the connection is still open. */
export function closeWithInternalError(connection: WebSocketConnection, reason = 'Internal error'): void {
  if (connection.connected) connection.close(CloseCode.InternalError, reason);
}
