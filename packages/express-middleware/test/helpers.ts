/**
 * Test helpers: an Express app attached to a real HTTP server on port 0, `ws` clients that
 * record what they get, and a raw TCP upgrade for cases a client library hides.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Express } from 'express';
import WebSocket from 'ws';
import type { AttachedWebSocket, ExpressWebSocket } from '@wsuite/express-middleware';

/** A running app. */
export interface Running {
  http: Server;
  attached: AttachedWebSocket;
  port: number;
  /** `ws://127.0.0.1:<port><path>` */
  url(path: string): string;
  /** Graceful shutdown, then the HTTP server's close (idempotent). */
  stop(): Promise<void>;
}

/** Serve `app` on port 0 and attach `wsx` to it. */
export async function start(wsx: ExpressWebSocket, app: Express): Promise<Running> {
  const http = createServer(app);
  const attached = wsx.attach(http, app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    http,
    attached,
    port,
    url: (path) => `ws://127.0.0.1:${port}${path}`,
    stop: () => {
      stopped ??= (async () => {
        await attached.close({ timeout: 1000 });
        await new Promise<void>((resolve) => http.close(() => resolve()));
      })();
      return stopped;
    },
  };
}

/** An open client and what it received. */
export interface Client {
  ws: WebSocket;
  messages: string[];
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
}

/** Open a WebSocket; rejects with the HTTP status when the upgrade is refused. */
export function open(url: string, options: WebSocket.ClientOptions = {}, protocols?: string | string[]): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const client: Client = {
      ws,
      messages: [],
      pings: 0,
      closed: new Promise((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() }))),
    };
    ws.on('message', (data) => client.messages.push(String(data)));
    ws.on('ping', () => client.pings++);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new Error(`unexpected HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** A refused upgrade: its status, headers and body. */
export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Attempt an upgrade that must be refused; rejects if it is accepted. */
export function refused(url: string, headers: Record<string, string> = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', (error) => reject(error));
  });
}

/** Headers that make a supertest request a (refusable) WebSocket upgrade. */
export const UPGRADE_HEADERS = {
  Connection: 'Upgrade',
  Upgrade: 'websocket',
  'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version': '13',
};

/**
 * A raw TCP connection that sent an upgrade request for `path`; `head` resolves with the
 * response head. With `allowHalfOpen` it keeps its side open after the server's FIN, like a
 * peer that never answers.
 */
export function rawUpgrade(port: number, path: string, allowHalfOpen = false): { socket: Socket; head: Promise<string> } {
  const socket = connect({ port, host: '127.0.0.1', allowHalfOpen }, () => {
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
  socket.on('error', () => undefined);
  const head = new Promise<string>((resolve) => {
    let received = '';
    const onData = (chunk: Buffer): void => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\r\n\r\n');
      if (end !== -1) {
        socket.removeListener('data', onData);
        resolve(received.slice(0, end));
      }
    };
    socket.on('data', onData);
  });
  return { socket, head };
}

/** Poll `read` until it returns a value (for events with no promise of their own). */
export async function until<T>(read: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A promise with its resolve function outside. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
