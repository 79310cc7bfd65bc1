/**
 * Shared helpers of the connection and conformance integration tests: waiting, tracking the
 * server side of each connection, and a half-open raw peer (a TCP client that keeps its side
 * open after the server ends, so it can refuse to finish a close handshake).
 */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { FrameParser } from '../../src/protocol/frame-parser';
import { encodeFrame, type FrameOptions } from '../../src/protocol/frame-encoder';
import { computeAcceptKey } from '../../src/protocol/handshake';
import type { WebSocketConnection, Message } from '../../src/connection';
import type { TestServer, ReceivedFrame } from './raw-peer';

/** Resolve after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll `predicate` (every 5 ms) until it holds; reject after `timeoutMs`. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(5);
  }
}

/** The arguments of the next `event` of `emitter`; reject after `timeoutMs`. */
export function nextEvent<T extends unknown[] = unknown[]>(emitter: EventEmitter, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, listener);
      reject(new Error(`timed out waiting for '${event}'`));
    }, timeoutMs);
    const listener = (...args: unknown[]): void => {
      clearTimeout(timer);
      resolve(args as T);
    };
    emitter.once(event, listener);
  });
}

/** What the server side of one connection saw. */
export interface ServerSide {
  connection: WebSocketConnection;
  messages: Message[];
  /** The `close` event's arguments, once it fired. */
  closeEvent: { code: number; description: string } | null;
  /** Resolves with the `close` event's arguments. */
  closed: Promise<{ code: number; description: string }>;
}

/**
 * Accept every request on `server` and track each connection by the client's port.
 * `setup` runs right after `accept()` (attach listeners there); by default text and binary
 * messages are echoed back.
 */
export function trackConnections(
  server: TestServer,
  setup: (connection: WebSocketConnection, side: ServerSide) => void = echo,
): { byPort: Map<number, ServerSide>; sideOf(localPort: number | undefined): Promise<ServerSide> } {
  const byPort = new Map<number, ServerSide>();
  server.wss.on('request', (request) => {
    const connection = request.accept();
    let resolveClosed!: (value: { code: number; description: string }) => void;
    const side: ServerSide = {
      connection,
      messages: [],
      closeEvent: null,
      closed: new Promise((resolve) => {
        resolveClosed = resolve;
      }),
    };
    connection.on('message', (message) => side.messages.push(message));
    connection.on('close', (code, description) => {
      side.closeEvent = { code, description };
      resolveClosed(side.closeEvent);
    });
    byPort.set(connection.socket.remotePort as number, side);
    setup(connection, side);
  });
  return {
    byPort,
    async sideOf(localPort) {
      await waitUntil(() => byPort.has(localPort as number), 5000, `server side of port ${localPort}`);
      return byPort.get(localPort as number) as ServerSide;
    },
  };
}

/** The default `setup`: echo every message with its type. */
export function echo(connection: WebSocketConnection): void {
  connection.on('message', (message) => {
    if (message.type === 'utf8') connection.sendUTF(message.utf8Data);
    else connection.sendBytes(message.binaryData);
  });
}

/** A close frame's payload: the code (if any) and the reason bytes. */
export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** One masked (client) frame as bytes, with any header bits. */
export function clientFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions & { rsv2?: boolean; rsv3?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const maskKey = options.maskKey === undefined ? randomBytes(4) : options.maskKey;
  const bytes = Buffer.concat(encodeFrame(opcode, data, { fin: options.fin, rsv1: options.rsv1, maskKey }));
  if (options.rsv2) bytes[0] |= 0x20;
  if (options.rsv3) bytes[0] |= 0x10;
  return bytes;
}

/**
 * A raw WebSocket client whose TCP socket stays half-open: when the server ends its side, this
 * peer does not end its own, so it never completes a close handshake unless told to.
 */
export class HalfOpenPeer {
  readonly socket: Socket;
  readonly frames: ReceivedFrame[] = [];
  /** True once the server ended its side (FIN received). */
  receivedEnd = false;
  /** Resolves when the TCP socket is fully closed. */
  readonly closed: Promise<void>;
  private readonly parser: FrameParser;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.parser = new FrameParser(
      { maxFrameSize: 0, expectMasked: null },
      {
        onFrame: (opcode, fin, rsv1, payload) => this.frames.push({ opcode, fin, rsv1, payload: Buffer.from(payload) }),
        onError: () => undefined,
      },
    );
    socket.on('error', () => undefined);
    socket.on('end', () => {
      this.receivedEnd = true;
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Connect to `port` and complete the opening handshake. */
  static async connect(port: number): Promise<HalfOpenPeer> {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const peer = new HalfOpenPeer(socket);
    const key = randomBytes(16).toString('base64');
    socket.write(
      `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
    );
    await new Promise<void>((resolve, reject) => {
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        socket.removeListener('data', onData);
        const head = buffered.subarray(0, end).toString('latin1');
        if (!head.startsWith('HTTP/1.1 101') || !head.includes(`Sec-WebSocket-Accept: ${computeAcceptKey(key)}`)) {
          reject(new Error(`handshake failed: ${head}`));
          return;
        }
        socket.on('data', (data: Buffer) => peer.parser.push(data));
        const rest = buffered.subarray(end + 4);
        if (rest.length > 0) peer.parser.push(rest);
        resolve();
      };
      socket.on('data', onData);
    });
    return peer;
  }

  /** Write one masked frame. */
  sendFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions = {}): void {
    this.socket.write(clientFrame(opcode, payload, options));
  }

  /** Wait until `predicate` holds over the received frames. */
  async waitFor(predicate: (frames: ReceivedFrame[]) => boolean, timeoutMs = 5000): Promise<ReceivedFrame[]> {
    await waitUntil(() => predicate(this.frames), timeoutMs, 'frames');
    return this.frames;
  }

  /** Destroy the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
