/**
 * The link between an HTTP server and an Express app: every `upgrade` runs through the app with
 * a response bound to its socket; unanswered ones get 404; shutdown closes the connections this
 * server accepted.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Application } from 'express';
import { abortHandshake, createUpgradeResponse, WebSocketServer, type MountableServer, type WebSocketConnection } from '@wsuite/core';
import type { PubSubDriver, PublishData, PublishOptions } from '@wsuite/core';
import { AttachmentTopics } from './attachment-topics';
import type { CoreServerOptions } from './options';
import { beginUpgrade, type UpgradeContext, type UpgradeTarget } from './upgrade-context';

/** Options of a graceful shutdown. */
export interface ShutdownOptions {
  /**
   * How long, in ms, connections have to complete their close handshake before they are dropped.
   * @default each core server's `closeTimeout` (5000)
   */
  timeout?: number;
  /** Close reason sent with the 1001. @default 'Server shutting down' */
  reason?: string;
}

/** An app attached to an HTTP(S) server's upgrades. */
export interface AttachedWebSocket {
  /** The HTTP(S) server whose `upgrade` events this handles. */
  readonly server: MountableServer;
  /** Open connections accepted through this server, on every route. */
  readonly connections: readonly WebSocketConnection[];
  /**
   * Graceful shutdown: upgrades from now on get 503, every connection gets a 1001 close, and the
   * promise resolves once all have closed (or were dropped after `timeout`); then the `upgrade`
   * listener is removed. Call it before (or with) `server.close()`, which waits for the
   * WebSocket sockets too. Calling it again returns the same promise.
   */
  close(options?: ShutdownOptions): Promise<void>;
  /**
   * Send a message to every connection of this attachment subscribed to `topic`
   * (`connection.subscribe(topic)` in a handler), on every route, then through the pub/sub
   * driver (if set) to other processes. `options.except` skips one connection, `options.local`
   * keeps the message in this process. Framed once per core server. Returns the number of local
   * subscribers it was handed to.
   */
  publish(topic: string, data: PublishData, options?: PublishOptions): number;
  /** Connections of this attachment subscribed to `topic` (this process only). */
  subscriberCount(topic: string): number;
  /** Topics with at least one subscriber on this attachment. */
  readonly topics: readonly string[];
  /**
   * Fan `publish` out to other processes through `driver` (e.g. `new RedisPubSub()` from
   * `@wsuite/redis`), or stop with `null`. Throws a `TypeError` for anything else.
   */
  setPubSub(driver: PubSubDriver | null): void;
}

type Dispatch = (req: IncomingMessage, res: ServerResponse, done: (error?: unknown) => void) => void;

const WEBSOCKET_UPGRADE = /(^|[\s,])websocket($|[\s,])/i;

// Two attachments on one server would both answer every upgrade on the same socket.
const attachedServers = new WeakSet<MountableServer>();

/** Listen to `server`'s upgrades and run them through `app`. Throws if `server` is already attached. */
export function attachToServer(server: MountableServer, app: Application): AttachedWebSocket {
  if (!server || typeof server.on !== 'function') throw new TypeError('attach() needs the http.Server or https.Server that serves the app.');
  if (typeof app !== 'function') throw new TypeError('attach() needs the Express app (or any function(req, res, next)) as its second argument.');
  if (attachedServers.has(server)) throw new Error('This server already has an Express app attached; close() that attachment first.');
  const dispatch = app as unknown as Dispatch;
  const servers = new Map<Readonly<CoreServerOptions>, WebSocketServer>();
  let accepting = true;
  let closing: Promise<void> | undefined;
  const topics = new AttachmentTopics();

  const target: UpgradeTarget = {
    get accepting() {
      return accepting;
    },
    serverFor(core) {
      let wss = servers.get(core);
      if (!wss) {
        wss = new WebSocketServer({ ...core, noServer: true });
        servers.set(core, wss);
        topics.addServer(wss);
      }
      return wss;
    },
  };

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (!accepting) {
      abortHandshake(socket, 503, 'Server shutting down');
      return;
    }
    // Node removed its own error listener before `upgrade`: until core takes the socket, a reset would be unhandled.
    const onSocketError = (): void => {
      socket.destroy();
    };
    socket.on('error', onSocketError);
    const upgrade = createUpgradeResponse(req, socket);
    const context: UpgradeContext = {
      socket,
      head,
      upgrade,
      target,
      method: req.method ?? 'GET',
      handOver: () => socket.removeListener('error', onSocketError),
    };
    // Other upgrades (e.g. curl's `Upgrade: h2c`) are served as the plain requests they also are.
    if (WEBSOCKET_UPGRADE.test(req.headers.upgrade ?? '')) beginUpgrade(req, context);
    dispatch(req, upgrade.response, (error) => answerUnhandled(context, req, error));
  };
  server.on('upgrade', onUpgrade);
  attachedServers.add(server);

  return {
    server,
    get connections() {
      return [...servers.values()].flatMap((wss) => wss.connections);
    },
    publish: (topic, data, options) => topics.publishAll(topic, data, options),
    subscriberCount: (topic) => topics.subscriberCount(topic),
    get topics() {
      return topics.topics;
    },
    setPubSub: (driver) => topics.setDriver(driver),
    close(options: ShutdownOptions = {}) {
      if (closing) return closing;
      const { timeout, reason } = options;
      if (timeout !== undefined && !(Number.isFinite(timeout) && timeout >= 0)) {
        return Promise.reject(new RangeError(`close() timeout must be a non-negative number of ms, got ${timeout}.`));
      }
      accepting = false;
      closing = Promise.all([...servers.values()].map((wss) => wss.close({ timeout, reason }))).then(() => {
        server.removeListener('upgrade', onUpgrade);
        attachedServers.delete(server);
      });
      return closing;
    },
  };
}

/**
 * The app's chain ended without a WebSocket route taking the request: 404, or the error's
 * status when an error got past every Express error handler (as Express's own final handler does).
 */
function answerUnhandled(context: UpgradeContext, req: IncomingMessage, error: unknown): void {
  req.method = context.method;
  const { upgrade, socket } = context;
  if (upgrade.answered || socket.destroyed) return;
  let status = 404;
  if (error) {
    const e = error as { status?: unknown; statusCode?: unknown };
    const candidate = typeof e.status === 'number' ? e.status : e.statusCode;
    status = typeof candidate === 'number' && candidate >= 400 && candidate <= 599 ? candidate : 500;
    console.error('[@wsuite/express-middleware] unhandled error on an upgrade request:', error);
  }
  const response = upgrade.response;
  response.statusCode = status;
  response.setHeader('Content-Type', 'text/plain; charset=utf-8');
  response.end(STATUS_CODES[status] ?? 'Error');
}
