/**
 * Helpers for the server-side integration tests: raw HTTP exchanges (any method, version or
 * header set), `ws` clients that are always cleaned up, and small event utilities.
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import WebSocket from 'ws';

/** A raw TCP exchange: the request is written at once, every byte of the reply is collected. */
export interface RawExchange {
  socket: Socket;
  /** Everything the server sent, resolved when the TCP connection closes. */
  response: Promise<string>;
  /** The bytes received so far. */
  received(): string;
  /** Resolves with the bytes received once they include a complete response head. */
  head(): Promise<string>;
}

/** Options of {@link rawUpgrade}. */
export interface RawUpgradeOptions {
  method?: string;
  path?: string;
  httpVersion?: string;
  /** Added to, or replacing, the default headers; `null` removes one. */
  headers?: Record<string, string | null>;
  /** Bytes written in the same write as the request. */
  head?: Buffer;
}

/** A valid random `Sec-WebSocket-Key`. */
export function newKey(): string {
  return randomBytes(16).toString('base64');
}

/** The default upgrade request headers for `port`. */
export function upgradeHeaders(port: number): Record<string, string> {
  return {
    Host: `127.0.0.1:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': newKey(),
    'Sec-WebSocket-Version': '13',
  };
}

/** Write an upgrade request with full control over the request line and headers. */
export async function rawUpgrade(port: number, options: RawUpgradeOptions = {}): Promise<RawExchange> {
  const headers: Record<string, string | null> = { ...upgradeHeaders(port), ...options.headers };
  const lines = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.httpVersion ?? '1.1'}`];
  for (const [name, value] of Object.entries(headers)) if (value !== null) lines.push(`${name}: ${value}`);
  return rawSend(port, Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), options.head ?? Buffer.alloc(0)]));
}

/** Connect to `port`, write `bytes`, and collect the reply until the connection closes. */
export async function rawSend(port: number, bytes: Buffer): Promise<RawExchange> {
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  const chunks: Buffer[] = [];
  const received = (): string => Buffer.concat(chunks).toString('latin1');
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  const response = new Promise<string>((resolve) => socket.once('close', () => resolve(received())));
  const head = (): Promise<string> =>
    new Promise((resolve) => {
      const check = (): void => {
        if (!received().includes('\r\n\r\n') && !socket.destroyed) return;
        socket.removeListener('data', check);
        socket.removeListener('close', check);
        resolve(received());
      };
      socket.on('data', check);
      socket.on('close', check);
      check();
    });
  socket.write(bytes);
  return { socket, response, received, head };
}

/** The first `event` emitted by `emitter`, as its argument list. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** The thrown error of `fn` (fails when nothing is thrown). */
export function thrownBy(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the function to throw');
}

/** Keeps track of `ws` clients so a test can terminate all of them. */
export class ClientPool {
  private readonly clients: WebSocket[] = [];

  /** Open a client and wait until the handshake completes. */
  async open(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions): Promise<WebSocket> {
    const ws = this.create(url, protocols, options);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
    });
    return ws;
  }

  /** Create a client without waiting for it to open. */
  create(url: string, protocols?: string | string[], options?: WebSocket.ClientOptions): WebSocket {
    const ws = new WebSocket(url, protocols, options);
    ws.on('error', () => undefined);
    this.clients.push(ws);
    return ws;
  }

  /** Terminate every client and wait until their sockets are closed. */
  async closeAll(): Promise<void> {
    const open = this.clients.splice(0);
    await Promise.all(
      open.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once('close', () => resolve());
            ws.terminate();
          }),
      ),
    );
  }
}

/** The next message a `ws` client receives, as text or bytes. */
export function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) =>
    ws.once('message', (data: WebSocket.RawData, isBinary: boolean) => resolve({ data: Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]), isBinary })),
  );
}

/** The close code and reason a `ws` client sees. */
export function nextClose(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() })));
}

/** Send `text` and return the echo (the server must echo). */
export async function echo(ws: WebSocket, text: string): Promise<string> {
  const reply = nextMessage(ws);
  ws.send(text);
  return (await reply).data.toString();
}

/** A masked client frame, built by hand. */
export function maskedFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const key = randomBytes(4);
  let header: Buffer;
  if (data.length < 126) {
    header = Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | data.length]);
  } else if (data.length < 0x10000) {
    header = Buffer.alloc(4);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 126;
    header.writeUInt16BE(data.length, 2);
  } else {
    header = Buffer.alloc(10);
    header[0] = (fin ? 0x80 : 0) | opcode;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(data.length), 2);
  }
  const masked = Buffer.alloc(data.length);
  for (let i = 0; i < data.length; i++) masked[i] = data[i] ^ key[i & 3];
  return Buffer.concat([header, key, masked]);
}

/** The header block of a raw HTTP response (status line and headers, no blank line). */
export function headOf(response: string): string {
  const end = response.indexOf('\r\n\r\n');
  return end === -1 ? response : response.slice(0, end);
}
