/**
 * Helpers of the permessage-deflate integration tests: clients of both implementations that
 * resolve once open, a `ws` echo server, and an independent zlib codec for raw peers (so the
 * bytes on the wire are checked against Node's zlib, not against the implementation under test).
 */
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { constants as zlibConstants, createDeflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw } from 'node:zlib';
import WebSocket, { WebSocketServer as WsServer, type PerMessageDeflateOptions as WsDeflateOptions } from 'ws';
import { WebSocketClient } from '../../src/client';
import type { WebSocketClientOptions } from '../../src/client-config';
import type { Message, WebSocketConnection } from '../../src/connection';
import { AsyncQueue } from './interop-peers';
import { prng } from './prng';

export { AsyncQueue, Cleanup } from './interop-peers';

/** The 4 bytes every sync flush ends with (RFC 7692 §7.2.1). */
export const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Limits large enough for the 16 MiB messages. */
export const BIG = 64 * 1024 * 1024;

/** Compress one message on its own (no context), as a peer would: sync flush, trailer removed. */
export function deflateMessage(data: Buffer | string, options: { level?: number; windowBits?: number } = {}): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: zlibConstants.Z_SYNC_FLUSH, ...options });
  if (!out.subarray(-4).equals(TRAILER)) throw new Error('unexpected deflate output');
  return out.subarray(0, out.length - 4);
}

/** Inflate one message compressed without context. */
export function inflateMessage(payload: Buffer): Buffer {
  return inflateRawSync(Buffer.concat([payload, TRAILER]), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
}

/**
 * Inflate a sequence of messages that share one compression context (context takeover):
 * they form one deflate stream cut at sync flushes. Returns each message's bytes. With
 * `windowBits` below 15, a back-reference further than that window is an error.
 */
export function inflateStream(payloads: Buffer[], windowBits = 15): Buffer[] {
  const result: Buffer[] = [];
  let offset = 0;
  let input: Buffer[] = [];
  // A small window with 64-byte output chunks makes zlib refuse any reference past the window.
  const options = windowBits < 15 ? { windowBits: Math.max(windowBits, 9), chunkSize: 64 } : {};
  for (const payload of payloads) {
    input = [...input, payload, TRAILER];
    const all = inflateRawSync(Buffer.concat(input), { finishFlush: zlibConstants.Z_SYNC_FLUSH, ...options });
    result.push(all.subarray(offset));
    offset = all.length;
  }
  return result;
}

/** A compression context kept across messages (context takeover), independent of the code under test. */
export class PeerDeflater {
  private readonly stream: DeflateRaw;
  private chunks: Buffer[] = [];

  constructor(options: { level?: number; windowBits?: number } = {}) {
    this.stream = createDeflateRaw(options);
    this.stream.on('data', (chunk: Buffer) => this.chunks.push(chunk));
  }

  /** Compress the next message, keeping the context. */
  compress(data: Buffer | string): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.stream.write(typeof data === 'string' ? Buffer.from(data) : data);
      this.stream.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        const out = Buffer.concat(this.chunks);
        this.chunks = [];
        if (!out.subarray(-4).equals(TRAILER)) reject(new Error('unexpected deflate output'));
        else resolve(out.subarray(0, out.length - 4));
      });
    });
  }

  close(): void {
    this.stream.close();
  }
}

/** One of our client connections, with its messages queued. */
export interface OurClient {
  client: WebSocketClient;
  connection: WebSocketConnection;
  messages: AsyncQueue<Message>;
  closed: Promise<{ code: number; description: string }>;
}

/** Connect a WebSocketClient to `url`; resolves once open. */
export function connectOurs(url: string, config: WebSocketClientOptions = {}, protocols?: string[]): Promise<OurClient> {
  const client = new WebSocketClient({ closeTimeout: 1000, ...config });
  return new Promise((resolve, reject) => {
    client.once('connectFailed', reject);
    client.once('connect', (connection) => {
      const messages = new AsyncQueue<Message>();
      connection.on('error', () => undefined);
      connection.on('message', (message) => messages.push(message));
      const closed = new Promise<{ code: number; description: string }>((done) => connection.on('close', (code, description) => done({ code, description })));
      resolve({ client, connection, messages, closed });
    });
    client.connect(url, protocols);
  });
}

/** The error a WebSocketClient reports when its connection attempt fails. */
export function connectFailure(url: string, config: WebSocketClientOptions = {}): Promise<Error> {
  const client = new WebSocketClient(config);
  return new Promise((resolve, reject) => {
    client.once('connectFailed', resolve);
    client.once('connect', (connection) => {
      connection.drop(1000, '', true);
      reject(new Error('connected, but the attempt was expected to fail'));
    });
    client.connect(url);
  });
}

/** A `ws` client and the messages it received. */
export interface WsPeer {
  ws: WebSocket;
  messages: AsyncQueue<{ data: Buffer; isBinary: boolean }>;
  closed: Promise<{ code: number; reason: string }>;
}

/** Open a `ws` client; resolves once open. */
export function connectWs(url: string, options: WebSocket.ClientOptions = {}): Promise<WsPeer> {
  const ws = new WebSocket(url, { maxPayload: BIG, ...options });
  const messages = new AsyncQueue<{ data: Buffer; isBinary: boolean }>();
  ws.on('message', (data, isBinary) => messages.push({ data: data as Buffer, isBinary }));
  const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => {
      ws.removeListener('error', reject);
      ws.on('error', () => undefined);
      resolve({ ws, messages, closed });
    });
  });
}

/** A `ws` echo server and what it saw. */
export interface WsEchoServer {
  wss: WsServer;
  url: string;
  /** The `Sec-WebSocket-Extensions` offers it received, in order. */
  offers: Array<string | undefined>;
  /** Server-side sockets, in connection order. */
  sockets: WebSocket[];
  close(): Promise<void>;
}

/** Start a `ws` server that echoes every message with its type. */
export async function startWsEcho(perMessageDeflate: boolean | WsDeflateOptions, extra: Partial<WebSocket.ServerOptions> = {}): Promise<WsEchoServer> {
  const http: HttpServer = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const wss = new WsServer({ server: http, perMessageDeflate, maxPayload: BIG, ...extra });
  const offers: Array<string | undefined> = [];
  const sockets: WebSocket[] = [];
  wss.on('connection', (socket, request) => {
    offers.push(request.headers['sec-websocket-extensions']);
    sockets.push(socket);
    socket.on('error', () => undefined);
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  return {
    wss,
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    offers,
    sockets,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** The payload of a message as bytes. */
export function bytesOf(message: Message): Buffer {
  return message.type === 'utf8' ? Buffer.from(message.utf8Data) : message.binaryData;
}

export { prng };

/** `length` pseudo-random bytes. */
export function randomData(length: number, seed = length): Buffer {
  const next = prng(seed);
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = (next() * 256) | 0;
  return out;
}

/**
 * `length` bytes of compressible ASCII whose redundancy is long-range: a random 2500-byte block
 * repeated. Only a window of 4 KiB or more finds the repeats, so a compressor that ignores an
 * agreed smaller window produces references its peer cannot resolve.
 */
export function compressibleText(length: number, seed = 7): string {
  const next = prng(seed);
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}:,"';
  let block = '';
  for (let i = 0; i < 2500; i++) block += alphabet[(next() * alphabet.length) | 0];
  return block.repeat(Math.ceil(length / block.length)).slice(0, length);
}
