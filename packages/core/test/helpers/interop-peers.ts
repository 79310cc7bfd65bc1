/**
 * Interop harness for the client tests: echo servers and clients of either implementation
 * (`wsuite` = this package, `ws` = the ws package) behind one small interface, so one scenario
 * suite runs over every pairing. The echo servers obey text commands:
 * `!close:<code>:<reason>` closes, `!ping:<text>` pings (and reports the pong as `pong:<text>`),
 * `!fragments:<n>:<text>` sends `<text>` as one message in `n` frames, `!drop` destroys the TCP
 * connection.
 */
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer as WsServer } from 'ws';
import { WebSocketServer } from '../../src/server';
import { WebSocketClient } from '../../src/client';
import { WebSocketFrame } from '../../src/websocket-frame';
import type { WebSocketConnection } from '../../src/connection';
import type { WebSocketClientOptions } from '../../src/client-config';

/** Which implementation plays a role. */
export type Implementation = 'wsuite' | 'ws';

/** Limits large enough for the 16 MiB tests. */
export const LARGE_LIMIT = 64 * 1024 * 1024;

/** A close as one side saw it. */
export interface CloseRecord {
  code: number;
  reason: string;
}

/** An async FIFO: values pushed by events, taken by tests. */
export class AsyncQueue<T> {
  private readonly values: T[] = [];
  private readonly takers: Array<(value: T) => void> = [];

  push(value: T): void {
    const taker = this.takers.shift();
    if (taker) taker(value);
    else this.values.push(value);
  }

  next(what: string, timeoutMs = 10000): Promise<T> {
    if (this.values.length > 0) return Promise.resolve(this.values.shift() as T);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.takers.indexOf(take);
        if (index !== -1) this.takers.splice(index, 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      const take = (value: T): void => {
        clearTimeout(timer);
        resolve(value);
      };
      this.takers.push(take);
    });
  }
}

/** What the server side saw of one upgrade request. */
export interface SeenRequest {
  path: string;
  headers: IncomingHttpHeaders;
  protocols: string[];
}

/** A running echo server. */
export interface EchoServer {
  kind: Implementation;
  port: number;
  url: string;
  /** Upgrade requests, in arrival order. */
  requests: SeenRequest[];
  /** Closes of server-side connections, in order. */
  closes: AsyncQueue<CloseRecord>;
  close(): Promise<void>;
}

/** Options of {@link startEchoServer}. */
export interface EchoServerOptions {
  /** Subprotocols the server supports; it selects the first requested one it supports. */
  protocols?: string[];
  /** An existing (e.g. HTTPS) server to mount on, already listening. */
  httpServer?: HttpServer | HttpsServer;
  /** Extra WebSocketServer options (wsuite only). */
  wsuiteOptions?: Record<string, unknown>;
}

interface CommandOps {
  close(code: number, reason: string): void;
  ping(data: string): void;
  fragment(part: Buffer, first: boolean, last: boolean): void;
  drop(): void;
}

function runCommand(text: string, ops: CommandOps): boolean {
  if (!text.startsWith('!')) return false;
  const [command, ...args] = text.slice(1).split(':');
  if (command === 'close') ops.close(Number(args[0]), args.slice(1).join(':'));
  else if (command === 'ping') ops.ping(args.join(':'));
  else if (command === 'drop') ops.drop();
  else if (command === 'fragments') {
    const payload = Buffer.from(args.slice(1).join(':'));
    const count = Number(args[0]);
    const size = Math.ceil(payload.length / count);
    for (let i = 0; i < count; i++) ops.fragment(payload.subarray(i * size, (i + 1) * size), i === 0, i === count - 1);
  } else return false;
  return true;
}

/** Start an echo server of `kind` on 127.0.0.1:0 (or on `options.httpServer`). */
export async function startEchoServer(kind: Implementation, options: EchoServerOptions = {}): Promise<EchoServer> {
  const ownsHttp = !options.httpServer;
  const http = options.httpServer ?? createHttpServer((_req, res) => res.writeHead(404).end());
  if (ownsHttp) await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const secure = 'setSecureContext' in http;
  const requests: SeenRequest[] = [];
  const closes = new AsyncQueue<CloseRecord>();
  const supported = options.protocols ?? [];
  let shutdown: () => void;

  if (kind === 'wsuite') {
    const wss = new WebSocketServer({
      httpServer: http,
      maxReceivedFrameSize: LARGE_LIMIT,
      maxReceivedMessageSize: LARGE_LIMIT,
      closeTimeout: 1000,
      keepalive: false,
      ...options.wsuiteOptions,
    });
    wss.on('request', (request) => {
      requests.push({ path: request.resource, headers: request.httpRequest.headers, protocols: request.requestedProtocols });
      const selected = request.requestedProtocols.find((p) => supported.includes(p)) ?? null;
      const connection = request.accept(selected);
      wireWsuiteEcho(connection, closes);
    });
    shutdown = () => {
      wss.unmount();
      for (const connection of [...wss.connections]) connection.drop(1001, 'test over', true);
    };
  } else {
    const wss = new WsServer({
      server: http as HttpServer,
      maxPayload: LARGE_LIMIT,
      handleProtocols: (offered: Set<string>) => [...offered].find((p) => supported.includes(p)) ?? false,
    });
    wss.on('connection', (socket, request) => {
      const header = request.headers['sec-websocket-protocol'];
      requests.push({ path: request.url ?? '/', headers: request.headers, protocols: header ? header.split(',').map((p) => p.trim()) : [] });
      socket.on('error', () => undefined);
      socket.on('message', (data, isBinary) => {
        const ops = {
          close: (code: number, reason: string) => socket.close(code, reason),
          ping: (text: string) => socket.ping(text),
          fragment: (part: Buffer, _first: boolean, last: boolean) => socket.send(part, { binary: false, fin: last }),
          drop: () => socket.terminate(),
        };
        if (!isBinary && runCommand(data.toString(), ops)) return;
        socket.send(data, { binary: isBinary });
      });
      socket.on('pong', (data) => socket.send(`pong:${data.toString()}`));
      socket.on('close', (code, reason) => closes.push({ code, reason: reason.toString() }));
    });
    shutdown = () => {
      for (const client of wss.clients) client.terminate();
      wss.close();
    };
  }
  return {
    kind,
    port,
    url: `${secure ? 'wss' : 'ws'}://127.0.0.1:${port}`,
    requests,
    closes,
    close: async () => {
      shutdown();
      if (ownsHttp) {
        (http as HttpServer).closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
      }
    },
  };
}

