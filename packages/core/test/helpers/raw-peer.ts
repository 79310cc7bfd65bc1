/**
 * Test helpers: a server on port 0 and a raw TCP WebSocket peer that writes exact bytes
 * (any frame, valid or not) and records every frame and close the server sends back.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocketServerOptions } from '../../src/server';
import { FrameParser } from '../../src/protocol/frame-parser';
import { RSV1_BIT } from '../../src/protocol/constants';
import { encodeFrame, type FrameOptions } from '../../src/protocol/frame-encoder';
import { computeAcceptKey } from '../../src/protocol/handshake';

/** A running HTTP server with a WebSocketServer mounted on it. */
export interface TestServer {
  http: Server;
  wss: WebSocketServer;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Start an HTTP server on 127.0.0.1:0 and mount a WebSocketServer with `options`. */
export async function startServer(options: Omit<WebSocketServerOptions, 'httpServer'> = {}): Promise<TestServer> {
  const http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const wss = new WebSocketServer({ ...options, httpServer: http });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  return {
    http,
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    close: async () => {
      wss.shutDown();
      for (const c of [...wss.connections]) c.drop(1001, 'test over', true);
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** A frame received by a {@link RawPeer}. */
export interface ReceivedFrame {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  payload: Buffer;
}

/** A raw WebSocket client over TCP. */
export class RawPeer {
  readonly socket: Socket;
  readonly frames: ReceivedFrame[] = [];
  /** The HTTP response head (status line and headers) of the handshake. */
  responseHead = '';
  /** Resolves when the TCP connection closes. */
  readonly closed: Promise<void>;
  private readonly parser: FrameParser;
  private waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    this.parser = new FrameParser(
      // RSV1 is allowed so compressed (permessage-deflate) frames are recorded, with their rsv1 bit.
      { maxFrameSize: 0, expectMasked: null, allowedRsv: RSV1_BIT },
      {
        onFrame: (opcode, fin, rsv1, payload) => {
          this.frames.push({ opcode, fin, rsv1, payload: Buffer.from(payload) });
          this.notify();
        },
        onError: () => undefined,
      },
    );
    this.closed = new Promise((resolve) => socket.once('close', () => {
      this.notify();
      resolve();
    }));
    socket.on('error', () => undefined);
  }

  /**
   * Connect and complete (or attempt) the handshake. `extraHeaders` are added to, or replace,
   * the default ones; `head` is written in the same packet as the request.
   */
  static async connect(port: number, options: { path?: string; headers?: Record<string, string | null>; head?: Buffer; expectUpgrade?: boolean } = {}): Promise<RawPeer> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const peer = new RawPeer(socket);
    const key = randomBytes(16).toString('base64');
    const headers: Record<string, string | null> = {
      Host: `127.0.0.1:${port}`,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': key,
      'Sec-WebSocket-Version': '13',
      ...options.headers,
    };
    const lines = [`GET ${options.path ?? '/'} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) if (value !== null) lines.push(`${name}: ${value}`);
    const request = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`);
    socket.write(options.head ? Buffer.concat([request, options.head]) : request);
    await peer.readHead();
    if (options.expectUpgrade !== false && peer.status === 101) {
      const accept = /sec-websocket-accept: (.*)\r\n/i.exec(peer.responseHead)?.[1];
      if (accept !== computeAcceptKey(key)) throw new Error(`bad accept key in ${peer.responseHead}`);
    }
    return peer;
  }

  /** The handshake's HTTP status. */
  get status(): number {
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(this.responseHead)?.[1] ?? 0);
  }

  /** A response header of the handshake (case-insensitive name), or undefined. */
  header(name: string): string | undefined {
    const match = new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(this.responseHead);
    return match?.[1];
  }

  private readHead(): Promise<void> {
    return new Promise((resolve) => {
      let buffered = Buffer.alloc(0);
      const onData = (chunk: Buffer): void => {
        buffered = Buffer.concat([buffered, chunk]);
        const end = buffered.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.socket.removeListener('data', onData);
        this.responseHead = buffered.subarray(0, end + 2).toString('latin1');
        const rest = buffered.subarray(end + 4);
        this.socket.on('data', (data: Buffer) => this.parser.push(data));
        if (rest.length) this.parser.push(rest);
        resolve();
      };
      this.socket.on('data', onData);
      this.socket.once('close', () => {
        if (!this.responseHead) this.responseHead = buffered.toString('latin1');
        resolve();
      });
    });
  }

  /** Write raw bytes. */
  write(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Encode and write one frame, masked with a random key unless `maskKey: null` is given. */
  sendFrame(opcode: number, payload: Buffer | string = Buffer.alloc(0), options: FrameOptions = {}): void {
    const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const maskKey = options.maskKey === undefined ? randomBytes(4) : options.maskKey;
    for (const buffer of encodeFrame(opcode, data, { ...options, maskKey })) this.socket.write(buffer);
  }

  /** Send a close frame with a code and reason. */
  sendClose(code?: number, reason = ''): void {
    const payload = code === undefined ? Buffer.alloc(0) : Buffer.concat([Buffer.from([code >> 8, code & 0xff]), Buffer.from(reason)]);
    this.sendFrame(0x8, payload);
  }

  /** Wait until `predicate` holds over the frames received (or the socket closes). */
  async waitFor(predicate: (frames: ReceivedFrame[]) => boolean, timeoutMs = 5000): Promise<ReceivedFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (this.socket.destroyed && !predicate(this.frames)) throw new Error(`socket closed; frames: ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`timed out; frames: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Wait for a close frame and return its code (1005 when empty) and reason. */
  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const frames = await this.waitFor((f) => f.some((frame) => frame.opcode === 0x8), timeoutMs);
    const close = frames.find((frame) => frame.opcode === 0x8) as ReceivedFrame;
    if (close.payload.length < 2) return { code: 1005, reason: '' };
    return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString() };
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((f) => ({ op: f.opcode, fin: f.fin, len: f.payload.length, text: f.payload.subarray(0, 60).toString() })));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Destroy the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}
