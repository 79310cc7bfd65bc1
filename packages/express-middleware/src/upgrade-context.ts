/**
 * What travels with an upgrade request through the Express chain: the raw socket, the response
 * bound to it, and the attachment that will take the handshake. Stored on the request under a
 * private symbol; `isWebSocketUpgrade` is the public way to ask.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { UpgradeResponse, WebSocketServer } from '@wsuite/core';
import type { CoreServerOptions } from './options';

/**
 * `req.method` while an upgrade request runs through the app. Only WebSocket routes handle it,
 * so `app.get()` routes (and `express.static`) never answer an upgrade; it is set back to the
 * real method (GET) before the handshake and the handler.
 */
export const WEBSOCKET_METHOD = 'WEBSOCKET';

/** The side of an attachment a route talks to. */
export interface UpgradeTarget {
  /** False once shutdown began: the route answers 503 instead of upgrading. */
  readonly accepting: boolean;
  /** The core server for routes configured with `core` (one per distinct options object). */
  serverFor(core: Readonly<CoreServerOptions>): WebSocketServer;
}

/** One upgrade request's state. */
export interface UpgradeContext {
  readonly socket: Duplex;
  readonly head: Buffer;
  readonly upgrade: UpgradeResponse;
  readonly target: UpgradeTarget;
  /** The request's real method, restored for the handshake. */
  readonly method: string;
  /** Hand the socket's error handling over to core (called once the connection exists). */
  handOver(): void;
}

const CONTEXT = Symbol('wsuite.express.upgrade');

type WithContext = IncomingMessage & { [CONTEXT]?: UpgradeContext };

/** Mark `req` as an upgrade request and route it to WebSocket routes only. */
export function beginUpgrade(req: IncomingMessage, context: UpgradeContext): void {
  (req as WithContext)[CONTEXT] = context;
  req.method = WEBSOCKET_METHOD;
}

/**
 * The handshake is done: `req` stays with the connection (its handler and error handler get it),
 * so it lets go of what only routing needed (the upgrade state, the stand-in response `req.res`
 * and the router's `req.next`, whose closure holds the whole chain) instead of holding them for
 * the connection's life.
 */
export function endUpgrade(req: IncomingMessage): void {
  const routed = req as WithContext & { res?: unknown; next?: unknown };
  routed[CONTEXT] = undefined;
  routed.res = undefined;
  routed.next = undefined;
}

/** The upgrade state of `req`, if it is an upgrade request being routed. */
export function getUpgradeContext(req: IncomingMessage): UpgradeContext | undefined {
  return (req as WithContext)[CONTEXT];
}

/**
 * True while `req` is a WebSocket upgrade running through the app's middleware, e.g. to skip
 * middleware that only makes sense for plain HTTP (CSRF token checks, body parsing).
 */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === WEBSOCKET_METHOD && getUpgradeContext(req) !== undefined;
}
