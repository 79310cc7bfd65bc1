/**
 * A raw TCP WebSocket "evil server" for client tests. It answers the opening handshake (correctly
 * by default, or with any bytes a test chooses), then writes arbitrary raw frames (masked,
 * reserved bits, bad opcodes, bad UTF-8, bad close codes...) and records every frame the client
 * sends back, unmasked, with its mask key.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { computeAcceptKey } from '../../src/protocol/handshake';

/** The client's upgrade request as the evil server read it. */
export interface HandshakeRequest {
  method: string;
  path: string;
  /** Header names lower-cased. */
  headers: Record<string, string>;
  /** `Sec-WebSocket-Key`. */
  key: string;
}

/** Decides the bytes sent in answer to the upgrade request; `null` sends nothing (the server hangs). */
export type HandshakeResponder = (request: HandshakeRequest) => string | Buffer | null;

/** A correct 101 for `request`, with `extraHeaders` lines (e.g. `Sec-WebSocket-Protocol: chat`). */
export function acceptResponse(request: HandshakeRequest, extraHeaders: string[] = []): string {
  return [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${computeAcceptKey(request.key)}`,
    ...extraHeaders,
    '',
    '',
  ].join('\r\n');
}

/** A frame to write, any bit pattern allowed. */
export interface FrameSpec {
  opcode: number;
  payload?: Buffer | string;
  /** @default true */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A 4-byte key, or true for a random one. Servers must not mask; tests do it on purpose. */
  mask?: Buffer | boolean;
}

/** Encode one frame exactly as specified. */
export function buildFrame(spec: FrameSpec): Buffer {
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0));
  const key = spec.mask === true ? Buffer.from([0x37, 0xfa, 0x21, 0x3d]) : spec.mask || null;
  const length = payload.length;
  const extended = length < 126 ? 0 : length < 0x10000 ? 2 : 8;
  const header = Buffer.alloc(2 + extended + (key ? 4 : 0));
  header[0] =
    (spec.fin === false ? 0 : 0x80) | (spec.rsv1 ? 0x40 : 0) | (spec.rsv2 ? 0x20 : 0) | (spec.rsv3 ? 0x10 : 0) | (spec.opcode & 0x0f);
  header[1] = (key ? 0x80 : 0) | (extended === 0 ? length : extended === 2 ? 126 : 127);
  if (extended === 2) header.writeUInt16BE(length, 2);
  if (extended === 8) header.writeBigUInt64BE(BigInt(length), 2);
  if (!key) return Buffer.concat([header, payload]);
  key.copy(header, 2 + extended);
  const masked = Buffer.from(payload);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([header, masked]);
}

/** A close frame payload: code (omitted when undefined) and reason. */
export function closePayload(code?: number, reason: Buffer | string = ''): Buffer {
  if (code === undefined) return Buffer.alloc(0);
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason) : reason]);
}

/** A frame the client sent, unmasked. */
export interface ClientFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  maskKey: Buffer | null;
  payload: Buffer;
}

/** A data message the client sent, joined from its frames. */
export interface ClientMessage {
  opcode: number;
  payload: Buffer;
  frameCount: number;
}

interface PendingHeader {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  maskKey: Buffer | null;
  length: number;
}

/** One client connected to the evil server. */
export class EvilPeer {
  readonly socket: Socket;
  readonly request: HandshakeRequest;
  /** Every frame received from the client, in order. */
  readonly frames: ClientFrame[] = [];
  /** Data messages the client sent (text and binary, fragments joined), in order. */
  readonly messages: ClientMessage[] = [];
  /** True once the client ended its side of the TCP connection. */
  receivedEnd = false;
  /** Resolves when the TCP connection is closed. */
  readonly closed: Promise<void>;
  private chunks: Buffer[] = [];
  private buffered = 0;
  private header: PendingHeader | null = null;
  private messageOpcode = -1;
  private messageParts: Buffer[] = [];
  private waiters: Array<() => void> = [];

  constructor(socket: Socket, request: HandshakeRequest, rest: Buffer) {
    this.socket = socket;
    this.request = request;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => {
      this.receivedEnd = true;
      this.notify();
    });
    socket.on('close', () => this.notify());
    if (rest.length > 0) this.receive(rest);
  }

  /** Write frames (in one TCP write). */
  send(...specs: FrameSpec[]): void {
    this.socket.write(Buffer.concat(specs.map(buildFrame)));
  }

  /** Write raw bytes. */
  sendRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** Write `bytes` in chops of `size` bytes, one write per chop, waiting `gapMs` between them. */
  async sendChopped(bytes: Buffer, size: number, gapMs = 0): Promise<void> {
    for (let offset = 0; offset < bytes.length; offset += size) {
      this.socket.write(bytes.subarray(offset, offset + size));
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Wait until `predicate` holds over the received frames; rejects on timeout or when it can no longer hold. */
  async waitFor(predicate: (frames: ClientFrame[]) => boolean, what = 'frames', timeoutMs = 5000): Promise<ClientFrame[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.frames)) {
      if (this.socket.destroyed) throw new Error(`connection closed while waiting for ${what}; got ${this.describe()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 25);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.frames;
  }

  /** Wait for `count` data messages. */
  async waitForMessages(count: number, timeoutMs = 5000): Promise<ClientMessage[]> {
    await this.waitFor(() => this.messages.length >= count, `${count} message(s)`, timeoutMs);
    return this.messages;
  }

  /** Wait for the client's close frame: its code (1005 when it has none) and reason. */
  async waitForClose(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const frames = await this.waitFor((f) => f.some((frame) => frame.opcode === 0x8), 'a close frame', timeoutMs);
    const close = frames.find((frame) => frame.opcode === 0x8) as ClientFrame;
    if (close.payload.length < 2) return { code: 1005, reason: '' };
    return { code: close.payload.readUInt16BE(0), reason: close.payload.subarray(2).toString() };
  }

  /** End our side of the TCP connection. */
  end(): void {
    this.socket.end();
  }

  /** Destroy the TCP connection. */
  destroy(): void {
    this.socket.destroy();
  }

  private receive(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (!this.header) {
        if (this.buffered < 2) break;
        const start = this.peek(Math.min(this.buffered, 14));
        const length7 = start[1] & 0x7f;
        const masked = (start[1] & 0x80) !== 0;
        const headerLength = 2 + (length7 === 126 ? 2 : length7 === 127 ? 8 : 0) + (masked ? 4 : 0);
        if (this.buffered < headerLength) break;
        const bytes = this.take(headerLength);
        const length = length7 === 126 ? bytes.readUInt16BE(2) : length7 === 127 ? Number(bytes.readBigUInt64BE(2)) : length7;
        this.header = {
          fin: (bytes[0] & 0x80) !== 0,
          rsv1: (bytes[0] & 0x40) !== 0,
          rsv2: (bytes[0] & 0x20) !== 0,
          rsv3: (bytes[0] & 0x10) !== 0,
          opcode: bytes[0] & 0x0f,
          maskKey: masked ? Buffer.from(bytes.subarray(headerLength - 4)) : null,
          length,
        };
      }
      const header = this.header;
      if (this.buffered < header.length) break;
      const payload = Buffer.from(this.take(header.length));
      if (header.maskKey) for (let i = 0; i < payload.length; i++) payload[i] ^= header.maskKey[i & 3];
      const { length: _length, ...fields } = header;
      this.frames.push({ ...fields, masked: header.maskKey !== null, payload });
      this.header = null;
      this.collectMessage(header.opcode, header.fin, payload);
    }
    this.notify();
  }

  private collectMessage(opcode: number, fin: boolean, payload: Buffer): void {
    if (opcode >= 0x8) return;
    if (opcode !== 0) {
      this.messageOpcode = opcode;
      this.messageParts = [];
    }
    if (this.messageOpcode === -1) return;
    this.messageParts.push(payload);
    if (!fin) return;
    this.messages.push({ opcode: this.messageOpcode, payload: Buffer.concat(this.messageParts), frameCount: this.messageParts.length });
    this.messageOpcode = -1;
    this.messageParts = [];
  }

  private peek(n: number): Buffer {
    return this.chunks[0].length >= n ? this.chunks[0].subarray(0, n) : Buffer.concat(this.chunks).subarray(0, n);
  }

  private take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    let needed = n;
    while (needed > 0) {
      const first = this.chunks[0];
      if (first.length <= needed) {
        parts.push(first);
        this.chunks.shift();
        needed -= first.length;
      } else {
        parts.push(first.subarray(0, needed));
        this.chunks[0] = first.subarray(needed);
        needed = 0;
      }
    }
    this.buffered -= n;
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  private describe(): string {
    return JSON.stringify(this.frames.map((f) => ({ op: f.opcode, fin: f.fin, len: f.payload.length, head: f.payload.subarray(0, 40).toString('hex') })));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** The evil server: one TCP listener on 127.0.0.1, port 0. */
export class EvilServer {
  readonly server: Server;
  readonly port: number;
  /** Every client that completed (or attempted) the handshake. */
  readonly peers: EvilPeer[] = [];
  /** Every socket accepted, including ones that never sent a full request. */
  private readonly sockets = new Set<Socket>();
  private peerWaiters: Array<(peer: EvilPeer) => void> = [];

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
  }

  /** Start listening; `respond` decides the handshake answer (default: a correct 101). */
  static async start(respond: HandshakeResponder = (request) => acceptResponse(request)): Promise<EvilServer> {
    const holder: { instance?: EvilServer } = {};
    const server = createServer((socket) => holder.instance?.accept(socket, respond));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    holder.instance = new EvilServer(server, (server.address() as AddressInfo).port);
    return holder.instance;
  }

  /** `ws://127.0.0.1:<port><path>`. */
  url(path = '/'): string {
    return `ws://127.0.0.1:${this.port}${path}`;
  }

  /** The next peer to complete the handshake exchange (already-connected ones first). */
  nextPeer(timeoutMs = 5000): Promise<EvilPeer> {
    const waiting = this.peers.length - this.peerWaiters.length;
    if (waiting > 0) return Promise.resolve(this.peers[this.peers.length - waiting]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out waiting for a client')), timeoutMs);
      this.peerWaiters.push((peer) => {
        clearTimeout(timer);
        resolve(peer);
      });
    });
  }

  /** Destroy every connection and stop listening. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket, respond: HandshakeResponder): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      socket.removeListener('data', onData);
      const request = parseRequest(buffered.subarray(0, end).toString('latin1'));
      const answer = respond(request);
      if (answer !== null) socket.write(answer);
      const peer = new EvilPeer(socket, request, buffered.subarray(end + 4));
      this.peers.push(peer);
      const waiter = this.peerWaiters.shift();
      if (waiter) waiter(peer);
    };
    socket.on('data', onData);
  }
}

function parseRequest(head: string): HandshakeRequest {
  const [requestLine, ...lines] = head.split('\r\n');
  const [method, path] = requestLine.split(' ');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { method, path, headers, key: headers['sec-websocket-key'] ?? '' };
}
