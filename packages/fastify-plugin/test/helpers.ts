/**
 * Test helpers: listen on port 0, open real `ws` clients, read refused upgrades, capture logs.
 */
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Message, WebSocketConnection } from '@wsuite/core';
import WebSocket from 'ws';

/** Listen on 127.0.0.1:0 and return the ws:// base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `ws://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

/** A `ws` client with its received messages and a promise of its close. */
export interface OpenClient {
  ws: WebSocket;
  messages: string[];
  closed: Promise<{ code: number; reason: string }>;
  /** The message at `index` (default: the first), once it has arrived. */
  message(index?: number): Promise<string>;
}

/** Open a `ws` client; rejects on a refused upgrade. */
export function openClient(url: string, options: WebSocket.ClientOptions = {}, protocols?: string | string[]): Promise<OpenClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    const messages: string[] = [];
    const waiters: Array<() => void> = [];
    ws.on('message', (data) => {
      messages.push(data.toString());
      for (const wake of waiters.splice(0)) wake();
    });
    const closed = new Promise<{ code: number; reason: string }>((done) => ws.on('close', (code, reason) => done({ code, reason: reason.toString() })));
    const message = async (index = 0): Promise<string> => {
      while (messages.length <= index) await new Promise<void>((wake) => waiters.push(wake));
      return messages[index];
    };
    ws.once('open', () => resolve({ ws, messages, closed, message }));
    ws.once('unexpected-response', (_req, res) => {
      res.resume();
      ws.terminate();
      reject(new Error(`unexpected HTTP ${res.statusCode}`));
    });
    ws.once('error', reject);
  });
}

/** The HTTP answer a refused upgrade gets: status, headers and body. */
export function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => {
        ws.terminate();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    ws.once('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.once('error', reject);
  });
}

/** Parsed JSON log lines of a Fastify logger writing to `stream`. */
export function captureLogs(): { stream: Writable; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { stream, lines };
}

/** Resolve with the next message of a core connection, as text. */
export function nextMessage(connection: WebSocketConnection): Promise<string> {
  return new Promise((resolve) => {
    connection.once('message', (message: Message) => resolve(message.type === 'utf8' ? message.utf8Data : message.binaryData.toString('hex')));
  });
}

/** Resolve with the close code and description of a core connection. */
export function closeOf(connection: WebSocketConnection): Promise<{ code: number; description: string }> {
  return new Promise((resolve) => connection.once('close', (code, description) => resolve({ code, description })));
}

/** Poll `read` until it returns a value (state that has no event to wait on). */
export async function until<T>(read: () => T | undefined, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A core connection handler that echoes every message back. */
export function echo(connection: WebSocketConnection): void {
  connection.on('message', (m) => (m.type === 'utf8' ? connection.sendUTF(m.utf8Data) : connection.sendBytes(m.binaryData)));
}