function wireWsuiteEcho(connection: WebSocketConnection, closes: AsyncQueue<CloseRecord>): void {
  connection.on('error', () => undefined);
  connection.on('message', (message) => {
    if (message.type === 'binary') {
      connection.sendBytes(message.binaryData);
      return;
    }
    const ops = {
      close: (code: number, reason: string) => connection.close(code, reason),
      ping: (text: string) => connection.ping(text),
      fragment: (part: Buffer, first: boolean, last: boolean) => {
        const frame = new WebSocketFrame();
        frame.opcode = first ? 0x1 : 0x0;
        frame.fin = last;
        frame.binaryPayload = part;
        connection.sendFrame(frame);
      },
      drop: () => connection.socket.destroy(),
    };
    if (!runCommand(message.utf8Data, ops)) connection.sendUTF(message.utf8Data);
  });
  connection.on('pong', (data) => connection.sendUTF(`pong:${data.toString()}`));
  connection.on('close', (code, description) => closes.push({ code, reason: description }));
}

/** A client of either implementation. */
export interface ClientPeer {
  kind: Implementation;
  /** The negotiated subprotocol (undefined or '' when none, as each implementation reports it). */
  protocol: string | undefined;
  messages: AsyncQueue<string | Buffer>;
  pongs: AsyncQueue<Buffer>;
  /** Resolves with the client's view of the close. */
  closed: Promise<CloseRecord>;
  send(data: string | Buffer): void;
  ping(data: Buffer): void;
  close(code?: number, reason?: string): void;
  /** Destroy the TCP connection without a close frame. */
  terminate(): void;
}

/** Options of {@link openClient}. */
export interface OpenClientOptions {
  protocols?: string[];
  /** WebSocketClient config (wsuite only). */
  config?: WebSocketClientOptions;
  /** TLS options: `tlsOptions` for wsuite, the same keys for ws. */
  tls?: Record<string, unknown>;
}

/** Connect a client of `kind` to `url`; resolves once open. */
export function openClient(kind: Implementation, url: string, options: OpenClientOptions = {}): Promise<ClientPeer> {
  const messages = new AsyncQueue<string | Buffer>();
  const pongs = new AsyncQueue<Buffer>();
  if (kind === 'wsuite') {
    const client = new WebSocketClient({
      maxReceivedFrameSize: LARGE_LIMIT,
      maxReceivedMessageSize: LARGE_LIMIT,
      closeTimeout: 1000,
      ...options.config,
      ...(options.tls ? { tlsOptions: options.tls } : {}),
    });
    return new Promise((resolve, reject) => {
      client.on('connectFailed', reject);
      client.on('connect', (connection) => {
        connection.on('error', () => undefined);
        connection.on('message', (message) => messages.push(message.type === 'utf8' ? message.utf8Data : message.binaryData));
        connection.on('pong', (data) => pongs.push(data));
        const closed = new Promise<CloseRecord>((done) => connection.on('close', (code, reason) => done({ code, reason })));
        resolve({
          kind,
          protocol: connection.protocol,
          messages,
          pongs,
          closed,
          send: (data) => connection.send(data),
          ping: (data) => connection.ping(data),
          close: (code, reason) => connection.close(code, reason),
          terminate: () => connection.socket.destroy(),
        });
      });
      client.connect(url, options.protocols);
    });
  }
  const socket = new WebSocket(url, options.protocols ?? [], { maxPayload: LARGE_LIMIT, ...options.tls });
  socket.on('message', (data, isBinary) => messages.push(isBinary ? (data as Buffer) : data.toString()));
  socket.on('pong', (data) => pongs.push(data));
  const closed = new Promise<CloseRecord>((done) => socket.on('close', (code, reason) => done({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => {
      socket.removeListener('error', reject);
      socket.on('error', () => undefined);
      resolve({
        kind,
        protocol: socket.protocol,
        messages,
        pongs,
        closed,
        send: (data) => socket.send(data),
        ping: (data) => socket.ping(data),
        close: (code, reason) => socket.close(code, reason),
        terminate: () => socket.terminate(),
      });
    });
  });
}

/** Things to tear down after each test, in reverse order of creation. */
export class Cleanup {
  private readonly tasks: Array<() => unknown> = [];

  /** Register a teardown step; returns `value` for chaining. */
  add<T>(value: T, task: (value: T) => unknown): T {
    this.tasks.push(() => task(value));
    return value;
  }

  /** Run and forget every registered step. */
  async run(): Promise<void> {
    for (const task of this.tasks.splice(0).reverse()) await task();
  }
}

/** The arguments of the next `event`; rejects after `timeoutMs`. */
export function nextEvent<T extends unknown[]>(emitter: { once(event: string, listener: (...args: T) => void): unknown }, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for "${event}"`)), timeoutMs);
    emitter.once(event, (...args: T) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}
