/**
 * A `ServerResponse` bound to an upgrade socket, so a framework can run its routing, hooks and
 * middleware on an upgrade request and answer with a real HTTP response (401, 404, ...) before
 * any handshake. Adapters use it; core stays framework-free.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** The response a framework writes to, and the way back to the raw socket. */
export interface UpgradeResponse {
  /** Give this to the framework as its response object. */
  readonly response: ServerResponse;
  /** True once the framework started an HTTP answer (headers or body written). */
  readonly answered: boolean;
  /**
   * Take the socket back for the WebSocket handshake (hand it to `handleUpgrade` in the same
   * tick: from here on, socket errors are the caller's). Returns false (and leaves the socket
   * alone) when the framework already answered over HTTP.
   */
  release(): boolean;
  /**
   * The headers the framework set on `response` while routing (cookies, CORS, tracing ids), in
   * the case they were set with: pass them to `request.accept()` so the 101 carries them too.
   * `accept()` drops the ones a 101 must not carry (the handshake's own, Content-Length, ...).
   */
  readonly headers: UpgradeHeaders;
}

/** Header names and values as `ServerResponse.setHeader` takes them. */
export type UpgradeHeaders = Record<string, string | number | readonly string[]>;

/**
 * Bind a fresh `ServerResponse` to `socket`. When the framework finishes an HTTP answer on it,
 * the socket is ended, since an upgrade socket never carries a second request.
 */
export function createUpgradeResponse(request: IncomingMessage, socket: Duplex): UpgradeResponse {
  const response = new ServerResponse(request);
  // A refusal is final: the client must not reuse this connection for another request.
  response.shouldKeepAlive = false;
  response.assignSocket(socket as Socket);
  let released = false;
  // Node removed its own socket error listener before emitting 'upgrade': until the socket is
  // handed back, a reset while the framework is still routing must not crash the process.
  const onError = (): void => {
    socket.destroy();
  };
  socket.on('error', onError);
  response.once('finish', () => {
    if (!released) socket.end();
  });
  return {
    response,
    get answered(): boolean {
      return response.headersSent || response.writableEnded;
    },
    release(): boolean {
      if (released) return true;
      if (response.headersSent || response.writableEnded) return false;
      released = true;
      socket.removeListener('error', onError);
      response.detachSocket(socket as Socket);
      return true;
    },
    get headers(): UpgradeHeaders {
      return responseHeaders(response);
    },
  };
}

/** The headers set on `response`, keyed by the names as they were set. */
function responseHeaders(response: ServerResponse): UpgradeHeaders {
  const headers: UpgradeHeaders = {};
  // Node has had getRawHeaderNames since 15.13; @types/node does not declare it on responses.
  const names = (response as ServerResponse & { getRawHeaderNames(): string[] }).getRawHeaderNames();
  for (const name of names) {
    const value = response.getHeader(name);
    if (value !== undefined) headers[name] = value;
  }
  return headers;
}
