/**
 * `fastify.injectWS`: a WebSocket client connection to the app without a port. The client end
 * of an in-memory duplex pair is handed to the app's HTTP server as a connection, so the
 * upgrade takes the same path as one from the network (HTTP parser, `upgrade` listener,
 * routing and hooks, core's handshake); this side writes the request and checks the 101.
 */
import { randomBytes } from 'node:crypto';
import {
  CLIENT_CONNECTION_DEFAULTS,
  WebSocketConnection,
  computeAcceptKey,
  isToken,
  sanitizeHeaderValue,
} from '@wsuite/core';
import type { FastifyInstance } from 'fastify';
import { createDuplexPair, type PairedSocket } from './duplex-pair';
import type { InjectWSOptions } from './types';

/** Why `injectWS` failed: the HTTP status and answer when the server refused the upgrade. */
export class InjectWSError extends Error {
  /**
   * @param message what went wrong
   * @param statusCode the HTTP status of the answer, if one was read
   * @param headers its headers (lower-cased names)
   * @param body its raw body
   */
  constructor(
    message: string,
    readonly statusCode: number | undefined,
    readonly headers: Readonly<Record<string, string>> = {},
    readonly body = '',
  ) {
    super(message);
    this.name = 'InjectWSError';
  }
}

interface ResponseHead {
  statusCode: number;
  headers: Record<string, string>;
  /** Stop reading: the bytes received after the head so far (the socket keeps flowing). */
  detach(): Buffer;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Open a client connection to `path` on `fastify` (see {@link InjectWSError} for failures). */
export async function injectWebSocket(fastify: FastifyInstance, path = '/', options: InjectWSOptions = {}): Promise<WebSocketConnection> {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`injectWS: path must start with "/", got ${JSON.stringify(path)}.`);
  const protocols = options.protocols ?? [];
  if (!Array.isArray(protocols) || !protocols.every((p) => typeof p === 'string' && isToken(p))) {
    throw new TypeError('injectWS: protocols must be an array of subprotocol tokens.');
  }
  await fastify.ready();

  const key = randomBytes(16).toString('base64');
  const headers: Record<string, string> = {
    host: 'localhost',
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': key,
    'sec-websocket-version': '13',
  };
  if (protocols.length > 0) headers['sec-websocket-protocol'] = protocols.join(', ');
  for (const [name, value] of Object.entries(options.headers ?? {})) headers[name.toLowerCase()] = String(value);
  const lines = Object.entries(headers).map(([name, value]) => `${sanitizeHeaderValue(name)}: ${sanitizeHeaderValue(value)}\r\n`);

  const [client, server] = createDuplexPair();
  const answer = readResponseHead(client);
  fastify.server.emit('connection', server);
  client.write(`GET ${sanitizeHeaderValue(path)} HTTP/1.1\r\n${lines.join('')}\r\n`);
  const head = await answer;

  if (head.statusCode !== 101) {
    const body = await readToEnd(client, head.detach());
    throw new InjectWSError(`WebSocket upgrade refused with HTTP ${head.statusCode}`, head.statusCode, head.headers, body);
  }
  const protocol = head.headers['sec-websocket-protocol'];
  const problem =
    head.headers['sec-websocket-accept'] !== computeAcceptKey(headers['sec-websocket-key'])
      ? 'Sec-WebSocket-Accept does not match the key'
      : head.headers.upgrade?.toLowerCase() !== 'websocket'
        ? 'the 101 has no "Upgrade: websocket"'
        : protocol !== undefined && !protocols.includes(protocol)
          ? `the server selected subprotocol "${protocol}", which was not offered`
          : undefined;
  if (problem !== undefined) {
    head.detach();
    client.destroy();
    throw new InjectWSError(`Invalid WebSocket handshake: ${problem}`, 101, head.headers);
  }

  const connection = new WebSocketConnection(client, [], protocol, true, CLIENT_CONNECTION_DEFAULTS);
  // Deliver nothing until the caller's `await` has resumed and attached its listeners; what
  // arrives until then is held by the head reader and handed over first.
  setImmediate(() => {
    const early = head.detach();
    connection._addSocketEventListeners();
    if (early.length > 0) connection.handleSocketData(early);
    // The socket may have ended or closed meanwhile: tell the connection, it missed the events.
    if (client.readableEnded) connection.handleSocketEnd();
    if (client.closed) connection.handleSocketClose();
  });
  return connection;
}

/** Read the response head, then keep collecting what follows until `detach()`. */
function readResponseHead(socket: PairedSocket): Promise<ResponseHead> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    let head: ResponseHead | undefined;
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (head !== undefined) return;
      const end = buffered.indexOf(HEAD_END);
      if (end === -1) return;
      const [statusLine, ...headerLines] = buffered.subarray(0, end).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      buffered = buffered.subarray(end + HEAD_END.length);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      head = {
        statusCode: Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0),
        headers,
        detach: () => {
          socket.removeListener('data', onData);
          return buffered;
        },
      };
      resolve(head);
    };
    const onEnd = (): void => {
      socket.removeListener('data', onData);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onEnd);
      reject(new InjectWSError('The connection closed before the handshake response arrived', undefined));
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
  });
}

function readToEnd(socket: PairedSocket, first: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const chunks = [first];
    const finish = (): void => {
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('utf8'));
    };
    if (socket.readableEnded) return finish();
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.once('end', finish);
    socket.once('close', finish);
  });
}
